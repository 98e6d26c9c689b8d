"""Languages: every way a user may name one, and what is refused."""

from __future__ import annotations

import pytest

import inkread as ocr
from inkread.exceptions import OcrException, UnsupportedLanguageError
from inkread.languages import Language, LanguageInfo, language_info, supported_languages


@pytest.mark.parametrize("given, expected", [
    ("fr", Language.FRENCH), ("FR", Language.FRENCH), (" French ", Language.FRENCH),
    ("french", Language.FRENCH), ("FRENCH", Language.FRENCH), ("fra", Language.FRENCH),
    ("fre", Language.FRENCH), (Language.FRENCH, Language.FRENCH), (Language.FRA, Language.FRENCH),
    ("sv", Language.SWEDISH), ("swedish", Language.SWEDISH), ("swe", Language.SWEDISH),
    ("en", Language.ENGLISH), ("eng", Language.ENGLISH), ("English", Language.ENGLISH),
    ("de", Language.GERMAN), ("ger", Language.GERMAN), ("deu", Language.GERMAN),
    ("zh", Language.CHINESE), ("ch", Language.CHINESE), ("zh-CN", Language.CHINESE), ("chinese", Language.CHINESE),
    ("chi_sim", Language.CHINESE), ("zh-tw", Language.CHINESE_TRADITIONAL), ("chinese_cht", Language.CHINESE_TRADITIONAL),
    ("Chinese (traditional)", Language.CHINESE_TRADITIONAL),
    ("ja", Language.JAPANESE), ("japan", Language.JAPANESE), ("jp", Language.JAPANESE),
    ("nb", Language.NORWEGIAN), ("nn", Language.NORWEGIAN), ("Norwegian", Language.NORWEGIAN),
    ("sr", Language.SERBIAN_LATIN), ("rs_latin", Language.SERBIAN_LATIN), ("Serbian (Latin)", Language.SERBIAN_LATIN),
    ("serbian_latin", Language.SERBIAN_LATIN), ("fil", Language.TAGALOG), ("Kurdish", Language.KURDISH),
    ("vi", Language.VIETNAMESE), ("vie", Language.VIETNAMESE),
])
def test_parse(given, expected):
    assert Language.parse(given) is expected


def test_three_letter_members_are_aliases():
    assert Language.ENG is Language.ENGLISH and Language.SWE is Language.SWEDISH and Language.CHI is Language.CHINESE
    assert Language.FRENCH == "fr"  # a str enum: compares equal to its code


@pytest.mark.parametrize("language", list(Language), ids=lambda l: l.value)
def test_every_language_has_info_and_every_spelling_parses(language):
    info = language.info
    assert isinstance(info, LanguageInfo)
    assert info.code == language.value
    assert info.name and language.english_name == info.name
    assert info.script and info.iso3 and info.backends
    assert set(info.backends) <= {"ppocr", "tesseract"}
    if "ppocr" in info.backends:  # the PP-OCRv6 languages: scripts its recogniser's masks know
        assert info.script in {"latin", "han", "japanese"} and info.rapidocr
    if "tesseract" in info.backends:
        assert info.tesseract
    spellings = [info.code, info.name, info.name.upper(), language.name, info.rapidocr, info.tesseract, info.iso3]
    if language is Language.SERBIAN_CYRILLIC:  # "srp" keeps meaning Serbian (Latin), as it did before
        spellings = [s for s in spellings if s != "srp"]
    for spelling in filter(None, spellings):
        assert Language.parse(spelling) is language, spelling
    assert language_info(language.value) == info


def test_supported_languages_lists_each_language_once_english_first():
    infos = supported_languages()
    assert infos[0].code == "en"
    assert [i.code for i in infos] == [l.value for l in Language]
    assert len({i.code for i in infos}) == len(infos) >= 50
    assert ocr.supported_languages() == infos


@pytest.mark.parametrize("bad", ["klingon", "", "xx", "french!", "en_GB_x"])
def test_unsupported_language_names_the_closest_ones(bad):
    """The hint names the closest languages and where the list is (it printed all 124 on one line)."""
    with pytest.raises(UnsupportedLanguageError) as info:
        Language.parse(bad)
    err = info.value
    assert isinstance(err, OcrException)
    assert repr(bad) in err.message
    assert "'inkread languages' lists all" in str(err) and len(str(err)) < 200
    assert err.exit_code == 10


@pytest.mark.parametrize("bad, close", [("french!", "fr (French)"), ("swedsh", "sv (Swedish)"), ("germn", "de (German)"),
                                        ("englsh", "en (English)")])
def test_a_misspelt_language_gets_the_right_suggestion(bad, close):
    with pytest.raises(UnsupportedLanguageError, match="did you mean") as info:
        Language.parse(bad)
    assert close in str(info.value)


@pytest.mark.parametrize("bad", [None, 3, b"fr"])
def test_non_string_language_is_refused(bad):
    with pytest.raises(UnsupportedLanguageError):
        Language.parse(bad)


def test_setup_installs_the_tesseract_pack_of_every_language():
    """``scripts/setup.sh --languages all`` installs scripts/apt-languages.txt: the Debian package of
    every Tesseract language inkread lists, named as the missing-pack error names it (issue 23:
    100+ languages listed, a handful of packs installed). The names were checked against Debian 12
    (``apt-cache policy``; tesseract-ocr-all depends on each of them)."""
    from pathlib import Path

    from inkread.backends.tesseract import package_for

    listed = Path(__file__).resolve().parents[1] / "scripts" / "apt-languages.txt"
    packages = [line.split("#")[0].strip() for line in listed.read_text(encoding="utf-8").splitlines()]
    packages = [p for p in packages if p]
    expected = sorted({package_for(i.tesseract) for i in supported_languages() if i.tesseract})
    assert sorted(packages) == expected and len(packages) == len(set(packages))
    assert {"tesseract-ocr-tel", "tesseract-ocr-srp", "tesseract-ocr-srp-latn", "tesseract-ocr-chi-sim-vert"} <= set(
        packages
    )
