"""A doubtful page is also read from a plain Otsu + median image, and that reading kept when Tesseract is
clearly surer of it: the decision on constructed readings, and a rendered carbon page (tune faces, the
corpus's tests split) whose cleaning went wrong, read with real Tesseract and scored against its truth."""

from __future__ import annotations

import dataclasses
import re

import cv2
import numpy as np

from benchmarks.bench_archival import plain_baseline
from benchmarks.bench_ocr import raw_tesseract
from pipeline import archival, evaluate, preprocess, process
from pipeline.config import Settings
from pipeline.model import BBox, Line, Page, Paragraph, Word
from pipeline.scans import load_page


def _page(words: list[tuple[str, float]]) -> Page:
    box = BBox(0, 0, 10, 10)
    line = Line(tuple(Word(text, box, conf) for text, conf in words), box)
    return Page(document="p", number=1, width=10, height=10, dpi=300, paragraphs=(Paragraph((line,), box),))


def test_the_plain_reading_is_kept_only_when_clearly_surer():
    cleaned = _page([("партии", 90), ("съезд", 40), ("ЦК", 95)])  # 8 sure letters
    assert process.sure_characters(cleaned) == 8
    assert process.prefer_plain(cleaned, _page([("партии", 90), ("съезд", 80), ("ЦК", 95)]))
    assert not process.prefer_plain(cleaned, _page([("партии", 90), ("съезд", 50), ("ЦК", 95)]))
    # Many words read unsurely are no better than few read surely.
    assert not process.prefer_plain(cleaned, _page([("ш", 30)] * 50))
    assert not process.prefer_plain(_page([]), _page([]))
    assert process.prefer_plain(_page([]), _page([("слово", 80)]))


def test_a_carbon_whose_cleaning_lost_its_type_is_read_from_the_plain_image(tests_words, tmp_path):
    """Seed 729: a faint grey carbon whose cleaning took its type for dark noise to lift and its tilt for
    7 degrees; the cleaned page read 65 % CER where the plain script reads 29 %."""
    page = archival.render_page(tests_words, 729, fontset="tune", page_type="carbon", grey=True)
    path = archival.write_pages([page], tmp_path, "tests")[0]  # a JPEG, as the archival benchmark has it
    settings = Settings(correct=False)
    scan = load_page(path, 1, settings)
    result = process.process_page(scan, "p", settings).page
    ocr = next(s for s in result.steps if s.name == "ocr")
    assert ocr.settings["plain_read"] and ocr.settings["plain_chosen"]
    plain = evaluate.score(page.text, raw_tesseract(plain_baseline(scan.pixels), settings, 300)[0]).cer
    assert evaluate.score(page.text, result.text).cer < 1.2 * plain
    # The furniture stays out: no word of the page's stamp or handwriting comes into the text.
    truth_words = set(re.findall(r"\w+", page.text.lower()))
    written = {
        w
        for zone in page.zones
        if zone["type"] in ("handwriting", "stamp")
        for w in re.findall(r"[^\W\d]{4,}", zone.get("text", "").lower())
        if w not in truth_words
    }
    assert written, "the page has no furniture with words of its own"
    assert not written & set(re.findall(r"\w+", result.text.lower()))


def test_the_plain_image_is_read_only_when_it_differs_from_the_cleaned_one():
    ink = np.full((400, 300), 255, np.uint8)
    ink[100:300:20, 50:250] = 0  # ten lines of ink
    cleaned = preprocess.Cleaned(ink, 0.2, 0, ((1, 0, 0), (0, 1, 0)), 300, ())
    assert not process.plain_differs(cleaned, dataclasses.replace(cleaned, skew_angle=-0.5))
    assert process.plain_differs(cleaned, dataclasses.replace(cleaned, skew_angle=-1.0))  # tilts disagree
    faint = ink.copy()
    faint[100:300:40] = 255  # the cleaned page kept half the lines ...
    assert not process.plain_differs(dataclasses.replace(cleaned, image=faint), cleaned)
    faint[100:300:20, 150:] = 255  # ... or a quarter of their ink
    assert process.plain_differs(dataclasses.replace(cleaned, image=faint), cleaned)
    # An enlarged cleaned page's ink is counted at the scan's resolution.
    big = cv2.resize(ink, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    assert not process.plain_differs(dataclasses.replace(cleaned, image=big, dpi=600), cleaned)
