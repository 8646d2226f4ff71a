"""The chain for one page, top to bottom: colour to grey, clean, OCR, (re-orient), layout, correct.
Pure: no file I/O."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from . import __version__, layout, ocr, preprocess
from .config import Settings
from .model import BBox, Page, Step
from .scans import PageImage

# Below this mean word confidence a page may be upside down or sideways: ask Tesseract's OSD.
OSD_CONFIDENCE = 60.0
OSD_MIN_CONFIDENCE = 1.5
# Page segmentation modes that find the page's layout themselves, and may drop type as a picture.
REREAD_PSM = (1, 3)
# Below this mean word confidence the page is also cleaned as a plain script would (Otsu, 3x3 median,
# its own deskew): archocr's cleaning may have misjudged a faint carbon's tilt or taken its type for
# noise ...
PLAIN_CHECK_CONFIDENCE = 85.0
# ... and read too when that image differs from the cleaned one: its deskew by this many degrees or more,
# or its ink outside this range of the cleaned page's (Tesseract's time goes where a reading may differ) ...
PLAIN_ANGLE_APART = 1.0
PLAIN_INK_RATIO = (0.5, 2.0)
# ... and that reading is kept when it has this many times the characters read with SURE_CONF
# (`surer_reading`).
SURER_BY = 1.15
SURE_CONF = 70.0
# Below this mean word confidence a carbon typed in violet or blue whose back was not seen is read again
# with the neutral layer taken out, and that reading kept as the plain image's is (`surer_reading`).
BACK_CHECK_CONFIDENCE = 85.0
# Below this mean word confidence a page left grey for Tesseract (a faint carbon) is read again with the
# layer lighter than its type taken out at preprocess.LIGHTER_LAYER_CUTS (the middle cut first), and the
# surest of those readings kept as the plain image's is.
LAYER_CHECK_CONFIDENCE = 85.0


@dataclass(frozen=True)
class PageResult:
    page: Page
    image: np.ndarray  # the cleaned image the page's boxes refer to
    timings: dict[str, float]


def _ocr(
    cleaned: preprocess.Cleaned, scan: PageImage, document: str, settings: Settings
) -> tuple[Page, np.ndarray | None]:
    """The page as Tesseract reads it, and the cleaned image's ocr.reduced_copy when one was made (the
    layout stage shrinks it further instead of the whole page again)."""
    paragraphs, step = ocr.recognise(cleaned.image, settings, cleaned.dpi)
    paragraphs = ocr.reading_order(paragraphs, cleaned.image.shape[1])
    reduced = None
    if settings.psm in REREAD_PSM:
        # Lines of type the page layout dropped round a stamp are read again as a plain block.
        started = time.perf_counter()
        glyph = _glyph_height(cleaned)
        reduced = ocr.reduced_copy(cleaned.image, cleaned.reduced) if settings.layout else None
        paragraphs, bands, seconds, tesseract = ocr.reread_dropped(
            cleaned.image, paragraphs, settings, cleaned.dpi, glyph, reduced
        )
        own_tesseract = float(step.settings.get("tesseract_seconds", step.seconds))
        # Tesseract's second call counts as OCR time; looking for the dropped lines is archocr's own.
        search = time.perf_counter() - started - seconds
        step = dataclasses.replace(
            step,
            settings={
                **step.settings,
                "reread_bands": [[b.x0, b.y0, b.x1, b.y1] for b in bands],
                "tesseract_seconds": round(own_tesseract + tesseract, 4),
                "dropped_line_search_seconds": round(search, 4),
            },
            seconds=round(step.seconds + seconds, 4),
        )
    paragraphs = ocr.typed_text(paragraphs)
    height, width = cleaned.image.shape[:2]
    page = Page(
        document=document,
        number=scan.number,
        width=width,
        height=height,
        dpi=cleaned.dpi,
        paragraphs=paragraphs,
        skew_angle=cleaned.skew_angle,
        orientation=cleaned.orientation,
        transform=cleaned.transform,
        steps=(*cleaned.steps, step),
    )
    return page, reduced


def _glyph_height(cleaned: preprocess.Cleaned) -> float:
    """Height of the page's letters in cleaned pixels: measured by the cleaning stage, else now."""
    if cleaned.measures is not None and cleaned.plan is not None and cleaned.measures.glyph_height > 0:
        return cleaned.measures.glyph_height * cleaned.plan.upscale
    return preprocess.glyph_height(_cleaned_binary(cleaned))


def _binary(image: np.ndarray) -> np.ndarray:
    """The cleaned page as ink and paper: a grey one (`--binarise none`) thresholded as Tesseract would."""
    if cv2.countNonZero(cv2.inRange(image, 1, 254)) > 0.01 * image.size:
        return cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    return image


def _cleaned_binary(cleaned: preprocess.Cleaned) -> np.ndarray:
    """`_binary` of a cleaned page, without looking at its levels when its plan thresholded it (Otsu
    gives 0 and 255 only, and speck removal sets 255): a pass over the page saved."""
    if cleaned.plan is not None and cleaned.plan.threshold != "grey":
        return cleaned.image
    return _binary(cleaned.image)


def process_page(scan: PageImage, document: str, settings: Settings, corrector: Any = None) -> PageResult:
    """Clean and OCR one page; correct it when a corrector (see correct.py) is given."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # Coloured ink (stamps, violet ink, red pencil) is found while the colour is there, then lifted to
    # the paper's value in the grey the cleaning stage gets: the body is read without it.
    colour = layout.colour_ink(scan.pixels, scan.dpi) if settings.layout else None
    # The scan in grey once: the cleaning gets it with the coloured ink lifted, the furniture is read
    # from it as it is.
    scan_grey = preprocess.to_grey(scan.pixels) if settings.layout else scan.pixels
    without_back = (
        layout.grey_without_uncoloured_ink(scan.pixels, scan_grey, colour, scan.dpi)
        if settings.layout
        else None
    )
    grey = (
        layout.grey_without_colour_ink(without_back, colour, scan.pixels, scan.dpi)
        if without_back is not None
        else scan.pixels
    )
    timings["layout"] = time.perf_counter() - started
    cleaned = preprocess.clean(grey, scan.dpi, settings)
    timings["clean"] = _seconds(cleaned.steps)
    if settings.orient and cleaned.orientation:
        # Our own test found the lines running down the page; only OSD can tell 90 from 270. OSD also
        # undoes a wrong turn: a sheet's back showing through a faint carbon fills the gaps between
        # its lines, and a typewriter's columns of letters then outweigh them (dev carbons 7200, 7216).
        started = time.perf_counter()
        rotate, confidence = ocr.detect_orientation(cleaned.image, settings)
        timings["osd"] = time.perf_counter() - started
        if rotate and confidence >= OSD_MIN_CONFIDENCE:
            turn = (cleaned.orientation + rotate) % 360
            cleaned = preprocess.clean(grey, scan.dpi, settings, orientation=turn)
            timings["clean"] += _seconds(cleaned.steps)
    page, reduced = _ocr(cleaned, scan, document, settings)
    _add_ocr(timings, page.steps[-1])

    if settings.orient and not cleaned.orientation and page.mean_confidence < OSD_CONFIDENCE:
        # Poor confidence on an upright-looking page: it may be upside down.
        started = time.perf_counter()
        rotate, confidence = ocr.detect_orientation(cleaned.image, settings)
        timings["osd"] = timings.get("osd", 0.0) + time.perf_counter() - started
        if rotate and confidence >= OSD_MIN_CONFIDENCE:
            turned_clean = preprocess.clean(grey, scan.dpi, settings, orientation=rotate)
            timings["clean"] += _seconds(turned_clean.steps)
            turned, turned_reduced = _ocr(turned_clean, scan, document, settings)
            _add_ocr(timings, turned.steps[-1])
            if _quality(turned) > _quality(page):
                page, cleaned, reduced = turned, turned_clean, turned_reduced

    if scan.pixels.ndim == 3 and without_back is scan_grey and page.mean_confidence < BACK_CHECK_CONFIDENCE:
        page, cleaned, reduced, grey = _without_back_if_better(
            page, cleaned, reduced, grey, scan_grey, colour, scan, document, settings, timings
        )

    grey_plan = cleaned.plan is not None and cleaned.plan.threshold == "grey"
    if grey_plan and page.mean_confidence < LAYER_CHECK_CONFIDENCE:
        page, cleaned, reduced = _without_lighter_layer_if_better(
            page, cleaned, reduced, scan, document, settings, timings
        )

    if settings.binarise == "auto" and page.mean_confidence < PLAIN_CHECK_CONFIDENCE:
        page, cleaned, reduced = _plain_if_better(
            page, cleaned, reduced, grey, scan, document, settings, timings
        )

    if settings.layout:
        started = time.perf_counter()
        # The corrector's lexicon tells the layout stage a jumble from a misread word (struck words).
        near_word = getattr(corrector, "near_word", None) if settings.correct else None
        page = _layout(page, cleaned, scan_grey, grey, colour, settings, reduced, scan.pixels, near_word)
        timings["layout"] += time.perf_counter() - started

    # Marks no typewriter types, read from a carbon's specks, are taken off a typed page's words once
    # the layout stage has seen the ink their boxes cover.
    page = dataclasses.replace(page, paragraphs=ocr.without_typed_specks(page.paragraphs))

    if corrector is not None and settings.correct:
        started = time.perf_counter()
        page = corrector(page)
        timings["correct"] = time.perf_counter() - started
    return PageResult(page=page, image=cleaned.image, timings={k: round(v, 4) for k, v in timings.items()})


def plain_cleaned(grey: np.ndarray, dpi: int) -> preprocess.Cleaned:
    """The page as a plain script cleans it (`preprocess.plain_clean`), as the OCR stage takes a cleaned
    page: nothing of archocr's cleaning, so nothing it may get wrong on a page (a faint carbon taken
    for noise, a tilt misjudged) carries over."""
    started = time.perf_counter()
    image, angle, forward = preprocess.plain_clean(grey)
    matrix = np.linalg.inv(forward)[:2]
    step = Step("plain_clean", __version__, {"angle": angle}, round(time.perf_counter() - started, 4))
    return preprocess.Cleaned(
        image=image,
        skew_angle=angle,
        orientation=0,
        transform=(tuple(float(v) for v in matrix[0]), tuple(float(v) for v in matrix[1])),  # type: ignore[arg-type]
        dpi=dpi,
        steps=(step,),
    )


def sure_characters(page: Page, conf: float = SURE_CONF) -> int:
    """Letters and digits of the words Tesseract read at least `conf` surely."""
    return sum(sum(c.isalnum() for c in w.text) for w in page.words if w.conf >= conf)


def plain_differs(cleaned: preprocess.Cleaned, plain: preprocess.Cleaned) -> bool:
    """Whether the plain image may read differently from the cleaned one: the two deskews disagree, or
    one holds much more ink than the other (counted at the scan's resolution). A plain image without
    ink (a blank page, whose flat row profile gives any angle) has nothing to read."""
    plain_ink = np.count_nonzero(plain.image < 128)
    if plain_ink == 0:
        return False
    if abs(cleaned.skew_angle - plain.skew_angle) >= PLAIN_ANGLE_APART:
        return True
    enlarged = (cleaned.dpi / plain.dpi) ** 2
    cleaned_ink = np.count_nonzero(_cleaned_binary(cleaned) < 128) / enlarged
    low, high = PLAIN_INK_RATIO
    return not low * plain_ink <= cleaned_ink <= high * plain_ink


def surer_reading(first: Page, second: Page) -> bool:
    """Whether `second`, the page read again from another image (the plain one, one without the
    sheet's back, or one without the layer lighter than the type), is clearly the better reading,
    judged by Tesseract's own confidence: it reads SURER_BY times the characters surely, or `first`
    reads none."""
    first_sure, second_sure = sure_characters(first), sure_characters(second)
    return second_sure > SURER_BY * first_sure and second_sure > 0


def _with_record(page: Page, record: dict[str, Any]) -> Page:
    """`page` with `record` (which readings were made and which was kept) in its OCR step's settings."""
    step = page.steps[-1]
    return dataclasses.replace(
        page, steps=(*page.steps[:-1], dataclasses.replace(step, settings={**step.settings, **record}))
    )


def _plain_if_better(
    page: Page,
    cleaned: preprocess.Cleaned,
    reduced: np.ndarray | None,
    grey: np.ndarray,
    scan: PageImage,
    document: str,
    settings: Settings,
    timings: dict[str, float],
) -> tuple[Page, preprocess.Cleaned, np.ndarray | None]:
    """A doubtful page is read again from its plain image when that differs from the cleaned one; the
    better reading (and its image) goes on to the layout stage, which keeps the furniture out of either
    (coloured ink is lifted from both)."""
    started = time.perf_counter()
    plain = plain_cleaned(preprocess.to_grey(grey), scan.dpi)
    differs = plain_differs(cleaned, plain)
    timings["plain_clean"] = time.perf_counter() - started
    if not differs:
        return page, cleaned, reduced
    plain_page, plain_reduced = _ocr(plain, scan, document, settings)
    _add_ocr(timings, plain_page.steps[-1])
    chosen = surer_reading(page, plain_page)
    page, cleaned, reduced = (plain_page, plain, plain_reduced) if chosen else (page, cleaned, reduced)
    return _with_record(page, {"plain_read": True, "plain_chosen": chosen}), cleaned, reduced


def _without_back_if_better(
    page: Page,
    cleaned: preprocess.Cleaned,
    reduced: np.ndarray | None,
    grey: np.ndarray,
    scan_grey: np.ndarray,
    colour: np.ndarray | None,
    scan: PageImage,
    document: str,
    settings: Settings,
    timings: dict[str, float],
) -> tuple[Page, preprocess.Cleaned, np.ndarray | None, np.ndarray]:
    """A doubtful carbon typed in violet or blue whose back the layout stage did not see is read again
    with the neutral layer taken out (`layout.grey_without_uncoloured_ink`'s `always`): a back about as
    light as the type's soft edges lies on the type's lines, and its letters are not told apart, but it
    halves the reading. That reading, its image and its grey are kept when it is the surer one
    (`surer_reading`); without a back the lift thins letters whose hue a JPEG or blur took, and
    the first reading stays."""
    started = time.perf_counter()
    lifted = layout.grey_without_uncoloured_ink(scan.pixels, scan_grey, colour, scan.dpi, always=True)
    if lifted is scan_grey:  # no carbon typed in colour
        timings["layout"] += time.perf_counter() - started
        return page, cleaned, reduced, grey
    lifted = layout.grey_without_colour_ink(lifted, colour, scan.pixels, scan.dpi)
    timings["layout"] += time.perf_counter() - started
    # Turned as the first reading was: only the back differs between the two.
    lifted_clean = preprocess.clean(lifted, scan.dpi, settings, orientation=cleaned.orientation)
    timings["clean"] += _seconds(lifted_clean.steps)
    lifted_page, lifted_reduced = _ocr(lifted_clean, scan, document, settings)
    _add_ocr(timings, lifted_page.steps[-1])
    chosen = surer_reading(page, lifted_page)
    if chosen:
        page, cleaned, reduced, grey = lifted_page, lifted_clean, lifted_reduced, lifted
    return _with_record(page, {"back_read": True, "back_chosen": chosen}), cleaned, reduced, grey


def _without_lighter_layer_if_better(
    page: Page,
    cleaned: preprocess.Cleaned,
    reduced: np.ndarray | None,
    scan: PageImage,
    document: str,
    settings: Settings,
    timings: dict[str, float],
) -> tuple[Page, preprocess.Cleaned, np.ndarray | None]:
    """A doubtful grey page is read again without the layer lighter than its type, at each of the cuts
    (`preprocess.without_lighter_layer`): a back or show-through as light as the type's soft edges is
    taken out where the cut falls between them, and the type thinned where it falls too low. Tesseract's
    sure letters tell which cut parted them (dev carbons with a light back: the cut with the most sure
    letters was the best or near it on 11 of 12 pages); the surest is kept when it is surer than the
    first reading (`surer_reading`), so a page without such a layer stays as it was. The middle cut is
    read first, and the others only when it reads more letters surely than the first reading: without
    such a layer every cut read fewer (dev carbons without their back), and a page then costs one
    more reading, not three."""
    first_sure = sure_characters(page)
    readings: list[tuple[int, float, Page, preprocess.Cleaned, np.ndarray | None]] = []
    for share in preprocess.LIGHTER_LAYER_CUTS:
        cut = preprocess.without_lighter_layer(cleaned, share)
        timings["clean"] += cut.steps[-1].seconds
        cut_page, cut_reduced = _ocr(cut, scan, document, settings)
        _add_ocr(timings, cut_page.steps[-1])
        readings.append((sure_characters(cut_page), share, cut_page, cut, cut_reduced))
        if readings[0][0] <= first_sure:
            break
    # The surest cut; of equally sure ones, the one read first.
    _, share, cut_page, cut, cut_reduced = max(readings, key=lambda reading: reading[0])
    chosen = surer_reading(page, cut_page)
    record = {"layer_read": [reading[1] for reading in readings], "layer_chosen": share if chosen else None}
    if chosen:
        page, cleaned, reduced = cut_page, cut, cut_reduced
    return _with_record(page, record), cleaned, reduced


def _seconds(steps: tuple[Step, ...]) -> float:
    return sum(s.seconds for s in steps)


def _add_ocr(timings: dict[str, float], step: Step) -> None:
    """Tesseract's own time as `ocr`; writing its input and parsing its output as `ocr_io`, and looking
    for the lines its layout dropped as `dropped_lines`, which are archocr's work like any other stage's.
    Every reading of the page adds to them (upright, turned, plain)."""
    tesseract = float(step.settings.get("tesseract_seconds", step.seconds))
    timings["ocr"] = timings.get("ocr", 0.0) + tesseract
    timings["ocr_io"] = timings.get("ocr_io", 0.0) + max(0.0, step.seconds - tesseract)
    search = float(step.settings.get("dropped_line_search_seconds", 0.0))
    timings["dropped_lines"] = timings.get("dropped_lines", 0.0) + search


def _quality(page: Page) -> float:
    words = page.words
    return page.mean_confidence * len(words) ** 0.5 if words else 0.0


def _layout(
    page: Page,
    cleaned: preprocess.Cleaned,
    scan_grey: np.ndarray,
    grey: np.ndarray,
    colour: np.ndarray | None,
    settings: Settings,
    reduced: np.ndarray | None = None,
    pixels: np.ndarray | None = None,
    near_word: Callable[[str], bool] | None = None,
) -> Page:
    """Find the furniture on the page, keep it out of the text, and give the page its zones. `reduced`:
    the cleaned image's ocr.reduced_copy, if the OCR stage made one; `pixels`: the scan, whose colour
    parts a stamp from the type by their hues; `near_word`: see layout.apply."""
    started = time.perf_counter()  # the search for missed bands is the stage's own time too
    binary = _cleaned_binary(cleaned)
    # One copy of the page's ink at analysis scale serves the search for missed bands and find_regions,
    # shrunk from the OCR stage's reduced copy when that is of the same ink (not of a grey page).
    if reduced is not None and binary is cleaned.image:
        binary_small = layout.analysis_copy(reduced, binary.shape)
    else:
        binary_small = layout.analysis_copy(binary)
    # Tesseract's time in reading them again is kept apart by the layout step (reread_ocr_seconds).
    page, reread_seconds = layout.recover_lines(page, cleaned.image, settings, binary, binary_small)
    shape = cleaned.image.shape[:2]
    scale = layout.analysis_scale(shape)
    grey_small = layout.to_clean_frame(preprocess.to_grey(grey), cleaned.transform, shape, scale, fill=255)
    colour_small = None
    if colour is not None:
        colour_small = (layout.to_clean_frame(colour, cleaned.transform, shape, scale) > 20).astype(
            np.uint8
        ) * 255
    found = layout.find_regions(binary, grey_small, colour_small, cleaned.dpi, page.lines, binary_small)

    def read_crop(region: layout.Region) -> np.ndarray:
        # The furniture is read from the scan itself: coloured ink was lifted off the cleaned page.
        crop = layout.source_crop(scan_grey, cleaned.transform, region.bbox)
        if region.ink_removed and colour is not None:
            own = layout.source_crop(colour, cleaned.transform, region.bbox, fill=0)
            crop = np.where(own > 0, crop, 255).astype(np.uint8)
        return crop

    colour_scan = pixels is not None and pixels.ndim == 3 and pixels.shape[2] >= 3
    rgb = np.ascontiguousarray(pixels[..., :3]) if colour_scan and pixels is not None else np.zeros((1, 1, 3))

    def read_colour(box: BBox) -> np.ndarray:
        return layout.source_crop(rgb, cleaned.transform, box)

    return layout.apply(
        page,
        found,
        read_crop,
        settings,
        cleaned.image,
        seconds=time.perf_counter() - started,
        reread_seconds=reread_seconds,
        read_colour=read_colour if colour_scan else None,
        near_word=near_word,
    )
