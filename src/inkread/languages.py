"""Languages inkread reads, and how a user may name them.

``Language`` values are ISO 639-1 codes where one exists. A language can be given as the enum member,
its code (``"fr"``), its English name (``"french"``), its ISO 639-2 / Tesseract code (``"fra"``) or the
member name (``"FRENCH"``); :func:`Language.parse` accepts all of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .exceptions import UnsupportedLanguageError

__all__ = ["Language", "LanguageInfo", "language_info", "supported_languages"]


@dataclass(frozen=True)
class LanguageInfo:
    code: str  # ISO 639-1 (or our own code where none exists)
    name: str  # English name
    iso3: str  # ISO 639-2/T, also Tesseract's traineddata name where it has one
    script: str  # "latin", "han", "japanese"
    rapidocr: str  # the language key the shipped PP-OCRv6 model lists


# (member name, code, English name, iso3 / tesseract code, script, rapidocr key)
_TABLE: list[tuple[str, str, str, str, str, str]] = [
    ("ENGLISH", "en", "English", "eng", "latin", "en"),
    ("CHINESE", "zh", "Chinese (simplified)", "chi_sim", "han", "ch"),
    ("CHINESE_TRADITIONAL", "zh-tw", "Chinese (traditional)", "chi_tra", "han", "chinese_cht"),
    ("JAPANESE", "ja", "Japanese", "jpn", "japanese", "japan"),
    ("AFRIKAANS", "af", "Afrikaans", "afr", "latin", "af"),
    ("AZERBAIJANI", "az", "Azerbaijani", "aze", "latin", "az"),
    ("BOSNIAN", "bs", "Bosnian", "bos", "latin", "bs"),
    ("CATALAN", "ca", "Catalan", "cat", "latin", "ca"),
    ("CZECH", "cs", "Czech", "ces", "latin", "cs"),
    ("WELSH", "cy", "Welsh", "cym", "latin", "cy"),
    ("DANISH", "da", "Danish", "dan", "latin", "da"),
    ("GERMAN", "de", "German", "deu", "latin", "de"),
    ("SPANISH", "es", "Spanish", "spa", "latin", "es"),
    ("ESTONIAN", "et", "Estonian", "est", "latin", "et"),
    ("BASQUE", "eu", "Basque", "eus", "latin", "eu"),
    ("FINNISH", "fi", "Finnish", "fin", "latin", "fi"),
    ("FRENCH", "fr", "French", "fra", "latin", "fr"),
    ("IRISH", "ga", "Irish", "gle", "latin", "ga"),
    ("GALICIAN", "gl", "Galician", "glg", "latin", "gl"),
    ("CROATIAN", "hr", "Croatian", "hrv", "latin", "hr"),
    ("HUNGARIAN", "hu", "Hungarian", "hun", "latin", "hu"),
    ("INDONESIAN", "id", "Indonesian", "ind", "latin", "id"),
    ("ICELANDIC", "is", "Icelandic", "isl", "latin", "is"),
    ("ITALIAN", "it", "Italian", "ita", "latin", "it"),
    ("KURDISH", "ku", "Kurdish (Kurmanji)", "kmr", "latin", "ku"),
    ("LATIN", "la", "Latin", "lat", "latin", "la"),
    ("LUXEMBOURGISH", "lb", "Luxembourgish", "ltz", "latin", "lb"),
    ("LITHUANIAN", "lt", "Lithuanian", "lit", "latin", "lt"),
    ("LATVIAN", "lv", "Latvian", "lav", "latin", "lv"),
    ("MAORI", "mi", "Maori", "mri", "latin", "mi"),
    ("MALAY", "ms", "Malay", "msa", "latin", "ms"),
    ("MALTESE", "mt", "Maltese", "mlt", "latin", "mt"),
    ("DUTCH", "nl", "Dutch", "nld", "latin", "nl"),
    ("NORWEGIAN", "no", "Norwegian", "nor", "latin", "no"),
    ("OCCITAN", "oc", "Occitan", "oci", "latin", "oc"),
    ("POLISH", "pl", "Polish", "pol", "latin", "pl"),
    ("PORTUGUESE", "pt", "Portuguese", "por", "latin", "pt"),
    ("QUECHUA", "qu", "Quechua", "que", "latin", "qu"),
    ("ROMANSH", "rm", "Romansh", "roh", "latin", "rm"),
    ("ROMANIAN", "ro", "Romanian", "ron", "latin", "ro"),
    ("SERBIAN_LATIN", "sr-latn", "Serbian (Latin)", "srp_latn", "latin", "rs_latin"),
    ("SLOVAK", "sk", "Slovak", "slk", "latin", "sk"),
    ("SLOVENIAN", "sl", "Slovenian", "slv", "latin", "sl"),
    ("ALBANIAN", "sq", "Albanian", "sqi", "latin", "sq"),
    ("SWEDISH", "sv", "Swedish", "swe", "latin", "sv"),
    ("SWAHILI", "sw", "Swahili", "swa", "latin", "sw"),
    ("TAGALOG", "tl", "Tagalog", "tgl", "latin", "tl"),
    ("TURKISH", "tr", "Turkish", "tur", "latin", "tr"),
    ("UZBEK", "uz", "Uzbek (Latin)", "uzb", "latin", "uz"),
    ("VIETNAMESE", "vi", "Vietnamese", "vie", "latin", "vi"),
]

# Extra spellings people use (Aspose-style three-letter names, legacy codes).
_EXTRA_ALIASES = {
    "ch": "zh", "zh-cn": "zh", "zh_cn": "zh", "chs": "zh", "chi": "zh", "cht": "zh-tw",
    "zh_tw": "zh-tw", "chinese_cht": "zh-tw", "japan": "ja", "jp": "ja",
    "ger": "de", "fre": "fr", "dut": "nl", "cze": "cs", "slo": "sk", "rum": "ro", "wel": "cy",
    "baq": "eu", "ice": "is", "may": "ms", "alb": "sq", "rs_latin": "sr-latn", "srp": "sr-latn",
    "sr": "sr-latn", "nob": "no", "nb": "no", "nno": "no", "nn": "no", "fil": "tl",
    "ltn": "la", "hwt_eng": "en",
}


class Language(str, Enum):
    """A language the engine can read. ``Language.parse("french") is Language.FRENCH``."""

    ENGLISH = "en"
    CHINESE = "zh"
    CHINESE_TRADITIONAL = "zh-tw"
    JAPANESE = "ja"
    AFRIKAANS = "af"
    AZERBAIJANI = "az"
    BOSNIAN = "bs"
    CATALAN = "ca"
    CZECH = "cs"
    WELSH = "cy"
    DANISH = "da"
    GERMAN = "de"
    SPANISH = "es"
    ESTONIAN = "et"
    BASQUE = "eu"
    FINNISH = "fi"
    FRENCH = "fr"
    IRISH = "ga"
    GALICIAN = "gl"
    CROATIAN = "hr"
    HUNGARIAN = "hu"
    INDONESIAN = "id"
    ICELANDIC = "is"
    ITALIAN = "it"
    KURDISH = "ku"
    LATIN = "la"
    LUXEMBOURGISH = "lb"
    LITHUANIAN = "lt"
    LATVIAN = "lv"
    MAORI = "mi"
    MALAY = "ms"
    MALTESE = "mt"
    DUTCH = "nl"
    NORWEGIAN = "no"
    OCCITAN = "oc"
    POLISH = "pl"
    PORTUGUESE = "pt"
    QUECHUA = "qu"
    ROMANSH = "rm"
    ROMANIAN = "ro"
    SERBIAN_LATIN = "sr-latn"
    SLOVAK = "sk"
    SLOVENIAN = "sl"
    ALBANIAN = "sq"
    SWEDISH = "sv"
    SWAHILI = "sw"
    TAGALOG = "tl"
    TURKISH = "tr"
    UZBEK = "uz"
    VIETNAMESE = "vi"

    # Aspose-style three-letter aliases (the same members under the names cloud SDK scripts use).
    ENG = "en"
    CHI = "zh"
    JPN = "ja"
    DEU = "de"
    FRA = "fr"
    SPA = "es"
    ITA = "it"
    POR = "pt"
    NLD = "nl"
    SWE = "sv"
    NOR = "no"
    DAN = "da"
    FIN = "fi"
    POL = "pl"
    CES = "cs"
    SLK = "sk"
    SLV = "sl"
    HRV = "hr"
    HUN = "hu"
    RON = "ro"
    TUR = "tr"
    LIT = "lt"
    LAV = "lv"
    EST = "et"
    LAT = "la"
    VIE = "vi"
    IND = "id"
    CAT = "ca"

    @property
    def info(self) -> LanguageInfo:
        return _INFO[self.value]

    @property
    def english_name(self) -> str:
        return self.info.name

    @classmethod
    def parse(cls, value: "Language | str") -> "Language":
        """Resolve a member, code, name or alias; raise UnsupportedLanguageError otherwise.

        >>> Language.parse("French") is Language.FRENCH
        True
        """
        if isinstance(value, Language):
            return value
        if not isinstance(value, str):
            raise UnsupportedLanguageError(f"language must be a string or Language, not {type(value).__name__}")
        key = value.strip().lower().replace(" ", "_")
        code = _LOOKUP.get(key)
        if code is None:
            raise UnsupportedLanguageError(
                f"language {value!r} is not supported",
                hint="supported: " + ", ".join(f"{i.code} ({i.name})" for i in _INFO.values()),
            )
        return cls(code)


_INFO: dict[str, LanguageInfo] = {
    code: LanguageInfo(code=code, name=name, iso3=iso3, script=script, rapidocr=rkey)
    for _member, code, name, iso3, script, rkey in _TABLE
}

_LOOKUP: dict[str, str] = {}
for _member, _code, _name, _iso3, _script, _rkey in _TABLE:
    for _alias in (_code, _member.lower(), _name.lower().replace(" ", "_"), _iso3, _rkey,
                   _name.split(" (")[0].lower()):
        _LOOKUP.setdefault(_alias, _code)
for _alias, _code in _EXTRA_ALIASES.items():
    _LOOKUP.setdefault(_alias, _code)
for _m in Language.__members__:
    _LOOKUP.setdefault(_m.lower(), Language[_m].value)


def language_info(language: Language | str) -> LanguageInfo:
    return Language.parse(language).info


def supported_languages() -> list[LanguageInfo]:
    """Every language the engine reads, in a stable order (English first)."""
    return list(_INFO.values())
