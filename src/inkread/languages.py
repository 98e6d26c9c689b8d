"""Languages inkread reads, and how a user may name them.

``Language`` values are ISO 639-1 codes where one exists. A language can be given as the enum member,
its code (``"fr"``), its English name (``"french"``), its ISO 639-2 / Tesseract code (``"fra"``) or the
member name (``"FRENCH"``); :func:`Language.parse` accepts all of these.

Two backends read them: the shipped PP-OCRv6 models (``"ppocr"``, printed and handwritten, the
languages of ``_TABLE``) and the system's Tesseract 5 (``"tesseract"``, printed text, every language
it has traineddata for: ``_TABLE`` plus ``_TESSERACT_TABLE``). ``LanguageInfo.backends`` lists the
backends that serve a language, the default (the one ``engine="auto"`` picks) first.

``"auto"`` and several languages at once (``"en+fr"``, ``["en", "fr"]``) are a :class:`LanguageChoice`
(:func:`parse_languages` reads every form).

Why this module is long: most of it is the two tables (124 languages with their names, codes,
scripts and Tesseract data); the code around them is short.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .exceptions import UnsupportedLanguageError

__all__ = [
    "Language",
    "LanguageInfo",
    "LanguageChoice",
    "parse_languages",
    "AUTO",
    "language_info",
    "supported_languages",
    "script_variants",
    "BACKENDS",
    "RTL_SCRIPTS",
]

BACKENDS = ("ppocr", "tesseract")  # every backend, in the order "auto" prefers them
RTL_SCRIPTS = frozenset({"arabic", "hebrew", "syriac", "thaana"})


@dataclass(frozen=True)
class LanguageInfo:
    code: str  # ISO 639-1 (or our own code where none exists)
    name: str  # English name
    iso3: str  # ISO 639-2/T, also Tesseract's traineddata name where it has one
    script: str  # "latin", "han", "japanese", "cyrillic", "arabic", "devanagari" ...
    rapidocr: str  # the language key the shipped PP-OCRv6 model lists; "" where it reads none
    tesseract: str | None = None  # Tesseract's traineddata name (Debian package tesseract-ocr-<name>)
    backends: tuple[str, ...] = ()  # "ppocr", "tesseract": which backends read it, the default first

    @property
    def rtl(self) -> bool:
        """Written right to left (Arabic, Hebrew, Syriac and Thaana scripts)."""
        return self.script in RTL_SCRIPTS


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


# Read by Tesseract only (printed text): every other language Debian packages Tesseract 5 data for
# (``apt-cache search tesseract-ocr-``). (member name, code, English name, iso3, tesseract code, script)
_TESSERACT_TABLE: list[tuple[str, str, str, str, str, str]] = [
    ("AMHARIC", "am", "Amharic", "amh", "amh", "ethiopic"),
    ("ARABIC", "ar", "Arabic", "ara", "ara", "arabic"),
    ("ASSAMESE", "as", "Assamese", "asm", "asm", "bengali"),
    ("AZERBAIJANI_CYRILLIC", "az-cyrl", "Azerbaijani (Cyrillic)", "aze_cyrl", "aze_cyrl", "cyrillic"),
    ("BELARUSIAN", "be", "Belarusian", "bel", "bel", "cyrillic"),
    ("BENGALI", "bn", "Bengali", "ben", "ben", "bengali"),
    ("TIBETAN", "bo", "Tibetan", "bod", "bod", "tibetan"),
    ("BRETON", "br", "Breton", "bre", "bre", "latin"),
    ("BULGARIAN", "bg", "Bulgarian", "bul", "bul", "cyrillic"),
    ("CEBUANO", "ceb", "Cebuano", "ceb", "ceb", "latin"),
    ("CHEROKEE", "chr", "Cherokee", "chr", "chr", "cherokee"),
    ("CORSICAN", "co", "Corsican", "cos", "cos", "latin"),
    ("DIVEHI", "dv", "Divehi", "div", "div", "thaana"),
    ("DZONGKHA", "dz", "Dzongkha", "dzo", "dzo", "tibetan"),
    ("GREEK", "el", "Greek", "ell", "ell", "greek"),
    ("MIDDLE_ENGLISH", "enm", "Middle English", "enm", "enm", "latin"),
    ("ESPERANTO", "eo", "Esperanto", "epo", "epo", "latin"),
    ("FAROESE", "fo", "Faroese", "fao", "fao", "latin"),
    ("PERSIAN", "fa", "Persian", "fas", "fas", "arabic"),
    ("GERMAN_FRAKTUR", "frk", "German (Fraktur)", "frk", "frk", "fraktur"),
    ("MIDDLE_FRENCH", "frm", "Middle French", "frm", "frm", "latin"),
    ("WESTERN_FRISIAN", "fy", "Western Frisian", "fry", "fry", "latin"),
    ("SCOTTISH_GAELIC", "gd", "Scottish Gaelic", "gla", "gla", "latin"),
    ("ANCIENT_GREEK", "grc", "Ancient Greek", "grc", "grc", "greek"),
    ("GUJARATI", "gu", "Gujarati", "guj", "guj", "gujarati"),
    ("HAITIAN", "ht", "Haitian Creole", "hat", "hat", "latin"),
    ("HEBREW", "he", "Hebrew", "heb", "heb", "hebrew"),
    ("HINDI", "hi", "Hindi", "hin", "hin", "devanagari"),
    ("ARMENIAN", "hy", "Armenian", "hye", "hye", "armenian"),
    ("INUKTITUT", "iu", "Inuktitut", "iku", "iku", "canadian_aboriginal"),
    ("OLD_ITALIAN", "ita-old", "Old Italian", "ita_old", "ita_old", "latin"),
    ("JAVANESE", "jv", "Javanese", "jav", "jav", "latin"),
    ("GEORGIAN", "ka", "Georgian", "kat", "kat", "georgian"),
    ("OLD_GEORGIAN", "kat-old", "Old Georgian", "kat_old", "kat_old", "georgian"),
    ("KAZAKH", "kk", "Kazakh", "kaz", "kaz", "cyrillic"),
    ("KHMER", "km", "Khmer", "khm", "khm", "khmer"),
    ("KANNADA", "kn", "Kannada", "kan", "kan", "kannada"),
    ("KOREAN", "ko", "Korean", "kor", "kor", "hangul"),
    ("KYRGYZ", "ky", "Kyrgyz", "kir", "kir", "cyrillic"),
    ("LAO", "lo", "Lao", "lao", "lao", "lao"),
    ("MACEDONIAN", "mk", "Macedonian", "mkd", "mkd", "cyrillic"),
    ("MALAYALAM", "ml", "Malayalam", "mal", "mal", "malayalam"),
    ("MONGOLIAN", "mn", "Mongolian", "mon", "mon", "cyrillic"),
    ("MARATHI", "mr", "Marathi", "mar", "mar", "devanagari"),
    ("BURMESE", "my", "Burmese", "mya", "mya", "myanmar"),
    ("NEPALI", "ne", "Nepali", "nep", "nep", "devanagari"),
    ("ORIYA", "or", "Oriya", "ori", "ori", "oriya"),
    ("PUNJABI", "pa", "Punjabi", "pan", "pan", "gurmukhi"),
    ("PASHTO", "ps", "Pashto", "pus", "pus", "arabic"),
    ("RUSSIAN", "ru", "Russian", "rus", "rus", "cyrillic"),
    ("SANSKRIT", "sa", "Sanskrit", "san", "san", "devanagari"),
    ("SINDHI", "sd", "Sindhi", "snd", "snd", "arabic"),
    ("SINHALA", "si", "Sinhala", "sin", "sin", "sinhala"),
    ("OLD_SPANISH", "spa-old", "Old Spanish", "spa_old", "spa_old", "latin"),
    ("SERBIAN_CYRILLIC", "sr-cyrl", "Serbian (Cyrillic)", "srp", "srp", "cyrillic"),
    ("SUNDANESE", "su", "Sundanese", "sun", "sun", "latin"),
    ("SYRIAC", "syr", "Syriac", "syr", "syr", "syriac"),
    ("TAMIL", "ta", "Tamil", "tam", "tam", "tamil"),
    ("TELUGU", "te", "Telugu", "tel", "tel", "telugu"),
    ("TAJIK", "tg", "Tajik", "tgk", "tgk", "cyrillic"),
    ("THAI", "th", "Thai", "tha", "tha", "thai"),
    ("TIGRINYA", "ti", "Tigrinya", "tir", "tir", "ethiopic"),
    ("TONGA", "to", "Tonga", "ton", "ton", "latin"),
    ("TATAR", "tt", "Tatar", "tat", "tat", "cyrillic"),
    ("UYGHUR", "ug", "Uyghur", "uig", "uig", "arabic"),
    ("UKRAINIAN", "uk", "Ukrainian", "ukr", "ukr", "cyrillic"),
    ("URDU", "ur", "Urdu", "urd", "urd", "arabic"),
    ("UZBEK_CYRILLIC", "uz-cyrl", "Uzbek (Cyrillic)", "uzb_cyrl", "uzb_cyrl", "cyrillic"),
    ("YIDDISH", "yi", "Yiddish", "yid", "yid", "hebrew"),
    ("YORUBA", "yo", "Yoruba", "yor", "yor", "latin"),
    ("CHINESE_VERTICAL", "zh-vert", "Chinese (simplified, vertical)", "chi_sim_vert", "chi_sim_vert", "han"),
    (
        "CHINESE_TRADITIONAL_VERTICAL",
        "zh-tw-vert",
        "Chinese (traditional, vertical)",
        "chi_tra_vert",
        "chi_tra_vert",
        "han",
    ),
    ("JAPANESE_VERTICAL", "ja-vert", "Japanese (vertical)", "jpn_vert", "jpn_vert", "japanese"),
    ("KOREAN_VERTICAL", "ko-vert", "Korean (vertical)", "kor_vert", "kor_vert", "hangul"),
]

# Tesseract's traineddata name for the PP-OCRv6 languages where it is not their iso3 (None: it has none).
_PPOCR_TESSERACT: dict[str, str | None] = {"rm": None, "tl": "fil"}

# Extra spellings people use (Aspose-style three-letter names, legacy codes).
_EXTRA_ALIASES = {
    "ch": "zh",
    "zh-cn": "zh",
    "zh_cn": "zh",
    "chs": "zh",
    "chi": "zh",
    "cht": "zh-tw",
    "zh_tw": "zh-tw",
    "chinese_cht": "zh-tw",
    "japan": "ja",
    "jp": "ja",
    "ger": "de",
    "fre": "fr",
    "dut": "nl",
    "cze": "cs",
    "slo": "sk",
    "rum": "ro",
    "wel": "cy",
    "baq": "eu",
    "ice": "is",
    "may": "ms",
    "alb": "sq",
    "rs_latin": "sr-latn",
    "srp": "sr-latn",
    "sr": "sr-latn",
    "nob": "no",
    "nb": "no",
    "nno": "no",
    "nn": "no",
    "fil": "tl",
    "ltn": "la",
    "hwt_eng": "en",
}

# Spellings of the Tesseract-only languages (registered after everything above, so no old spelling changes
# meaning: "sr" and "srp" stay Serbian (Latin), "aze" and "uzb" the Latin-script Azerbaijani and Uzbek).
_TESSERACT_ALIASES = {
    "iw": "he",
    "ji": "yi",
    "farsi": "fa",
    "per": "fa",
    "gre": "el",
    "arm": "hy",
    "geo": "ka",
    "bur": "my",
    "tib": "bo",
    "mac": "mk",
    "sr_cyrl": "sr-cyrl",
    "az_cyrl": "az-cyrl",
    "uz_cyrl": "uz-cyrl",
    "ky": "ky",
    "kirghiz": "ky",
    "panjabi": "pa",
    "odia": "or",
    "ory": "or",
    "dhivehi": "dv",
    "maldivian": "dv",
    "frisian": "fy",
    "gaelic": "gd",
    "haitian": "ht",
    "kreyol": "ht",
    "fraktur": "frk",
    "myanmar": "my",
    "tonga": "to",
    "uighur": "ug",
    "zh_vert": "zh-vert",
    "ja_vert": "ja-vert",
    "ko_vert": "ko-vert",
    "zh-tw_vert": "zh-tw-vert",
    "zh_tw_vert": "zh-tw-vert",
    "ukrainan": "uk",
    "kazah": "kk",
    "belorussian": "be",
    "byelorussian": "be",  # Aspose's spellings
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

    # Read by Tesseract only (see _TESSERACT_TABLE)
    AMHARIC = "am"
    ARABIC = "ar"
    ASSAMESE = "as"
    AZERBAIJANI_CYRILLIC = "az-cyrl"
    BELARUSIAN = "be"
    BENGALI = "bn"
    TIBETAN = "bo"
    BRETON = "br"
    BULGARIAN = "bg"
    CEBUANO = "ceb"
    CHEROKEE = "chr"
    CORSICAN = "co"
    DIVEHI = "dv"
    DZONGKHA = "dz"
    GREEK = "el"
    MIDDLE_ENGLISH = "enm"
    ESPERANTO = "eo"
    FAROESE = "fo"
    PERSIAN = "fa"
    GERMAN_FRAKTUR = "frk"
    MIDDLE_FRENCH = "frm"
    WESTERN_FRISIAN = "fy"
    SCOTTISH_GAELIC = "gd"
    ANCIENT_GREEK = "grc"
    GUJARATI = "gu"
    HAITIAN = "ht"
    HEBREW = "he"
    HINDI = "hi"
    ARMENIAN = "hy"
    INUKTITUT = "iu"
    OLD_ITALIAN = "ita-old"
    JAVANESE = "jv"
    GEORGIAN = "ka"
    OLD_GEORGIAN = "kat-old"
    KAZAKH = "kk"
    KHMER = "km"
    KANNADA = "kn"
    KOREAN = "ko"
    KYRGYZ = "ky"
    LAO = "lo"
    MACEDONIAN = "mk"
    MALAYALAM = "ml"
    MONGOLIAN = "mn"
    MARATHI = "mr"
    BURMESE = "my"
    NEPALI = "ne"
    ORIYA = "or"
    PUNJABI = "pa"
    PASHTO = "ps"
    RUSSIAN = "ru"
    SANSKRIT = "sa"
    SINDHI = "sd"
    SINHALA = "si"
    OLD_SPANISH = "spa-old"
    SERBIAN_CYRILLIC = "sr-cyrl"
    SUNDANESE = "su"
    SYRIAC = "syr"
    TAMIL = "ta"
    TELUGU = "te"
    TAJIK = "tg"
    THAI = "th"
    TIGRINYA = "ti"
    TONGA = "to"
    TATAR = "tt"
    UYGHUR = "ug"
    UKRAINIAN = "uk"
    URDU = "ur"
    UZBEK_CYRILLIC = "uz-cyrl"
    YIDDISH = "yi"
    YORUBA = "yo"
    CHINESE_VERTICAL = "zh-vert"
    CHINESE_TRADITIONAL_VERTICAL = "zh-tw-vert"
    JAPANESE_VERTICAL = "ja-vert"
    KOREAN_VERTICAL = "ko-vert"

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
    def parse(cls, value: Language | str) -> Language:
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
            raise UnsupportedLanguageError(f"language {value!r} is not supported", hint=_closest_hint(key))
        return cls(code)


def _closest_hint(key: str) -> str:
    """The hint for an unknown language: the closest codes and names (not every language on one line)."""
    import difflib

    found: list[str] = []
    for match in difflib.get_close_matches(key, list(_LOOKUP), n=12, cutoff=0.6):
        if _LOOKUP[match] not in found:
            found.append(_LOOKUP[match])
    listing = f"'inkread languages' lists all {len(_INFO)}"
    if not found:
        return listing
    close = ", ".join(f"{code} ({_INFO[code].name})" for code in found[:3])
    return f"did you mean {close}? {listing}"


def _ppocr_info(code: str, name: str, iso3: str, script: str, rkey: str) -> LanguageInfo:
    tess = _PPOCR_TESSERACT.get(code, iso3)
    return LanguageInfo(
        code=code,
        name=name,
        iso3=iso3,
        script=script,
        rapidocr=rkey,
        tesseract=tess,
        backends=("ppocr", "tesseract") if tess else ("ppocr",),
    )


_INFO: dict[str, LanguageInfo] = {
    code: _ppocr_info(code, name, iso3, script, rkey) for _member, code, name, iso3, script, rkey in _TABLE
}
for _member, _code, _name, _iso3, _tess, _script in _TESSERACT_TABLE:
    _INFO[_code] = LanguageInfo(
        code=_code, name=_name, iso3=_iso3, script=_script, rapidocr="", tesseract=_tess, backends=("tesseract",)
    )

_LOOKUP: dict[str, str] = {}
for _member, _code, _name, _iso3, _script, _rkey in _TABLE:
    for _alias in (_code, _member.lower(), _name.lower().replace(" ", "_"), _iso3, _rkey, _name.split(" (")[0].lower()):
        _LOOKUP.setdefault(_alias, _code)
for _alias, _code in _EXTRA_ALIASES.items():
    _LOOKUP.setdefault(_alias, _code)
for _code, _info in _INFO.items():  # Tesseract's names for the PP-OCRv6 languages ("fil")
    if _info.tesseract:
        _LOOKUP.setdefault(_info.tesseract, _code)
for _member, _code, _name, _iso3, _tess, _script in _TESSERACT_TABLE:
    for _alias in (
        _code,
        _member.lower(),
        _name.lower().replace(" ", "_"),
        _iso3,
        _tess,
        _code.replace("-", "_"),
        _name.split(" (")[0].lower().replace(" ", "_"),
    ):
        _LOOKUP.setdefault(_alias, _code)
for _alias, _code in _TESSERACT_ALIASES.items():
    _LOOKUP.setdefault(_alias, _code)
for _m in Language.__members__:
    _LOOKUP.setdefault(_m.lower(), Language[_m].value)


def language_info(language: Language | str) -> LanguageInfo:
    return Language.parse(language).info


def supported_languages() -> list[LanguageInfo]:
    """Every language the engine reads, in a stable order (English first)."""
    return list(_INFO.values())


def script_variants(language: Language | str) -> list[LanguageInfo]:
    """The same language written in other scripts (Serbian Latin <-> Cyrillic, Azerbaijani, Uzbek)."""
    info = Language.parse(language).info
    base = info.code.split("-")[0]
    return [i for i in supported_languages() if i.code.split("-")[0] == base and i.script != info.script]


#: how ``auto`` is written: each page's language found from a first reading (:mod:`inkread.autolang`)
AUTO = "auto"
_AUTO_INFO = LanguageInfo(
    code=AUTO,
    name="each page's own language",
    iso3="",
    script="latin",  # assumed until a page shows another
    rapidocr="",
    tesseract=None,
    backends=("ppocr", "tesseract"),
)


@dataclass(frozen=True)
class LanguageChoice:
    """A reading's language when it is not one: ``auto`` (no ``languages``: each page's own, found from
    a first reading) or several read together (``en+fr``: the PP-OCR reader decodes with both
    lexicons, Tesseract gets ``eng+fra``). ``value`` is how it is written and ``info`` what a backend
    needs (the script they share, the backends that read them all, Tesseract's ``eng+fra``)."""

    languages: tuple[Language, ...] = ()

    @property
    def auto(self) -> bool:
        return not self.languages

    @property
    def value(self) -> str:
        return "+".join(lang.value for lang in self.languages) or AUTO

    def __str__(self) -> str:
        return self.value

    @property
    def info(self) -> LanguageInfo:
        if self.auto:
            return _AUTO_INFO
        infos = [lang.info for lang in self.languages]
        scripts = {i.script for i in infos}
        # the PP-OCR reader reads several languages in one script (one set of classes); Tesseract any
        backends = tuple(
            b
            for b in ("ppocr", "tesseract")
            if all(b in i.backends for i in infos) and (b != "ppocr" or len(scripts) == 1)
        )
        codes = [i.tesseract for i in infos]
        return LanguageInfo(
            code=self.value,
            name=" + ".join(i.name for i in infos),
            iso3="+".join(i.iso3 for i in infos),
            script=infos[0].script if len(scripts) == 1 else "mixed",
            rapidocr="",
            tesseract="+".join(c for c in codes if c) if all(codes) else None,
            backends=backends,
        )


def parse_languages(value: object) -> Language | LanguageChoice:
    """A language (:meth:`Language.parse`), ``"auto"``, or several: ``"en+fr"`` (also ``"eng+fra"``,
    ``"en,fr"``) or a list (``["en", "fr"]``); one language given so is that language. An unknown
    part raises :class:`UnsupportedLanguageError` naming it."""
    if isinstance(value, (Language, LanguageChoice)):
        return value
    if isinstance(value, str) and value.strip().lower() in (AUTO, "detect"):
        return LanguageChoice()
    if isinstance(value, str) and ("+" in value or "," in value):
        value = [part for part in value.replace(",", "+").split("+") if part.strip()]
    if isinstance(value, (list, tuple)):
        parts: list[Language] = []
        for part in value:
            if isinstance(part, str) and part.strip().lower() == AUTO:
                raise UnsupportedLanguageError("auto cannot be one of several languages", hint="give auto alone")
            if (found := Language.parse(part)) not in parts:
                parts.append(found)
        if not parts:
            raise UnsupportedLanguageError("no language given", hint="e.g. en, en+fr or auto")
        return parts[0] if len(parts) == 1 else LanguageChoice(tuple(parts))
    return Language.parse(value)  # type: ignore[arg-type]  # it says what is wrong with another type
