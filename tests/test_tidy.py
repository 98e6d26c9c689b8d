"""Language-aware tidying of readings: punctuation spacing, elisions, accents (real wordfreq lists)."""

import pytest

from inkread.backends.ppocr.decode import get_lexicon
from inkread.backends.ppocr.models import Reading
from inkread.backends.ppocr.tidy import tidy_reading, tidy_text


@pytest.mark.parametrize(
    ("language", "read", "tidied"),
    [
        # a gap before a comma or full stop is handwriting, not text
        ("fr", "un écrivain , philosophe .", "un écrivain, philosophe."),
        # French elisions rejoin; the word itself is left alone
        ("fr", "à l 'origine d' autres", "à l'origine d'autres"),
        ("fr", "jusqu ' à", "jusqu'à"),
        # an elision whose apostrophe was not read at all; not before unknown words or, for
        # pronouns, names ("s Unis", "J abrayilov")
        ("fr", "qu il a vu l alpiniste de L Orchestre", "qu'il a vu l'alpiniste de L'Orchestre"),
        ("fr", "aux Et s Unis, J abrayilov, l uxqb", "aux Et s Unis, J abrayilov, l uxqb"),
        # English contractions rejoin, possessive plurals do not
        ("en", "I don 't think it 's", "I don't think it's"),
        ("en", "the students' books", "the students' books"),
        # a hyphen glued to its word and followed by a lowercase word is a compound
        ("fr", "un missile anti- radar", "un missile anti-radar"),
        ("fr", "Jean- Jacques aux États- Unis, CC- By", "Jean-Jacques aux États-Unis, CC-By"),
        # ...but not a number's dash or a single letter's before capitals (receipts: "5- VEGETABLE")
        ("en", "5- VEGETABLE a- FK", "5- VEGETABLE a- FK"),
        # a free-standing dash is punctuation
        ("fr", "Goltsch - Jenikau", "Goltsch - Jenikau"),
        # accents restored where the unaccented word is rare...
        ("fr", "il etait ecrivain", "il était écrivain"),
        ("fr", "Etait", "Était"),
        # ...but never where both spellings are common, nor on capitals
        # (the second "a" is the preposition by the French a/à rule below, not by frequency)
        ("fr", "il a ne pas 12 a Paris", "il a ne pas 12 à Paris"),
        ("fr", "ETAIT", "ETAIT"),
        # an accent the recogniser did read is kept, even where another accent is commoner
        ("vi", "má", "má"),
        ("fr", "côte", "côte"),
        # an accent read as an apostrophe after its e is put back on the letter where that makes a
        # known word; elisions and English contractions keep their apostrophe
        ("fr", "Masculin / Fe'minin , il pie'ge", "Masculin / Féminin, il piège"),
        ("fr", "l'e'tat qu'elle", "l'état qu'elle"),
        ("en", "we'd they're", "we'd they're"),
        ("fr", "Zorke'xq", "Zorke'xq"),
        # letters that look like digits inside a number are the digits; real mixed words stay
        # French "a" read without its grave accent: the preposition, unless the verb avoir (a subject
        # before it, a participle or adverb after it)
        ("fr", "basé a Austin, il a eu", "basé à Austin, il a eu"),
        ("fr", "a des fins, qui a ouvert", "à des fins, qui a ouvert"),
        ("fr", "il y a des. Marie a publié, elle a toujours", "il y a des. Marie a publié, elle a toujours"),
        ("en", "a Paris", "a Paris"),
        # French participles read without their accent, where the grammar says participle...
        ("fr", "un studio base a Austin. Fonde en 1996", "un studio basé à Austin. Fondé en 1996"),
        ("fr", "utilise par elle, publie et partage sous licence", "utilisé par elle, publie et partagé sous licence"),
        ("fr", "Sharp, ne le 21 mars, est situe au nord", "Sharp, né le 21 mars, est situé au nord"),
        # ...not the present tense, nor the negation, nor nouns
        ("fr", "il ne le sait pas, se situe dans la classe de", "il ne le sait pas, se situe dans la classe de"),
        # German umlauts are accents too
        ("de", "fur uber", "für über"),
        # English has no French accents to restore, and numbers are untouched
        ("en", "the cafe at 3 , 5 rue", "the cafe at 3, 5 rue"),
    ],
)
def test_tidy_text(language, read, tidied):
    text, source = tidy_text(read, get_lexicon(language))
    assert text == tidied
    assert len(source) == len(text) and source == sorted(source)
    # every kept character comes from the same letter of the reading (accents aside)
    from inkread.backends.ppocr.decode import _strip_accents

    from inkread.backends.ppocr.tidy import _DIGIT_LOOKALIKES

    assert all(_strip_accents(text[k]).lower() == _strip_accents(read[i]).lower()
               or text[k] == _DIGIT_LOOKALIKES.get(read[i]) or (text[k], read[i]) == ("'", " ")
               for k, i in enumerate(source))


@pytest.mark.parametrize(
    ("read", "handwriting", "tidied"),
    [
        # in handwriting, letters that look like digits inside a number are the digits...
        ("en 2o03, né en l944 le 1er mai", True, "en 2003, né en 1944 le 1er mai"),
        ("on the 24th, room HT2, 17bs", True, "on the 24th, room HT2, 1765"),
        # ...in print, codes are read as printed
        ("Bi11# 7/118B", False, "Bi11# 7/118B"),
    ],
)
def test_digit_lookalikes_in_handwritten_numbers(read, handwriting, tidied):
    text, source = tidy_text(read, get_lexicon("fr"), digits=handwriting)
    assert text == tidied and len(source) == len(text)


def test_tidy_reading_keeps_positions_and_confidences_in_step():
    text = "l 'etait ,"
    reading = Reading(text, 0.8, [i / 10 for i in range(len(text))], [0.5 + i / 100 for i in range(len(text))])
    out = tidy_reading(reading, get_lexicon("fr"))
    assert out.text == "l'était,"
    kept = [0, 2, 3, 4, 5, 6, 7, 9]  # the two spaces go
    assert out.char_x == [reading.char_x[i] for i in kept]
    assert out.char_conf == [reading.char_conf[i] for i in kept]
    assert out.confidence == 0.8
    same = Reading("fine", 0.9, [0.1, 0.2, 0.3, 0.4], [0.9] * 4)
    assert tidy_reading(same, get_lexicon("en")) is same


@pytest.mark.parametrize(
    ("read", "tidied"),
    [
        # a name in capitals read with a few lowercase letters (a capital is its lowercase letter larger)
        ("DOMiNIQUE", "DOMINIQUE"),
        ("ElODI€ et BALOusAt", "ELODIE et BALOUSAT"),
        # words that are mixed on purpose, too short, or mostly lowercase stay
        ("McDonald PhDs iPhone TVs BenjAmiN Élodie", "McDonald PhDs iPhone TVs BenjAmiN Élodie"),
        # a price keeps its euro sign
        ("Prix 20€ HT", "Prix 20€ HT"),
    ],
)
def test_words_mostly_in_capitals_are_read_in_capitals(read, tidied):
    text, source = tidy_text(read, get_lexicon("fr"), capitals=True)
    assert text == tidied and len(source) == len(text)
    assert tidy_text(read, get_lexicon("fr"))[0] == read  # print: as read


def _spaced(text: str, xs: list[float]) -> Reading:
    return Reading(text, 0.9, xs, [0.9] * len(text))


def test_spaces_between_capitals_written_apart_are_joined_by_their_distance():
    """Capitals written one by one: the recogniser reads the gaps between some letters as spaces.
    A space whose letters are no further apart than the line's letters are (FE RET) goes; one the
    writer left, much wider (DO NASCIMENTO), stays. Positions and confidences follow the text."""
    from inkread.backends.ppocr.tidy import join_spaced_capitals

    read = _spaced("FE RET", [0.10, 0.20, 0.26, 0.31, 0.41, 0.53])  # F-E 0.10, E-R 0.11, R-E 0.10
    joined = join_spaced_capitals(read)
    assert joined.text == "FERET" and joined.char_x == [0.10, 0.20, 0.31, 0.41, 0.53]
    assert len(joined.char_conf) == 5
    apart = _spaced("DO NASCI", [0.05, 0.10, 0.16, 0.25, 0.30, 0.35, 0.40, 0.45])  # O-N 0.15, letters 0.05
    assert join_spaced_capitals(apart).text == "DO NASCI"
    # lowercase handwriting keeps its spaces, whatever their width
    lower = _spaced("le con te", [0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.55, 0.6, 0.7])
    assert join_spaced_capitals(lower).text == "le con te"
    # through tidy_reading, with the capital words rule after it (POUL Ai N -> POULAIN)
    read = _spaced("POUL Ai N", [0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.65, 0.7])
    assert tidy_reading(read, get_lexicon("fr"), capitals=True).text == "POULAIN"
    assert tidy_reading(read, get_lexicon("fr")).text == "POUL Ai N"
