"""The PP-OCRv6 models shipped inside the ``rapidocr`` wheel, run directly on onnxruntime (never through
rapidocr's own loader: no download path is reachable). Sessions are created once and only ever ``run()``:
onnxruntime allows that from several threads at once, so one ``PaddleModels`` serves every engine and thread.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ...exceptions import MissingDependencyError
from .detect import detector_input
from .memo import digest, recall
from .quantized import detector_path
from .recinput import batches, own_frames, rec_batch, rec_width
from .scripts import allowed as _allowed
from .trunk import card_fusion, fuse_posteriors, merged_model_path, read_merged

if False:  # typing only
    from .decode import Lexicon, LexiconParams

__all__ = ["PaddleModels", "Detection", "Reading", "get_models", "model_dir", "HANDWRITING_MODEL"]

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
# inkread's own handwriting recogniser (inkread.training; its card hw_rec.json says how and on what)
HANDWRITING_MODEL = Path(__file__).resolve().parents[2] / "weights" / "hw_rec.onnx"
# $INKREAD_HANDWRITING_MODEL: another handwriting model file to use instead (one you rebuilt)
HANDWRITING_MODEL_ENV = "INKREAD_HANDWRITING_MODEL"
# the recognisers ``PaddleModels.recognize(model=...)`` knows; "fused" reads with both and decodes
# their per-frame posteriors combined log-linearly (:func:`fuse_posteriors`)
RECOGNISERS = ("ppocr", "handwriting", "fused")
# the handwriting model's share in "fused" (PP-OCRv6 has the rest), chosen on the dev set's hands
# never trained on and the training collections' held-out pages (bench/RESULTS.md, "Fusion")
FUSION_WEIGHT = 0.7


def model_dir() -> Path:
    """The folder of ONNX models inside the installed rapidocr wheel (never imported, never run)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the rapidocr package (which ships the PP-OCRv6 models) is not installed",
            hint="pip install rapidocr==3.10.0",
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    for name in (DET_MODEL, REC_MODEL, CLS_MODEL):
        path = folder / name
        if not path.is_file() or path.stat().st_size < 1024:
            raise MissingDependencyError(
                f"model file {path} is missing from the rapidocr wheel",
                hint="reinstall it: pip install --force-reinstall rapidocr==3.10.0",
            )
    return folder


@dataclass
class Detection:
    """One text region found by the detector, in the coordinates of the image given to ``detect``."""

    box: np.ndarray  # 4 x 2 float32, clockwise from top-left
    score: float


@dataclass
class Reading:
    """What the recogniser read in one crop."""

    text: str
    confidence: float  # mean probability of the emitted characters, 0..1
    char_x: list[float]  # centre of each character, as a fraction of the crop width (0..1)
    char_conf: list[float]
    # its first word is a capital that the recogniser could as well have read lowercase
    # (decode.decide_case): lowercased where the page shows the line starts mid-sentence
    first_lower: bool = False


def _charset(session) -> list[str]:
    """A recogniser's classes from its metadata: index 0 is the CTC blank, the last class a space."""
    chars = session.get_modelmeta().custom_metadata_map["character"].splitlines()
    return ["<blank>"] + chars + [" "]


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    # no memory-pattern plans: every line crop has another width, so a plan is rarely reused and
    # the plans held grow the peak (bench/RESULTS.md, runs hw1 -> hw2: hw-page peak RSS 985 -> 773 MB,
    # 1.43 -> 1.48 s/page)
    opts.enable_mem_pattern = False
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


class PaddleModels:
    """Detection, 0/180 orientation classification and recognition, loaded once."""

    def __init__(self, folder: Path | None = None, threads: int | None = None) -> None:
        folder = folder or model_dir()
        threads = threads or int(os.environ.get("INKREAD_THREADS", "0")) or (os.cpu_count() or 2)
        self.det = _session(detector_path(folder / DET_MODEL), threads)  # int8 where it was made from it
        self.rec = _session(folder / REC_MODEL, threads)
        self.cls = _session(folder / CLS_MODEL, threads)
        self.charset: list[str] = _charset(self.rec)
        self._threads = threads
        self._folder = folder
        # by handwriting model file, each loaded on first use: its session, and (session, outputs) of
        # PP-OCRv6 + it on one trunk (False: none)
        self._hw: dict[str, Any] = {}
        self._fused: dict[str, Any] = {}
        self._card_fusion: dict[str, float | None] = {}  # by model file: the share its card says
        self._hw_lock = threading.Lock()
        self._masks: dict[str, np.ndarray] = {}
        self._mask_lock = threading.Lock()

    @staticmethod
    def charset_of(path: Path) -> list[str]:
        """The classes of the recogniser at ``path`` (see :func:`_charset`)."""
        return _charset(_session(path, 1))

    # ----- character sets -------------------------------------------------------------------
    def class_mask(self, script: str) -> np.ndarray:
        """A boolean mask over the recogniser's classes allowed for a script (always keeps blank)."""
        with self._mask_lock:
            mask = self._masks.get(script)
            if mask is None:
                mask = np.array([_allowed(c, script) for c in self.charset], dtype=bool)
                mask[0] = True
                self._masks[script] = mask
            return mask

    # ----- detection ------------------------------------------------------------------------
    def detection_map(self, image: np.ndarray, side: int) -> tuple[np.ndarray, float, float]:
        """Run the detector on ``image`` (RGB) resized so its longer side is about ``side`` pixels.

        Returns the probability map (at the resized size) and the x / y scale from map to image.
        """
        x, sx, sy = detector_input(image, side)
        pred = recall(("det",), x, lambda: self.det.run(None, {self.det.get_inputs()[0].name: x})[0][0, 0])
        return pred, sx, sy

    # ----- orientation ----------------------------------------------------------------------
    def _orientation_scores(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """The line classifier's (upright, turned 180) scores for each crop, eight crops a run."""
        out: list[np.ndarray] = []
        for start in range(0, len(crops), 8):
            imgs = np.stack([_resize_pad(c, 48, 192) for c in crops[start : start + 8]])
            run = lambda imgs=imgs: self.cls.run(None, {self.cls.get_inputs()[0].name: imgs})[0]  # noqa: E731
            out.extend(recall(("cls",), imgs, run))
        return out

    def upright_probability(self, crops: list[np.ndarray]) -> list[float]:
        """For each line crop, the classifier's probability that it is upright (not turned 180)."""
        return [float(p[0] / max(1e-9, p[0] + p[1])) for p in self._orientation_scores(crops)]

    def upside_down(self, crops: list[np.ndarray], threshold: float = 0.9) -> list[bool]:
        """For each line crop, whether the classifier is confident it is rotated by 180 degrees."""
        return [bool(p[1] > threshold and p[1] > p[0]) for p in self._orientation_scores(crops)]

    # ----- recognition ----------------------------------------------------------------------
    @staticmethod
    def _handwriting_path(given: str | Path | None = None) -> Path:
        """``given`` (a model chosen per call), else $INKREAD_HANDWRITING_MODEL, else the shipped one."""
        path = Path(given or os.environ.get(HANDWRITING_MODEL_ENV) or HANDWRITING_MODEL)
        if not path.is_file():
            raise MissingDependencyError(
                f"the handwriting model {path} is missing",
                hint="reinstall inkread, or rebuild it: python -m inkread.training all",
            )
        return path

    def _check_classes(self, path: Path, session=None) -> None:
        if _charset(session or _session(path, 1)) != self.charset:
            raise MissingDependencyError(
                f"{path} was trained for other classes than {REC_MODEL}",
                hint="rebuild it against the installed rapidocr: python -m inkread.training all",
            )

    def _recogniser(self, model: str, handwriting: str | Path | None = None):
        """The session of ``"ppocr"`` or ``"handwriting"`` (``recognize`` checks the name; the
        handwriting model file: see :meth:`_handwriting_path`)."""
        if model == "ppocr":
            return self.rec
        path = self._handwriting_path(handwriting)
        with self._hw_lock:
            if str(path) not in self._hw:
                session = _session(path, self._threads)
                self._check_classes(path, session)
                self._hw[str(path)] = session
            return self._hw[str(path)]

    def _fused_session(self, handwriting: str | Path | None = None):
        """PP-OCRv6 and the handwriting model in one graph on their shared trunk (:mod:`.trunk`) and
        its two outputs, or None where it cannot be built (the two are then run apart)."""
        path = self._handwriting_path(handwriting)
        with self._hw_lock:
            if str(path) not in self._fused:
                self._check_classes(path)
                merged = merged_model_path(self._folder / REC_MODEL, path)
                self._fused[str(path)] = (_session(merged.path, self._threads), merged) if merged else False
            return self._fused[str(path)] or None

    def _posteriors(
        self, model: str, batch: np.ndarray, fusion: float, handwriting: str | Path | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The recogniser's per-frame class probabilities for a batch (``model``: RECOGNISERS) and
        the classes of their columns (None: every class; fused on the shared trunk, the handwriting
        model's own: the others are all but zero there)."""
        if model == "fused" and handwriting is not None:  # its card may say its share
            if str(handwriting) not in self._card_fusion:  # read once, not at every batch
                self._card_fusion[str(handwriting)] = card_fusion(self._recogniser("handwriting", handwriting))
            own = self._card_fusion[str(handwriting)]
            fusion = fusion if own is None else own
            model = "handwriting" if fusion >= 1.0 else model  # alone: PP-OCRv6's branch not run
        if model != "fused":
            session = self._recogniser(model, handwriting)
            return session.run(None, {session.get_inputs()[0].name: batch})[0], None
        both = self._fused_session(handwriting)
        if both is not None:
            return read_merged(both[0], both[1], batch, fusion)
        ppocr = self.rec.run(None, {self.rec.get_inputs()[0].name: batch})[0]
        second = self._recogniser("handwriting", handwriting)
        return fuse_posteriors(second.run(None, {second.get_inputs()[0].name: batch})[0], ppocr, fusion), None

    def recognize(
        self,
        crops: list[np.ndarray],
        mask: np.ndarray | None = None,
        batch_size: int = 6,
        lexicon: Lexicon | None = None,
        rescore: bool = True,
        model: str = "ppocr",
        params: LexiconParams | None = None,
        fusion: float = FUSION_WEIGHT,
        handwriting: str | Path | None = None,
        lexicon_above: list[float] | None = None,
    ) -> list[Reading]:
        """Read each crop (RGB, one text line) over the allowed classes: greedy CTC decoding, or a
        lexicon-guided beam search when a ``lexicon`` is given, its words then rescored against nearby
        dictionary words unless ``rescore`` is false (:func:`inkread.backends.ppocr.decode.rescore_words`).
        ``model``: ``"ppocr"`` (PP-OCRv6 as shipped), ``"handwriting"`` (:data:`HANDWRITING_MODEL`, same
        classes, Latin script only) or ``"fused"`` (both, their posteriors combined with the handwriting
        model's share ``fusion``). ``handwriting``: another handwriting model file (a user's; default:
        :meth:`_handwriting_path`). ``params`` tune the search and the rescoring. ``lexicon_above``: a
        crop whose greedy reading is no more confident than its figure keeps that reading (no search)."""
        if model not in RECOGNISERS:
            raise ValueError(f"unknown recogniser {model!r} (one of {', '.join(RECOGNISERS)})")
        order = np.argsort([c.shape[1] / max(1, c.shape[0]) for c in crops])
        results: list[Reading | None] = [None] * len(crops)
        for run_of, padded in batches([rec_width(crops[i]) for i in order], batch_size):
            idx = order[run_of]
            batch, widths = rec_batch([crops[i] for i in idx], padded)

            def run(
                batch: np.ndarray = batch, widths: list[int] = widths
            ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
                probs, classes = self._posteriors(model, batch, fusion, handwriting)
                used = own_frames(probs.shape[1], widths, batch.shape[3])
                return [_columns(probs[j, :n], mask, classes) for j, n in enumerate(used)]

            tag = ("rec", model, fusion, str(handwriting), None if mask is None else digest(mask))
            for i, columns in zip(idx, recall(tag, batch, run)):  # (kept for a second reading: .memo)
                if lexicon_above is not None and (plain := self._decode(*columns)).confidence <= lexicon_above[i]:
                    results[i] = plain
                else:
                    results[i] = self._decode(*columns, lexicon, rescore, params)
        return [r for r in results if r is not None]

    def _decode(
        self,
        sub: np.ndarray,
        classes: np.ndarray,
        best_p: np.ndarray,
        lexicon: Lexicon | None = None,
        rescore: bool = True,
        params: LexiconParams | None = None,
    ) -> Reading:
        """One crop's reading from its allowed classes' posteriors (``sub``: frames x ``classes``) and
        each frame's highest probability over every class (``best_p``; :func:`_columns`)."""
        if lexicon is not None:
            from .decode import LexiconParams, beam_decode, decide_case, rescore_words

            params = params or LexiconParams()
            text, _conf, frames = beam_decode(sub, classes, self.charset, lexicon, params=params)
            first_lower = False
            if rescore:
                text, frames = rescore_words(sub, classes, self.charset, lexicon, text, frames, params=params)
                text, first_lower = decide_case(sub, classes, self.charset, lexicon, text, frames, params=params)
            reading = _reading(list(text), frames, [float(best_p[t]) for t in frames], len(sub))
            reading.first_lower = first_lower
            return reading
        pick = sub.argmax(axis=1)
        best = classes[pick]
        best_p = sub[np.arange(len(pick)), pick]
        chars: list[str] = []
        emitted: list[int] = []  # the frame of each character
        prev = 0
        for t, k in enumerate(best):
            if k != 0 and k != prev:
                chars.append(self.charset[k])
                emitted.append(t)
            prev = k
        return _reading(chars, emitted, [float(best_p[t]) for t in emitted], len(best))


def _columns(
    probs: np.ndarray, mask: np.ndarray | None, classes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One crop's posteriors (frames x classes) as decoding takes them: the columns of the classes
    ``mask`` allows (all: ``probs`` itself), those classes, and each frame's highest probability.
    ``classes``: the classes of ``probs``'s columns, where they are not every class."""
    if classes is not None:
        allowed = np.ones(len(classes), dtype=bool) if mask is None else mask[classes]
        return (probs if allowed.all() else probs[:, allowed]), classes[allowed], probs.max(axis=1)
    if mask is None or mask.all():
        return probs, np.arange(probs.shape[1]), probs.max(axis=1)
    classes = np.flatnonzero(mask)
    return probs[:, classes], classes, probs.max(axis=1)


def _reading(chars: list[str], frames: list[int], confs: list[float], n_frames: int) -> Reading:
    """A Reading from decoded characters, the frame of each and its probability."""
    xs = [(t + 0.5) / n_frames for t in frames]
    # Leading/trailing spaces carry no information.
    while chars and chars[0] == " ":
        chars.pop(0), xs.pop(0), confs.pop(0)
    while chars and chars[-1] == " ":
        chars.pop(), xs.pop(), confs.pop()
    return Reading("".join(chars), float(np.mean(confs)) if confs else 0.0, xs, confs)


def _resize_pad(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    h, w = crop.shape[:2]
    rw = min(width, max(1, int(math.ceil(height * w / max(1, h)))))
    resized = cv2.resize(crop, (rw, height))
    norm = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
    out = np.zeros((3, height, width), dtype=np.float32)
    out[:, :, :rw] = norm.transpose(2, 0, 1)
    return out


_MODELS: PaddleModels | None = None
_MODELS_LOCK = threading.Lock()


def get_models() -> PaddleModels:
    """The process-wide models, loaded on first use."""
    global _MODELS
    if _MODELS is None:
        with _MODELS_LOCK:
            if _MODELS is None:
                _MODELS = PaddleModels()
    return _MODELS
