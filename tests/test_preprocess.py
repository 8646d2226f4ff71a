"""Cleaning, measured on synthetic pages whose skew, turn and borders are known exactly."""

import dataclasses

import cv2
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


# --- choices made from what the page shows -----------------------------------------------------------


def _bars_page(stroke: int, height: int, ink: int = 40, paper: int = 235, noise: float = 0.0, seed: int = 0):
    """Rows of upright bars `stroke` px wide and `height` px tall: letters whose sizes are known."""
    image = np.full((1400, 1400), paper, np.float32)
    for row in range(60, 1300, height * 2):
        for col in range(60, 1340, height):
            image[row : row + height, col : col + stroke] = ink
            image[row + height - stroke : row + height, col : col + height // 2] = ink  # a foot, like "L"
    image += np.random.default_rng(seed).normal(0, noise, image.shape) if noise else 0
    return np.clip(image, 0, 255).astype(np.uint8)


def test_measures_stroke_width_glyph_height_contrast_and_noise():
    m = preprocess.measure_page(_bars_page(stroke=3, height=30, noise=6.0))
    assert 2.0 <= m.stroke_width <= 4.5, m
    assert 26 <= m.glyph_height <= 34, m
    assert 150 <= m.contrast <= 215, m
    assert 4.0 <= m.noise <= 9.0, m
    clean = preprocess.measure_page(_bars_page(stroke=6, height=30))
    assert clean.noise < 1.0 and 5.0 <= clean.stroke_width <= 7.5, clean


def test_plan_smooths_grainy_pages_and_leaves_clean_ones_alone():
    crisp = preprocess.plan_cleaning(preprocess.measure_page(_bars_page(stroke=4, height=30)))
    assert crisp.smoothing == 0 and crisp.upscale == 1.0 and crisp.threshold == "otsu"
    grainy_page = _bars_page(stroke=3, height=30, ink=90, paper=235, noise=14.0)
    grainy = preprocess.plan_cleaning(preprocess.measure_page(grainy_page))
    assert grainy.smoothing >= 0.7 and grainy.upscale == 1.0 and grainy.threshold == "otsu"


def test_a_faint_page_is_left_grey_for_tesseract_and_smoothed_only_when_grain_would_hide_its_lines():
    faint_page = _bars_page(stroke=3, height=30, ink=180, paper=235, noise=2.0)
    plan = preprocess.plan_cleaning(preprocess.measure_page(faint_page))
    assert plan.threshold == "grey" and plan.smoothing == 0, plan
    cleaned = preprocess.clean(faint_page, 300, Settings())
    assert cleaned.plan == plan
    assert np.count_nonzero((cleaned.image > 20) & (cleaned.image < 235)) > 0.01 * cleaned.image.size
    grainy = _bars_page(stroke=3, height=30, ink=180, paper=235, noise=12.0)
    plan = preprocess.plan_cleaning(preprocess.measure_page(grainy))
    assert plan.threshold == "grey" and plan.smoothing > 0, plan


def test_plan_enlarges_small_type():
    plan = preprocess.plan_cleaning(preprocess.measure_page(_bars_page(stroke=2, height=12)))
    assert 2.0 <= plan.upscale <= 3.0, plan


def test_isolated_specks_go_but_dots_and_full_stops_beside_letters_stay():
    binary = np.full((600, 600), 255, np.uint8)
    for x in range(100, 400, 40):
        binary[200:230, x : x + 3] = 0  # thin letters, 3 px strokes, 30 px tall
    binary[190:192, 140:143] = 0  # the dot of a ё above a letter (6 px)
    binary[228:230, 388:391] = 0  # a full stop after the last letter
    binary[500:502, 500:503] = 0  # a speck as big as that dot, far from any letter
    binary[50, 50] = 0  # another
    measures = preprocess.PageMeasures(paper=255, ink=0, noise=5, stroke_width=3, glyph_height=30)
    out = preprocess.remove_isolated_specks(binary, measures, 300)
    assert (out[190:192, 140:143] == 0).all() and (out[228:230, 388:391] == 0).all()
    assert out[500:502, 500:503].min() == 255 and out[50, 50] == 255
    assert (out[200:230] == binary[200:230]).all()  # letters untouched
    binary[215, 250] = 0  # a grain of one pixel between letters goes
    assert preprocess.remove_isolated_specks(binary, measures, 300)[215, 250] == 255


def _typed_ink(words: list[str], top: int = 60, height: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Up to eight lines of the words in a typewriter face, as ink (1) on a 1900 px wide canvas."""
    from PIL import Image, ImageDraw, ImageFont

    from pipeline.synth import available_fonts

    mono = next(p for p, style in available_fonts() if style == "typewriter")
    font = ImageFont.truetype(str(mono), 46)
    lines, line = [], ""
    for word in words:
        if font.getlength(f"{line} {word}") > 1700 and line:
            lines.append(line)
            line = word
            if len(lines) == 8:
                break
        else:
            line = f"{line} {word}".strip()
    canvas = Image.new("L", (1900, height or top + 50 + 80 * len(lines)), 0)
    draw = ImageDraw.Draw(canvas)
    for i, text_line in enumerate(lines):
        draw.text((100, top + 80 * i), text_line, font=font, fill=255)
    return np.asarray(canvas, np.float32) / 255, lines


def _faint_carbon_lines(text: str, contrast: float, seed: int = 3) -> tuple[np.ndarray, str]:
    """A few lines of a thin typewriter face, faint on grainy paper: the look of a carbon copy."""
    ink, lines = _typed_ink(text.split()[:400])
    ink = cv2.erode(ink, np.ones((2, 2), np.uint8))  # worn, thin strokes
    ink = cv2.GaussianBlur(ink, (0, 0), 0.8)
    rng = np.random.default_rng(seed)
    image = 240 * (1 - contrast * ink) + rng.normal(0, 9, ink.shape)
    return np.clip(image, 0, 255).astype(np.uint8), "\n".join(lines)


@pytest.mark.slow
def test_faint_thin_strokes_survive_where_a_plain_threshold_breaks_them(test_text):
    from pipeline import evaluate, ocr

    image, truth = _faint_carbon_lines(test_text, contrast=0.2)  # ink 50 grey levels under paper
    cleaned = preprocess.clean(image, 300, Settings())
    plain = preprocess.clean(image, 300, Settings(binarise="otsu"))  # flatten + one global Otsu
    assert cleaned.plan is not None and cleaned.plan.smoothing > 0, cleaned.measures

    def pieces(image: np.ndarray) -> int:
        # A faint page may be left grey: count the pieces as a global threshold (Tesseract's) sees them.
        binary = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
        return cv2.connectedComponents(255 - binary, connectivity=8)[0] - 1

    letters = sum(1 for c in truth if not c.isspace())
    # Broken strokes fall apart into pieces; whole letters are one piece each (ы, й, ё: two).
    assert pieces(cleaned.image) <= 1.1 * letters, (pieces(cleaned.image), letters)
    assert pieces(plain.image) >= 1.3 * letters, (pieces(plain.image), letters)

    def cer(page: preprocess.Cleaned) -> float:
        paragraphs, _ = ocr.recognise(page.image, Settings(), page.dpi)
        return evaluate.score(truth, "\n".join(ln.text for p in paragraphs for ln in p.lines)).cer

    new, old = cer(cleaned), cer(plain)
    assert new < 0.03 and old > 2 * new, (new, old)


def _faint_page_with_a_black_note() -> np.ndarray:
    """A faint grainy typed page (bars of ink 200 on paper 230, 30 px tall) larger than the 2000 px copy,
    with a small block of black ink (10) on it: a pen note on a carbon copy."""
    image = np.full((3000, 2200), 230, np.float32)
    for row in range(100, 2700, 60):
        for col in range(100, 2100, 30):
            image[row : row + 30, col : col + 4] = 200
    image[2800:2900, 200:600] = 10
    image += np.random.default_rng(5).normal(0, 4.0, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_the_dark_ink_is_found_and_the_page_measured_alike_from_the_shared_smaller_copy():
    # clean() makes one copy 2000 px long for the dark ink's histogram and the measures: from it the
    # black note is lifted to a level between its ink and the type's, as from the full page, and the
    # page measures as the full page does (bars 30 px tall, 4 px wide).
    flat = _faint_page_with_a_black_note()
    reduced = preprocess.downscale(flat, 2000)
    assert reduced[0].shape[0] == 2000
    lifted, level = preprocess.lift_dark_minority(flat, reduced[0])
    _, level_full = preprocess.lift_dark_minority(flat)
    assert level is not None and level_full is not None and abs(level - level_full) <= 2
    assert 10 < level <= 200
    assert lifted[2850, 400] == level and lifted[50, 50] == flat[50, 50]
    shared, own = preprocess.measure_page(flat, reduced), preprocess.measure_page(flat)
    assert shared == own
    assert 26 <= shared.glyph_height <= 34 and 3.0 <= shared.stroke_width <= 5.5, shared


def _faint_typed_page(specks: float) -> tuple[np.ndarray, np.ndarray]:
    """A faint carbon (type 238 on paper 254, light grain) with a share of dark specks (150) strewn over it,
    as bleed and JPEG grain leave at full size; and the type's own pixels, from the rendering."""
    typed = np.zeros((2400, 1800), np.uint8)
    for i, row in enumerate(range(150, 2250, 70)):
        cv2.putText(
            typed,
            f"faint carbon typed line {i} abcdefghij",
            (100, row),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.6,
            255,
            4,
        )
    rng = np.random.default_rng(3)
    image = np.where(typed > 0, 238.0, 254.0) + rng.normal(0, 1.5, typed.shape)
    ys = rng.integers(0, typed.shape[0], int(specks * typed.size))
    image[ys, rng.integers(0, typed.shape[1], ys.size)] = 150
    return np.clip(image, 0, 255).astype(np.uint8), typed > 0


def _under_otsu(image: np.ndarray, where: np.ndarray) -> float:
    level = preprocess._otsu_level(cv2.calcHist([image], [0], None, [256], [0, 256]).ravel())
    return float((image[where] <= level).mean())


def test_dark_bands_along_the_sheets_edge_do_not_hide_a_faint_type_from_the_lift():
    # A faint carbon with a black note (0.6 % of the page) and a dark band along its right edge (0.7 %,
    # a lit sheet flattened beside a brighter lid): together they are over the 1 % under which dark ink
    # is too little to be the type, yet the band is no type. Lifted, one threshold keeps the type.
    image, typed = _faint_typed_page(0.0)
    image[2000:2100, 200:460] = 40  # the note
    image[:, -12:] = 120  # the band, reaching the edge
    lifted, level = preprocess.lift_dark_minority(image)
    assert level is not None and 40 < level < 238
    assert _under_otsu(lifted, typed) > 0.95


def test_dark_specks_that_pull_otsu_under_a_faint_type_are_lifted():
    # Specks on 0.4 % of the page: one Otsu level over it (Tesseract's on a grey page) parts them from
    # all the rest, and the type goes with the paper; lifted, the level keeps the type and not the paper.
    image, typed = _faint_typed_page(0.004)
    assert _under_otsu(image, typed) < 0.05
    lifted, floor = preprocess.lift_below_type(image, preprocess.measure_page(image))
    assert floor is not None and floor < 238
    assert _under_otsu(lifted, typed) > 0.95 and _under_otsu(lifted, ~typed) < 0.01


def test_a_faint_page_whose_threshold_keeps_its_type_is_left():
    image, typed = _faint_typed_page(0.0)
    assert _under_otsu(image, typed) > 0.95
    same, floor = preprocess.lift_below_type(image, preprocess.measure_page(image))
    assert floor is None and same is image


def test_the_deskews_corners_do_not_darken_a_page_lit_from_one_side():
    """A page lit from one side (paper 159 on the left, 217 on the right, as tune carbon 5333) deskewed
    with its corners at the bright side's level: taken for paper, the corners made the maximum filter
    divide the dim side beside them into a dark band. Left out of the estimate, they do not."""
    h, w = 1800, 1300
    page = np.tile(np.linspace(159, 217, w), (h, 1)).astype(np.uint8)
    turned, forward = preprocess.deskew(page, 2.6, fill=217)
    corners = preprocess.deskew_corners(page.shape, forward, turned.shape)
    # The triangles are the canvas the page does not cover (its edge pixels blend both).
    covered, _ = preprocess.deskew(np.full(page.shape, 255, np.uint8), 2.6, fill=0)
    drawn = np.zeros(turned.shape, np.uint8)
    for triangle in corners:
        cv2.fillConvexPoly(drawn, np.round(triangle * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    inside = cv2.erode((covered == 255).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert not (drawn.astype(bool) & inside).any()
    outside = cv2.erode((covered == 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert drawn[outside].all()
    before = preprocess.flatten_background(turned)
    after = preprocess.flatten_background(turned, corners)
    assert np.percentile(before[inside], 0.5) < 215  # the band the corners made
    assert np.percentile(after[inside], 0.5) >= 240
    assert np.array_equal(preprocess.flatten_background(page, []), preprocess.flatten_background(page))


def test_a_dark_band_reaching_the_deskews_corners_counts_as_the_edge():
    # As above, but the band lies along the sheet's edge a little inside the image (the scan's own
    # bright corner between, tune carbon 1432) and meets a corner the deskew added: the corners count
    # as the image's edge, so the band is no type and the page is lifted.
    image, typed = _faint_typed_page(0.0)
    image[2000:2100, 200:460] = 40  # the note
    h, w = image.shape
    image[60 : h - 300, w - 40 : w - 28] = 120  # the band, 28 px from the edges
    corner = np.array([[w - 30.0, 0.0], [w, 0.0], [w, h - 1.0]])  # narrowing to the canvas's corner
    _, cut_off = preprocess.lift_dark_minority(image)
    assert cut_off is None  # counted as the page's dark ink, the band and the note hide the type
    lifted, level = preprocess.lift_dark_minority(image, corners=[corner])
    assert level is not None and 40 < level < 238
    assert _under_otsu(lifted, typed) > 0.95


def _carbon_with_its_back(
    text: str, back: bool, *, back_ink: float = 0.2, blur: float = 3.0, top: int = 100
) -> tuple[np.ndarray, str, np.ndarray]:
    """Faint carbon lines, with (when `back`) other lines of the text showing through from the sheet's
    back: mirrored, blurred by the paper (`blur`), a little fainter than the type (`back_ink` against
    its 0.25) and lying between its lines (`top`: 100 halfway, the type's lines at 60 + 80 k).
    Returns the page, its text and where its type's ink is."""
    words = text.split()
    front, lines = _typed_ink(words[:200], 60, 800)
    front = cv2.GaussianBlur(front, (0, 0), 0.7)
    image = 240 * (1 - 0.25 * front)
    if back:
        behind, _ = _typed_ink(words[200:400], top, 800)
        behind = cv2.GaussianBlur(cv2.flip(behind, 1), (0, 0), blur)
        image *= 1 - back_ink * behind
    image += np.random.default_rng(4).normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), "\n".join(lines), front > 0.5


def test_the_sheets_back_showing_through_a_carbon_is_lifted_and_its_type_kept(test_text):
    image, _, typed = _carbon_with_its_back(test_text, back=True)
    measures = preprocess.measure_page(image)
    lifted, share = preprocess.lift_show_through(image, measures)
    assert share >= preprocess.SHOW_THROUGH_SHARE
    back = (image < 225) & ~cv2.dilate(typed.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert back.sum() > 0.3 * typed.sum()  # the back is there, about as much ink as the type
    assert np.mean(lifted[back] == 255) > 0.8
    assert np.mean(lifted[typed] == image[typed]) > 0.98


def _off_the_type(image: np.ndarray, typed: np.ndarray, rows: bool = False) -> np.ndarray:
    """The back's ink: darker than the paper and away from the type (`rows`: off the type's rows)."""
    if rows:
        on_rows = cv2.dilate(typed.any(axis=1).astype(np.uint8)[:, None], np.ones((9, 1), np.uint8))
        away = ~np.broadcast_to(on_rows.reshape(-1, 1) > 0, typed.shape)
    else:
        away = ~cv2.dilate(typed.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    return (image < 225) & away


def test_a_back_as_dark_as_the_type_is_lifted_between_its_lines(test_text):
    # The back as dark as the type: its edges are steep enough to pass for the type's here and there,
    # but its rows have a tenth of the type's edges for their ink (dev carbon 7208).
    image, _, typed = _carbon_with_its_back(test_text, back=True, back_ink=0.25, blur=2.5)
    lifted, share = preprocess.lift_show_through(image, preprocess.measure_page(image))
    back = _off_the_type(image, typed)
    assert back.sum() > 0.3 * typed.sum()
    assert share >= preprocess.SHOW_THROUGH_SHARE
    assert np.mean(lifted[back] == 255) > 0.75
    assert np.mean(lifted[typed] == image[typed]) > 0.98


def test_a_lighter_back_close_under_the_lines_is_lifted_off_the_type_rows(test_text):
    # Close under the type's lines, sharp, lighter than the type: touching its rows, with edges as
    # steep (dev carbon 7422); its letters' darkest pixels are all lighter than the type's.
    image, _, typed = _carbon_with_its_back(test_text, back=True, back_ink=0.13, blur=1.2, top=92)
    lifted, share = preprocess.lift_show_through(image, preprocess.measure_page(image))
    back = _off_the_type(image, typed, rows=True)
    assert back.sum() > 0.1 * typed.sum()
    assert share >= preprocess.SHOW_THROUGH_SHARE
    assert np.mean(lifted[back] == 255) > 0.75
    assert np.mean(lifted[typed] == image[typed]) > 0.98


def test_a_patch_of_faded_blurred_type_is_not_taken_for_a_back(test_text):
    # A patch of the type faded and blurred by the ribbon and the copy has the back's few edges for
    # its ink, but no rows of sharper type above and below it (tune carbon 3109: 5.7 -> 26.2 % CER
    # when such patches were lifted).
    image, _, typed = _carbon_with_its_back(test_text, back=False)
    faded = cv2.GaussianBlur(image, (0, 0), 1.6)
    patch = np.s_[:, 1000:1600]
    image[patch] = np.clip(255 - 0.6 * (255 - faded[patch].astype(np.float32)), 0, 255).astype(np.uint8)
    lifted, _ = preprocess.lift_show_through(image, preprocess.measure_page(image))
    type_ink = typed & (image < 225)
    assert np.mean(lifted[type_ink] == image[type_ink]) > 0.98


def test_a_lighter_layer_is_a_gap_in_the_pieces_darkest_levels():
    rng = np.random.default_rng(5)
    typed = rng.normal(155, 10, 1200).clip(120, 186).astype(int)
    back = rng.normal(206, 4, 300).astype(int)
    cut = preprocess._layer_gap(np.concatenate([typed, back]))
    assert cut is not None and 186 <= cut <= 200
    one_layer = rng.normal(155, 14, 1500).astype(int)  # a tail of light pieces, no gap
    assert preprocess._layer_gap(one_layer) is None
    assert preprocess._layer_gap(np.concatenate([typed, back[:20]])) is None  # too few to be a back


@pytest.mark.parametrize("level", [255, 128, 0, -1])
def test_a_blank_dark_or_noise_page_comes_back_from_the_show_through_lift_untouched(level):
    # Nothing to label, or nothing letter-sized: the page comes back as it was (-1: pure noise).
    rng = np.random.default_rng(2)
    image = (
        rng.integers(0, 256, (1200, 900), dtype=np.uint8)
        if level < 0
        else np.full((1200, 900), level, np.uint8)
    )
    same, share = preprocess.lift_show_through(image, preprocess.measure_page(image))
    assert same is image and share < preprocess.SHOW_THROUGH_SHARE


def test_a_carbon_without_a_back_showing_through_is_left_as_it_is(test_text):
    image, _, _ = _carbon_with_its_back(test_text, back=False)
    same, share = preprocess.lift_show_through(image, preprocess.measure_page(image))
    assert same is image and share < preprocess.SHOW_THROUGH_SHARE


@pytest.mark.slow
def test_tesseract_reads_most_of_what_a_carbons_back_hid_once_it_is_lifted(test_text, monkeypatch):
    from pipeline import evaluate, ocr

    def cer(image: np.ndarray, truth: str) -> float:
        cleaned = preprocess.clean(image, 300, Settings())
        paragraphs, _ = ocr.recognise(cleaned.image, Settings(), cleaned.dpi)
        return evaluate.score(truth, "\n".join(ln.text for p in paragraphs for ln in p.lines)).cer

    image, truth, _ = _carbon_with_its_back(test_text, back=True)
    clear = cer(_carbon_with_its_back(test_text, back=False)[0], truth)
    lifted = cer(image, truth)
    monkeypatch.setattr(preprocess, "SHOW_THROUGH_SHARE", 2.0)  # never lifted
    left = cer(image, truth)
    # Left, the back runs Tesseract's lines into each other and nearly nothing is read.
    assert clear < 0.03 and left > 0.5 and lifted < left / 3, (clear, lifted, left)


def _folded(image: np.ndarray, across: bool, at: float, depth: float, width: float = 8.0) -> np.ndarray:
    """`image` with the soft shade of a fold: across the page (a row band) or down it, `depth` of the
    light taken at its middle, falling off over `width` pixels either side."""
    axis = 0 if across else 1
    shade = 1 - depth * np.exp(-(((np.arange(image.shape[axis], dtype=np.float32) - at) / width) ** 2))
    shade = shade[:, None] if across else shade[None, :]
    if image.ndim == 3:
        shade = shade[..., None]
    return np.clip(image.astype(np.float32) * shade, 0, 255).astype(np.uint8)


def _faint_page(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Faint typed lines on a page-sized sheet (a carbon's contrast, a little grain); the type's pixels."""
    ink, _ = _typed_ink(text.split()[:400], 60, 1300)
    image = 240 * (1 - 0.3 * ink) + np.random.default_rng(5).normal(0, 3, ink.shape)
    return np.clip(image, 0, 255).astype(np.uint8), ink > 0.5


def test_folds_across_and_down_a_faint_page_are_lifted_and_its_type_kept(test_text):
    page, typed = _faint_page(test_text)
    folded = _folded(_folded(page, across=True, at=341, depth=0.35), across=False, at=950, depth=0.3)
    lifted, count = preprocess.lift_creases(folded)
    assert count == 2
    near_type = cv2.dilate(typed.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    fold = np.zeros(page.shape, bool)
    fold[333:350] = True
    fold[:, 942:959] = True
    paper = fold & ~near_type
    # Left, the folds' paper is 50-80 levels darker than the sheet's; lifted, within a few levels of it.
    assert float(page[paper].mean() - folded[paper].mean()) > 50
    assert abs(float(lifted[paper].mean()) - float(page[paper].mean())) < 6
    # The type in the folds is as far below the paper as elsewhere, and away from them it is untouched.
    assert abs(float(lifted[fold & typed].mean()) - float(page[fold & typed].mean())) < 8
    far = ~cv2.dilate(fold.astype(np.uint8), np.ones((301, 301), np.uint8)).astype(bool)  # 150 px away
    assert (lifted[far] == folded[far]).all()


def test_a_page_without_a_fold_and_a_printed_rule_are_left_as_they_are(test_text):
    page, _ = _faint_page(test_text)
    same, count = preprocess.lift_creases(page)
    assert same is page and count == 0
    for blur in (0.0, 1.5):  # a letterhead's rule, sharp and as a blurred scan has it
        ruled = page.copy()
        ruled[898:902, 80:1820] = 70
        if blur:
            ruled = cv2.GaussianBlur(ruled, (0, 0), blur)
        kept, count = preprocess.lift_creases(ruled)
        assert count == 0 and kept is ruled, blur


def test_a_fold_down_a_sheet_scanned_with_its_bed_is_lifted_before_the_threshold(test_text):
    """A skewed sheet whose bed shows at its corners is thresholded from the page flattened again with
    its bed (it keeps thin strokes): the fold found on the filled page must be lifted there too. Left,
    the fold was a black rule down the page, through the letters it crossed (dev 8611: 2.75 % CER)."""
    ink, _ = _typed_ink(test_text.split()[:400], 60, 1300)
    noise = np.random.default_rng(3).normal(0, 3, ink.shape)
    sheet = np.clip(245 * (1 - 0.8 * ink) + noise, 0, 255).astype(np.uint8)
    folded = _folded(sheet, across=False, at=950, depth=0.4)
    scan = np.full((folded.shape[0] + 160, folded.shape[1] + 160), 35, np.uint8)  # the scanner's bed
    scan[80:-80, 80:-80] = folded
    h, w = scan.shape
    turned = cv2.warpAffine(scan, cv2.getRotationMatrix2D((w / 2, h / 2), 2.0, 1.0), (w, h), borderValue=35)
    cleaned = preprocess.clean(turned[60:-60, 60:-60], 300, Settings())
    steps = {s.name: s.settings for s in cleaned.steps}
    assert steps["crop_borders"]["scanner_bed"] == "measured without"  # the path under test
    assert steps["binarise"]["threshold"] == "otsu" and steps["binarise"]["creases"] == 1
    inked = cleaned.image < 128
    rows = np.flatnonzero(inked.any(axis=1))
    # Down the type's rows no column is inked in more than a seventh of them (a letter's stems); a rule
    # down the page would be inked in nearly all (0.95 before the fix).
    share = inked[rows[0] : rows[-1], 100:-100].mean(axis=0)
    assert float(share.max()) < 0.3, float(share.max())


@pytest.mark.slow
def test_a_fold_down_a_carbon_no_longer_cuts_its_lines_in_two(tests_words, tmp_path, monkeypatch):
    """Tune carbon 301 (grey) with a fold's shade down the page, 40 % of the light at its middle. Left,
    Tesseract takes the fold for the edge of a column and the lines' halves come apart (75 % CER)."""
    import dataclasses

    from pipeline import archival, evaluate, process
    from pipeline.scans import load_page

    page = archival.render_page(tests_words, 301, fontset="tune", page_type="carbon", grey=True)
    folded = dataclasses.replace(page, image=_folded(page.image, False, 0.45 * page.image.shape[1], 0.4))

    def read(folder: str) -> tuple[float, dict]:
        path = archival.write_pages([folded], tmp_path / folder, "tests")[0]
        settings = Settings(correct=False)
        result = process.process_page(load_page(path, 1, settings), "p", settings)
        binarise = next(s.settings for s in result.page.steps if s.name == "binarise")
        return evaluate.score(page.text, result.page.text).cer, binarise

    lifted, steps = read("lifted")
    monkeypatch.setattr(preprocess, "CREASE_DEPTH", 0.0)  # no row is shaded enough: never lifted
    left, steps_left = read("left")
    assert steps.get("creases") == 1 and "creases" not in steps_left
    assert lifted < 0.03 and left > 0.3, (lifted, left)


def test_the_layer_lighter_than_a_cut_goes_to_white_but_the_types_soft_edges_stay():
    """Type at 180 with a soft edge at 215 beside it, and a back at 215 away from it, on paper at 250:
    a cut 0.25 of the way from ink to paper (197.5) lifts the back and keeps the edge; the page as
    cleaned is not changed, and a page without measures (not cleaned automatically) is refused."""
    image = np.full((60, 120), 250, np.uint8)
    image[20:40, 10:20] = 180  # a stroke of the type
    image[20:40, 20:22] = 215  # its soft edge, 2 px wide
    image[20:40, 80:100] = 215  # the back, as light as the edge, away from the type
    measures = preprocess.PageMeasures(paper=250, ink=180, noise=0, stroke_width=10, glyph_height=20)
    cleaned = preprocess.Cleaned(
        image=image,
        skew_angle=0.0,
        orientation=0,
        transform=((1, 0, 0), (0, 1, 0)),
        dpi=300,
        steps=(),
        measures=measures,
    )
    lifted = preprocess.without_lighter_layer(cleaned, 0.25)
    assert (lifted.image[20:40, 10:22] == image[20:40, 10:22]).all()
    assert (lifted.image[20:40, 80:100] == 255).all()
    assert lifted.steps[-1].name == "lift_lighter_layer" and lifted.steps[-1].settings["level"] == 197.5
    assert (cleaned.image[20:40, 80:100] == 215).all()
    with pytest.raises(ValueError, match="automatic mode"):
        preprocess.without_lighter_layer(dataclasses.replace(cleaned, measures=None), 0.25)
