"""Which of the recogniser's classes each script may emit: PP-OCRv6 knows Latin, Chinese, Japanese
and more in one output layer; reading Latin text, the classes of other scripts are masked off (a
blurred 'e' is then never read as a Chinese character)."""

from __future__ import annotations

__all__ = ["allowed"]


def allowed(ch: str, script: str) -> bool:
    """Whether the recogniser may emit ``ch`` when reading ``script``."""
    if len(ch) != 1:
        return False
    cp = ord(ch)
    if cp < 0x250:  # ASCII, Latin-1, Latin Extended-A/B: every script keeps these (numbers, codes)
        return True
    if script == "latin":
        return (
            0x1E00 <= cp <= 0x1EFF  # Latin Extended Additional (Vietnamese)
            or 0x2000 <= cp <= 0x206F  # general punctuation: dashes, quotes, bullets
            or 0x20A0 <= cp <= 0x20CF  # currency
            or cp
            in (
                0x2122,
                0x2116,
                0x2190,
                0x2192,
                0x2610,
                0x2611,
                0x2612,
                0x2713,
                0x2714,
                0x25CF,
                0x25AA,
                0x25A0,
                0x25A1,
                0x00B0,
            )
            or 0x0300 <= cp <= 0x036F  # combining marks
            or 0x2C60 <= cp <= 0x2C7F
            or 0xA720 <= cp <= 0xA7FF  # Latin Extended-C/D
        )
    return True  # han / japanese: the whole model
