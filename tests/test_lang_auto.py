"""``language="auto"`` (each page's own language, found from a first reading and decoded again in it),
several languages read together (``"en+fr"``: both lexicons; Tesseract's ``eng+fra``), and the warning
for a page read in a language it seems not to be in (issue 26)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import inkread as ocr
from fakes import fake_env
from inkread import metrics
from inkread.backends import select_backend, tesseract
from inkread.exceptions import UnsupportedLanguageError
from inkread.languages import Language, LanguageChoice, parse_languages
from inkread.options import RecognitionOptions

SCRIPT = Path(sys.executable).with_name("inkread")
FRENCH = [
    "Le château se trouve au bord de la rivière,",
    "à deux heures de marche du village où nous",
    "avons passé l'été chez nos grands-parents.",
    "Nous y retournerons l'année prochaine.",
]
MIXED = [
    "Meeting with the editors on Thursday morning",
    "Réunion avec les éditeurs jeudi matin à dix heures",
    "Please bring the corrected chapters and notes",
    "Apportez les chapitres corrigés et vos remarques",
]


def run_cli(*argv, env=None, timeout=300):
    environment = dict(env or fake_env())
    environment.pop("INKREAD_URL", None)
    return subprocess.run([str(SCRIPT), *map(str, argv)], capture_output=True, text=True, env=environment,
                          timeout=timeout)


def rendered(tmp_path: Path, lines: list[str], font: Path, name: str) -> Path:
    from synth import render_note

    img, _ = render_note(lines, font, size=40, noise=0.01, seed=7)
    path = tmp_path / name
    img.save(path)
    return path


# ----- naming languages (no model) ------------------------------------------------------------

@pytest.mark.parametrize("given, value", [
    ("auto", "auto"), ("AUTO", "auto"), ("en+fr", "en+fr"), ("eng+fra", "en+fr"), ("en, fr", "en+fr"),
    (["en", "fr"], "en+fr"), (("english", Language.FRENCH), "en+fr"), ("fr+fr", "fr"), (["fr"], "fr"),
])
def test_auto_and_several_languages_parse(given, value):
    found = parse_languages(given)
    assert found.value == value
    assert isinstance(found, Language) == ("+" not in value and value != "auto")
    options = RecognitionOptions(language=given)
    assert options.to_dict()["language"] == value
    assert RecognitionOptions.from_fields({"language": options.to_dict()["language"]}).language == found


def test_several_languages_say_what_the_backends_need():
    both = parse_languages("en+fr")
    assert both == LanguageChoice((Language.ENGLISH, Language.FRENCH)) and not both.auto
    assert both.info.script == "latin" and both.info.tesseract == "eng+fra"
    assert select_backend(both) == "ppocr" and select_backend(both, "tesseract") == "tesseract"
    assert select_backend("en+ru") == "tesseract"  # two scripts: Tesseract reads them together
    assert select_backend("auto") == "ppocr" and parse_languages("auto").auto
    form = RecognitionOptions.from_fields({"language": ["en", "fr"]})  # a JSON list (the service's options)
    assert form.language == both


@pytest.mark.parametrize("given", ["en+xx", ["en", "xx"], "xx+fr", "auto+fr"])
def test_an_unknown_part_is_the_short_unknown_language_error(given):
    with pytest.raises(UnsupportedLanguageError) as caught:
        RecognitionOptions(language=given)
    assert len(str(caught.value)) < 200  # not every language on one line
    with pytest.raises(UnsupportedLanguageError):
        ocr.OcrEngine().set_language(given)


def test_cli_takes_en_fr_and_refuses_an_unknown_part(synth_data_dir: Path):
    line = synth_data_dir / "lines" / "dkg_01.png"
    done = run_cli(line, "--lang", "en+fr", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["language"] == "en+fr"
    refused = run_cli(line, "--lang", "en+xx")
    assert refused.returncode == UnsupportedLanguageError.exit_code == 10
    message = refused.stderr.strip()
    assert "'xx'" in message and len(message) < 300, message


def test_python_takes_a_list(fake):
    engine = ocr.OcrEngine()
    engine.set_language(["en", "fr"])
    assert engine.options.language.value == "en+fr"
    result = engine.recognize(np.full((60, 200, 3), 255, np.uint8))
    assert result.language == "en+fr" and result.pages[0].language == "en+fr"
    assert fake.options[-1].language == parse_languages("en+fr")
    assert ocr.recognize(np.full((60, 200, 3), 255, np.uint8), language="fr").pages[0].language == "fr"


def test_tesseract_gets_eng_fra(monkeypatch):
    codes: list[str] = []

    def run(binary, path, code, psm, output="tsv", **_kw):
        codes.append(code)
        header = "level page_num block_num par_num line_num word_num left top width height conf text"
        return "" if output == "txt" else header.replace(" ", "\t") + "\n"

    monkeypatch.setattr(tesseract, "tesseract_binary", lambda name=None: "tesseract")
    monkeypatch.setattr(tesseract, "installed_languages", lambda refresh=False: frozenset({"eng", "fra"}))
    monkeypatch.setattr(tesseract, "run_tesseract", run)
    tesseract.recognize_page(np.full((200, 400, 3), 255, np.uint8), "en+fr")
    assert codes and set(codes) == {"eng+fra"}
    assert tesseract.check_language(["en", "fr"]) == "eng+fra"
    monkeypatch.setattr(tesseract, "installed_languages", lambda refresh=False: frozenset({"eng"}))
    with pytest.raises(ocr.exceptions.MissingDependencyError, match="fra"):
        tesseract.check_language("en+fr")


def test_the_union_lexicon_knows_both_languages():
    from inkread.backends.ppocr.decode import get_lexicon

    english, french, both = get_lexicon("en"), get_lexicon("fr"), get_lexicon("en+fr")
    assert both.languages == ("en", "fr")
    for word in ("the", "which", "château", "été"):
        assert both.frequency(word) == max(english.frequency(word), french.frequency(word)) > 0
    assert get_lexicon("en+rm") is english  # Romansh has no word list: English alone


# ----- reading (the real models) ---------------------------------------------------------------

def test_auto_is_the_default_and_reads_a_french_page_as_french_and_the_json_says_so(
    tmp_path: Path, printed_font: Path
):
    page = rendered(tmp_path, FRENCH, printed_font, "lettre.png")
    environment = fake_env()
    environment.pop("INKREAD_PLUGINS")  # the real reader
    done = run_cli(page, "--mode", "printed", "--format", "json", env=environment)  # no --lang: auto
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["language"] == "fr" and data["pages"][0]["language"] == "fr"
    assert metrics.cer("\n".join(FRENCH), data["text"]) < 0.03, data["text"]
    engine = ocr.OcrEngine()  # no language set: auto in Python too
    engine.load_image(str(page))
    engine.set_recognition_mode(ocr.RecognitionMode.PRINTED)
    assert engine.recognize().pages[0].language == "fr"


def test_a_page_read_in_another_language_than_its_own_gets_a_warning(tmp_path: Path, printed_font: Path, caplog):
    page = rendered(tmp_path, FRENCH, printed_font, "lettre.png")
    with caplog.at_level(logging.WARNING, logger="inkread"):
        result = ocr.recognize(page, mode="printed", language="en")
    assert result.pages[0].language == "en"
    assert any("seems to be in French (fr), not English" in r.getMessage() for r in caplog.records), caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="inkread"):
        ocr.recognize(page, mode="printed", language="fr")
    assert not any("seems to be in" in r.getMessage() for r in caplog.records)


def test_auto_reads_english_as_english_deciding_again_without_the_networks(examples_dir: Path):
    from inkread.backends.ppocr.memo import remembered

    path = examples_dir / "printed_page.png"
    with remembered() as memory:
        auto = ocr.recognize(path, language="auto")
    assert auto.language == "en" and auto.pages[0].language == "en"
    assert auto.text == ocr.recognize(path, language="en").text  # the same reading as with en given
    # the second reading (with the English lexicon) took every network's output from memory
    assert memory.runs > 0 and memory.hits >= memory.runs, (memory.hits, memory.runs)


def test_auto_reads_french_handwriting_as_french(eval_samples):
    pages = [s for s in eval_samples if s.language == "fr" and s.kind == "hw-page"]
    if not pages:
        pytest.skip("no French handwritten page in the evaluation set")
    sample = min(pages, key=lambda s: s.image_path.stat().st_size)
    result = ocr.recognize(sample.image_path, mode="handwritten", language="auto")
    assert result.pages[0].language == "fr" and result.language == "fr"


def test_en_fr_reads_a_page_mixing_both_as_well_as_the_better_single_language(handwriting_font):
    """A rendered note, two lines in English, two in French (Rufscript; CER 0.042 in English, 0.032 in
    French, 0.026 in both when written; in Kristi the English lexicon's 'connected' for 'corrected'
    costs both and English, 0.011 and 0.047, where French reads it all: bench/RESULTS.md)."""
    from synth import render_note

    img, _ = render_note(MIXED, handwriting_font("Rufscript"), size=48, noise=0.03, blur=0.8, jitter=1.0, seed=11)
    page = np.asarray(img)
    truth = "\n".join(MIXED)
    cer = {lang: metrics.cer(truth, ocr.recognize(page, mode="handwritten", language=lang).text)
           for lang in ("en", "fr", "en+fr")}
    assert cer["en+fr"] <= min(cer["en"], cer["fr"]) + 0.005, cer


def test_auto_reads_a_page_in_another_script_in_its_language(printed_font: Path):
    """A Russian page reads as almost nothing in Latin script: OSD names Cyrillic, Tesseract reads it
    in Russian (the script's first language here), and its text says Russian."""
    from synth import render_note

    try:
        installed = tesseract.installed_languages()
    except ocr.exceptions.MissingDependencyError:
        installed = frozenset()
    if not {"osd", "rus"} <= installed:
        pytest.skip("needs Tesseract with osd and rus (apt-get install tesseract-ocr-rus)")
    lines = ["Добрый день, как ваши дела сегодня?", "Мы приедем в Москву в пятницу вечером",
             "и останемся там до конца следующей недели.", "Пожалуйста, позвоните нам заранее."]
    img, _ = render_note(lines, printed_font, size=40, seed=3)
    result = ocr.recognize(np.asarray(img), mode="printed", language="auto")
    assert result.language == "ru" and result.pages[0].language == "ru"
    assert metrics.cer("\n".join(lines), result.text) < 0.05, result.text


def test_a_page_that_reads_as_its_given_language_does_not_load_the_detector(monkeypatch):
    """Most pages read in a given language are in it: their commonest words say so, and py3langid
    (75 MB, 1.5 s to load) is not loaded for the warning; a page of another language still asks it."""
    from inkread import language_id

    monkeypatch.setattr(language_id, "_MODEL", None)
    english = "It was the best of times, it was the worst of times, it was the age of wisdom and of foolishness"
    assert language_id.seems_other(english, ocr.Language.ENGLISH) is None
    assert language_id._MODEL is None
    french = " ".join(FRENCH)
    found = language_id.seems_other(french, ocr.Language.ENGLISH)
    assert language_id._MODEL is not None
    assert found is not None and found.language.value == "fr"


# ----- the detector's tables, read a row at a time (issue 24: memory) --------------------------

def _whole_detector():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def test_the_detector_read_from_the_cache_ranks_every_text_as_py3langid_does(eval_samples, tmp_path, monkeypatch):
    """The automaton and the weights are written to the cache once and read from there a row at a
    time: every dev transcription (13 languages, pages and lines) ranks exactly as with py3langid's
    model loaded whole, and a later process reads the cache without decompressing the model again."""
    import py3langid.modelio

    from inkread import language_id

    monkeypatch.setenv("INKREAD_CACHE", str(tmp_path))
    monkeypatch.setattr(language_id, "_MODEL", None)
    texts = [sample.read_gt() for sample in eval_samples]
    ours, whole = language_id._model(), _whole_detector()
    assert isinstance(ours.tk_nextmove, language_id._Rows) and isinstance(ours.nb_ptc, language_id._Rows)
    assert [ours.rank(t) for t in texts] == [whole.rank(t) for t in texts]
    assert {p.name for p in tmp_path.glob("langid-*/*.npy")} >= {"nextmove.npy", "ptc.npy"}

    def no_decompressing(*_args, **_kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(py3langid.modelio, "load_model", no_decompressing)
    monkeypatch.setattr(language_id, "_MODEL", None)
    again = language_id._model()
    assert [again.rank(t) for t in texts[:20]] == [whole.rank(t) for t in texts[:20]]
    assert language_id.detect(" ".join(FRENCH), language_id.candidates()).language.value == "fr"


def test_without_a_cache_to_write_the_detector_is_loaded_whole(tmp_path, monkeypatch):
    from inkread import language_id

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("INKREAD_CACHE", str(blocker))
    monkeypatch.setattr(language_id, "_MODEL", None)
    model = language_id._model()
    assert not isinstance(model.tk_nextmove, language_id._Rows)
    assert language_id.detect(" ".join(FRENCH), language_id.candidates()).language.value == "fr"


def test_the_detector_holds_the_rows_it_read_not_its_whole_model(tmp_path):
    """Loaded whole, py3langid's model is ~75 MB of the process; from the cache, ranking a hundred texts
    adds a few MB (the rows they visit). Measured in a fresh process, the cache written beforehand."""
    script = f"""
import os, sys
os.environ["INKREAD_CACHE"] = {str(tmp_path)!r}
from inkread import language_id
language_id._model()  # writes the cache
language_id._MODEL = None
import gc; gc.collect(); language_id.give_back()
def rss(): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = rss()
model = language_id._model()
texts = {[*FRENCH, *MIXED]!r} * 25
for text in texts: model.rank(text)
print((rss() - before) / 1e6)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) < 25, done.stdout
