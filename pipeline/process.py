"""The chain for one page, top to bottom: clean, OCR, (re-orient), correct. Pure: no file I/O."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ocr, preprocess
from .config import Settings
from .model import Page
from .scans import PageImage

# Below this mean word confidence a page may be upside down or sideways: ask Tesseract's OSD.
OSD_CONFIDENCE = 60.0
OSD_MIN_CONFIDENCE = 1.5


@dataclass(frozen=True)
class PageResult:
    page: Page
    image: np.ndarray  # the cleaned image the page's boxes refer to
    timings: dict[str, float]


def _ocr(cleaned: preprocess.Cleaned, scan: PageImage, document: str, settings: Settings) -> Page:
    paragraphs, step = ocr.recognise(cleaned.image, settings, cleaned.dpi)
    height, width = cleaned.image.shape[:2]
    return Page(
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


def process_page(scan: PageImage, document: str, settings: Settings, corrector: Any = None) -> PageResult:
    """Clean and OCR one page; correct it when a corrector (see correct.py) is given."""
    timings: dict[str, float] = {}
    cleaned = preprocess.clean(scan.pixels, scan.dpi, settings)
    if settings.orient and cleaned.orientation:
        # Our own test found the lines running down the page; only OSD can tell 90 from 270.
        started = time.perf_counter()
        rotate, confidence = ocr.detect_orientation(cleaned.image, settings)
        timings["osd"] = time.perf_counter() - started
        if rotate == 180 and confidence >= OSD_MIN_CONFIDENCE:
            cleaned = preprocess.clean(
                scan.pixels, scan.dpi, settings, orientation=(cleaned.orientation + 180) % 360
            )
    page = _ocr(cleaned, scan, document, settings)
    timings["clean"] = sum(s.seconds for s in cleaned.steps)
    timings["ocr"] = page.steps[-1].seconds

    if settings.orient and not cleaned.orientation and page.mean_confidence < OSD_CONFIDENCE:
        # Poor confidence on an upright-looking page: it may be upside down.
        started = time.perf_counter()
        rotate, confidence = ocr.detect_orientation(cleaned.image, settings)
        timings["osd"] = timings.get("osd", 0.0) + time.perf_counter() - started
        if rotate and confidence >= OSD_MIN_CONFIDENCE:
            turned_clean = preprocess.clean(scan.pixels, scan.dpi, settings, orientation=rotate)
            turned = _ocr(turned_clean, scan, document, settings)
            timings["ocr"] += turned.steps[-1].seconds
            if _quality(turned) > _quality(page):
                page, cleaned = turned, turned_clean

    if corrector is not None and settings.correct:
        started = time.perf_counter()
        page = corrector(page)
        timings["correct"] = time.perf_counter() - started
    return PageResult(page=page, image=cleaned.image, timings={k: round(v, 4) for k, v in timings.items()})


def _quality(page: Page) -> float:
    words = page.words
    return page.mean_confidence * len(words) ** 0.5 if words else 0.0
