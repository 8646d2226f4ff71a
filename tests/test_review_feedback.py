"""Feedback: after reviewing a page, a rerun of another page of the collection that shares its words has
fewer discrepancies. The OCR's reading is given as plain text (like OCR made elsewhere, `archocr
correct`), with a misreading Tesseract makes (и read as н); the correction with the collection lexicon,
the page files, the manifest and the alignment are archocr's own."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline import batch, export
from pipeline.config import Settings
from pipeline.correct import Corrector
from pipeline.lexicon import load
from pipeline.ocr_files import read_ocr_file
from pipeline.review.run import Run
from pipeline.review.store import Store, default_url

from .conftest import archocr

# The truth of two pages of one collection: period words the general dictionaries do not know.
PAGE1 = (
    "Протокол заседания бюро комячейки.\n"
    "Слушали: доклад секретаря комячейки о работе райпотребсоюза.\n"
    "Постановили: поручить комячейке проверить лавку райпотребсоюза.\n"
)
PAGE2 = (
    "Выписка из протокола общего собрания.\n"
    "Слушали: отчет комячейки за квартал.\n"
    "Постановили: работу комячейки признать удовлетворительной.\n"
)


def _misread(text: str) -> str:
    """What the OCR printed: и read as н at the end of the collection's word (a confusion of Cyrillic OCR)."""
    return text.replace("комячейки", "комячейкн").replace("комячейке", "комячейкс")


def _run_folder(folder: Path, name: str, truth: str, lexicon: str) -> Path:
    """A run folder of one page: the OCR's reading corrected with `lexicon`, written by archocr's writer;
    the transcript holds the truth."""
    ocr = folder / f"{name}.ocr.txt"
    ocr.parent.mkdir(parents=True, exist_ok=True)
    ocr.write_text(_misread(truth), encoding="utf-8")
    page = Corrector(load(lexicon))(read_ocr_file(ocr)[0])
    names = export.write_page_files(page, np.full((20, 20), 255, np.uint8), folder / page.document, {})
    # The manifest, as `archocr run` records a finished page: align and review go by it alone.
    doc = batch.DocumentRecord(page.document, str(ocr), None, pages_total=1, status="ok")
    doc.pages[page.number] = batch.PageRecord(page.document, page.number, "ok", outputs=names)
    assert batch.Manifest(folder, Settings(), [doc]).save()
    transcript = folder / f"{name}.transcript.txt"
    transcript.write_text(truth, encoding="utf-8")
    return transcript


def _discrepancies(folder: Path, transcript: Path, lexicon: str) -> list[dict]:
    archocr("align", str(folder), "--transcript", str(transcript), "--lexicon", lexicon, check=True)
    data = json.loads((folder / "discrepancies.json").read_text(encoding="utf-8"))
    return [d for d in data["discrepancies"] if d["kind"] != "normalisation"]


def test_reviewed_words_and_misreadings_reduce_the_next_runs_discrepancies(tmp_path):
    collection = str(tmp_path / "dictionaries" / "fond-17")
    # Page 1 with the default lexicon: the misread word is unknown, so it stays misread.
    first = tmp_path / "first"
    transcript = _run_folder(first, "page1", PAGE1, "default")
    found = _discrepancies(first, transcript, "default")
    assert any(d["ocr_text"].startswith("комячейк") for d in found)
    # The reviewer says the transcript is right on each; export feeds the collection lexicon.
    run = Run(first)
    store = Store(default_url(first))
    for d in run.discrepancies.values():
        if d["kind"] != "normalisation":
            store.decide(d, "t", reviewer="Анна", seen_version=0)
    store.close()
    result = archocr("review", "export", str(first), "--lexicon", collection)
    assert result.returncode == 0, result.stderr
    reviewed = load(collection)
    assert reviewed.frequency("комячейки") > 0 and load("default").frequency("комячейки") == 0
    assert any(c.seen == "н" and c.meant == "и" for c in reviewed.confusions)
    # Page 2 shares the word: rerun with the default lexicon, then with the reviewed collection lexicon.
    before_dir, after_dir = tmp_path / "before", tmp_path / "after"
    before = _discrepancies(before_dir, _run_folder(before_dir, "page2", PAGE2, "default"), "default")
    after = _discrepancies(after_dir, _run_folder(after_dir, "page2", PAGE2, collection), collection)
    assert len(after) < len(before)
    assert not [d for d in after if "комячейк" in d["ocr_text"]]
