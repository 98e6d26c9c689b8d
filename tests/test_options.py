"""Options: parsing of switches and modes, updated() copies, to_dict() round trip."""

from __future__ import annotations

import dataclasses
import json

import pytest

from inkread.exceptions import OcrException, UnsupportedLanguageError
from inkread.languages import Language, LanguageChoice
from inkread.options import PreprocessOptions, RecognitionMode, RecognitionOptions, Toggle


@pytest.mark.parametrize("given, expected", [
    (True, Toggle.ON), (False, Toggle.OFF), (None, Toggle.AUTO), (Toggle.OFF, Toggle.OFF),
    ("on", Toggle.ON), (" ON ", Toggle.ON), ("yes", Toggle.ON), ("true", Toggle.ON), ("1", Toggle.ON),
    ("off", Toggle.OFF), ("No", Toggle.OFF), ("false", Toggle.OFF), ("0", Toggle.OFF), ("auto", Toggle.AUTO),
])
def test_toggle_parse(given, expected):
    assert Toggle.parse(given) is expected


@pytest.mark.parametrize("bad", ["maybe", "", "2", "onn"])
def test_toggle_parse_refuses_other_words(bad):
    with pytest.raises(OcrException, match="auto, on or off"):
        Toggle.parse(bad)


@pytest.mark.parametrize("given, expected", [
    ("auto", RecognitionMode.AUTO), ("AUTO", RecognitionMode.AUTO), ("printed", RecognitionMode.PRINTED),
    ("print", RecognitionMode.PRINTED), (" Handwritten ", RecognitionMode.HANDWRITTEN),
    ("handwriting", RecognitionMode.HANDWRITTEN), ("hw", RecognitionMode.HANDWRITTEN),
    (RecognitionMode.PRINTED, RecognitionMode.PRINTED),
])
def test_recognition_mode_parse(given, expected):
    assert RecognitionMode.parse(given) is expected


@pytest.mark.parametrize("bad", ["typed", "", "cursive"])
def test_recognition_mode_parse_refuses_others(bad):
    with pytest.raises(OcrException, match="auto, printed, handwritten"):
        RecognitionMode.parse(bad)


def test_defaults():
    opts = RecognitionOptions()
    assert opts.mode is RecognitionMode.AUTO and opts.pages is None
    assert isinstance(opts.language, LanguageChoice) and opts.language.auto  # each page's own language
    pre = opts.preprocess
    assert (pre.upscale, pre.contrast, pre.denoise, pre.binarize, pre.deskew) == (
        Toggle.AUTO, Toggle.AUTO, Toggle.OFF, Toggle.OFF, Toggle.AUTO)


def test_values_are_coerced_on_construction():
    opts = RecognitionOptions(mode="hw", language="french", pages=[2, 0],
                              preprocess={"binarize": True, "upscale": "off"})
    assert opts.mode is RecognitionMode.HANDWRITTEN and opts.language is Language.FRENCH
    assert opts.pages == (2, 0)
    assert opts.preprocess == PreprocessOptions(binarize=Toggle.ON, upscale=Toggle.OFF)
    assert PreprocessOptions(denoise="yes").denoise is Toggle.ON
    with pytest.raises(UnsupportedLanguageError):
        RecognitionOptions(language="klingon")


def test_updated_returns_a_changed_copy():
    base = RecognitionOptions()
    new = base.updated(mode="printed", language="sv", pages=[1], binarize=True, upscale="off")
    assert base == RecognitionOptions()  # unchanged
    assert new.mode is RecognitionMode.PRINTED and new.language is Language.SWEDISH and new.pages == (1,)
    assert new.preprocess.binarize is Toggle.ON and new.preprocess.upscale is Toggle.OFF
    assert new.preprocess.contrast is Toggle.AUTO  # untouched switches keep their value
    assert new.updated() == new
    assert new.updated(mode=None, language=None) == new  # None means "not given"
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.mode = RecognitionMode.AUTO  # type: ignore[misc]
    assert hash(new) == hash(base.updated(mode="printed", language="sv", pages=(1,), binarize="on", upscale=False))


def test_updated_refuses_unknown_options():
    with pytest.raises(OcrException, match="colour"):
        RecognitionOptions().updated(colour="red")
    with pytest.raises(OcrException):
        RecognitionOptions().updated(mode="sideways")


def test_updated_none_keeps_preprocessing_switches():
    base = RecognitionOptions().updated(binarize="on", upscale="off")
    assert base.updated(binarize=None, upscale=None) == base


def test_to_dict_is_plain_json_and_round_trips():
    opts = RecognitionOptions(mode="handwritten", language="de", pages=(0, 3),
                              preprocess=PreprocessOptions(denoise="on", deskew="off"), pdf_dpi=200)
    d = opts.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["mode"] == "handwritten" and d["language"] == "de" and d["pages"] == [0, 3]
    assert d["preprocess"] == {"upscale": "auto", "contrast": "auto", "denoise": "on", "binarize": "off",
                               "deskew": "off"}
    assert d["pdf_dpi"] == 200
    assert RecognitionOptions(**d) == opts
    assert RecognitionOptions().to_dict()["pages"] is None


# ----- from_fields: the one parser of loosely typed options ------------------------------------


def test_from_fields_reads_text_json_and_python_values_alike():
    """The CLI's strings, the service's form fields and JSON, and Python values give the same options."""
    from_text = RecognitionOptions.from_fields({"mode": "handwritten", "lang": "sv", "pages": "1-2,4", "dpi": "200",
                                                "binarize": "on", "lexicon": "false", "max_pages": "7",
                                                "time_limit": "2.5", "rotate": "90"})
    from_json = RecognitionOptions.from_fields({"mode": "handwritten", "language": "sv", "pages": [1, 2, 4],
                                                "pdf_dpi": 200.0, "preprocess": {"binarize": True},
                                                "lexicon": False, "max_pages": 7, "time_limit": 2.5, "rotate": 90})
    typed = RecognitionOptions(mode=RecognitionMode.HANDWRITTEN, language=Language.SWEDISH, pages=(0, 1, 3),
                               pdf_dpi=200, lexicon=False, max_pages=7, time_limit=2.5, rotate="90",
                               preprocess=PreprocessOptions(binarize=Toggle.ON))
    assert from_text == from_json == typed
    # the serialised form (0-based pages) comes back as it was
    assert RecognitionOptions.from_fields(typed.to_dict(), first_page=0) == typed
    # None and "" are "not given": the base's values stay
    assert RecognitionOptions.from_fields({"mode": "", "pages": None}, base=typed) == typed


@pytest.mark.parametrize("given, error, needle", [
    ({"dpi": "high"}, "InvalidOptionError", "dpi must be a whole number"),
    ({"pdf_dpi": 2.5}, "InvalidOptionError", "pdf_dpi must be a whole number"),
    ({"max_pages": 0}, "InvalidOptionError", "between 1 and"),
    ({"lexicon": "maybe"}, "InvalidOptionError", "true or false"),
    ({"time_limit": "inf"}, "InvalidOptionError", "above 0 and finite"),
    ({"mode": 3}, "InvalidOptionError", "must be a string"),
    ({"colour": "red"}, "InvalidOptionError", "unknown option(s): colour"),
    ({"preprocess": {"sharpen": "on"}}, "InvalidOptionError", "preprocess takes"),
    ({"pages": "0"}, "PageSelectionError", "numbered from 1"),
    ({"pages": [0]}, "PageSelectionError", "numbered from 1"),
    ({"language": "klingon"}, "UnsupportedLanguageError", "klingon"),
    ({"mode": "cursive"}, "OcrException", "cursive"),
])
def test_from_fields_names_the_bad_value(given, error, needle):
    with pytest.raises(OcrException) as info:
        RecognitionOptions.from_fields(given)
    assert type(info.value).__name__ == error and needle in str(info.value)


def test_from_fields_caps_whole_numbers_where_asked():
    assert RecognitionOptions.from_fields({"dpi": "600"}, most={"pdf_dpi": 600}).pdf_dpi == 600
    with pytest.raises(OcrException, match="between 1 and 600"):
        RecognitionOptions.from_fields({"dpi": "601"}, most={"pdf_dpi": 600})
    with pytest.raises(OcrException, match="options.pdf_dpi"):
        RecognitionOptions.from_fields({"pdf_dpi": "x"}, where="options.")
