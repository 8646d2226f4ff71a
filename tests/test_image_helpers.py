"""The small image helpers the cleaning and layout stages share (pipeline/preprocess.py): each checked
against a plain computation of the same thing."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline import preprocess, synth


def test_components_match_opencv_and_fall_back_beyond_16_bits():
    rng = np.random.default_rng(3)
    mask = np.where(rng.random((300, 400)) < 0.3, 255, 0).astype(np.uint8)
    count, labels, stats, centroids = preprocess.components(mask)
    ref_count, ref_labels, ref_stats, ref_centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    assert count == ref_count and labels.dtype == np.uint16
    assert np.array_equal(labels, ref_labels) and np.array_equal(stats, ref_stats)
    assert np.allclose(centroids, ref_centroids)

    dots = np.zeros((600, 600), np.uint8)
    dots[::2, ::2] = 255  # 90 000 separate dots: more labels than 16 bits hold
    count, labels, stats, _ = preprocess.components(dots)
    assert count == 90_001 and labels.dtype == np.int32
    assert labels.max() == 90_000 and (stats[1:, cv2.CC_STAT_AREA] == 1).all()


def test_piece_stats_are_the_pieces_components_finds_over_the_whole_mask():
    rng = np.random.default_rng(5)
    for _ in range(20):
        mask = np.zeros((240, 330), np.uint8)
        y0, x0 = rng.integers(0, 120), rng.integers(0, 160)  # ink away from the edges, at odd offsets too
        mask[y0 : y0 + 100, x0 : x0 + 150] = np.where(rng.random((100, 150)) < 0.35, 255, 0)
        _, _, whole, whole_centroids = preprocess.components(mask)
        stats, centroids = preprocess.piece_stats(mask)
        assert len(stats) == len(whole) and not stats[0].any() and not centroids[0].any()
        # The same pieces (boxes and areas, and centroids with the same whole pixel), whatever their order.
        order, reference = np.lexsort(stats[1:].T[::-1]), np.lexsort(whole[1:].T[::-1])
        assert np.array_equal(stats[1:][order], whole[1:][reference])
        found, expected = centroids[1:][order], whole_centroids[1:][reference]
        assert np.array_equal(found.astype(int), expected.astype(int)) and np.allclose(found, expected)
    stats, centroids = preprocess.piece_stats(np.zeros((50, 60), np.uint8))
    assert stats.shape == (1, 5) and centroids.shape == (1, 2)  # the background's row alone


def test_level_percentile_is_numpys_percentile_and_median():
    rng = np.random.default_rng(6)
    page = np.clip(rng.normal(240, 12, (300, 200)), 0, 255).astype(np.uint8)
    mask = np.where(rng.random(page.shape) < 0.3, 255, 0).astype(np.uint8)
    for q in (0, 10, 25, 50, 90, 100):
        assert preprocess.level_percentile(page, q) == np.percentile(page, q)
        assert preprocess.level_percentile(page, q, mask) == np.percentile(page[mask > 0], q)
    assert preprocess.level_percentile(page, 50, mask) == np.median(page[mask > 0])
    # Few pixels of different levels next to the position: NumPy's interpolation, the same value.
    few = np.array([[10, 20, 30, 41]], np.uint8)
    for q in (25, 50, 90):
        assert preprocess.level_percentile(few, q) == np.percentile(few, q)
    assert preprocess.level_percentile(few, 50) == np.median(few) == 25.0


def test_median_deviation_is_the_median_distance_from_the_median():
    rng = np.random.default_rng(7)
    grain = np.round(rng.normal(0, 6, 50_001)).astype(np.int16)
    expected = np.median(np.abs(grain - np.median(grain)))
    assert preprocess.median_deviation(grain) == expected
    skewed = np.concatenate([grain, np.full(20_000, 9, np.int16)])
    assert preprocess.median_deviation(skewed) == np.median(np.abs(skewed - np.median(skewed)))
    # An even count whose middle values differ: the median is between them (NumPy's own answer).
    pair = np.array([-3, -1, 2, 8], np.int16)
    assert preprocess.median_deviation(pair) == np.median(np.abs(pair - np.median(pair))) == 2.5


def test_flattening_a_colour_image_flattens_each_channel_as_grey():
    rng = np.random.default_rng(8)
    ys, xs = np.mgrid[0:900, 0:700]
    light = 180 + 60 * xs / 700  # uneven lighting across the sheet
    colour = np.stack([light, light * 0.9, light * 0.8], axis=2) + rng.normal(0, 4, (900, 700, 3))
    colour[300:320, 100:600] = (90, 40, 160)  # a violet stroke
    colour = np.clip(colour, 0, 255).astype(np.uint8)
    flat = preprocess.flatten_background(colour)
    for channel in range(3):
        alone = preprocess.flatten_background(np.ascontiguousarray(colour[:, :, channel]))
        assert np.array_equal(flat[:, :, channel], alone)


def test_ink_points_are_the_stroke_edges_row_by_row_and_the_same_sample():
    rng = np.random.default_rng(9)
    mask = np.where(rng.random((120, 90)) < 0.2, 255, 0).astype(np.uint8)
    for axis in (0, 1):
        edges = cv2.subtract(mask, np.roll(mask, 1, axis=axis))
        ys, xs = np.nonzero(edges)
        got = preprocess._ink_points(mask, limit=len(ys) + 1, axis=axis)
        assert np.array_equal(got[0], ys) and np.array_equal(got[1], xs)
        pick = np.random.default_rng(0).choice(len(ys), 100, replace=False)
        sample = preprocess._ink_points(mask, limit=100, axis=axis)
        assert np.array_equal(sample[0], ys[pick]) and np.array_equal(sample[1], xs[pick])
    empty = preprocess._ink_points(np.zeros((10, 10), np.uint8))
    assert len(empty[0]) == len(empty[1]) == 0


def _page_on_bed(type_level: int) -> np.ndarray:
    """A 4 x 5.5 inch page at 100 dpi lying askew on a black bed, typed in `type_level` grey."""
    page = np.full((550, 400), 235, np.uint8)
    for y in range(60, 500, 24):
        for x in range(50, 350, 14):
            cv2.rectangle(page, (x, y), (x + 8, y + 12), type_level, 2)
    turned = cv2.warpAffine(page, cv2.getRotationMatrix2D((200, 275), 4.0, 1.0), (400, 550), borderValue=0)
    return turned


def test_scanner_bed_fill_hands_back_the_flattened_copy_angles_are_estimated_on():
    outcomes = set()
    for type_level in (40, 200):  # dark type the bed hides nothing of; faint type it may hide
        grey = _page_on_bed(type_level)
        small, scale = preprocess.downscale(grey, 300)
        filled, small_filled, hides, small_flat = preprocess.fill_scanner_bed(grey, small, scale, 100)
        assert hides is not None, type_level
        outcomes.add(hides)
        chosen = small_filled if hides else small
        assert np.array_equal(small_flat, preprocess.flatten_background(chosen))
        mask = preprocess.ink_mask(chosen, small_flat)
        assert np.array_equal(mask, preprocess.ink_mask(chosen))
    assert outcomes == {False, True}
    plain = np.full((550, 400), 235, np.uint8)  # no bed: nothing made
    assert preprocess.fill_scanner_bed(plain, plain, 1.0, 100)[2:] == (None, None)


def test_no_bed_and_no_edge_band_without_ink_on_the_edge():
    """The shortcuts for masks with nothing on the image's edge give what the full rules give: a thick
    dark block or a long solid band inside the page is neither bed nor edge band; moved to the edge it is."""
    page = np.full((550, 400), 235, np.uint8)
    cv2.rectangle(page, (100, 100), (300, 160), 20, -1)  # thick and dark, away from every edge
    assert not preprocess.scanner_bed(page, 100).any()
    page[:, :30] = 20  # the bed along the left edge
    bed = preprocess.scanner_bed(page, 100)
    assert bed[:, :30].all() and not bed[100:160, 120:300].any()

    mask = np.zeros((300, 400), np.uint8)
    mask[100:110, 20:380] = 255  # a solid band across the page, not reaching its edge
    assert preprocess._without_edge_bands(mask) is mask
    mask[200:210, 0:200] = 255  # ... and one from the edge
    without = preprocess._without_edge_bands(mask)
    assert not without[200:210].any() and np.array_equal(without[100:110], mask[100:110])


def test_edge_labels_are_the_pieces_on_the_four_edge_lines_each_once():
    labels = np.zeros((6, 8), np.int32)
    labels[0, 2:4] = 3  # top
    labels[5, 7] = 9  # bottom right corner
    labels[2, 0] = labels[4, 0] = 5  # left, twice
    labels[3, 7] = 3  # right, a piece also on the top
    labels[2:4, 2:5] = 7  # inside only
    assert preprocess._edge_labels(labels).tolist() == [3, 5, 9]
    assert preprocess._reaches_edge(labels) and not preprocess._reaches_edge(labels[1:-1, 1:-1])
    touching = preprocess._touching_edge(np.where(labels > 0, 255, 0).astype(np.uint8))
    assert touching[0, 2] and touching[5, 7] and not touching[2:4, 2:5].any()


def _numpy_flatten(grey: np.ndarray) -> np.ndarray:
    """The former formula of preprocess.flatten_background: the paper's floor of 1 by np.maximum."""
    small, scale = preprocess.downscale(grey, 600, exact=True)
    kernel = max(3, int(round(min(small.shape[:2]) / 40)) | 1)
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (kernel, kernel)))
    paper = cv2.GaussianBlur(paper, (0, 0), kernel / 2)
    if scale < 1.0:
        paper = cv2.resize(paper, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(grey, np.maximum(paper, 1, out=paper), scale=255)


def test_flattening_floors_the_paper_at_one_as_numpy_did():
    rng = np.random.default_rng(12)
    grey = np.clip(rng.normal(200, 30, (1300, 900)), 0, 255).astype(np.uint8)
    grey[200:700, 100:500] = rng.integers(0, 3, (500, 400))  # black enough that the paper is 0 and 1
    for image in (grey, grey[:500, :400], cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)):
        paper_zero = preprocess.downscale(image, 600)[0].min() == 0
        assert paper_zero and np.array_equal(preprocess.flatten_background(image), _numpy_flatten(image))
    colour = cv2.merge([grey, grey // 2, 255 - grey])
    flat = preprocess.flatten_background(colour)
    for channel, image in enumerate(cv2.split(colour)):
        assert np.array_equal(flat[:, :, channel], _numpy_flatten(image))


def test_flattening_without_the_pass_for_zeros_matches_the_plain_one():
    rng = np.random.default_rng(5)
    light = np.clip(rng.normal(200, 25, (1300, 917)), 0, 255).astype(np.uint8)
    light[300:340, 100:800] = 20  # a line of type
    dark_band = light.copy()
    dark_band[:, :260] = 0  # black scanner bed: its paper is 0 and must be taken as 1
    one = np.clip(rng.normal(2, 1, (700, 500)), 0, 255).astype(np.uint8)  # levels of 1 after blurring
    colour = np.dstack([light, dark_band, np.roll(light, 50, axis=1)])
    for grey in (light, dark_band, one, light[:500, :400], colour):
        assert np.array_equal(preprocess.flatten_background(grey), _numpy_flatten(grey))


def test_lifting_dark_ink_raises_it_to_the_level_as_numpy_maximum():
    rng = np.random.default_rng(13)
    page = np.clip(rng.normal(235, 3, (800, 600)), 0, 255).astype(np.uint8)
    page[100:700:20, 50:550] = 212  # faint carbon type: rows of lines
    page[400:420, 200:320] = 10  # a little black pen
    lifted, level = preprocess.lift_dark_minority(page)
    assert level is not None and 10 < level <= 212
    assert np.array_equal(lifted, np.maximum(page, np.uint8(level)))


def test_profile_scores_are_those_of_rows_rounded_anew_for_each_angle():
    rng = np.random.default_rng(14)
    ys = rng.integers(0, 1400, 5000).astype(np.float64)
    xs = rng.integers(0, 990, 5000).astype(np.float64)
    ys, xs = ys - ys.mean(), xs - xs.mean()
    angles = np.arange(-15.0, 15.0 + 1e-9, 0.25)
    offset = int(np.ceil(np.abs(ys).max() + np.abs(xs).max())) + 1
    expected = []
    for angle in np.deg2rad(angles):
        counts = np.bincount(np.round(ys * np.cos(angle) - xs * np.sin(angle)).astype(np.int64) + offset)
        expected.append(float(np.dot(counts, counts)))
    assert np.array_equal(preprocess._profile_score(ys, xs, angles), np.array(expected))
    assert len(set(expected)) > 10  # the angles were told apart
    assert preprocess._profile_score(ys[:0], xs[:0], angles[:3]).tolist() == [0.0, 0.0, 0.0]


def test_shrink_is_near_area_resampling_and_keeps_every_rendered_word(test_text: str):
    """preprocess.shrink stands for OpenCV's area resampling (a fraction of its time): at the sizes the
    stages use, within three grey levels of it on average (the grain of a noisy page included) and with
    as much ink, and every word the page was typed with still shows as ink where its box falls."""
    page = synth.render_pages(test_text, 1, seed=61, max_skew=2, degradations=("texture", "noise"))[0]
    grey = page.image
    for long_side in (2000, 1400, 600):
        scale = long_side / max(grey.shape)
        size = (round(grey.shape[1] * scale), round(grey.shape[0] * scale))
        small = preprocess.shrink(grey, size)
        area = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        assert small.shape == area.shape and small.dtype == np.uint8
        assert np.abs(small.astype(int) - area.astype(int)).mean() < 3.0, long_side
        ink, area_ink = np.count_nonzero(small < 160), np.count_nonzero(area < 160)
        assert abs(ink - area_ink) <= 0.1 * area_ink, long_side
        paper = float(np.median(small))
        for word, corners in page.words:
            xs, ys = [c[0] * scale for c in corners], [c[1] * scale for c in corners]
            box = small[int(min(ys)) : int(max(ys)) + 1, int(min(xs)) : int(max(xs)) + 1]
            assert box.size and box.min() < paper - 60, (long_side, word)
