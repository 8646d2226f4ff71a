"""Zone finding on rendered archival pages: the truth is the generator's own zones (`archocr synth
--layout archival` writes them beside each page), never archocr's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.archival_eval import boxes_match, predicted_zones
from pipeline import layout
from pipeline.model import BBox, Line, Word

from .conftest import archocr, load_json


def _run_archival(tmp_path: Path, seed: int, page_type: str) -> tuple[list[dict], list[tuple[str, list]]]:
    """(the generator's zones, archocr's zones in scan pixels) for one rendered page."""
    truth_dir, out = tmp_path / "truth", tmp_path / "out"
    archocr(
        "synth", "--layout", "archival", "--fontset", "tune", "--split", "tests", "--seed", str(seed),
        "--pages", "1", "--page-type", page_type, "--colour", "mixed", "--out", str(truth_dir), check=True,
    )  # fmt: skip
    stem = f"archival-{seed:04d}"
    archocr("run", str(truth_dir), "--out", str(out), "--serial", "--quiet", "--no-correct", check=True)
    truth = load_json(truth_dir / f"{stem}.zones.json")
    return truth, predicted_zones(load_json(out / stem / "0001.json"))


def _found(truth: list[dict], predicted: list[tuple[str, list]], kind: str, role: str | None = None) -> list:
    wanted = [z for z in truth if z["type"] == kind and (role is None or z["role"] == role)]
    return [z for z in wanted if any(t == kind and boxes_match(z["box"], box) for t, box in predicted)]


@pytest.fixture(scope="module")
def grey_stamped(tmp_path_factory) -> tuple[list[dict], list[tuple[str, list]]]:
    # A page converted to grey with three round stamps over the type: their rings are broken by the
    # grain and touch the lines, so no ring is one piece of ink.
    return _run_archival(tmp_path_factory.mktemp("grey-stamped"), 116, "stamped")


def test_round_stamps_on_a_grey_scan_are_found_by_their_circle(grey_stamped):
    truth, predicted = grey_stamped
    params_rounds = [z for z in truth if z["type"] == "stamp" and z["role"] == "round"]
    assert len(params_rounds) == 3  # what this seed renders; if the generator changes, pick another
    assert len(_found(truth, predicted, "stamp", "round")) == 3
    # A stamp is not also reported as handwriting: no handwriting zone sits inside a round stamp's box.
    for zone in params_rounds:
        x0, y0, x1, y1 = zone["box"]
        inside = [
            box
            for t, box in predicted
            if t == "handwriting" and x0 <= (box[0] + box[2]) / 2 <= x1 and y0 <= (box[1] + box[3]) / 2 <= y1
        ]
        assert not inside, (zone["text"], inside)


def test_folio_on_the_row_of_a_page_number_is_a_folio(tmp_path):
    # Tesseract reads the page number `- 227 -` and the sheet number `395` in the corner as one line.
    truth, predicted = _run_archival(tmp_path, 118, "protocol")
    folios = [z for z in truth if z["type"] == "folio"]
    assert folios and any(z["type"] == "page_number" for z in truth)
    assert _found(truth, predicted, "folio") == folios


def _word(text: str, x0: int, x1: int, y0: int = 40, y1: int = 90, conf: float = 95.0) -> Word:
    return Word(text, BBox(x0, y0, x1, y1), conf)


def _line(*words: Word) -> Line:
    return Line(tuple(words), BBox.enclosing([w.bbox for w in words]))


def test_folio_tail_needs_the_top_right_corner_and_a_gap():
    width, height, dpi = 2480, 3508, 300
    row = _line(
        _word("-", 1150, 1180), _word("227", 1190, 1280), _word("-", 1290, 1320), _word("395", 2000, 2100)
    )
    assert [w.text for w in layout._folio_tail(row, width, height, dpi)] == ["395"]
    verso = _line(
        _word("№", 300, 340), _word("93883", 350, 500), _word("83", 2000, 2060), _word("об.", 2070, 2130)
    )
    assert [w.text for w in layout._folio_tail(verso, width, height, dpi)] == ["83", "об."]
    close = _line(_word("января", 1700, 1900), _word("1925", 1920, 2020))  # a date, not a sheet number
    assert layout._folio_tail(close, width, height, dpi) == ()
    low = _line(*(_word(w.text, w.bbox.x0, w.bbox.x1, 1500, 1550) for w in row.words))  # in the body
    assert layout._folio_tail(low, width, height, dpi) == ()


def test_sheet_number_read_as_tesseract_misreads_it():
    for text in ("83", "83 об.", "239 о5.", "161 о"):
        assert layout.FOLIO.match(text), text
    for text in ("1925 г.", "№ 83", "об. 83"):
        assert not layout.FOLIO.match(text), text


def test_words_in_small_letters_under_a_grey_stamp_stay_in_the_text():
    assert layout._body_word("затруднительных.")
    assert layout._body_word("«критики»")
    for stamp_word in ("ОГПУ", "СЕКРЕТНЫЙ", "Вх.", "№", "ОбрадНИКт", "в"):
        assert not layout._body_word(stamp_word), stamp_word


def test_unread_ink_read_surely_as_words_is_print():
    assert layout._printed("которую", 95.0)
    assert not layout._printed("которую", 60.0)  # Tesseract's guess at a handwritten word
    assert layout._printed("216", 96.0)  # a page number the body OCR passed over
    assert not layout._printed("А.", 96.0)  # one letter or a mark is no proof of print
