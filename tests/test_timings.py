"""A page record's timings: every cleaning run is counted, and Tesseract's own process time is kept
apart from archocr's work around it (writing its input, parsing its output)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import ocr, preprocess, process, synth
from pipeline.config import Settings
from pipeline.scans import PageImage


@pytest.mark.slow
def test_an_upside_down_page_counts_both_cleanings_and_both_tesseract_runs(test_text, monkeypatch):
    page = synth.render_pages(test_text, 1, seed=32, max_skew=0, degradations=(), turn=180)[0]
    cleanings, readings = [], []
    real_clean, real_recognise = preprocess.clean, ocr.recognise

    def clean(*args, **kwargs):  # the real cleaning, watched
        cleaned = real_clean(*args, **kwargs)
        cleanings.append(sum(s.seconds for s in cleaned.steps))
        return cleaned

    def recognise(*args, **kwargs):  # the real Tesseract, watched
        paragraphs, step = real_recognise(*args, **kwargs)
        readings.append(step)
        return paragraphs, step

    monkeypatch.setattr(preprocess, "clean", clean)
    monkeypatch.setattr(ocr, "recognise", recognise)
    scan = PageImage(pixels=page.image, dpi=300, source=Path("turned.png"), number=1)
    result = process.process_page(scan, "turned", Settings(layout=False))

    # Read upright first (poor confidence), then turned as OSD says: two cleanings, two readings.
    assert len(cleanings) == 2 and len(readings) == 2
    assert result.timings["clean"] == pytest.approx(sum(cleanings), abs=1e-3)
    tesseract = [step.settings["tesseract_seconds"] for step in readings]
    assert all(0 < t <= step.seconds for t, step in zip(tesseract, readings, strict=True))
    assert result.timings["ocr"] == pytest.approx(sum(tesseract), abs=1e-3)
    around = sum(step.seconds for step in readings) - sum(tesseract)
    assert result.timings["ocr_io"] == pytest.approx(around, abs=1e-3)
