"""What each recognition mode changes in the PP-OCR page reader (:class:`ModeProfile`), and the
profiles inkread reads with (:data:`PROFILES`). A reader is built with its profiles
(``PpOcrRecognizer(profiles=...)``), so an ablation passes changed ones instead of patching these."""

from __future__ import annotations

from dataclasses import dataclass

from ...layout import LayoutParams
from ...options import RecognitionMode
from .decode import LexiconParams
from .detect import DetectParams
from .models import FUSION_WEIGHT

__all__ = ["ModeProfile", "PROFILES", "AUTO_PRINT_CONFIDENCE", "AUTO_PRINT_MARGIN"]


@dataclass(frozen=True)
class ModeProfile:
    """Everything a recognition mode changes, chosen by measurement on the dev set (bench/RESULTS.md).

    Both modes detect with a pixel threshold of 0.2 (0.3 is PaddleOCR's default): faint pen strokes
    then hold a line together, and hw-page line counts match the ground truth on 83% of pages instead
    of 72%, with CER unchanged (0.275 vs 0.273) and print unchanged (print-page 0.046, print-line 0.010).
    """

    detect: DetectParams
    layout: LayoutParams
    min_confidence: float  # lines read with less confidence than this are dropped as noise
    trim: float  # fraction of the box height trimmed off the top and bottom of each crop
    line_margin: float  # an image that is one tight line is cropped to its ink plus this margin; 0 = as is
    variants: tuple[str, ...] = ()  # test-time variants of each crop also read; the most confident wins
    variants_below: float = 1.0  # ... for crops read with at least min_confidence and less than this
    faint_ratio: float = 0.0  # boxes whose ink contrast is under this share of the page's typical box are dropped
    digit_lookalikes: bool = False  # letters that look like digits inside a number read as digits (tidy.py)
    capital_words: bool = False  # words mostly in capitals read in capitals throughout (tidy.py)
    rescore: bool = False  # words rescored against nearby dictionary words (decode.rescore_words)
    tidy: bool = True  # with the lexicon: spacing, elisions, accents and look-alikes tidied (tidy.py)
    # which recogniser reads Latin-script lines (models.RECOGNISERS); other scripts always read with
    # PP-OCRv6, the only one that knows them
    recogniser: str = "ppocr"
    # unsure lines (the variants' confidence band) are also read by this recogniser; the more
    # confident reading wins (None: no second opinion)
    second_opinion: str | None = None
    # with recogniser "fused": the handwriting model's share of the fused posteriors
    fusion: float = FUSION_WEIGHT
    # the lexicon search and the word rescoring (shared by both modes, chosen on print and handwriting)
    lexicon: LexiconParams = LexiconParams()


PROFILES: dict[RecognitionMode, ModeProfile] = {
    RecognitionMode.PRINTED: ModeProfile(
        detect=DetectParams(thresh=0.2, box_thresh=0.5, unclip_ratio=1.6),
        layout=LayoutParams(max_h_gap=1.5),
        min_confidence=0.5,
        trim=0.0,
        line_margin=0.0,
    ),
    RecognitionMode.HANDWRITTEN: ModeProfile(
        detect=DetectParams(thresh=0.2, box_thresh=0.5, unclip_ratio=1.6),
        layout=LayoutParams(max_h_gap=2.5),
        min_confidence=0.35,
        trim=0.0,  # trimming 8% helped greedy decoding (0.300 vs 0.310) but not the lexicon search
        line_margin=0.1,
        variants=("deslant", "tight", "loose"),
        # confident readings rarely change (dev hw-line: 0.301 with variants for every line, 0.301 for
        # the 55% below 0.85), and this halves the extra recognition time. Crops read below
        # min_confidence get no variants: a variant lifting noise over the floor cost hw-page line
        # count = 94% -> 83%.
        variants_below=0.85,
        # show-through from the back of the sheet and specks measured at most 0.38 of the page's typical
        # ink contrast on the dev pages, written lines at least 0.6 (dev hw-page CER 0.254 -> 0.244: a
        # mirrored letterhead no longer read). Not for print: lone digits on receipts measured 0.46.
        faint_ratio=0.45,
        # hurried digits read as letters ("2o03", "l944"): dev hw-page WER 0.579 -> 0.578. Not for
        # print, whose codes are read as printed ("Bi11#", "7/118B"; print-page CER 0.0455 -> 0.0459).
        digit_lookalikes=True,
        # dev hw-page CER 0.242 -> 0.235, WER 0.626 -> 0.563 (with the French rules of tidy.py). Not
        # for print: no change on any printed sample of the dev set, for 20% more time per page.
        rescore=True,
        # PP-OCRv6 and the handwriting model fused per frame (models.fuse_posteriors), the handwriting
        # model's share 0.7: on hands it never trained on it no longer reads worse than PP-OCRv6 did
        # (names CER 0.038 -> 0.019, stanford pages 0.168 -> 0.145; PP-OCRv6 0.061, 0.169), trained
        # hands nearly kept (copiste pages 0.064 -> 0.071); shares 0.6 and 0.8 measured beside it
        # (bench/bench_fusion.py, bench/RESULTS.md "Fusion")
        recogniser="fused",
        fusion=0.7,
        # names in capitals: neither split into dictionary words nor read in mixed case (names CER
        # 0.095 -> 0.038 with the handwriting model alone, WER 0.790 -> 0.258); spaces tried only
        # where the recogniser gives them 0.2 (names fused 0.019 / 0.129 -> 0.014 / 0.081, dev lines
        # and pages within 0.001; 'le con te' for Leconte)
        capital_words=True,
        lexicon=LexiconParams(caps_neutral=True, min_space_prob=0.2),
    ),
}


# AUTO reads a page as print first; below this mean confidence it reads it again as handwriting.
# On the dev set, PRINTED-mode confidence was >= 0.976 on every printed page and line crop and
# < 0.975 on all handwritten pages and 92% of handwritten lines (bench/RESULTS.md).
AUTO_PRINT_CONFIDENCE = 0.975
# ... and keeps the print reading where it was this much more confident than the handwriting one.
# Only for pages and lines the quick look leaves unsure (automode.py); on those of the dev set (99) the
# margins 0 / 0.01 / 0.02 / 0.03 read hw-line +0.0039 / +0.0034 / +0.0026 / +0.0010 over HANDWRITTEN
# and print-line +0.0005 / +0.0005 / +0.0013 / +0.0013 over PRINTED (always handwriting: +0.0000 /
# +0.0046): receipt lines with digits read as print again (bench/RESULTS.md "AUTO decides once")
AUTO_PRINT_MARGIN = 0.03
