"""DB post-processing on hand-made probability maps: boxes, their order, scale and filtering."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkread.backends.ppocr.detect import DetectParams, boxes_from_map, order_points


# ----- order_points ----------------------------------------------------------------------------

def _rect(cx, cy, w, h, angle_deg):
    """Corners (tl, tr, br, bl) of a w x h rectangle turned counter-clockwise by ``angle_deg``."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    local = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    return np.stack([cx + local[:, 0] * c + local[:, 1] * s, cy - local[:, 0] * s + local[:, 1] * c], 1)


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))))
def test_order_points_any_input_order(perm):
    pts = np.array([[10, 20], [110, 20], [110, 60], [10, 60]], dtype=np.float32)
    np.testing.assert_array_equal(order_points(pts[list(perm)]), pts)


@settings(max_examples=150, deadline=None)
@given(w=st.floats(20, 400), ratio=st.floats(0.05, 0.95), angle=st.floats(-40, 40),
       perm=st.permutations(range(4)), cx=st.floats(200, 800), cy=st.floats(200, 800))
def test_order_points_tilted_text_box(w, ratio, angle, perm, cx, cy):
    """A text box (wider than tall) tilted by less than 40 degrees comes back as tl, tr, br, bl."""
    true = _rect(cx, cy, w, w * ratio, angle)
    got = order_points(true[list(perm)])
    assert got.dtype == np.float32 and got.shape == (4, 2)
    np.testing.assert_allclose(got, true, atol=1e-3)


def test_order_points_accepts_flat_input():
    got = order_points([5, 5, 0, 0, 5, 0, 0, 5])
    np.testing.assert_array_equal(got, [[0, 0], [5, 0], [5, 5], [0, 5]])


# ----- boxes_from_map --------------------------------------------------------------------------

def _map(shape=(100, 200), rects=(), value=0.9):
    prob = np.zeros(shape, dtype=np.float32)
    for x0, y0, x1, y1, *v in rects:
        prob[y0:y1, x0:x1] = v[0] if v else value
    return prob


def _axis_box(box):
    return box[:, 0].min(), box[:, 1].min(), box[:, 0].max(), box[:, 1].max()


def test_two_rectangles_give_two_boxes_at_the_right_places():
    # two text kernels in a 120 x 240 map, away from its edges; the image is twice the map's size
    rects = [(30, 25, 130, 45), (50, 75, 200, 100)]
    prob = _map((120, 240), rects=rects)
    found = boxes_from_map(prob, 2.0, 2.0, DetectParams(), (480, 240))
    assert len(found) == 2
    found.sort(key=lambda bs: bs[0][:, 1].mean())
    for (box, score), (x0, y0, x1, y1) in zip(found, rects):
        assert box.shape == (4, 2) and box.dtype == np.float32
        assert 0.8 < score <= 0.9 + 1e-6  # mean probability inside the region (its rim included)
        bx0, by0, bx1, by1 = _axis_box(box)
        # the box holds the kernel (in image pixels) and is grown around it, but not by much
        assert bx0 <= 2 * x0 and by0 <= 2 * y0 and bx1 >= 2 * (x1 - 1) and by1 >= 2 * (y1 - 1)
        kernel_h = 2 * (y1 - y0)
        assert bx0 >= 2 * x0 - kernel_h and by0 >= 2 * y0 - kernel_h
        assert bx1 <= 2 * x1 + kernel_h and by1 <= 2 * y1 + kernel_h
        centre = box.mean(axis=0)
        assert centre == pytest.approx([x0 + x1, y0 + y1], abs=2.0)
        np.testing.assert_allclose(order_points(box), box)  # ordered tl, tr, br, bl


def test_anisotropic_scale():
    prob = _map(rects=[(50, 40, 150, 60)])
    (box, _), = boxes_from_map(prob, 3.0, 0.5, DetectParams(), (600, 50))
    centre = box.mean(axis=0)
    assert centre == pytest.approx([100 * 3.0, 50 * 0.5], abs=3.0)


def test_tilted_kernel_gives_a_tilted_box():
    import cv2

    prob = np.zeros((200, 300), dtype=np.float32)
    quad = _rect(150, 100, 200, 24, 10).astype(np.int32)
    cv2.fillPoly(prob, [quad], 0.9)
    (box, _), = boxes_from_map(prob, 1.0, 1.0, DetectParams(), (300, 200))
    tl, tr = box[0], box[1]
    angle = -math.degrees(math.atan2(tr[1] - tl[1], tr[0] - tl[0]))
    assert angle == pytest.approx(10, abs=1.5)


def test_weak_and_tiny_regions_are_dropped():
    rects = [
        (20, 10, 120, 30),  # text
        (20, 50, 120, 70, 0.4),  # above thresh (0.3) but below box_thresh (0.5)
        (150, 80, 152, 82),  # a speck smaller than min_size
    ]
    found = boxes_from_map(_map(rects=rects), 1.0, 1.0, DetectParams(), (200, 100))
    assert len(found) == 1
    assert _axis_box(found[0][0])[1] < 20
    looser = boxes_from_map(_map(rects=rects), 1.0, 1.0, DetectParams(box_thresh=0.3), (200, 100))
    assert len(looser) == 2


def test_boxes_are_clipped_to_the_image():
    prob = _map(rects=[(0, 0, 60, 20), (150, 80, 200, 100)])
    found = boxes_from_map(prob, 2.0, 2.0, DetectParams(unclip_ratio=3.0), (400, 200))
    assert len(found) == 2
    for box, _ in found:
        assert (box[:, 0] >= 0).all() and (box[:, 0] <= 399).all()
        assert (box[:, 1] >= 0).all() and (box[:, 1] <= 199).all()


def test_empty_map_gives_no_boxes():
    assert boxes_from_map(np.zeros((64, 64), np.float32), 1.0, 1.0, DetectParams(), (64, 64)) == []


def test_recognition_batches_hold_few_wide_lines():
    """Crops (sorted by width) go to the recogniser in groups of six, each padded to its widest as
    always (the padding changes what the recognisers read), a few at a time when wide: a batch's
    memory grows with its crops times its width (six 3,000-px printed lines took 270 MB of output)."""
    from inkread.backends.ppocr.recinput import REC_BATCH_WIDTH, batches

    assert batches([320] * 10, 6) == [(slice(0, 6), 320), (slice(6, 10), 320)]
    wide = [1000, 1000, 2000, 2500, 3000, 3000, 3200, 4800]
    runs = batches(wide, 6)
    assert [i for run, _ in runs for i in range(run.start, run.stop)] == list(range(len(wide)))
    assert {width for run, width in runs if run.start < 6} == {3000}  # the group of six: padded as one
    assert [width for run, width in runs if run.start >= 6] == [4800, 4800]
    for run, width in runs:
        assert run.stop - run.start == 1 or (run.stop - run.start) * width <= REC_BATCH_WIDTH
    assert batches([], 6) == []
