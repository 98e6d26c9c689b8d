"""Image clean-up: transforms back to the original, rotation, skew, binarisation, contrast, prepare()."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkread.options import PreprocessOptions, Toggle
from inkread.preprocess import (
    Transform,
    clahe,
    median_denoise,
    needs_contrast,
    otsu,
    prepare,
    rotate,
    sauvola,
    skew_angle,
    upscale,
)


def _text_like(h: int = 160, w: int = 320, ink: int = 20, paper: int = 235, seed: int = 0) -> np.ndarray:
    """An RGB page with dark strokes (rectangles and lines) on paper."""
    img = np.full((h, w, 3), paper, dtype=np.uint8)
    rng = np.random.default_rng(seed)
    for _ in range(25):
        x, y = int(rng.integers(5, w - 40)), int(rng.integers(5, h - 20))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(3, 30)), y + int(rng.integers(3, 12))), (ink,) * 3, -1)
    cv2.line(img, (10, h // 2), (w - 10, h // 2 + 7), (ink,) * 3, 3)
    return img


def _affine(m: np.ndarray) -> Transform:
    return Transform(np.asarray(m, dtype=np.float64))


# ----- Transform -------------------------------------------------------------------------------

matrix_st = st.tuples(*[st.floats(-3, 3) for _ in range(4)], st.floats(-500, 500), st.floats(-500, 500)).filter(
    lambda t: abs(t[0] * t[3] - t[1] * t[2]) > 0.05
).map(lambda t: np.array([[t[0], t[1], t[4]], [t[2], t[3], t[5]]]))
points_st = st.lists(st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000)), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(outer=matrix_st, inner=matrix_st, pts=points_st)
def test_transform_composition_equals_applying_in_turn(outer, inner, pts):
    a, b = _affine(outer), _affine(inner)
    p = np.array(pts)
    np.testing.assert_allclose(a.then(b).apply(p), a.apply(b.apply(p)), rtol=1e-9, atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(m=matrix_st, pts=points_st)
def test_transform_inverse_round_trip_and_identity(m, pts):
    t = _affine(m)
    inv = _affine(cv2.invertAffineTransform(m))
    p = np.array(pts)
    np.testing.assert_allclose(inv.apply(t.apply(p)), p, atol=1e-6 * (1 + np.abs(p).max()))
    np.testing.assert_allclose(t.then(inv).apply(p), p, atol=1e-6 * (1 + np.abs(p).max()))
    np.testing.assert_allclose(Transform.identity().then(t).matrix, t.matrix)
    np.testing.assert_allclose(t.then(Transform.identity()).matrix, t.matrix)
    np.testing.assert_allclose(Transform.identity().apply(p), p)


def test_transform_apply_accepts_any_point_shape():
    t = _affine([[2, 0, 5], [0, 3, -1]])
    np.testing.assert_allclose(t.apply([1, 1]), [[7, 2]])
    np.testing.assert_allclose(t.apply(np.zeros((2, 4, 2))), np.tile([[5, -1]], (8, 1)))


@pytest.mark.parametrize("factor", [1.5, 2.0, 3.0])
def test_upscale_transform_maps_back(factor):
    img = _text_like(60, 90)
    out, t = upscale(img, factor)
    assert out.shape[:2] == (round(60 * factor), round(90 * factor))
    np.testing.assert_allclose(t.apply([[90 * factor, 60 * factor], [0, 0]]), [[90, 60], [0, 0]])


# ----- rotate ----------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(angle=st.floats(-45, 45), fx=st.floats(0.1, 0.9), fy=st.floats(0.1, 0.9))
def test_rotate_and_its_transform_map_points_back(angle, fx, fy):
    """A dot drawn at (x, y) is found in the rotated image where the transform says it came from."""
    h, w = 120, 200
    x, y = 8 + fx * (w - 16), 8 + fy * (h - 16)
    img = np.full((h, w, 3), 255, dtype=np.uint8)
    cv2.circle(img, (int(round(x)), int(round(y))), 3, (0, 0, 0), -1)
    out, t = rotate(img, angle)
    # the canvas grew to hold the whole page
    a = math.radians(abs(angle))
    assert abs(out.shape[1] - (w * math.cos(a) + h * math.sin(a))) <= 1.5
    assert abs(out.shape[0] - (h * math.cos(a) + w * math.sin(a))) <= 1.5
    ys, xs = np.nonzero(out[:, :, 0] < 128)
    assert len(xs) > 0
    found = np.array([[xs.mean(), ys.mean()]])
    back = t.apply(found)[0]
    assert np.hypot(back[0] - round(x), back[1] - round(y)) < 1.5
    # every corner of the input lands inside the new canvas
    forward = cv2.invertAffineTransform(t.matrix)
    corners = _affine(forward).apply([[0, 0], [w, 0], [w, h], [0, h]])
    assert (corners >= -1).all() and (corners[:, 0] <= out.shape[1] + 1).all() and (corners[:, 1] <= out.shape[0] + 1).all()


def test_rotate_is_counter_clockwise_and_fills_with_paper():
    img = np.full((100, 300, 3), 230, dtype=np.uint8)
    cv2.circle(img, (280, 50), 4, (0, 0, 0), -1)  # a dot near the right edge, on the centre line
    out, _ = rotate(img, 30)
    ys, xs = np.nonzero(out[:, :, 0] < 128)
    assert ys.mean() < out.shape[0] / 2 - 20  # counter-clockwise: the right end went up
    assert tuple(out[0, 0]) == (230, 230, 230)  # grown corners filled with the paper colour


# ----- skew_angle ------------------------------------------------------------------------------

def _rotated_boxes(angle_deg: float, n: int = 6) -> list[np.ndarray]:
    """Long line boxes (tl, tr, br, bl) of a page turned counter-clockwise by ``angle_deg``."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    cx, cy = 500.0, 400.0
    boxes = []
    for k in range(n):
        x0, x1 = 100.0, 100.0 + 500 + 40 * (k % 3)
        y0, y1 = 100.0 + 60 * k, 130.0 + 60 * k
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        dx, dy = pts[:, 0] - cx, pts[:, 1] - cy
        boxes.append(np.stack([cx + dx * c + dy * s, cy - dx * s + dy * c], axis=1))
    return boxes


@settings(max_examples=60, deadline=None)
@given(angle=st.floats(-25, 25))
def test_skew_angle_recovers_a_known_rotation(angle):
    assert skew_angle(_rotated_boxes(angle)) == pytest.approx(angle, abs=0.05)


def test_skew_angle_is_robust_to_a_few_outliers():
    boxes = _rotated_boxes(3.0, n=7) + _rotated_boxes(-30.0, n=2)
    assert skew_angle(boxes) == pytest.approx(3.0, abs=0.05)


def test_skew_angle_ignores_short_boxes_and_needs_two_lines():
    assert skew_angle([]) == 0.0
    assert skew_angle(_rotated_boxes(5.0, n=1)) == 0.0
    short = [np.array([[0, 0], [40, -5], [40, 25], [0, 30]], dtype=float)] * 5  # width < 2 heights
    assert skew_angle(short) == 0.0


# ----- binarisation, contrast, denoise ----------------------------------------------------------

@pytest.mark.parametrize("binarize", [sauvola, otsu], ids=["sauvola", "otsu"])
def test_binarisation_is_black_on_white(binarize):
    img = _text_like()
    # uneven lighting: the paper darkens to the right
    shade = np.linspace(1.0, 0.7, img.shape[1])[None, :, None]
    lit = (img.astype(np.float64) * shade).astype(np.uint8)
    out = binarize(lit)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 255}
    assert (out[:, :, 0] == out[:, :, 1]).all() and (out[:, :, 1] == out[:, :, 2]).all()
    ink = img[:, :, 0] < 128
    assert (out[:, :, 0][ink] == 0).mean() > 0.95  # strokes stay black
    assert (out[:, :, 0][~ink] == 255).mean() > 0.9  # paper becomes white


def test_sauvola_copes_with_shadow_better_than_otsu():
    img = _text_like()
    shade = np.linspace(1.0, 0.35, img.shape[1])[None, :, None]  # a strong shadow on the right
    lit = (img.astype(np.float64) * shade).astype(np.uint8)
    paper = img[:, :, 0] > 128
    white_sauvola = (sauvola(lit)[:, :, 0][paper] == 255).mean()
    white_otsu = (otsu(lit)[:, :, 0][paper] == 255).mean()
    assert white_sauvola > 0.9 and white_sauvola > white_otsu


def test_clahe_raises_contrast_of_a_faint_image():
    # a faint photo: grey ink on grey paper, soft edges, sensor noise
    sharp = _text_like(ink=120, paper=150)
    faint = cv2.GaussianBlur(sharp, (5, 5), 1.2)
    noise = np.random.default_rng(0).normal(0, 3, faint.shape)
    faint = np.clip(faint + noise, 0, 255).astype(np.uint8)
    assert needs_contrast(faint)
    out = clahe(faint)
    assert out.shape == faint.shape and out.dtype == np.uint8
    ink = sharp[:, :, 0] < 135

    def spread(a):  # mean paper lightness minus mean ink lightness
        g = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(float)
        return g[~ink].mean() - g[ink].mean()

    assert spread(out) > 1.5 * spread(faint)  # measured: 25 -> 53
    lo, hi = np.percentile(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), [2, 98])
    assert hi - lo > 60  # measured 80, from 34
    assert not needs_contrast(_text_like())


def test_sparse_or_soft_pages_are_not_faint():
    # a receipt: a few dark characters on a large white sheet (2nd-98th percentile spread is 0)
    sparse = np.full((1200, 600, 3), 250, dtype=np.uint8)
    for y in range(100, 1100, 120):
        cv2.putText(sparse, "TOTAL 12.50", (40, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (30, 30, 30), 1)
    assert not needs_contrast(sparse)
    # soft brown ink on yellowed paper with show-through: legible, and CLAHE would lift the show-through
    soft = _text_like(ink=105, paper=205)
    soft[::7, ::5] = 170  # faint marks from the other side of the sheet
    assert not needs_contrast(soft)
    assert needs_contrast(_text_like(ink=150, paper=190))


def test_median_denoise_removes_salt_and_pepper():
    img = np.full((80, 80, 3), 200, dtype=np.uint8)
    rng = np.random.default_rng(1)
    ys, xs = rng.integers(0, 80, 60), rng.integers(0, 80, 60)
    img[ys, xs] = 0
    out = median_denoise(img)
    assert (out[2:-2, 2:-2] == 200).mean() > 0.99


# ----- prepare ---------------------------------------------------------------------------------

ALL_ON = PreprocessOptions(upscale="on", contrast="on", denoise="on", binarize="on", deskew="on")


@pytest.mark.parametrize("options", [
    PreprocessOptions(),
    ALL_ON,
    PreprocessOptions(contrast="on"),
    PreprocessOptions(binarize="on", upscale="off"),
    PreprocessOptions(upscale="off", contrast="off", denoise="off", binarize="off", deskew="off"),
], ids=["default", "all-on", "contrast", "binarize", "all-off"])
@pytest.mark.parametrize("size", [(150, 240), (600, 500)], ids=["small", "large"])
def test_prepare_never_modifies_its_input(options, size):
    img = _text_like(*size, ink=110, paper=150)  # faint, so AUTO contrast kicks in too
    before = img.copy()
    out, t, steps = prepare(img, options)
    np.testing.assert_array_equal(img, before)
    # the transform maps the processed image's corners back onto the input's
    h, w = img.shape[:2]
    oh, ow = out.shape[:2]
    np.testing.assert_allclose(t.apply([[ow, oh]]), [[w, h]], atol=1e-6)
    if steps:
        assert out is not img  # a processed image is a new array
        if not np.shares_memory(out, img):
            out[...] = 0  # writing the result must not reach the input either
            np.testing.assert_array_equal(img, before)


def test_prepare_works_on_read_only_input():
    img = _text_like(100, 200, ink=110, paper=150)
    img.flags.writeable = False
    out, _, steps = prepare(img, ALL_ON)
    assert {"clahe", "median", "sauvola"} <= set(steps)
    assert any(s.startswith("upscale") for s in steps)


def test_prepare_upscales_small_images_only_on_auto():
    small = _text_like(120, 300)
    out, t, steps = prepare(small, PreprocessOptions())
    assert steps and steps[0] == "upscale x2"
    assert out.shape[:2] == (240, 600)
    np.testing.assert_allclose(t.apply([[100, 50]]), [[50, 25]])
    big = _text_like(500, 800)
    out, t, steps = prepare(big, PreprocessOptions())
    assert not any(s.startswith("upscale") for s in steps) and out.shape == big.shape
    np.testing.assert_allclose(t.matrix, Transform.identity().matrix)
    out, _, steps = prepare(small, PreprocessOptions(upscale=Toggle.OFF))
    assert out.shape == small.shape and not any(s.startswith("upscale") for s in steps)


def test_prepare_upscale_stays_under_the_size_cap():
    wide = np.full((50, 3000, 3), 255, dtype=np.uint8)
    out, t, steps = prepare(wide, PreprocessOptions(upscale="on"))
    assert max(out.shape[:2]) <= 5000
    assert out.shape[1] == pytest.approx(5000, abs=1)
    np.testing.assert_allclose(t.apply([[out.shape[1], out.shape[0]]]), [[3000, 50]], atol=0.5)
