"""Cleaning a page image before OCR: orientation, border crop, deskew, background flattening,
binarisation, speckle removal. The only module besides synth that works on pixels.

Speed matters here (the budget is a small fraction of Tesseract's time per page), so every estimate
is made on a downscaled copy and every pixel operation is one vectorised OpenCV or NumPy call.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from . import __version__
from .config import Settings
from .model import Step

ANALYSIS_SIDE = 1400  # long side, in pixels, of the copy used to estimate angles and borders
MAX_SKEW = 15.0
TARGET_GLYPH_HEIGHT = 30  # Tesseract reads best with capitals about 20-40 px high
GREY_GRAIN = 0.12  # noise against contrast above which a faint grey page is smoothed for Tesseract
GREY_SMOOTHING = 5.5  # ... with a Gaussian of sigma this times that ratio (at least 1) ...
GREY_MAX_SIGMA = 3.0  # ... and at most this (pixels of the page at its planned size)
GREY_SPECKLES = 2.0  # specks per letter under the page's Otsu level above which the grey page is smoothed
THIN_STROKE = 3.5  # pixels: strokes this thin are not smoothed for moderate grain before our threshold
FAINT_CONTRAST = 70  # paper minus ink grey level below which a page is carbon-faint: left grey for Tesseract
GLYPH_STROKES = 3.0  # on a faint page, measured letters lower than this many strokes are broken pieces
BED_THICKNESS = (
    0.08  # inches: dark ink reaching the image's edge this thick is the scanner's bed round the sheet
)
BED_BAND = 0.16  # inches: ... and so is any dark ink reaching the edge within this band along it
BED_TYPE_KEPT = 0.5  # share of the type's ink a threshold over the page with its bed must keep to leave it
DARK_MINORITY = (
    0.01  # share of the page below Otsu's threshold under which that ink is too little to be the type
)
TYPE_MIN_SHARE = 0.01  # ... when a fainter ink below the paper covers at least this share (and twice as much)
BED_MIN_SIDE = 3.0  # inches: a smaller image (a line or a word cut out) is no sheet lying on a bed
EDGE_BAND_LENGTH = 0.1  # share of the page's side along which a solid dark band at its edge is no type
EDGE_BAND_FILL = 0.3  # ... when its ink fills at least this share of its turned (minimum-area) box
EDGE_BAND_SKEW = 0.5  # degrees: the angle without such bands is taken when this far from the one with them
SHOW_THROUGH_EDGE = 0.5  # a steep (typed) edge's gradient: at least this share of the ink's 90th percentile
SHOW_THROUGH_SHARE = 0.02  # faint ink away from steep edges: the sheet's back, lifted from this share of ink
SHOW_THROUGH_LINES = 3.0  # ... in pieces a third of a glyph to this many glyphs high (taller: a shadow)
STRIP_GLYPHS = 12  # width of the strips a back's rows are told from the type's in (glyph heights)
TYPED_EDGES = 0.4  # a row of the type has at least this share of the most edged rows' steep pixels per ink
BETWEEN_GLYPHS = 2.5  # a back's rows have rows of the type within this many glyph heights above and below
LAYER_BIN = 5  # grey levels: the bins a page's pieces are counted in by their darkest pixel
LAYER_VALLEY = 0.25  # a gap: a bin with at most this share of the lighter group's fullest bin
LAYER_SHARE = 0.05  # ... the lighter group holding at least this share of the letters
LAYER_MIN_PIECES = 50  # ... and at least this many
# `without_lighter_layer`'s levels, as shares of the way from ink to paper, in the order they are read:
# the middle first, the others only when it reads more letters surely than the page as cleaned.
LIGHTER_LAYER_CUTS = (0.25, 0.15, 0.35)
LIGHTER_LAYER_REACH = 2  # pixels at 300 dpi: the type's soft edges kept round what is darker than the level
LAYER_CORE = 0.3  # a row of a letter's body: at least this share of the fullest row near it
CREASE_STRIP = 40  # pixels of the half-size page along a row over which its brightest level is the paper's
CREASE_DEPTH = 0.9  # a row's brightest level below this share of its neighbours' is shaded ...
CREASE_SPAN = 0.5  # ... and when it is so across this share of the page's width, the row lies in a crease
CREASE_MAX_DEPTH = 0.6  # ... and one darker than this share of the paper is ink (a blurred rule), no shade
CREASE_RIM = 0.99  # a fold's valley ends where the paper is back to this share of its level beside it
CREASE_STEEPNESS = 0.3  # a band whose level falls faster than this share of its depth a row is a printed rule
CREASE_MIN_SIDE = 1000  # pixels: a smaller image is no whole sheet to have been folded
CREASE_MARGIN = 0.06  # share of each side of the page where no crease is looked for (edge shadows lie there)


@dataclass(frozen=True)
class Cleaned:
    image: np.ndarray  # grey uint8, text dark on white: what Tesseract reads and the reviewer sees
    skew_angle: float
    orientation: int
    transform: tuple[tuple[float, float, float], tuple[float, float, float]]  # cleaned -> source pixels
    dpi: int
    steps: tuple[Step, ...]
    measures: PageMeasures | None = None  # what the page showed (automatic binarisation only)
    plan: CleaningPlan | None = None  # what was chosen from it
    # `image` at most 2000 px long by `shrink`, when the cleaning made that copy of it already (a grey
    # page left as flattened): the OCR stage's `ocr.reduced_copy` of it, to the byte.
    reduced: np.ndarray | None = None


def to_grey(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        return pixels
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` shrunk to `size` (width, height), near OpenCV's area resampling at a third to a tenth of
    its time (its general case, a factor that is no whole number, is a scalar loop: 15-25 ms a page):
    halved by 2x2 means (OpenCV's fast path) while the target is at most half as large, then area
    resampled for the factor left, on a quarter of the pixels or fewer. A page shrunk by less than
    half is resampled bilinearly (a tenth of the area's time), after a 3x3 Gaussian where the factor
    is below 2/3: bilinear takes two pixels each way where the area averages its whole window, and a
    page's full grain would pass with a third more spread than the area leaves."""
    halved = False
    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:
        image = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        halved = True
    if (image.shape[1], image.shape[0]) == tuple(size):
        return image
    if halved:
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if image.shape[1] >= 1.5 * size[0] and image.shape[0] >= 1.5 * size[1]:
        image = cv2.GaussianBlur(image, (3, 3), 0)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def downscale(
    grey: np.ndarray, long_side: int = ANALYSIS_SIDE, exact: bool = False
) -> tuple[np.ndarray, float]:
    """`grey` at most `long_side` long and its scale; `exact`: by OpenCV's area resampling itself (see
    `clean`), else by `shrink`."""
    scale = min(1.0, long_side / max(grey.shape))
    if scale >= 1.0:
        return grey, 1.0
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return (cv2.resize(grey, size, interpolation=cv2.INTER_AREA) if exact else shrink(grey, size)), scale


def _halved(image: np.ndarray) -> np.ndarray:
    """`image` at half its size (rounded down) by area averaging: a pixel of it is the mean of 2x2 of
    `image`'s. Asked by factor, not by size: OpenCV takes its fast path only when the factor is exactly
    2, and a size asked of an odd side is no such factor (the slow path took 18 ms on a page, and its
    windows drifted half a pixel across it)."""
    halved = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return halved[: image.shape[0] // 2, : image.shape[1] // 2]


def _quantile_of_counts(counts: np.ndarray, q: float) -> float | None:
    """np.percentile's value at `q` (0-100) of the values 0, 1, ... counted in `counts`, when the order
    statistics either side of q's position are one value (then no interpolation can differ); else None."""
    n = int(counts.sum())
    if n == 0:
        return None
    position = (n - 1) * q / 100
    first, last = max(0, math.floor(position) - 1), min(n - 1, math.ceil(position) + 1)
    low, high = np.searchsorted(np.cumsum(counts), [first, last], side="right")
    return float(low) if low == high else None


def _numpy_quantile(values: np.ndarray, q: float) -> float:
    return float(np.median(values) if q == 50 else np.percentile(values, q))


def level_percentile(levels: np.ndarray, q: float, mask: np.ndarray | None = None) -> float:
    """np.percentile(levels[mask > 0], q) of 8-bit levels (all of them without a mask; np.median's value
    at q=50), from their histogram: a page's many pixels take few levels, so the pixels next to q's
    position nearly always share one; otherwise NumPy's own interpolation. A histogram is a tenth of
    the time of NumPy's partial sort of a page."""
    if levels.size < 2**24:  # OpenCV counts in float32: exact below this
        counts = cv2.calcHist([levels], [0], mask, [256], [0, 256]).ravel().astype(np.int64)
        value = _quantile_of_counts(counts, q)
        if value is not None:
            return value
    return _numpy_quantile(levels if mask is None else levels[mask > 0], q)


def median_deviation(values: np.ndarray) -> float:
    """np.median(np.abs(values - np.median(values))) of integers in a small range (grain: -255..255),
    from counts of the values and of their distances to the median."""
    low = int(values.min()) if values.size else 0
    shifted = values.ravel() - low
    if values.size < 2**24 and values.size and int(shifted.max()) < 2**16:
        # OpenCV counts 16-bit levels in float32 (exact below 2**24 values), in a fraction of the time
        # of np.bincount's cast to 64 bits; the counts past the largest level are zeros.
        top = int(shifted.max()) + 1
        counts = cv2.calcHist([shifted.astype(np.uint16)], [0], None, [top], [0, top]).ravel()
        counts = counts.astype(np.int64)
    else:
        counts = np.bincount(shifted.astype(np.intp))
    middle = _quantile_of_counts(counts, 50)
    if middle is None:
        return _numpy_quantile(np.abs(values - np.median(values)), 50)
    distance = np.abs(np.arange(len(counts)) - middle).astype(np.intp)
    deviation = _quantile_of_counts(np.bincount(distance, weights=counts).astype(np.int64), 50)
    if deviation is None:
        return _numpy_quantile(np.abs(values - (middle + low)), 50)
    return deviation


def deskew_corners(shape: tuple[int, int], forward: np.ndarray, canvas: tuple[int, int]) -> list[np.ndarray]:
    """The triangles `deskew` adds at the canvas's corners (no page under them): each between one edge
    of the page of `shape` (height, width) as `forward` maps it and the canvas corner outside that edge."""
    h, w = shape
    page = (forward[:2, :2] @ np.array([[0, w, w, 0], [0, 0, h, h]], float) + forward[:2, 2:]).T
    ch, cw = canvas
    ends = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], float)
    centre = page.mean(axis=0)
    triangles = []
    for a, b in zip(page, np.roll(page, -1, axis=0), strict=True):
        normal = np.array([b[1] - a[1], a[0] - b[0]])
        normal *= np.sign(normal @ (a - centre)) or 1.0  # pointing away from the page
        corner = ends[np.argmax((ends - a) @ normal)]
        if (corner - a) @ normal > 0.5:
            triangles.append(np.array([a, b, corner]))
    return triangles


def _corners_drawn(shape: tuple[int, ...], corners: list[np.ndarray], scale: float) -> np.ndarray:
    """The deskew's corners (`deskew_corners`) drawn at `scale` on an image of `shape` (uint8, 1 inside),
    with the pixels that blend page and fill at their edges."""
    drawn = np.zeros(shape[:2], np.uint8)
    for triangle in corners:
        cv2.fillConvexPoly(drawn, np.round(triangle * scale * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    return cv2.dilate(drawn, np.ones((3, 3), np.uint8))


def flatten_background(grey: np.ndarray, corners: list[np.ndarray] | None = None) -> np.ndarray:
    """Divide out uneven lighting and stains: estimate the paper's brightness with a max filter
    (which erases dark text) on a small copy, and scale every pixel by it. A colour image has each
    channel flattened on its own, as if it were grey (one call is faster than three). `corners`: the
    deskew's new corners (`deskew_corners`), left out of the paper's estimate (they take the estimate
    of the paper nearest them)."""
    # Shrunk by area exactly: the paper divides every pixel Tesseract reads (`shrink`'s copy moved the
    # flattened page by a third of a level on average, and with it the readings of faint pages).
    small, scale = downscale(grey, 600, exact=True)
    kernel = max(3, int(round(min(small.shape[:2]) / 40)) | 1)
    element = cv2.getStructuringElement(cv2.MORPH_RECT, (kernel, kernel))
    outside = None
    if corners:
        # The corners' fill is no paper: brighter than a page lit from one side, the maximum filter
        # would take it for the paper and divide the page beside it into a black band (tune carbon
        # 5333). They are zero for the filter, then take the estimate of the paper nearest them.
        outside = _corners_drawn(small.shape[:2], corners, scale) > 0
        small = small.copy()
        small[outside] = 0
    paper = cv2.dilate(small, element)
    if outside is not None:
        for _ in range(8):
            hole = outside & (paper == 0 if paper.ndim == 2 else (paper == 0).any(axis=2))
            if not hole.any():
                break
            paper[hole] = cv2.dilate(paper, element)[hole]
    paper = cv2.GaussianBlur(paper, (0, 0), kernel / 2)
    # No zero to divide by: bilinear enlarging never falls below the least of the levels it weighs, so a
    # small copy without a zero (nearly every page) needs no pass over the whole page for it.
    lowest = int(paper.min())
    if scale < 1.0:
        paper = cv2.resize(paper, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    if lowest < 1:
        # cv2.max on the channels side by side (a number is one channel's scalar): a twentieth of the
        # time of np.maximum over a page.
        paper = cv2.max(paper.reshape(paper.shape[0], -1), 1).reshape(paper.shape)
    flat = cv2.divide(grey, paper, scale=255)
    return flat


def ink_mask(grey_small: np.ndarray, flat: np.ndarray | None = None) -> np.ndarray:
    """Rough ink mask (255 = ink) of a small page copy, for estimating angles and borders. A little dark
    ink on a faint page (a stamp, a note in black pen) is lifted first: Otsu's threshold would find it
    alone, and the page's angle would be the stamp's. `flat`: flatten_background(grey_small), when made."""
    flat, _ = lift_dark_minority(flatten_background(grey_small) if flat is None else flat)
    _, mask = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask


def _without_edge_bands(mask: np.ndarray) -> np.ndarray:
    """`mask` without solid bands of ink reaching the image's edge and running a tenth of the page along
    it: the shadow of the sheet's edge or a fold lying across the scan. On a faint page they are most of
    the ink a threshold finds, and the page's angle would be theirs (tune carbon 1432: 3.9 degrees for
    type lying at 1.5). Type that reaches the edge is sparse in its (turned) box and stays. Returns
    `mask` itself when there are none."""
    if not _reaches_edge(mask):  # no piece to label: the common case of a page without its sheet's edge
        return mask
    count, labels, stats, _ = components(mask)
    if count <= 1:
        return mask
    edge = _edge_labels(labels)
    long = (stats[edge, cv2.CC_STAT_WIDTH] >= EDGE_BAND_LENGTH * mask.shape[1]) | (
        stats[edge, cv2.CC_STAT_HEIGHT] >= EDGE_BAND_LENGTH * mask.shape[0]
    )
    out = mask
    for label in edge[long]:
        x, y, w, h, area = (int(v) for v in stats[label])
        piece = (labels[y : y + h, x : x + w] == label).astype(np.uint8)  # within its box: a few ms in all
        (_, _), (side, other), _ = cv2.minAreaRect(cv2.findNonZero(piece))
        if area >= EDGE_BAND_FILL * max(1.0, side * other):
            out = out.copy() if out is mask else out
            out[y : y + h, x : x + w][piece > 0] = 0
    return out


def find_content_box(grey_small: np.ndarray, paper_level: float | None = None) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the page without dark scanner borders, in the small copy's pixels.

    A border is a band along an edge where most of each row or column is dark: walk in from each
    edge while that holds. `paper_level`: level_percentile(grey_small, 90), when known already."""
    if paper_level is None:
        paper_level = level_percentile(grey_small, 90)
    dark = grey_small < paper_level * 0.5
    col_dark = dark.mean(axis=0)
    row_dark = dark.mean(axis=1)

    def inward(profile: np.ndarray) -> int:
        limit = len(profile) // 4
        i = 0
        while i < limit and profile[i] > 0.5:
            i += 1
        return i + (2 if i else 0)

    h, w = grey_small.shape
    x0, x1 = inward(col_dark), w - inward(col_dark[::-1])
    y0, y1 = inward(row_dark), h - inward(row_dark[::-1])
    return x0, y0, x1, y1


def scanner_bed(grey_small: np.ndarray, dpi: float, paper_level: float | None = None) -> np.ndarray:
    """Mask (255) of the scanner's dark bed showing round the sheet, on a small page copy: thick dark
    ink reaching the image's edge, such as the wedges round a sheet scanned askew that the crop cannot
    cut off. Left in, the bed is the darkest "ink" on the page: it sets the page's ink level and every
    global threshold (ours and Tesseract's), and a faint carbon copy's type falls on the paper's side.
    Thin dark lines reaching the edge (a fold, a rule) are no bed: only what a disc BED_THICKNESS wide
    fits into counts. `dpi` is the small copy's resolution; `paper_level`: level_percentile(grey_small,
    90), when known already."""
    dark = np.zeros(grey_small.shape, np.uint8)
    if min(grey_small.shape) < BED_MIN_SIDE * dpi:
        return dark
    if paper_level is None:
        paper_level = level_percentile(grey_small, 90)
    dark[grey_small < paper_level * 0.5] = 1
    if not _reaches_edge(dark):  # every piece of the bed reaches the edge: none here
        return np.zeros_like(dark)
    side = max(3, int(round(BED_THICKNESS * dpi)) | 1)
    thick = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    # ... and the bed's slivers the crop left along an edge, thinner than that: dark pieces reaching
    # the edge that stay within a band along it no type comes so near.
    band = max(2, int(round(BED_BAND * dpi)))
    sliver = dark.copy()
    sliver[band:-band, band:-band] = 0
    bed = _touching_edge(thick) | _touching_edge(sliver)
    # The sheet's edge is blurred by the scan: take the dark pixels next to the bed with it.
    grown = cv2.dilate(bed.astype(np.uint8), np.ones((3, 3), np.uint8)) & dark
    return cv2.dilate(np.maximum(grown, bed.astype(np.uint8)) * 255, np.ones((3, 3), np.uint8))


def _edge_labels(labels: np.ndarray) -> np.ndarray:
    """The values other than 0 on the image's four edge lines, each once (sorted)."""
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return np.unique(edge[edge > 0])


def _reaches_edge(mask: np.ndarray) -> bool:
    """Whether any pixel of `mask` lies on the image's edge."""
    return _edge_labels(mask).size > 0


def _touching_edge(mask: np.ndarray) -> np.ndarray:
    """The 8-connected pieces of `mask` that reach the image's edge."""
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, bool)
    # The bed's masks hold a few pieces: np.isin's one comparison per piece is cheaper than a table
    # looked up per pixel (2.3 against 3.2 ms a call on tune pages).
    return np.isin(labels, _edge_labels(labels))


def _bed_hides_type(
    small: np.ndarray, filled: np.ndarray, bed: np.ndarray, paper: int
) -> tuple[bool, np.ndarray]:
    """Whether Otsu's threshold over the page with its bed leaves most of the type (the ink of the
    threshold over the page without it) on the paper's side, and flatten_background of the copy the
    angles are then estimated on (`filled` if so, else `small`). Paints the bed in `filled`."""
    filled[bed > 0] = paper
    flat = flatten_background(filled)
    level, type_ink = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    type_ink[bed > 0] = 0
    if not type_ink.any():
        return True, flat
    with_bed = flatten_background(small)
    bed_level, _ = cv2.threshold(with_bed, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    kept = np.count_nonzero((with_bed <= bed_level) & (type_ink > 0)) / np.count_nonzero(type_ink)
    hides = kept < BED_TYPE_KEPT
    return hides, flat if hides else with_bed


def fill_scanner_bed(
    grey: np.ndarray, small: np.ndarray, scale: float, dpi: int, paper_level: float | None = None
) -> tuple[np.ndarray, np.ndarray, bool | None, np.ndarray | None]:
    """`grey` and its copy `small` (`scale` of its size) with the scanner's bed (see `scanner_bed`)
    painted the paper's level, whether the bed hid the type from one threshold over the page
    (None: no bed was found), and flatten_background of the small copy `clean` goes on with (the
    filled one if the bed hid the type, else `small` as it came; None without a bed), made on the way.
    `paper_level`: level_percentile(small, 90), when known already."""
    bed = scanner_bed(small, dpi * scale, paper_level)
    if not bed.any():
        return grey, small, None, None
    paper = int(level_percentile(small, 90, cv2.bitwise_not(bed)))
    hides, small_flat = _bed_hides_type(small, filled := small.copy(), bed, paper)
    small = filled
    if scale < 1.0:  # a pixel of the small copy's margin, at full size
        bed = cv2.dilate(bed, np.ones((3, 3), np.uint8))
    full = cv2.resize(bed, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_NEAREST)
    grey = grey.copy()
    np.copyto(grey, np.uint8(paper), where=full > 0)
    return grey, small, hides, small_flat


def _flat_with_bed(grey: np.ndarray, angle: float, paper: int) -> np.ndarray:
    """The page as scanned, bed and all, deskewed and flattened as `clean` does the filled one, but for
    the deskew's corners: they lie against the bed, not the sheet, and taken for paper they keep the bed
    beside them dark, as the threshold it is kept for wants (left out, the bed there was divided by its
    own level into grey: two real pages with their bed in read 0.7 points worse)."""
    if angle:
        grey = deskew(grey, angle, fill=paper)[0]
    return flatten_background(grey)


def _profile_score(ys: np.ndarray, xs: np.ndarray, angles_deg: np.ndarray) -> np.ndarray:
    """Sharpness of the horizontal projection profile of the ink points, for each rotation angle.

    Text lines rotated level give tall narrow peaks; the sum of squared row counts is highest there."""
    scores = np.empty(len(angles_deg))
    # No rotated row is further from 0 than this: shifted by it, every row is a count's index.
    offset = int(np.ceil(np.abs(ys).max(initial=0) + np.abs(xs).max(initial=0))) + 1
    # Rows rounded as np.round(ys * cos - xs * sin) does, in buffers made once: a third of the time of
    # new arrays for every angle.
    rows, across, index = np.empty(len(ys)), np.empty(len(ys)), np.empty(len(ys), np.intp)
    for i, angle in enumerate(np.deg2rad(angles_deg)):
        np.multiply(ys, np.cos(angle), out=rows)
        np.multiply(xs, np.sin(angle), out=across)
        np.subtract(rows, across, out=rows)
        np.rint(rows, out=rows)
        np.add(rows, offset, out=rows)  # whole numbers far below 2**53: exact
        index[:] = rows
        counts = np.bincount(index)
        scores[i] = float(np.dot(counts, counts))
    return scores


def _ink_points(
    mask: np.ndarray, limit: int = 60_000, seed: int = 0, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs) of stroke edges facing along `axis` (0: bottom edges, 1: right edges), subsampled.

    Baselines carry the angle of a text line; stroke interiors only blur the projection profile."""
    edges = cv2.subtract(mask, np.roll(mask, 1, axis=axis))
    # OpenCV lists the points row by row as np.nonzero does, in a fraction of its time.
    points = cv2.findNonZero(edges)
    points = points.reshape(-1, 2) if points is not None else np.zeros((0, 2), np.int32)
    ys, xs = points[:, 1], points[:, 0]
    if len(ys) > limit:
        pick = np.random.default_rng(seed).choice(len(ys), limit, replace=False)
        ys, xs = ys[pick], xs[pick]
    return ys.astype(np.float64), xs.astype(np.float64)


def estimate_skew(mask: np.ndarray, max_angle: float = MAX_SKEW) -> tuple[float, float]:
    """(angle in degrees to rotate the page counter-clockwise to level it, peak sharpness).

    Coarse search over ±max_angle, then finer steps around the best, then a parabola through the peak."""
    ys, xs = _ink_points(mask)
    if len(ys) < 50:
        return 0.0, 0.0
    ys = ys - ys.mean()
    xs = xs - xs.mean()
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    scores = _profile_score(ys, xs, coarse)
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    scores = _profile_score(ys, xs, fine)
    k = int(np.argmax(scores))
    angle = float(fine[k])
    if 0 < k < len(fine) - 1:
        a, b, c = scores[k - 1], scores[k], scores[k + 1]
        denom = a - 2 * b + c
        if denom < 0:
            angle += 0.05 * 0.5 * (a - c) / denom
    # Positive profile angle means lines fall to the right; rotating by it levels them.
    return angle, float(scores[k])


def estimate_orientation(mask: np.ndarray) -> int:
    """0 or 90: whether text lines run across (0) or down (90) the page, from profile sharpness.

    Whether the page is also upside down is left to Tesseract's OSD (see ocr.detect_orientation)."""
    angles = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 1.0)
    sharpness = []
    for axis in (0, 1):
        ys, xs = _ink_points(mask, limit=30_000, axis=axis)
        if len(ys) < 50:
            return 0
        ys, xs = ys - ys.mean(), xs - xs.mean()
        along, across = (ys, xs) if axis == 0 else (xs, ys)
        sharpness.append(_profile_score(along, across, angles).max() / len(ys) ** 2)
    return 90 if sharpness[1] > sharpness[0] * 1.5 else 0


def rotate_right_angle(grey: np.ndarray, degrees_clockwise: int) -> np.ndarray:
    turns = (degrees_clockwise // 90) % 4
    return np.ascontiguousarray(np.rot90(grey, k=-turns)) if turns else grey


def _rot90_matrix(degrees_clockwise: int, w: int, h: int) -> np.ndarray:
    """3x3 matrix taking source (x, y) to the turned image's (x, y); w, h are the source size."""
    turns = (degrees_clockwise // 90) % 4
    if turns == 1:
        return np.array([[0, -1, h - 1], [1, 0, 0], [0, 0, 1]], float)
    if turns == 2:
        return np.array([[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1]], float)
    if turns == 3:
        return np.array([[0, 1, 0], [-1, 0, w - 1], [0, 0, 1]], float)
    return np.eye(3)


def deskew(grey: np.ndarray, angle: float, fill: int = 255) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by `angle` degrees (counter-clockwise positive) on a canvas that keeps every corner.
    Returns the image and the 3x3 matrix from input to output pixels."""
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(round(h * sin + w * cos)), int(round(h * cos + w * sin))
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    out = cv2.warpAffine(grey, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=fill)
    return out, np.vstack([matrix, [0, 0, 1]])


def binarise(grey: np.ndarray, method: str, dpi: int) -> np.ndarray:
    """Text black (0) on white (255). Sauvola adapts its threshold to the neighbourhood, which keeps
    faint typewriter strokes that one global (Otsu) threshold would drop."""
    if method == "none":
        return grey
    if method == "otsu":
        _, out = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return out
    if method != "sauvola":
        raise ValueError(f"unknown binarisation {method!r}; use sauvola, otsu or none")
    window = max(15, int(dpi / 300 * 41)) | 1
    return cv2.ximgproc.niBlackThreshold(
        grey, 255, cv2.THRESH_BINARY, window, 0.2, binarizationMethod=cv2.ximgproc.BINARIZATION_SAUVOLA, r=128
    )


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """cv2.connectedComponentsWithStats (8-connected) of `mask`, with 16-bit labels while they fit:
    half the memory to write and read, and on a page about twice as fast."""
    try:
        return cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:  # more than 65535 pieces: OpenCV stops rather than wrap round
        return cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S)


def piece_stats(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stats and centroids `components` gives for `mask`'s pieces, found in the box round its ink
    alone (a page's margins, a sparse mask's empty parts are not passed over): the same pieces in the
    same coordinates, though not always in the same order, and row 0 (the background) zeros. For
    callers that use neither labels nor order: a third less time on a reduced page."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return np.zeros((1, 5), np.int32), np.zeros((1, 2))
    _, _, stats, centroids = components(mask[y : y + h, x : x + w])
    stats[:, :2] += (x, y)
    centroids += (x, y)  # a rounding apart at most: in the same whole pixel
    stats[0], centroids[0] = 0, 0.0
    return stats, centroids


def remove_specks(binary: np.ndarray, dpi: int) -> np.ndarray:
    """Whiten ink components smaller than a full stop at this resolution."""
    max_area = max(2, int(round(6 * (dpi / 300) ** 2)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(255 - binary, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False
    if not small[1:].any():
        return binary
    out = binary.copy()
    out[small[labels]] = 255
    return out


def remove_isolated_specks(
    binary: np.ndarray, measures: PageMeasures, dpi: int, in_place: bool = False
) -> np.ndarray:
    """Whiten specks: ink components too small to be part of a letter at this page's stroke width.

    A component up to the size of a dot of this page's strokes (0.8 stroke²) goes only when no
    letter is within half a glyph height: the dots of ё and й, full stops and commas sit beside
    letters and are kept. Beside letters only grain goes: components under half a dot, and never
    more than 6 px at 300 dpi, so the broken-off hairlines of a heavy print face stay too. `in_place`:
    whiten them in `binary` itself (the caller's own threshold: a copy of the page saved)."""
    stroke = max(1.0, measures.stroke_width)
    dot_area = max(2, int(round(0.8 * stroke * stroke)))
    grain_area = max(1, int(round(min(0.4 * stroke * stroke, 6 * (dpi / 300) ** 2))))
    # The pieces are labelled in the box round the ink alone (the margins hold none): the same pieces,
    # their boxes and centroids moved back into the page's coordinates (a centroid is a fraction of a
    # whole sum by the area: moved, it stays in the same whole pixel).
    ink = cv2.bitwise_not(binary)
    bx, by, bw, bh = cv2.boundingRect(ink)
    if bw == 0 or bh == 0:
        return binary
    _, labels, stats, centroids = components(ink[by : by + bh, bx : bx + bw])
    left, top, width, height, areas = (stats[1:, i] for i in range(5))
    small = areas <= dot_area
    if not small.any():
        return binary
    left, top = left + bx, top + by
    centroids = centroids + (bx, by)
    # Letters' boxes, grown by half a glyph height, on a canvas a quarter of the page's size.
    reach = max(2.0, measures.glyph_height * 0.5)
    h, w = binary.shape
    near = np.zeros(((h + 3) // 4, (w + 3) // 4), np.uint8)
    x, y, bw, bh = left[~small], top[~small], width[~small], height[~small]
    # Corners for all letters at once, as plain ints: arithmetic on NumPy scalars one letter at a
    # time cost more than the filling.
    corners = (((x - reach) // 4), ((y - reach) // 4), ((x + bw + reach) // 4), ((y + bh + reach) // 4))
    for x0, y0, x1, y1 in zip(*(c.astype(int).tolist() for c in corners), strict=True):
        near[max(0, y0) : y1 + 1, max(0, x0) : x1 + 1] = 1
    cx = np.clip(centroids[1:, 0].astype(int) // 4, 0, near.shape[1] - 1)
    cy = np.clip(centroids[1:, 1].astype(int) // 4, 0, near.shape[0] - 1)
    specks = np.flatnonzero(small & ((near[cy, cx] == 0) | (areas <= grain_area)))
    out = binary if in_place else binary.copy()
    for i in specks:
        x, y, w, h = int(left[i]), int(top[i]), int(width[i]), int(height[i])
        box = out[y : y + h, x : x + w]
        box[labels[y - by : y - by + h, x - bx : x - bx + w] == i + 1] = 255
    return out


def glyph_height(binary: np.ndarray) -> float:
    """Median height of letter-sized ink components: tells whether text is too small for Tesseract."""
    small, scale = downscale(binary, 2000)
    stats, _ = piece_stats(cv2.bitwise_not(small))
    heights = stats[1:, cv2.CC_STAT_HEIGHT] / scale
    heights = heights[(heights >= 4) & (heights <= 200) & (stats[1:, cv2.CC_STAT_AREA] >= 6)]
    return float(np.median(heights)) if len(heights) >= 20 else 0.0


@dataclass(frozen=True)
class PageMeasures:
    """What the page shows, measured on its flattened grey image (levels 0-255, sizes in pixels)."""

    paper: float  # grey level of the paper
    ink: float  # grey level of the darker part of the ink
    noise: float  # robust standard deviation of the paper's grain
    stroke_width: float  # median thickness of the ink strokes
    glyph_height: float  # median height of letter-sized ink components (0: too few to tell)
    speckles: float = 0.0  # specks per letter one threshold over the whole page leaves (faint pages only)

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 2) for k, v in dataclasses.asdict(self).items()}

    @property
    def contrast(self) -> float:
        return max(1.0, self.paper - self.ink)

    @property
    def noise_ratio(self) -> float:
        """Noise against contrast: how easily one threshold mistakes grain for ink and ink for paper."""
        return self.noise / self.contrast


@dataclass(frozen=True)
class CleaningPlan:
    """The choices `clean` makes for one page in the automatic mode, each from a measurement."""

    smoothing: float  # Gaussian sigma (pixels of the enlarged image) before the threshold; 0: none
    upscale: float  # enlargement before thresholding (1: none)
    threshold: str  # "otsu" on the smoothed image, or "grey": Tesseract thresholds the flattened grey page


MEASURE_TILE = 320  # side of the tiles measured at full resolution
MEASURE_TILES = 8


def _ink_tiles(flat: np.ndarray, reduced: np.ndarray) -> list[np.ndarray]:
    """Full-resolution tiles of ordinary ink density, found on a small copy (`reduced`: any smaller
    copy of `flat`, to save a pass over the full page)."""
    h, w = flat.shape
    if h <= MEASURE_TILE * 2 or w <= MEASURE_TILE * 2:
        return [flat]
    small, _ = downscale(reduced, 400)
    small, _ = lift_dark_minority(small)  # else a stamp's or a pen note's tiles would be the "text"
    scale = small.shape[1] / w
    _, dark = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    step = max(1, int(MEASURE_TILE * scale))
    rows, cols = small.shape[0] // step, small.shape[1] // step
    density = dark[: rows * step, : cols * step].reshape(rows, step, cols, step).mean(axis=(1, 3))
    # Tiles of ordinary density for this page: text is most of a page, so the median inked tile is
    # text, while the densest are page edges, rules, ornaments or stains the crop left.
    inked = np.flatnonzero(density.ravel() > 0.02)
    if not len(inked):
        return [flat]
    typical = float(np.median(density.ravel()[inked]))
    order = inked[np.argsort(np.abs(density.ravel()[inked] - typical))]
    picked = [divmod(int(i), cols) for i in order[:MEASURE_TILES]]
    size = int(round(step / scale))
    corners = [(min(r * size, h - size), min(c * size, w - size)) for r, c in picked]
    return [flat[y : y + size, x : x + size] for y, x in corners] or [flat]


def _typical_ink(tiles: list[np.ndarray]) -> list[np.ndarray]:
    """The tiles whose darkest ink is no more than twice as far below the paper as most tiles' is: a
    tile holding a black pen note or a stamp on a faint carbon would otherwise set the page's ink level
    (and with it the choice between our threshold and the grey page) for the type of all the others."""
    if len(tiles) < 3:
        return tiles
    darkest = np.array([level_percentile(cv2.GaussianBlur(t, (0, 0), 1.0), 1) for t in tiles])
    paper = float(np.median([level_percentile(t, 50) for t in tiles]))
    typical = float(np.median(darkest))
    return [t for t, d in zip(tiles, darkest, strict=True) if d >= typical - (paper - typical)]


def measure_page(flat: np.ndarray, reduced: tuple[np.ndarray, float] | None = None) -> PageMeasures:
    """Paper and ink levels, grain, stroke width and glyph height, from a few inked tiles.

    The ink is found on a lightly smoothed copy so that grain does not break it into fragments;
    the grain itself is measured on the unsmoothed paper. `reduced`: downscale(flat, 2000), when made."""
    reduced, reduced_scale = reduced or downscale(flat, 2000)
    tiles = _typical_ink(_ink_tiles(flat, reduced))
    strip = np.hstack(tiles)
    smooth = cv2.GaussianBlur(strip, (0, 0), 1.0)
    _, ink_mask = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    inked = cv2.countNonZero(ink_mask)
    if inked < 50 or ink_mask.size - inked < 50:
        return PageMeasures(float(np.median(strip)), 0.0, 0.0, 0.0, 0.0)
    paper = level_percentile(smooth, 50, cv2.bitwise_not(ink_mask))
    ink_level = level_percentile(smooth, 25, ink_mask)
    far_from_ink = cv2.dilate(ink_mask, np.ones((7, 7), np.uint8)) == 0
    grain = cv2.subtract(strip, cv2.medianBlur(strip, 5), dtype=cv2.CV_16S)  # no 16-bit copies first
    grain = grain[far_from_ink]
    noise = float(1.4826 * median_deviation(grain)) if grain.size > 50 else 0.0

    _, labels, stats, _ = components(ink_mask)
    heights, areas = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    letters = (heights >= 6) & (heights <= 200) & (areas >= 15)
    letters[0] = False
    # Glyph height over the whole page (a few tiles can all be a heading or a footnote), on a
    # smoothed copy at most 2000 px long so that grain does not pass for small letters.
    smoothed = cv2.GaussianBlur(reduced, (0, 0), 1.0)
    _, reduced_binary = cv2.threshold(smoothed, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    height = glyph_height(reduced_binary) / reduced_scale
    if height == 0:
        # Otsu over a faint grainy page can part a few dark specks from all the rest (type and paper
        # alike): then the type is what lies beyond halfway from the measured paper to the ink.
        _, reduced_binary = cv2.threshold(smoothed, (paper + ink_level) / 2, 255, cv2.THRESH_BINARY)
        height = glyph_height(reduced_binary) / reduced_scale
    # Stroke width: twice the distance to the paper along the stroke's middle (distance-map ridges).
    distance = cv2.distanceTransform(ink_mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # Looked at on the ink's pixels alone (the paper is no letter's): the same ridge values.
    on_ink = np.flatnonzero(ink_mask)
    ridge = on_ink[
        (distance.ravel()[on_ink] >= cv2.dilate(distance, np.ones((3, 3), np.uint8)).ravel()[on_ink])
        & letters[labels.ravel()[on_ink]]
    ]
    # A stroke w pixels wide has its middle (w + 1) / 2 from the nearest paper pixel.
    stroke = float(max(1.0, 2 * np.median(distance.ravel()[ridge]) - 1)) if ridge.size else 0.0
    # Only a faint page is left grey for Tesseract's threshold, so only there are its specks counted.
    faint = max(1.0, paper - ink_level) < FAINT_CONTRAST
    speckles = _speckles(flat, strip, stroke) if faint else 0.0
    return PageMeasures(paper, ink_level, noise, stroke, height, speckles)


def _speckles(flat: np.ndarray, strip: np.ndarray, stroke: float) -> float:
    """Specks (components smaller than a stroke's square) per larger component in the measured tiles
    under one Otsu level over the whole page, the threshold Tesseract puts on a grey page: where the
    type is sparse that level lies close to the paper and its grain falls under it as thousands of
    specks, among which Tesseract finds no lines. The grain's measured spread alone misses some such
    pages (its robust deviation comes in whole-level steps: 4.45 read on a page that loses its lines)."""
    level = _otsu_level(cv2.calcHist([flat], [0], None, [256], [0, 256]).ravel())
    dark = (strip <= level).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    specks = int(np.count_nonzero(areas <= max(4.0, stroke * stroke)))
    return specks / max(1, len(areas) - specks)


def _scaled(measures: PageMeasures, factor: float) -> PageMeasures:
    """The same measurements in the pixels of an image enlarged by `factor`."""
    return dataclasses.replace(
        measures, stroke_width=measures.stroke_width * factor, glyph_height=measures.glyph_height * factor
    )


def binarise_planned(flat: np.ndarray, plan: CleaningPlan) -> np.ndarray:
    """Enlarge, smooth the grain away and threshold, as the plan says. Text black (0) on white (255);
    a "grey" plan gives the flattened grey page instead (stretching its contrast first read worse)."""
    return _binarise_planned(flat, plan)[0]


def _binarise_planned(flat: np.ndarray, plan: CleaningPlan) -> tuple[np.ndarray, float | None]:
    """`binarise_planned`'s image and Otsu's level it thresholded at (None for a "grey" plan)."""
    if plan.upscale != 1.0:
        flat = cv2.resize(flat, None, fx=plan.upscale, fy=plan.upscale, interpolation=cv2.INTER_CUBIC)
    if plan.smoothing > 0:
        flat = cv2.GaussianBlur(flat, (0, 0), plan.smoothing)
    if plan.threshold == "grey":
        return flat, None
    level, out = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return out, float(level)


def _otsu_level(counts: np.ndarray) -> int:
    """Otsu's threshold of 8-bit levels counted in `counts`: the classes are levels up to it and above."""
    p = counts / max(1, counts.sum())
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(len(p)))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    return int(np.argmax(np.nan_to_num(between[:-1], nan=-1.0)))


def lift_dark_minority(
    flat: np.ndarray, reduced: np.ndarray | None = None, corners: list[np.ndarray] | None = None
) -> tuple[np.ndarray, int | None]:
    """The flattened page with ink darker than its type lifted to the type's level, when a little dark
    ink (a note in black pen, a word typed over, a stamp on a grey scan) is all that one threshold over
    the page finds: then Otsu's threshold, ours and Tesseract's, parts that ink from the rest and a
    faint carbon's type falls on the paper's side with the paper, as does its measured ink level.
    The type is the fainter ink that then shows between that threshold and the paper. Returns the
    page and the level (None: the page's darkest ink is its type, left as it is). From the page's
    histogram alone: a few milliseconds. `reduced`: a smaller copy of `flat` made already, to shrink.
    `corners`: the deskew's new corners (`deskew_corners`, in `flat`'s pixels), which count as the
    image's edge."""
    # Counted on a copy at most ANALYSIS_SIDE long: its averaging takes out the grain that at full size
    # puts a grainy page's paper and type below Otsu's threshold with the dark ink.
    small = downscale(flat if reduced is None else reduced)[0]
    counts = cv2.calcHist([small], [0], None, [256], [0, 256]).ravel()
    total = max(1.0, float(counts.sum()))
    first = _otsu_level(counts)
    dark_share = counts[: first + 1].sum() / total
    if DARK_MINORITY <= dark_share < 2 * DARK_MINORITY:
        # Dark bands along the sheet's edge (a lit sheet flattened beside a brighter scanner lid) are no
        # type either: counted with the stamp and the notes, they hid a faint page's type (tune carbon
        # 5319: 1.5 % of the page under Otsu's level, half of it such bands).
        dark = (small <= first).astype(np.uint8)
        edge = dark
        if corners:
            # A band along a sheet deskewed on a canvas of its own meets the canvas's corners, not the
            # image's edge: where the scan's own bright corners lie between, the flattening makes the
            # sheet's shadowed edge a ramp that touches them (tune carbon 1432). Drawn with their
            # blended edge pixel, the corners join such a band to the image's edge.
            edge = _corners_drawn(dark.shape, corners, small.shape[1] / flat.shape[1]) | dark
        dark_share = (np.count_nonzero(dark) - np.count_nonzero(_touching_edge(edge) & (dark > 0))) / total
    if dark_share >= DARK_MINORITY:
        return flat, None
    rest = counts.copy()
    rest[: first + 1] = 0
    second = _otsu_level(rest)
    fainter = counts[first + 1 : second + 1]
    share = fainter.sum() / total
    if share < max(TYPE_MIN_SHARE, 2 * dark_share):
        return flat, None
    level = first + 1 + int(np.searchsorted(np.cumsum(fainter), 0.05 * fainter.sum()))
    return cv2.max(flat, level), level  # np.maximum's result in a tenth of the time


def lift_below_type(grey: np.ndarray, measures: PageMeasures) -> tuple[np.ndarray, int | None]:
    """A grey page (left for Tesseract's own threshold) with the levels under its type's darkest lifted,
    when one Otsu level over the whole page, as Tesseract puts it, falls below the type's ink: a few dark
    specks at full size (a faint page's bleed and JPEG grain, too few to show on `lift_dark_minority`'s
    small copy) are then all it finds, and the type goes with the paper (tune carbon 4401: Otsu at 167,
    type at 238, paper at 254; 62 % CER). Lifted to as far below the type's ink as the paper is above
    it, the dark specks no longer pull the level under the type. Pages whose level lies between type and
    paper (all but such pages) are left as they are: a contrast stretch read them worse. Returns the
    page and the level (None: left)."""
    level = _otsu_level(cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel())
    if measures.glyph_height <= 0 or level >= measures.ink:
        return grey, None
    floor = int(max(0.0, measures.ink - measures.contrast))
    return cv2.max(grey, floor), floor


def lift_creases(flat: np.ndarray) -> tuple[np.ndarray, int]:
    """The flattened page with the shade of a fold lifted: a crease across the sheet is a soft dark band
    a few pixels wide and as long as the page, too narrow for `flatten_background`'s estimate of the
    paper. On a faint page it is as dark as the type: Tesseract's layout took a crease down the page
    for a column's edge and dropped the lines' right halves, and one along a line joined it to the
    next (dev carbons with creases of our own drawing: 8.2 % CER against 2.2 % without them). Every
    row has paper between its letters, so a row's brightest level along a short strip is the paper's
    there; where it falls below its neighbours' across most of the page, the row is in a crease and
    is divided by it (columns likewise). Returns the page (untouched without a crease) and the number
    of crease bands lifted."""
    if min(flat.shape[:2]) < CREASE_MIN_SIDE:
        return flat, 0  # a line or a word cut out of a page: too short to tell a crease from its neighbours
    # Found on a half-size copy (a quarter of the time), lifted at full size: halved, a narrow crease
    # is shallower and wider, and dividing by that left its core as a dark rule with a light rim.
    half = _halved(flat)
    half = cv2.blur(half, (3, 3))  # the brightest level of grain is a level too bright
    count = 0
    lifted = flat
    for along_rows in (True, False):
        for start, stop in _crease_bands(half if along_rows else np.ascontiguousarray(half.T)):
            page = lifted if along_rows else lifted.T  # a view: columns are lifted as rows of the turned page
            rows = slice(2 * start, min(page.shape[0], 2 * stop))
            shade = _band_shade(page[rows])
            if shade is None:
                continue
            # A valley whose bottom lies in the margin is the shade beside the sheet's edge or a book's
            # gutter (real 18th-century pages), no fold across the page.
            bottom = rows.start + float(np.median(shade.argmin(axis=0)))
            if not CREASE_MARGIN * page.shape[0] <= bottom < (1 - CREASE_MARGIN) * page.shape[0]:
                continue
            if lifted is flat:
                lifted = flat.copy()
                page = lifted if along_rows else lifted.T
            shade = cv2.resize(shade, (page.shape[1], shade.shape[0]), interpolation=cv2.INTER_LINEAR)
            page[rows] = np.clip(page[rows].astype(np.float32) / shade, 0, 255).astype(np.uint8)
            count += 1
    return lifted, count


def _strip_brightest(rows: np.ndarray, strip: int) -> np.ndarray:
    """Each row's brightest level in each strip `strip` pixels long across it: rows by strips."""
    edges = np.linspace(0, rows.shape[1], max(1, round(rows.shape[1] / strip)) + 1).astype(int)
    # One pass over the rows for all strips: a fifth of the time of one reduction a strip.
    return np.maximum.reduceat(rows, edges[:-1], axis=1).astype(np.float32)


def _valley(brightest: np.ndarray, reach: int) -> np.ndarray:
    """Each row's level (rows by strips) against the paper on both sides of it, at most `reach` rows
    away: below 1 only in a valley. Against the brightest row on either side, the light falling off
    towards the sheet's edge was a valley too (17 of 1538 tune and dev pages, at their margins)."""
    before = cv2.dilate(brightest, np.ones((reach + 1, 1), np.uint8), anchor=(0, reach))
    after = cv2.dilate(brightest, np.ones((reach + 1, 1), np.uint8), anchor=(0, 0))
    return np.minimum(brightest / np.maximum(np.minimum(before, after), 1), 1.0)


def _crease_bands(half: np.ndarray) -> list[tuple[int, int]]:
    """`lift_creases`'s bands of rows of `half` that may lie in a crease, as (first, after the last)."""
    h = half.shape[0]
    brightest = _strip_brightest(half, CREASE_STRIP)
    shade = _valley(brightest, 30)
    # A crease at a slant crosses each strip a few rows lower than the last (a page 3 degrees from the
    # fold, once deskewed: 180 rows over its length): the darkest of the rows near counts.
    shaded = cv2.erode(shade, np.ones((121, 1), np.uint8)) < CREASE_DEPTH
    in_crease = shaded.mean(axis=1) >= CREASE_SPAN
    margin = int(CREASE_MARGIN * h)
    in_crease[:margin] = False
    in_crease[h - margin :] = False
    if not in_crease.any():
        return []
    # The crease's soft sides, which lie beyond the rows found, go with it.
    wide = cv2.dilate(in_crease.astype(np.uint8)[:, None], np.ones((51, 1), np.uint8)).ravel()
    steps = np.diff(np.concatenate([[0], wide, [0]]).astype(np.int8))
    return list(zip(np.flatnonzero(steps == 1).tolist(), np.flatnonzero(steps == -1).tolist(), strict=True))


def _band_shade(band: np.ndarray) -> np.ndarray | None:
    """The shade (at most 1) of each row of a full-size band found by `_crease_bands`, in strips across
    it (rows by strips), or None when the band is no fold's soft shade but a printed rule or a table's
    rules: across a rule the paper's level falls to its depth in a row or two, across a fold's shade
    by a fifth of its depth a row or less, and no fold's shade is as dark as ink (letterheads' and
    tables' rules were taken for creases on 195 of 1538 tune and dev pages, falling 0.35-1.0 of their
    depth a row, or a blurred rule 79 % deep; creases of our own drawing fell 0.09-0.42 of theirs a
    row, the narrowest fastest, and were at most 45 % deep)."""
    band = cv2.blur(np.ascontiguousarray(band), (5, 1))  # along the row only: the grain, not the shade
    brightest = _strip_brightest(band, 2 * CREASE_STRIP)
    shade = _valley(brightest, 60)
    depth = 1.0 - shade.min(axis=0)
    shaded = depth > 1.0 - CREASE_DEPTH
    if not shaded.any() or float(np.median(depth[shaded])) > CREASE_MAX_DEPTH:
        return None
    steepest = np.abs(np.diff(shade, axis=0)).max(axis=0)
    if float(np.median(steepest[shaded] / depth[shaded])) > CREASE_STEEPNESS:
        return None
    # Only the valley round each strip's darkest row is the fold's: elsewhere in the band a row of type
    # has fewer paper pixels for its brightest level and is a shade darker, and is left as it is.
    for strip, bottom in enumerate(shade.argmin(axis=0)):
        level = shade[:, strip]
        rim = np.flatnonzero(level >= CREASE_RIM)
        above, below = rim[rim < bottom], rim[rim > bottom]
        level[: above[-1] + 1 if above.size else 0] = 1.0
        level[below[0] if below.size else level.size :] = 1.0
    return shade


def lift_show_through(flat: np.ndarray, measures: PageMeasures) -> tuple[np.ndarray, float]:
    """A faint page with the ink that lies away from steep edges lifted to the paper. The back of the
    sheet showing through, blurred by the paper and a little fainter, has hardly a steep edge, where a
    carbon's type, however faint, is edges all round: ink farther than a stroke's width from any steep
    edge is the back (or a stain). Filling the gaps between the lines, the back made Tesseract read
    one line into the next and the page be taken for sideways (dev carbons with a back of our own
    drawing: 15.8 % CER against 2.2 % without it). A back with edges of its own goes too: pieces in
    rows with few edges for their ink between rows of the type (`_between_lines`), and a lighter layer
    than the type off its letters' rows (`_lighter_layer`). Returns the page (as it was when such ink
    is too little: then it is grain) and the share of the ink it is."""
    # Judged at half size, a quarter of the time: the back's blur spans more than a pixel halved.
    # By OpenCV's area resampling to half the size, the copy its rules were measured on: on an odd side
    # its windows drift by up to half a pixel across the page, and the 2x2 means of `_halved` moved the
    # reading of a secrecy mark beside a stamp (tune carbon 3620: `секретн`).
    half = cv2.resize(flat, (flat.shape[1] // 2, flat.shape[0] // 2), interpolation=cv2.INTER_AREA)
    back, share = _show_through(half, _scaled(measures, 0.5))
    if back is None:
        return flat, share
    back = cv2.resize(back * 255, (flat.shape[1], flat.shape[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.max(flat, back), share


def _show_through(flat: np.ndarray, measures: PageMeasures) -> tuple[np.ndarray | None, float]:
    """`lift_show_through`'s mask of the back (1) on `flat`, or None when too little, and its share."""
    if measures.glyph_height <= 0:
        return None, 0.0
    ink = cv2.threshold(flat, measures.paper - 0.25 * measures.contrast, 1, cv2.THRESH_BINARY_INV)[1]
    inked = cv2.countNonZero(ink)
    if inked == 0:
        return None, 0.0
    # How far the level changes within a pixel: a morphological gradient, a tenth of Sobel's time.
    gradient = cv2.morphologyEx(flat, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    counts = cv2.calcHist([gradient], [0], ink, [256], [0, 256]).ravel()
    typical = float(np.searchsorted(np.cumsum(counts), 0.9 * inked))  # the 90th percentile at the ink
    steep = cv2.threshold(gradient, SHOW_THROUGH_EDGE * typical, 1, cv2.THRESH_BINARY)[1]
    # A stroke's inside lies within a stroke's width of one of its two edges.
    stroke = min(measures.stroke_width, 9.0)
    reach = np.ones((int(2 * stroke) + 1,) * 2, np.uint8)  # a stroke's width every way
    near = cv2.dilate(steep, reach)
    # ... and fainter than the type: a blotted letter's dark middle is no back (tune carbon 6515).
    fainter = cv2.threshold(flat, measures.ink, 1, cv2.THRESH_BINARY)[1]
    away = cv2.bitwise_and(cv2.subtract(ink, near), fainter)
    # Grain is finer than a stroke: the back's letters, blurred, are a stroke wide at least.
    away = cv2.morphologyEx(away, cv2.MORPH_OPEN, np.ones((int(stroke) | 1,) * 2, np.uint8))
    # Only among the type: the sheet's shadowed edges and what lies beyond the type are left to the
    # rest of the cleaning (Tesseract alone read dev carbon 7209 2 points worse with its shadow lifted).
    points = cv2.findNonZero(steep[::8, ::8])
    if points is None or len(points) < 50:
        return None, 0.0
    points = 8 * points.reshape(-1, 2)
    (x0, y0), (x1, y1) = np.percentile(points, (2, 98), axis=0).astype(int)
    inside = np.zeros_like(away)
    inside[y0 : y1 + 1, x0 : x1 + 1] = 1
    away = cv2.bitwise_and(away, inside)
    # A back as dark as the type, or lighter but close under its lines, has edges enough to stay
    # near steep pixels: it is told from the type by its rows and its darkness instead.
    pieces = _Pieces.of(cv2.bitwise_and(ink, inside))
    between = cv2.bitwise_or(_between_lines(pieces, steep, measures), _lighter_layer(flat, pieces, measures))
    if (share := cv2.countNonZero(away) / inked) < SHOW_THROUGH_SHARE:
        return _enough(between, inked)  # too little even before the pieces are looked at
    # The back's letters run along lines a few letters high; a band down the sheet's shadowed edge
    # is far taller (lifting one read tune carbon 6517 4.7 -> 16.3 %: Tesseract's threshold then fell
    # under the faint type).
    count, labels, stats, _ = cv2.connectedComponentsWithStats(away, connectivity=8)
    height = stats[:, cv2.CC_STAT_HEIGHT]
    letters = (height <= SHOW_THROUGH_LINES * measures.glyph_height) & (height >= measures.glyph_height / 3)
    letters[0] = False
    # A letter of the type struck lightly or blurred has few steep pixels too, but it stands in a line
    # of the type, beside letters that have them: a piece half covered by that line (the type near
    # steep pixels, spread a glyph's height either way along the row) stays (tune carbons 6515, 515).
    typed = cv2.bitwise_and(near, cv2.subtract(ink, away))
    along = cv2.dilate(typed, np.ones((1, int(2 * measures.glyph_height) | 1), np.uint8))
    # Counted at the pieces' own pixels only (a few in a hundred of the page's; some, by the share above).
    xs, ys = cv2.findNonZero(away).reshape(-1, 2).T
    piece = labels[ys, xs]
    covered = np.bincount(piece, weights=along[ys, xs], minlength=count)
    letters &= covered <= 0.5 * stats[:, cv2.CC_STAT_AREA]
    keep = letters[piece]
    away = np.zeros_like(away)
    away[ys[keep], xs[keep]] = 1
    share = cv2.countNonZero(away) / inked
    if share < SHOW_THROUGH_SHARE:
        return _enough(between, inked)
    # The back's rim has steep pixels of its own; around the back, what is lighter than halfway from
    # the back's level to the type's goes with it (the type is the darker: on its own it would stay
    # a hollow outline of each letter, which Tesseract reads as letters).
    around = cv2.dilate(away, reach)
    back_counts = cv2.calcHist([flat], [0], away, [256], [0, 256]).ravel()
    back_level = float(np.searchsorted(np.cumsum(back_counts), 0.5 * back_counts.sum()))
    lighter = cv2.threshold(flat, (back_level + measures.ink) / 2, 1, cv2.THRESH_BINARY)[1]
    return _enough(cv2.bitwise_or(cv2.bitwise_or(away, cv2.bitwise_and(around, lighter)), between), inked)


def _enough(back: np.ndarray, inked: int) -> tuple[np.ndarray | None, float]:
    """`back` and its share of the ink, or None when that share is too little to be the sheet's back."""
    share = cv2.countNonZero(back) / inked
    return (back if share >= SHOW_THROUGH_SHARE else None), share


class _Pieces(NamedTuple):
    """An ink mask's 8-connected pieces and its pixels, found once for the tests that read them."""

    mask: np.ndarray
    count: int
    labels: np.ndarray
    stats: np.ndarray
    ys: np.ndarray  # the ink's pixels
    xs: np.ndarray
    piece: np.ndarray  # each pixel's piece

    @classmethod
    def of(cls, mask: np.ndarray) -> _Pieces:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        ys, xs = np.nonzero(mask)
        return cls(mask, count, labels, stats, ys, xs, labels[ys, xs])

    def drawn(self, keep: np.ndarray) -> np.ndarray:
        """A mask (1) of the pixels where `keep` (one flag a pixel) is set."""
        out = np.zeros_like(self.mask)
        out[self.ys[keep], self.xs[keep]] = 1
        return out


def _lighter_layer(flat: np.ndarray, ink: _Pieces, measures: PageMeasures) -> np.ndarray:
    """Ink of a second, lighter layer between the type's lines. A back lighter than the type, blurred
    close under its lines, has edges enough and touches the type's rows, but none of its letters is as
    dark as the type's: the darkest pixels of the page's letter-sized pieces fall in two groups with a
    gap between (dev carbon 7422: the type's at 135-185, the back's at 195-215, none at 190-195). Then
    what is lighter than the gap, farther than a stroke from the type's darker pixels and off the rows
    of its letters' bodies (a letter of the type struck lightly stands in them) is the back, where it
    lies between lines of the type (a patch of faded type is a lighter layer too: tune carbon 3109).
    A page of one layer shows no such gap: its pieces' darkest levels fall away from the type's."""
    darkest = np.full(ink.count, 255, np.int32)
    np.minimum.at(darkest, ink.piece, flat[ink.ys, ink.xs].astype(np.int32))
    height = ink.stats[:, cv2.CC_STAT_HEIGHT]
    # Letters, not punctuation (a full stop's blurred middle is lighter than a letter's).
    letters = (height >= 0.5 * measures.glyph_height) & (height <= SHOW_THROUGH_LINES * measures.glyph_height)
    letters[0] = False
    cut = _layer_gap(darkest[letters])
    if cut is None:
        return np.zeros_like(ink.mask)
    dark = cv2.threshold(flat, cut - 1, 1, cv2.THRESH_BINARY_INV)[1]
    stroke = int(max(1.0, measures.stroke_width)) | 1
    near = cv2.dilate(dark, np.ones((stroke, stroke), np.uint8))
    strip = _strip(measures)
    core = _core_rows(dark, strip, measures)
    column = ink.xs // strip
    on_core = core[ink.ys, column] > 0
    between = _between_rows(core, measures)[ink.ys, column] > 0
    return ink.drawn((near[ink.ys, ink.xs] == 0) & ~on_core & between)


def _strip(measures: PageMeasures) -> int:
    """Width of the strips the type's rows are found in, each on its own (residual skew, short lines)."""
    return max(32, int(STRIP_GLYPHS * measures.glyph_height))


def _per_strip_row(mask: np.ndarray, strip: int) -> np.ndarray:
    """`mask`'s pixels counted in each row of each strip (rows x strips)."""
    h, w = mask.shape
    cols = -(-w // strip)
    padded = np.zeros((h, cols * strip), np.uint8)
    padded[:, :w] = mask
    return padded.reshape(h, cols, strip).sum(axis=2, dtype=np.int32).astype(np.float32)


def _core_rows(dark: np.ndarray, strip: int, measures: PageMeasures) -> np.ndarray:
    """The rows of the type's letters' bodies, strip by strip (rows x strips, 1): rows with at least
    LAYER_CORE of the most dark pixels any row within a glyph has (a descender's rows have few, and a
    back close under the lines lies there)."""
    counts = _per_strip_row(dark, strip)
    glyph = int(measures.glyph_height) | 1
    fullest = cv2.dilate(counts, np.ones((glyph, 1), np.uint8))
    return ((counts >= LAYER_CORE * fullest) & (counts > 0)).astype(np.uint8)


def _layer_gap(levels: np.ndarray) -> int | None:
    """The level above a gap between the type's pieces and a lighter group holding enough of them
    (pieces counted by their darkest pixel, in bins); None when there is none. The gap is the bin
    emptiest against the fullest lighter one, when at most LAYER_VALLEY of it: a type's light tail
    only thins out, it does not rise again."""
    if len(levels) < LAYER_MIN_PIECES:
        return None
    counts = np.bincount(levels // LAYER_BIN, minlength=256 // LAYER_BIN + 1).astype(float)
    typed = int(np.argmax(counts))  # most pieces are letters of the type
    enough = max(LAYER_MIN_PIECES, LAYER_SHARE * len(levels))
    best, best_depth = None, LAYER_VALLEY
    for gap in range(typed + 1, len(counts) - 1):
        above = counts[gap + 1 :]
        if above.sum() < enough:
            break
        if (depth := counts[gap] / above.max()) <= best_depth:
            best, best_depth = gap, depth
    return None if best is None else (best + 1) * LAYER_BIN


def _between_rows(rows: np.ndarray, measures: PageMeasures) -> np.ndarray:
    """Per strip (columns of `rows`, rows of the type marked 1): the rows with rows of the type within
    BETWEEN_GLYPHS glyph heights both above and below, where a back's line lies. A patch of faded type
    has none round it: its rows are not between."""
    h, cols = rows.shape
    span = int(BETWEEN_GLYPHS * measures.glyph_height)
    total = np.vstack([np.zeros((1, cols), np.int32), np.cumsum(rows, axis=0, dtype=np.int32)])
    y = np.arange(h)
    above = total[y] - total[np.maximum(0, y - span)]
    below = total[np.minimum(h, y + span + 1)] - total[y + 1]
    return ((above > 0) & (below > 0)).astype(np.uint8)


def _between_lines(ink: _Pieces, steep: np.ndarray, measures: PageMeasures) -> np.ndarray:
    """Ink lying between the type's lines: pieces mostly in rows where the ink has few steep edges.

    A back as dark as a faint carbon's type has steep pixels of its own, but far fewer for its ink
    than the type: in a strip a dozen letters wide, a row of the type has about as many steep pixels
    as inked ones, a row of the back a tenth of that (dev carbon 7208). Measured along rows, a row
    of a short line's few letters (a margin's strip) counts like any other."""
    strip = _strip(measures)
    inked = cv2.blur(_per_strip_row(ink.mask, strip), (1, 3))
    if not (inked > 0).any():
        return np.zeros_like(ink.mask)
    ratio = cv2.blur(_per_strip_row(steep, strip), (1, 3)) / np.maximum(inked, 1.0)
    # The type's rows are the well-inked rows with the most edges for their ink.
    full = inked >= 0.5 * np.percentile(inked[inked > 0], 75)
    typed = np.percentile(ratio[full], 90)
    rows = ((ratio >= TYPED_EDGES * typed) & (inked > 0)).astype(np.uint8)
    reach = max(1, int(0.3 * measures.glyph_height))  # the ends of a line's rows: a faint descender
    kept = cv2.dilate(rows, np.ones((2 * reach + 1, 1), np.uint8))
    # A back's rows lie between the type's, with rows of the type a line's height above and below; a
    # patch of faded type has none around it (tune carbon 3109: its faded strips, blurred, have the
    # back's few edges, and went with them: 5.7 -> 26.2 % CER).
    kept |= 1 - _between_rows(rows, measures)
    on_rows = np.bincount(ink.piece, weights=kept[ink.ys, ink.xs // strip], minlength=ink.count)
    area = ink.stats[:, cv2.CC_STAT_AREA]
    stroke = max(1.0, measures.stroke_width)
    # A letter's size: taller or longer pieces are a sheet's edge, a rule or a stamp's ring.
    letters = (ink.stats[:, cv2.CC_STAT_HEIGHT] <= SHOW_THROUGH_LINES * measures.glyph_height) & (
        ink.stats[:, cv2.CC_STAT_WIDTH] <= STRIP_GLYPHS * measures.glyph_height
    )
    # ... and itself blurred like a back: a letter of the type in such a row (a secrecy mark beside a
    # stamp's faint ink, whose few edges pull its row under: tune carbon 3620) has the type's edges.
    own_edges = np.bincount(ink.piece, weights=steep[ink.ys, ink.xs], minlength=ink.count)
    blurred = own_edges < TYPED_EDGES * typed * area
    between = letters & blurred & (on_rows <= 0.5 * area) & (area >= stroke * stroke)
    between[0] = False
    return ink.drawn(between[ink.piece])


def plain_clean(grey: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """The page as a careful plain script cleans it: Otsu, a 3x3 median, and deskew by the angle (within
    5 degrees, to a tenth) whose row profile is sharpest; a fold line, punched hole or stamp in a margin
    cannot tilt it as it tilts the minimum-area rectangle of all ink. Nothing of `clean`'s measuring,
    so nothing it may misjudge on a page carries over. Returns the image, the angle and the 3x3 matrix
    from input to output pixels."""
    binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    binary = cv2.medianBlur(binary, 3)
    small = cv2.resize(binary, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)

    def sharpness(angle: float) -> float:
        # Each row's ink as 255 times its width less its levels' sum, in whole numbers: the same values
        # as summing the inverted row in floats, without a page of floats.
        turned = deskew(small, angle, fill=255)[0]
        sums = cv2.reduce(turned, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
        rows = (255 * turned.shape[1] - sums).astype(np.float64)
        return float(np.square(np.diff(rows)).sum())

    coarse = max(np.arange(-5.0, 5.01, 0.5), key=sharpness)
    angle = round(float(max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=sharpness)), 3)
    image, forward = deskew(binary, angle, fill=255)
    return image, angle, forward


def plan_cleaning(measures: PageMeasures) -> CleaningPlan:
    """Choose smoothing and enlargement from what the page shows (measurements in docs/design_notes.md)."""
    factor = 1.0
    faint = measures.glyph_height > 0 and measures.contrast < FAINT_CONTRAST
    # On a faint page one threshold can break the type into pieces: "letters" under GLYPH_STROKES strokes
    # high are those pieces, not small type (tune carbon 1432: 11 px pieces of 25 px letters, enlarged
    # 2.7 times and blurred as much, 60 % CER against 22 % as it is).
    pieces = faint and measures.glyph_height < GLYPH_STROKES * measures.stroke_width
    if 0 < measures.glyph_height < TARGET_GLYPH_HEIGHT * 0.6 and not pieces:
        factor = min(3.0, TARGET_GLYPH_HEIGHT / measures.glyph_height)
    ratio = measures.noise_ratio
    if ratio < 0.03:
        sigma = 0.0
    elif ratio < 0.08:
        # Moderate grain: smoothed away, unless the strokes are so thin that the Gaussian takes the
        # contrast out of them too and the threshold breaks them (tune pages with 3 px strokes: 0.6-17
        # points worse smoothed, one 0.9 better).
        sigma = 0.0 if 0 < measures.stroke_width <= THIN_STROKE else 0.7
    else:
        sigma = 1.0
    if faint:
        # A faint page (a carbon copy): one threshold of ours breaks its thin, blurred strokes, while
        # Tesseract reads the letters from the grey page itself (its threshold only finds the lines).
        # Smoothing the grey blurs them again; only grain as strong as this hides the lines from it,
        # and the stronger the grain, the more it needs: a Gaussian of sigma s leaves about 0.28 / s
        # of fine grain, so GREY_SMOOTHING * ratio brings it to about a twentieth of the contrast.
        grey_sigma = 0.0
        if ratio >= GREY_GRAIN:
            grey_sigma = min(GREY_MAX_SIGMA, max(1.0, GREY_SMOOTHING * ratio))
        elif measures.speckles > GREY_SPECKLES:
            grey_sigma = 1.0  # grain measured below GREY_GRAIN that still breaks Tesseract's threshold
        return CleaningPlan(
            smoothing=round(grey_sigma * factor, 2), upscale=round(factor, 3), threshold="grey"
        )
    return CleaningPlan(smoothing=round(sigma * factor, 2), upscale=round(factor, 3), threshold="otsu")


def clean(pixels: np.ndarray, dpi: int, settings: Settings, orientation: int | None = None) -> Cleaned:
    """The whole cleaning stage. `orientation` forces a right-angle turn (used after OSD says so)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    grey = to_grey(pixels)
    h0, w0 = grey.shape
    to_source = np.eye(3)  # maps current-image pixels back to source pixels

    # The page's borders, bed, turn and skew are judged on this copy, shrunk by area exactly: on a faint
    # grainy page the skew search's peak is shallow, and `shrink`'s grain (its 2x2 means) drew it to 0
    # degrees on a page lying at 0.8 (test carbon 212: 23 % CER levelled, 99.7 % read as it lay).
    small, scale = downscale(grey, exact=True)
    # The small copy's 90th percentile (its paper), kept while the copy holds the same levels: the crop,
    # the bed's test and the deskew's fill each need it (a right-angle turn moves no level).
    small_paper: float | None = level_percentile(small, 90)
    bed = "none"
    # The page with the scanner's bed left in, when the bed hides no type: a page of ordinary contrast
    # is thresholded from it (the bed lowers the threshold, which kept thinner strokes: tune pages with
    # bleeding ink read 0.5-2.4 points worse with it painted over). It is measured without the bed.
    with_bed: np.ndarray | None = None
    small_flat: np.ndarray | None = None  # flatten_background(small), when the bed's test made it
    if settings.crop_borders:
        x0, y0, x1, y1 = find_content_box(small, small_paper)
        if (x0, y0, x1, y1) != (0, 0, small.shape[1], small.shape[0]):
            fx0, fy0 = int(x0 / scale), int(y0 / scale)
            fx1, fy1 = min(w0, int(np.ceil(x1 / scale))), min(h0, int(np.ceil(y1 / scale)))
            grey = grey[fy0:fy1, fx0:fx1]
            small = small[y0:y1, x0:x1]
            small_paper = level_percentile(small, 90)
            to_source = to_source @ np.array([[1, 0, fx0], [0, 1, fy0], [0, 0, 1]], float)
        filled, small_filled, hides, small_flat = fill_scanner_bed(
            grey, small, scale, dpi, paper_level=small_paper
        )
        if hides is not None:
            bed = "filled" if hides else "measured without"
            with_bed = None if hides else grey
            # The turn and skew are estimated as before from a bed that hides no type (its straight
            # edge runs with the sheet's).
            small = small_filled if hides else small
            small_paper = None if hides else small_paper
        grey = filled
    timings["crop"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    mask = ink_mask(small, small_flat)
    turn = orientation if orientation is not None else (estimate_orientation(mask) if settings.orient else 0)
    if turn:
        h, w = grey.shape
        to_source = to_source @ np.linalg.inv(_rot90_matrix(turn, w, h))
        grey = rotate_right_angle(grey, turn)
        with_bed = rotate_right_angle(with_bed, turn) if with_bed is not None else None
        small = rotate_right_angle(small, turn)
        mask = rotate_right_angle(mask, turn)
    timings["orient"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    angle = estimate_skew(mask)[0] if settings.deskew else 0.0
    if settings.deskew and (without := _without_edge_bands(mask)) is not mask:
        # Solid bands along the edge (a sheet's shadow) can outweigh a faint page's type: then the
        # type's own angle, when the two disagree (only then, so that pages the bands agree with stay).
        typed = estimate_skew(without)[0]
        angle = typed if abs(typed - angle) >= EDGE_BAND_SKEW else angle
    paper = int(level_percentile(small, 90) if small_paper is None else small_paper)
    corners: list[np.ndarray] | None = None
    if abs(angle) >= 0.05:
        turned, forward = deskew(grey, angle, fill=paper)
        corners = deskew_corners(grey.shape[:2], forward, turned.shape[:2])
        grey = turned
        to_source = to_source @ np.linalg.inv(forward)
    else:
        angle = 0.0
    timings["deskew"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    flat = flatten_background(grey, corners)
    flat, creases = lift_creases(flat)
    measures: PageMeasures | None = None
    plan: CleaningPlan | None = None
    lifted = None
    specks_lifted: int | None = None
    show_through = 0.0  # share of a grey page's ink lifted as the sheet's back showing through
    reduced_image: np.ndarray | None = None
    if settings.binarise == "auto":
        # One copy 2000 px long serves the dark ink's histogram and the measures (unless ink is lifted).
        reduced = downscale(flat, 2000)
        flat, lifted = lift_dark_minority(flat, reduced[0], corners)
        measures = measure_page(flat, reduced if lifted is None else None)
        plan = plan_cleaning(measures)
        if with_bed is not None and plan.threshold != "grey":
            bed_flat = _flat_with_bed(with_bed, angle, paper)
            if creases:
                # The page flattened again with its bed is the creases' too: without this the threshold
                # made a crease down a bordered page a black rule through its letters (dev 8611).
                bed_flat = lift_creases(bed_flat)[0]
            binary, level = _binarise_planned(bed_flat, plan)
            # The bed lowers the threshold, which keeps thinner strokes; but the small copy's test
            # (`_bed_hides_type`) can pass a page where, at full size and smoothed, the bed and a little
            # black ink are all the threshold finds: below the type's own ink level it leaves the type
            # with the paper (tune carbon 4437: 98.7 % CER, 148 against ink at 179).
            if level is not None and level < measures.ink:
                binary, bed = binarise_planned(flat, plan), "filled"
        else:
            binary = binarise_planned(flat, plan)
            bed = "filled" if with_bed is not None else bed
        if plan.threshold == "grey":
            # After the plan's smoothing: grain would count as steep edges everywhere (dev carbons).
            binary, show_through = lift_show_through(binary, _scaled(measures, plan.upscale))
            binary, specks_lifted = lift_below_type(binary, measures)
        factor = plan.upscale
        if binary is flat and lifted is None:
            reduced_image = reduced[0]
    else:
        if with_bed is not None:
            flat = _flat_with_bed(with_bed, angle, paper)
        binary = binarise(flat, settings.binarise, dpi)
        height = glyph_height(binary) if settings.binarise != "none" else 0.0
        factor = 1.0
        if 0 < height < TARGET_GLYPH_HEIGHT * 0.6:
            # Small type (low-resolution scans, line crops): enlarge before binarising again.
            factor = min(3.0, TARGET_GLYPH_HEIGHT / height)
            flat = cv2.resize(flat, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
            binary = binarise(flat, settings.binarise, int(dpi * factor))
    if factor != 1.0:
        to_source = to_source @ np.array([[1 / factor, 0, 0], [0, 1 / factor, 0], [0, 0, 1]], float)
    timings["binarise"] = time.perf_counter() - t3

    t4 = time.perf_counter()
    grey_out = settings.binarise == "none" or (plan is not None and plan.threshold == "grey")
    if settings.despeckle and not grey_out:
        if measures is not None:
            # `binary` is this call's own threshold of the page (never `flat`: a grey plan keeps its specks).
            binary = remove_isolated_specks(
                binary, _scaled(measures, factor), int(dpi * factor), in_place=True
            )
        else:
            binary = remove_specks(binary, int(dpi * factor))
    timings["despeckle"] = time.perf_counter() - t4

    matrix = to_source[:2]
    steps = (
        Step(
            "crop_borders",
            __version__,
            {"enabled": settings.crop_borders, "scanner_bed": bed},
            round(timings["crop"], 4),
        ),
        Step(
            "orient", __version__, {"enabled": settings.orient, "turned": turn}, round(timings["orient"], 4)
        ),
        Step(
            "deskew",
            __version__,
            {"enabled": settings.deskew, "angle": round(angle, 3)},
            round(timings["deskew"], 4),
        ),
        Step(
            "binarise",
            __version__,
            {
                "method": settings.binarise,
                "flatten_background": True,
                "upscale": round(factor, 3),
                **({"smoothing": plan.smoothing, "threshold": plan.threshold} if plan else {}),
                **({"dark_ink_lifted_to": lifted} if lifted is not None else {}),
                **({"specks_lifted_to": specks_lifted} if specks_lifted is not None else {}),
                **({"creases": creases} if creases else {}),
                **({"show_through": round(show_through, 3)} if show_through >= SHOW_THROUGH_SHARE else {}),
                **({"measures": measures.as_dict()} if measures else {}),
            },
            round(timings["binarise"], 4),
        ),
        Step("despeckle", __version__, {"enabled": settings.despeckle}, round(timings["despeckle"], 4)),
    )
    return Cleaned(
        image=binary,
        skew_angle=round(angle, 3),
        orientation=turn,
        transform=(tuple(float(v) for v in matrix[0]), tuple(float(v) for v in matrix[1])),  # type: ignore[arg-type]
        dpi=int(round(dpi * factor)),
        steps=steps,
        measures=measures,
        plan=plan,
        reduced=reduced_image,
    )


def without_lighter_layer(cleaned: Cleaned, share: float) -> Cleaned:
    """A page left grey for Tesseract (`plan.threshold == "grey"`) with every level lighter than its
    type's ink plus `share` of the way to the paper lifted to white, but for the soft edges within
    LIGHTER_LAYER_REACH of darker pixels. A sheet's back or show-through as light as the type's soft
    edges, lying on the type's lines, is what `lift_show_through` cannot tell from the type by place or
    edges; by level it parts at a cut that moves from page to page (dev carbons: 0.12-0.5 of the
    contrast), so the OCR stage reads the page at each of LIGHTER_LAYER_CUTS and keeps the surest."""
    started = time.perf_counter()
    measures = cleaned.measures
    if measures is None:
        raise ValueError("without_lighter_layer needs a page cleaned in the automatic mode (its measures)")
    level = measures.ink + share * measures.contrast
    reach = max(1, round(LIGHTER_LAYER_REACH * cleaned.dpi / 300))
    darker = (cleaned.image < level).astype(np.uint8)
    near = cv2.dilate(darker, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1)))
    image = cleaned.image.copy()
    image[near == 0] = 255
    step = Step(
        "lift_lighter_layer",
        __version__,
        {"share": share, "level": round(float(level), 1)},
        round(time.perf_counter() - started, 4),
    )
    # The reduced copy was of the image before the lift.
    return dataclasses.replace(cleaned, image=image, steps=(*cleaned.steps, step), reduced=None)
