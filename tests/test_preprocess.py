"""Cleaning, measured on synthetic pages whose skew, turn and borders are known exactly."""

import numpy as np
import pytest

from pipeline import preprocess, synth
from pipeline.config import Settings


@pytest.fixture(scope="module")
def skewed_pages(test_text):
    return synth.render_pages(test_text, 12, seed=2024, max_skew=15.0)


def test_skew_found_within_a_fifth_of_a_degree(skewed_pages):
    errors = []
    for page in skewed_pages:
        cleaned = preprocess.clean(page.image, 300, Settings())
        # synth rotates by +skew; straightening it takes -skew.
        errors.append(abs(cleaned.skew_angle + page.params["skew"]))
    assert np.median(errors) <= 0.2, errors
    assert max(errors) <= 0.6, errors


def test_skew_covers_fifteen_degrees_both_ways(test_text):
    for angle in (-14.5, 14.5):
        page = synth.render_pages(test_text, 1, seed=1, max_skew=0, degradations=())[0]
        rotated = preprocess.deskew(page.image, -angle, fill=255)[0]  # tilt it by `angle`
        found = preprocess.clean(rotated, 300, Settings()).skew_angle
        assert abs(found - angle) <= 0.3, (angle, found)


@pytest.mark.parametrize("turn", [90, 270])
def test_pages_on_their_side_are_recognised(test_text, turn):
    page = synth.render_pages(test_text, 1, seed=7, turn=turn, max_skew=2)[0]
    cleaned = preprocess.clean(page.image, 300, Settings())
    assert cleaned.orientation == 90  # lines run down the page; OSD picks the direction later
    assert cleaned.image.shape[0] > cleaned.image.shape[1]  # portrait again


def test_upright_pages_are_not_turned(skewed_pages):
    for page in skewed_pages[:6]:
        assert preprocess.clean(page.image, 300, Settings()).orientation == 0


def test_dark_borders_are_cropped(test_text):
    page = synth.render_pages(test_text, 1, seed=11, max_skew=0, degradations=("borders",))[0]
    cleaned = preprocess.clean(page.image, 300, Settings())
    h, w = cleaned.image.shape
    edge_ink = [
        (cleaned.image[:5] == 0).mean(),
        (cleaned.image[-5:] == 0).mean(),
        (cleaned.image[:, :5] == 0).mean(),
        (cleaned.image[:, -5:] == 0).mean(),
    ]
    assert max(edge_ink) < 0.2, edge_ink
    assert h < page.image.shape[0] or w < page.image.shape[1]


def test_uneven_lighting_and_stains_do_not_turn_paper_black(test_text):
    clean = synth.render_pages(test_text, 1, seed=12, max_skew=0, degradations=())[0]
    stained = synth.render_pages(test_text, 1, seed=12, max_skew=0, degradations=("lighting", "stains"))[0]
    ink_clean = (preprocess.clean(clean.image, 300, Settings()).image == 0).mean()
    ink_stained = (preprocess.clean(stained.image, 300, Settings()).image == 0).mean()
    # Same text, same layout: the binarised ink coverage may differ a little, never by whole dark regions.
    assert abs(ink_stained - ink_clean) < 0.25 * ink_clean, (ink_clean, ink_stained)


def test_specks_removed_but_full_stops_kept():
    image = np.full((400, 400), 255, np.uint8)
    image[100, 100] = 0  # a one-pixel speck
    image[200:205, 200:205] = 0  # a full stop at 300 dpi
    out = preprocess.remove_specks(image, 300)
    assert out[100, 100] == 255
    assert (out[200:205, 200:205] == 0).all()


def test_transform_maps_cleaned_pixels_back_to_the_source(test_text):
    page = synth.render_pages(test_text, 1, seed=13, max_skew=5, degradations=("borders",))[0]
    cleaned = preprocess.clean(page.image, 300, Settings())
    m = np.array(cleaned.transform)
    h, w = cleaned.image.shape
    # The cleaned image's centre lies near the source's centre (crop and rotation are about the middle).
    cx, cy = m @ np.array([w / 2, h / 2, 1])
    assert abs(cx - page.image.shape[1] / 2) < 150 and abs(cy - page.image.shape[0] / 2) < 150


def test_binarised_output_is_black_and_white(skewed_pages):
    cleaned = preprocess.clean(skewed_pages[0].image, 300, Settings())
    assert set(np.unique(cleaned.image)) <= {0, 255}
    grey = preprocess.clean(skewed_pages[0].image, 300, Settings(binarise="none"))
    assert len(np.unique(grey.image)) > 2
