"""The small image helpers the cleaning and layout stages share (pipeline/preprocess.py): each checked
against a plain computation of the same thing."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline import preprocess


def test_shrink_by_powers_of_two_is_the_mean_of_each_block():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (64, 96), dtype=np.uint8)
    out = preprocess.shrink(image, (24, 16))  # 4x smaller on both sides
    blocks = image.astype(np.float64).reshape(16, 4, 24, 4).mean(axis=(1, 3))
    assert out.shape == (16, 24)
    # Two halvings round twice: at most one grey level from the exact mean.
    assert np.abs(out.astype(np.float64) - blocks).max() <= 1.0


def test_shrink_keeps_smooth_content_where_one_area_pass_puts_it():
    # A page-sized gradient with odd sides, shrunk by a factor that is no power of two.
    ys, xs = np.mgrid[0:1401, 0:987]
    image = ((xs * 0.11 + ys * 0.07) % 256).astype(np.uint8)
    size = (301, 427)
    out = preprocess.shrink(image, size)
    reference = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    assert out.shape == reference.shape
    # Away from the wrap-round of the gradient the two agree to a grey level or two.
    inner = (reference > 20) & (reference < 235)
    assert np.abs(out.astype(int) - reference.astype(int))[inner].max() <= 2


def test_shrink_of_a_colour_image_and_of_a_small_factor():
    rng = np.random.default_rng(2)
    colour = rng.integers(0, 256, (101, 77, 3), dtype=np.uint8)
    assert preprocess.shrink(colour, (38, 50)).shape == (50, 38, 3)
    grey = rng.integers(0, 256, (100, 80), dtype=np.uint8)
    # Less than twice the size: no halving, exactly OpenCV's area resampling.
    assert np.array_equal(
        preprocess.shrink(grey, (60, 75)), cv2.resize(grey, (60, 75), interpolation=cv2.INTER_AREA)
    )
    assert preprocess.shrink(grey, (80, 100)) is grey


def test_shrink_keeps_a_dot_where_it_was():
    image = np.full((999, 701), 255, np.uint8)
    image[600:606, 350:356] = 0  # a full stop
    out = preprocess.shrink(image, (140, 200))  # 0.2x: two halvings and the rest
    y, x = np.unravel_index(int(np.argmin(out)), out.shape)
    assert abs(y - 603 * 200 / 999) <= 1 and abs(x - 353 * 140 / 701) <= 1


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
