"""Lines of type that Tesseract's page layout (psm 3) drops round a stamp are read again (ocr.reread_dropped).

The pages are rendered by the archival generator (tune faces, the corpus's tests split), so their text
is known exactly; each is read with real Tesseract with and without the re-reading, on the same cleaned
image, and the text is scored against the generator's truth."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import archival, evaluate, layout, ocr, process
from pipeline.config import Settings
from pipeline.model import BBox, Line, Paragraph, Word
from pipeline.scans import load_page


def _line(texts: list[str], y: int, x: int = 100) -> Line:
    words = tuple(Word(t, BBox(x + 200 * i, y, x + 200 * i + 150, y + 30), 90.0) for i, t in enumerate(texts))
    return Line(words, BBox.enclosing([w.bbox for w in words]))


def _paragraph(lines: list[Line]) -> Paragraph:
    return Paragraph(tuple(lines), BBox.enclosing([ln.bbox for ln in lines]))


def test_a_band_read_again_takes_the_place_of_what_was_read_there_in_reading_order():
    first = _paragraph([_line(["один", "два"], 100), _line(["обрывок"], 150, x=900), _line(["пять"], 300)])
    second = _paragraph([_line(["шесть"], 400)])
    band = BBox(80, 140, 1400, 260)
    reread = (_line(["три", "четыре", "обрывок"], 150), _line(["ещё", "строка"], 200))
    out = ocr._put_band((first, second), band, reread)
    assert [p.lines[0].words[0].text for p in out] == ["один", "три", "пять", "шесть"]
    text = " ".join(w.text for p in out for ln in p.lines for w in ln.words)
    assert text == "один два три четыре обрывок ещё строка пять шесть"  # the half-read line only once


def test_a_column_beside_the_band_keeps_its_place():
    left = _paragraph([_line(["левая"], 100), _line(["колонка"], 400)])
    right = _paragraph([_line(["правая"], 100, x=1500), _line(["колонка"], 400, x=1500)])
    out = ocr._put_band((left, right), BBox(80, 200, 800, 300), (_line(["пропущено"], 220),))
    words = [w.text for p in out for ln in p.lines for w in ln.words]
    assert words == ["левая", "пропущено", "колонка", "правая", "колонка"]


def test_nothing_is_read_again_on_a_page_whose_lines_were_all_read():
    image = np.full((400, 1200), 255, np.uint8)
    for row in range(3):
        for col in range(20):  # letter-sized blocks of ink, all covered by read words
            y, x = 60 + row * 100, 60 + col * 50
            image[y : y + 30, x : x + 20] = 0
    lines = [
        Line(
            (Word("слово", BBox(50, 55 + r * 100, 1060, 95 + r * 100), 90.0),),
            BBox(50, 55 + r * 100, 1060, 95 + r * 100),
        )
        for r in range(3)
    ]
    assert ocr.dropped_bands(image, (_paragraph(lines),), 30.0) == []
    # The same page with its middle line unread: one band, across that line.
    bands = ocr.dropped_bands(image, (_paragraph([lines[0], lines[2]]),), 30.0)
    assert len(bands) == 1 and bands[0].y0 <= 160 and bands[0].y1 >= 190 and bands[0].width > 900


@pytest.mark.parametrize(
    ("seed", "page_type", "grey", "at_most"),
    [
        (101, "carbon", True, 0.11),  # a grey carbon copy, a round stamp over its lines: 17 % without
        (115, "carbon", True, 0.065),  # a rectangular stamp over the first paragraph: 9 % without
        (107, "letter", True, 0.10),  # a rectangular stamp across three lines: 15 % without
    ],
)
def test_lines_round_a_stamp_are_read(tests_words, tmp_path, monkeypatch, seed, page_type, grey, at_most):
    page = archival.render_page(tests_words, seed, fontset="tune", page_type=page_type, grey=grey)
    path = archival.write_pages([page], tmp_path, "tests")[0]  # a JPEG, as the archival benchmark has it
    settings = Settings(correct=False)
    scan = load_page(path, 1, settings)
    after = process.process_page(scan, "p", settings).page
    # Without either way of reading dropped type again (this one, and the layout stage's recover_lines).
    monkeypatch.setattr(process, "REREAD_PSM", ())
    monkeypatch.setattr(layout, "recover_lines", lambda page, *args, **kwargs: (page, 0.0))
    # nor the reread under stamps' lines across the text's width and rows read at the line pitch,
    # which find some of the same lines (115: 3.5 % with only this reread off).
    monkeypatch.setattr(layout, "_missing_rows", lambda page, stamps: [])
    monkeypatch.setattr(layout, "_column_frame", lambda page, furniture: (page.width, 0))
    before = process.process_page(scan, "p", settings).page
    cer_after = evaluate.score(page.text, after.text).cer
    cer_before = evaluate.score(page.text, before.text).cer
    bands = next(s for s in after.steps if s.name == "ocr").settings["reread_bands"]
    assert bands, "no dropped lines found"
    assert cer_after < at_most, (cer_before, cer_after)
    # A paragraph read out of its place round the stamp is put back without any reread (ocr.top_down),
    # so part of what was lost before (115: 8.8 % then, 4.5 % now) no longer is.
    assert cer_after < 0.75 * cer_before, (cer_before, cer_after)
