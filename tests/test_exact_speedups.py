"""Faster forms of the own stages' work, each checked against the plain computation it replaces: the
page must read exactly as before (see docs/design_notes.md, speed of the own stages)."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline import layout, ocr, preprocess
from pipeline.model import BBox, Line, Word


def _plain_rim_covers(ink, centres, bands, steps=72):
    angles = np.arange(steps) * 2 * np.pi / steps
    along_x, along_y = bands[:, :, None] * np.cos(angles), bands[:, :, None] * np.sin(angles)
    covers = np.empty((len(centres), len(bands)))
    for k, (x, y) in enumerate(centres):
        columns = np.clip(np.round(x + along_x).astype(int), 0, ink.shape[1] - 1)
        rows = np.clip(np.round(y + along_y).astype(int), 0, ink.shape[0] - 1)
        covers[k] = np.count_nonzero(ink[rows, columns].any(axis=1), axis=1) / steps
    return covers


def test_rim_covers_inside_the_page_and_over_its_edge_match_the_plain_lookup():
    rng = np.random.default_rng(7)
    ink = np.zeros((300, 400), bool)
    cv2.circle(ink.view(np.uint8), (200, 150), 60, 1, 3)
    ink |= rng.random(ink.shape) < 0.05
    bands = np.arange(50.3, 70.3)[:, None] + np.array(layout.RIM_BAND)
    inside = [(200.25 + dx, 150.5 + dy) for dy in range(-8, 9, 4) for dx in range(-8, 9, 4)]
    over_edge = [(30.7 + dx, 280.1 + dy) for dy in range(-3, 4) for dx in range(-3, 4)]  # clipped
    for centres in (inside, over_edge, inside[:3]):
        expected = _plain_rim_covers(ink, centres, bands)
        assert np.array_equal(layout._rim_covers_at(ink, centres, bands), expected)


def test_isolated_specks_go_wherever_the_ink_lies_on_the_page():
    page = np.full((400, 500), 255, np.uint8)
    for x in range(150, 330, 30):  # a row of letters
        page[200:230, x : x + 18] = 0
    page[100:102, 100:103] = 0  # the same speck alone: goes
    page[238:240, 160:163] = 0  # a full stop beside the letters (6 px, over the grain's 4): stays
    measures = preprocess.PageMeasures(230, 20, 3, stroke_width=3, glyph_height=30)
    cleaned = preprocess.remove_isolated_specks(page, measures, 300)
    assert (cleaned[100:102, 100:103] == 255).all() and (cleaned[238:240, 160:163] == 0).all()
    assert np.array_equal(cleaned[200:230], page[200:230])
    # Moved by odd offsets in a wider margin (the pieces are labelled in the box round the ink): the same.
    wide = np.full((700, 900), 255, np.uint8)
    wide[123:523, 257:757] = page
    assert np.array_equal(preprocess.remove_isolated_specks(wide, measures, 300)[123:523, 257:757], cleaned)


def test_grain_spread_matches_numpy_median_of_distances():
    rng = np.random.default_rng(11)
    for size in (1, 2, 51, 4000, 300_000):
        for spread in (1.0, 4.0, 60.0):
            values = np.clip(rng.normal(3, spread, size), -255, 255).astype(np.int16)
            expected = float(np.median(np.abs(values - np.median(values))))
            assert preprocess.median_deviation(values) == expected


def test_type_under_a_stamp_is_cut_as_below_the_level():
    rng = np.random.default_rng(13)
    for _ in range(30):
        crop = rng.integers(0, 256, (40, 90)).astype(np.uint8)
        crop[10:30, 20:70] //= 3
        for share in (0.3, 0.5, 0.73):
            paper, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            ink = crop[crop < paper]
            typed, _ = cv2.threshold(ink.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            level = typed + share * (paper - typed)
            expected = cv2.medianBlur(np.where(crop < level, 0, 255).astype(np.uint8), 3)
            assert np.array_equal(layout._type_only(crop, share), expected)


def _line(x0: int, y0: int, x1: int, y1: int) -> Line:
    return Line.of([Word("слово", BBox(x0, y0, x1, y1), 90.0)])


def _plain_column_start(lines: list[Line], width: int) -> int | None:
    starts = []
    for a in lines:
        for b in lines:
            if b is a or b.bbox.x0 <= a.bbox.x1:
                continue
            rows = min(a.bbox.y1, b.bbox.y1) - max(a.bbox.y0, b.bbox.y0)
            if rows > 0.5 * min(a.bbox.height, b.bbox.height) and b.bbox.x0 - a.bbox.x1 > 0.02 * width:
                starts.append(b.bbox.x0)
    if len(starts) < ocr.COLUMN_ROWS:
        return None
    aligned = np.abs(np.array(starts) - np.median(starts)) < 0.02 * width
    return int(np.min(np.array(starts)[aligned])) if int(aligned.sum()) >= ocr.COLUMN_ROWS else None


def test_column_start_of_two_columns_and_of_one():
    rows = list(range(100, 1600, 60))
    left = [_line(100, y, 900, y + 40) for y in rows]
    two = left + [_line(1200 + k % 3, y + 5, 2000, y + 45) for k, y in enumerate(rows)]
    assert ocr.column_start(two, 2400) == _plain_column_start(two, 2400) == 1200
    # Rows half apart, gaps under 2 % of the page, lines overlapping: the pairs that do and do not count.
    rng = np.random.default_rng(17)
    for _ in range(20):
        boxes = np.column_stack([rng.integers(0, 1200, 40), rng.integers(0, 300, 40)])
        mixed = [
            _line(int(x), int(y), int(x) + int(w), int(y) + int(h))
            for (x, y), w, h in zip(boxes, rng.integers(20, 500, 40), rng.integers(10, 60, 40), strict=True)
        ]
        assert ocr.column_start(mixed, 1300) == _plain_column_start(mixed, 1300)
    assert ocr.column_start([_line(100, y, 2000, y + 40) for y in rows], 2400) is None
    assert ocr.column_start([], 2400) is None


def test_grey_crops_share_their_histograms_only_when_all_are_grey():
    grey = np.full((20, 30), 140, np.uint8)
    binary = np.where(np.arange(600).reshape(20, 30) % 7, 255, 0).astype(np.uint8)
    counts = layout._grey_crops([grey, grey[5:, 5:]])
    assert counts is not None and [int(c[140]) for c in counts] == [600, 375]
    assert layout._grey_crops([grey, binary]) is None and layout._grey_crops([binary, grey]) is None
    paper = layout._white_paper(grey, counts[0])
    assert np.array_equal(paper, layout._white_paper(grey)) and paper.max() == 255


def test_in_place_speck_removal_gives_the_copy_s_page():
    rng = np.random.default_rng(3)
    page = np.where(rng.random((400, 500)) < 0.01, 0, 255).astype(np.uint8)
    page[200:230, 150:330:2] = 0
    measures = preprocess.PageMeasures(230, 20, 3, stroke_width=3, glyph_height=30)
    copied = preprocess.remove_isolated_specks(page, measures, 300)
    assert (copied != page).any()
    own = page.copy()
    assert preprocess.remove_isolated_specks(own, measures, 300, in_place=True) is own
    assert np.array_equal(own, copied)


def test_the_cleaning_s_reduced_copy_is_the_ocr_stage_s():
    rng = np.random.default_rng(9)
    page = np.clip(rng.normal(200, 30, (3508, 2480)), 0, 255).astype(np.uint8)
    made = preprocess.downscale(page, 2000)[0]
    assert ocr.reduced_copy(page, made) is made
    assert np.array_equal(made, ocr.reduced_copy(page))
    other = preprocess.downscale(page, 1999)[0]  # another size is not taken for it
    assert ocr.reduced_copy(page, other).shape == made.shape


def test_a_thresholded_cleaned_page_is_its_own_ink_and_a_grey_one_is_thresholded():
    from pipeline import process

    rng = np.random.default_rng(2)
    grey = np.clip(rng.normal(180, 40, (200, 300)), 0, 255).astype(np.uint8)
    binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    frame = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    otsu = preprocess.CleaningPlan(0.0, 1.0, "otsu")
    cleaned = preprocess.Cleaned(binary, 0.0, 0, frame, 300, (), plan=otsu)
    assert process._cleaned_binary(cleaned) is binary
    assert np.array_equal(process._binary(binary), binary)
    left_grey = preprocess.Cleaned(
        grey, 0.0, 0, frame, 300, (), plan=preprocess.CleaningPlan(0.0, 1.0, "grey")
    )
    assert np.array_equal(process._cleaned_binary(left_grey), binary)


def test_coloured_ink_enlarged_in_its_box_is_opencv_s_nearest_enlarging():
    rng = np.random.default_rng(4)
    for small_shape, shape in (
        ((1754, 1240), (3508, 2480)),
        ((1754, 1241), (3509, 2481)),
        ((50, 37), (101, 73)),
    ):
        mask = np.zeros(small_shape, np.uint8)
        h, w = small_shape
        mask[h // 3 : h // 2, w // 4 : w // 2] = (rng.random((h // 2 - h // 3, w // 2 - w // 4)) < 0.4) * 255
        mask[h - 1, w - 1] = 255  # ink in the last row and column too
        expected = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
        enlarged, box = layout._enlarged_nearest(mask, shape)
        assert np.array_equal(enlarged, expected) and box == cv2.boundingRect(expected)
    empty, box = layout._enlarged_nearest(np.zeros((20, 30), np.uint8), (40, 60))
    assert not empty.any() and empty.shape == (40, 60) and box[2] == 0


def _two_by_two_means(image: np.ndarray) -> np.ndarray:
    """Each 2x2 block's mean, rounded half to even as OpenCV rounds; an odd last row or column dropped."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    blocks = image[:h, :w].astype(np.float64).reshape(h // 2, 2, w // 2, 2, *image.shape[2:])
    return np.rint(blocks.mean(axis=(1, 3))).astype(image.dtype)


def test_halving_is_the_2x2_means_on_odd_and_even_sides():
    rng = np.random.default_rng(31)
    for shape in ((301, 203), (300, 200), (301, 200), (77, 51, 3)):
        image = rng.integers(0, 256, shape).astype(np.uint8)
        halved = preprocess._halved(image)
        # The slow path a size asked of an odd side took drifted half a pixel across the page.
        assert halved.shape[:2] == (shape[0] // 2, shape[1] // 2)
        assert np.abs(halved.astype(int) - _two_by_two_means(image)).max() <= 1


def test_strip_brightest_is_each_strip_s_maximum():
    rng = np.random.default_rng(33)
    rows = rng.integers(0, 256, (90, 1003)).astype(np.uint8)
    for strip in (40, 80, 2000):
        edges = np.linspace(0, rows.shape[1], max(1, round(rows.shape[1] / strip)) + 1).astype(int)
        expected = np.stack(
            [rows[:, a:b].max(axis=1) for a, b in zip(edges[:-1], edges[1:], strict=True)], axis=1
        )
        assert np.array_equal(preprocess._strip_brightest(rows, strip), expected.astype(np.float32))
