"""Type the body OCR passed over is read again (layout.recover_lines).

A rectangular stamp printed across three typed lines of a grey scan makes Tesseract's page
segmentation skip those lines; the ground truth is the generator's text of the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rapidfuzz import fuzz

from pipeline import archival, evaluate, layout, ocr, process
from pipeline.config import Settings
from pipeline.model import BBox, Line, Page, Paragraph, Word
from pipeline.scans import PageImage, load_page


def _line(y: int, xs: list[int], texts: list[str], conf: float = 95.0) -> Line:
    words = tuple(Word(t, BBox(x, y, x + 200, y + 40), conf) for t, x in zip(texts, xs, strict=True))
    return Line(words, BBox.enclosing([w.bbox for w in words]))


def _page(lines: list[Line], width: int = 2000, height: int = 1200) -> Page:
    paragraph = Paragraph(tuple(lines), BBox.enclosing([ln.bbox for ln in lines]))
    return Page(document="d", number=1, width=width, height=height, dpi=300, paragraphs=(paragraph,))


def test_missed_bands_finds_a_line_of_ink_no_word_covers():
    image = np.full((1200, 2000), 255, np.uint8)
    ys = [100, 200, 300, 400, 500]
    xs = [100, 400, 700, 1000, 1300, 1600]
    for y in ys:
        for x in xs:
            image[y + 5 : y + 35, x : x + 180] = 0  # a word's ink
    read = [_line(y, xs, ["слово"] * len(xs)) for y in ys if y != 300]  # the line at 300 was not read
    bands = layout.missed_bands(_page(read), image)
    assert len(bands) == 1
    assert bands[0].y0 < 305 and bands[0].y1 > 335
    # Nothing missed: no band.
    assert layout.missed_bands(_page([_line(y, xs, ["слово"] * len(xs)) for y in ys]), image) == []


def test_missed_bands_ignores_a_rule_and_a_speck():
    image = np.full((1200, 2000), 255, np.uint8)
    ys, xs = [100, 200, 300, 400], [100, 400, 700, 1000, 1300, 1600]
    for y in ys:
        for x in xs:
            image[y + 5 : y + 35, x : x + 180] = 0
    image[355:358, 100:1800] = 0  # an underline between two lines
    image[600:606, 900:906] = 0  # a speck
    lines = [_line(y, xs, ["слово"] * len(xs)) for y in ys]
    assert layout.missed_bands(_page(lines), image) == []


def test_new_words_continue_their_line_and_words_read_before_are_not_doubled():
    before = _page(
        [_line(100, [100, 400], ["начало", "строки"]), _line(200, [100, 400], ["другая", "строка"])]
    )
    again = [_line(102, [100, 700, 1000], ["начало", "конец", "строки."])]
    page = layout._with_words(before, again)
    assert page.lines[0].text == "начало строки конец строки."
    assert page.lines[1].text == "другая строка"


def test_a_lost_line_goes_between_the_lines_above_and_below_it():
    before = _page(
        [_line(100, [100, 400], ["первая", "строка"]), _line(300, [100, 400], ["третья", "строка"])]
    )
    page = layout._with_words(before, [_line(200, [100, 400], ["вторая", "строка"])])
    assert [ln.text for ln in page.lines] == ["первая строка", "вторая строка", "третья строка"]


@pytest.fixture(scope="module")
def stamp_over_lines(test_text, tmp_path_factory):
    """A tune-set letter (grey JPEG scan) whose rectangular stamp over three lines hides them from
    Tesseract's page segmentation."""
    page = archival.render_page(test_text.split(), 107, fontset="tune", page_type="letter", grey=True)
    path = archival.write_pages([page], tmp_path_factory.mktemp("stamp"), "tests")[0]
    return page, load_page(path, 1, Settings())


def _read(scan: PageImage, recover: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patched:
        if not recover:  # neither this nor the OCR stage's reread_dropped
            patched.setattr(process, "REREAD_PSM", ())
            patched.setattr(layout, "recover_lines", lambda page, *args, **kwargs: (page, 0.0))
        return process.process_page(scan, "letter", Settings()).page.text


def test_lines_under_a_stamp_are_read_again(stamp_over_lines, monkeypatch):
    page, scan = stamp_over_lines
    truth = page.text
    without = evaluate.score(truth, _read(scan, False, monkeypatch)).cer
    with_recovery = evaluate.score(truth, _read(scan, True, monkeypatch)).cer
    assert with_recovery < 0.07
    assert with_recovery < without - 0.03


def _row(y: int, x0: int, x1: int) -> Line:
    """A line of three words from x0 to x1."""
    step = (x1 - x0) // 3
    words = tuple(
        Word("слово", BBox(x0 + k * step, y, x0 + (k + 1) * step - 10, y + 40), 95.0) for k in range(3)
    )
    return Line(words, BBox(x0, y, x0 + 3 * step - 10, y + 40))


def test_two_printed_columns_are_columns_and_a_stamp_splitting_three_rows_is_not():
    columns = [_row(100 + 60 * i, 100, 950) for i in range(12)] + [
        _row(100 + 60 * i, 1050, 1900) for i in range(12)
    ]
    assert ocr.in_columns(columns, 2000)
    # One column of type, three of its rows cut in two by a stamp (the right pieces start further on).
    split = [_row(100 + 60 * i, 100, 1900) for i in range(9)] + [
        _row(640 + 60 * i, 100, 700 + 40 * i) for i in range(3)
    ]
    split += [_row(640 + 60 * i, 1100 + 30 * i, 1900) for i in range(3)]
    assert not ocr.in_columns(split, 2000)


def test_no_band_is_read_again_across_two_columns():
    image = np.full((1000, 2000), 255, np.uint8)
    lines = []
    for i in range(12):
        y = 100 + 60 * i
        image[y + 5 : y + 35, 100:950] = 0
        image[y + 5 : y + 35, 1050:1900] = 0
        lines.append(_row(y, 100, 950))
        if i != 5:  # the right column's sixth line was not read
            lines.append(_row(y, 1050, 1900))
    assert layout.missed_bands(_page(lines, width=2000, height=1000), image) == []


def _letters(image: np.ndarray, y: int, x0: int, x1: int) -> None:
    """A line of letter-sized pieces of ink, 30 pixels high, from x0 to x1."""
    for x in range(x0, x1 - 15, 25):
        image[y + 5 : y + 35, x : x + 15] = 0


def _two_columns_sixth_right_line_unread() -> tuple[np.ndarray, tuple[Paragraph, ...]]:
    """Two columns of 12 lines of letters, and the paragraphs read from them: all but the right column's
    sixth line."""
    image = np.full((1000, 2000), 255, np.uint8)
    paragraphs = []
    for i in range(12):
        y = 100 + 60 * i
        _letters(image, y, 100, 950)
        _letters(image, y, 1050, 1900)
        paragraphs.append(Paragraph((_row(y, 100, 950),), BBox(100, y, 940, y + 40)))
        if i != 5:  # the right column's sixth line was not read
            paragraphs.append(Paragraph((_row(y, 1050, 1900),), BBox(1050, y, 1890, y + 40)))
    return image, tuple(paragraphs)


def test_a_line_dropped_in_one_of_two_columns_is_read_again_within_its_column():
    image, paragraphs = _two_columns_sixth_right_line_unread()
    bands = ocr.dropped_bands(image, paragraphs, 30.0)
    assert len(bands) == 1
    band = bands[0]
    assert band.x0 >= 960 and band.x1 >= 1850  # the right column's line, none of the left column's
    assert band.y0 <= 100 + 60 * 5 + 5 and band.y1 >= 100 + 60 * 5 + 35
    assert band.y1 - band.y0 < 100  # that line alone


def test_a_line_dropped_in_a_column_through_a_stamp_is_read_again_across_the_column():
    """A stamp's ring crosses the right column's sixth line, joining the letters it runs through into one
    piece with it: only the letters clear of the ring are letter-sized, yet the whole line was dropped
    and is read again from the column's left edge to its right one."""
    image, paragraphs = _two_columns_sixth_right_line_unread()
    y = 100 + 60 * 5
    image[y + 18 : y + 24, 1400:1900] = 0  # the ring's arc along the line, through its letters
    bands = ocr.dropped_bands(image, paragraphs, 30.0)
    assert len(bands) == 1
    band = bands[0]
    assert 960 <= band.x0 <= 1050 and band.x1 >= 1880  # the right column's whole width, not the left one
    assert band.y0 <= y + 5 and band.y1 >= y + 35 and band.y1 - band.y0 < 100


def test_lines_read_again_keep_their_order_though_a_stamps_piece_lifts_one():
    """A band read again holds a line whose first word is a piece of a stamp's ring, taller than the type
    and reaching above the line before: the lines go in by their words' middles, in the page's order."""
    first_words = (
        Word("первая", BBox(100, 200, 400, 240), 90.0),
        Word("строка", BBox(420, 200, 700, 240), 90.0),
    )
    first = Line(first_words, BBox(100, 200, 700, 240))
    words = (
        Word("Ж", BBox(100, 150, 160, 300), 10.0),
        Word("вторая", BBox(200, 260, 400, 300), 90.0),
        Word("строка", BBox(420, 260, 700, 300), 90.0),
    )
    second = Line(words, BBox(100, 150, 700, 300))
    assert sorted([second, first], key=ocr.line_middle) == [first, second]


def _read_rendered(page: archival.ArchivalPage, folder: Path, document: str = "page") -> str:
    """The rendered page written as a scan and read by the whole pipeline (real Tesseract)."""
    path = archival.write_pages([page], folder, "tests")[0]
    return process.process_page(load_page(path, 1, Settings()), document, Settings()).page.text


def test_a_two_column_page_reads_the_lines_dropped_round_a_stamp_across_their_column(tmp_path, test_text):
    """A tune-set printed page in two columns, a grey round stamp over the right one: the lines the page
    layout dropped round it are read again across the column, in their order (the page read 3.6 % CER
    against its rendered truth when they were read only where their letters were clear of the ring)."""
    page = archival.render_pages(test_text.split(), [1004], page_types=("two_columns",), colour="mixed")[0]
    assert [z["type"] for z in page.zones].count("stamp") == 1  # what this seed renders
    text = _read_rendered(page, tmp_path)
    right = max((z for z in page.zones if z["type"] == "column"), key=lambda z: z["box"][0])
    starts = [fuzz.partial_ratio_alignment(line["text"], text) for line in right["lines"][13:18]]
    assert all(found.score > 60 for found in starts)
    assert [found.dest_start for found in starts] == sorted(found.dest_start for found in starts)
    assert evaluate.score(page.text, text).cer < 0.034


def test_a_paragraph_of_lines_of_both_columns_is_split_and_read_with_each_column():
    left = [_row(100 + 60 * i, 100, 950) for i in range(12)]
    right = [_row(100 + 60 * i, 1050, 1900) for i in range(12)]

    def par(lines: list[Line]) -> Paragraph:
        return Paragraph(tuple(lines), BBox.enclosing([ln.bbox for ln in lines]))

    # Tesseract's paragraphs: the left column, then the right one; a speck in the gutter joined the left
    # column's last line and the right column's seventh into one paragraph.
    read = (par(left[:11]), par([left[11], right[6]]), par(right[:6]), par(right[7:]))
    out = ocr.columns_apart(read, 2000)
    order = [line.bbox.y0 + (0 if line.bbox.x0 < 1000 else 10000) for p in out for line in p.lines]
    assert order == sorted(order)  # the left column top to bottom, then the right one
    assert sum(len(p.lines) for p in out) == 24


def test_a_narrow_strip_beside_one_column_is_no_second_column():
    """A book's scan: one column of type and, at its right, the edge of the next page read as short
    lines starting at one x. Its paragraphs are left as read and no band is read again across it."""
    body = [_row(100 + 60 * i, 100, 1500) for i in range(12)]
    edge = [_row(100 + 60 * i, 1700, 1800) for i in range(12)]
    assert ocr.column_start(body + edge, 2000) is not None
    assert ocr.two_columns(body + edge, 2000) is None
    read = tuple(Paragraph((a, b), a.bbox.union(b.bbox)) for a, b in zip(body, edge, strict=True))
    assert ocr.columns_apart(read, 2000) == read
    image = np.full((1000, 2000), 255, np.uint8)
    for i in range(12):
        _letters(image, 100 + 60 * i, 100, 1500)
    assert ocr.dropped_bands(image, read[:5] + read[6:], 30.0) == []


def test_columns_broken_by_something_in_the_gutter_are_read_one_after_the_other():
    """Tesseract's blocks in turn: the left column's top, the right one's top, a word of a stamp read
    in the gutter, the left column's rest, the right one's rest. Read: a heading across the page, the
    left column top to bottom (the stamp's word with it), then the right one."""
    heading = _row(20, 700, 1300)
    left = [_row(100 + 60 * i, 100, 950) for i in range(12)]
    right = [_row(100 + 60 * i, 1050, 1900) for i in range(12)]
    stamp = Line((Word("ШТАМП", BBox(900, 430, 1100, 470), 40.0),), BBox(900, 430, 1100, 470))

    def par(lines: list[Line]) -> Paragraph:
        return Paragraph(tuple(lines), BBox.enclosing([ln.bbox for ln in lines]))

    read = (par([heading]), par(left[:5]), par(right[:5]), par([stamp]), par(left[5:]), par(right[5:]))
    out = ocr.columns_apart(read, 2000)
    assert out[0] == read[0]
    lines = [line for p in out[1:] for line in p.lines if line is not stamp]
    assert lines == left + right
    assert sum(len(p.lines) for p in out) == 26
    # Read in order already: left as it was.
    assert ocr.columns_apart((read[0], par(left), par(right)), 2000) == (read[0], par(left), par(right))


def test_a_two_column_page_with_a_stamp_in_the_gutter_reads_each_column_whole(tmp_path, test_text):
    """A tune-set printed page in two columns whose round stamp over the gutter breaks both columns into
    blocks, which Tesseract reads in turn (left top, right top, left rest, ...): the page reads the left
    column whole before the right one, and about as well as its characters allow."""
    page = archival.render_pages(test_text.split(), [1003], page_types=("two_columns",), colour="mixed")[0]
    left, right = sorted((z for z in page.zones if z["type"] == "column"), key=lambda z: z["box"][0])
    text = _read_rendered(page, tmp_path)

    def where(line: dict) -> int:
        found = fuzz.partial_ratio_alignment(line["text"], text)
        assert found.score > 80, line["text"]
        return found.dest_start

    assert where(left["lines"][0]) < where(left["lines"][-1]) < where(right["lines"][0])
    assert where(right["lines"][0]) < where(right["lines"][-1])
    assert evaluate.score(page.text, text).cer < 0.08


def _under_stamps(page: archival.ArchivalPage) -> list[str]:
    """The document's lines that a stamp of the rendered page lies over."""
    stamps = [z["box"] for z in page.zones if z["type"] == "stamp"]
    return [
        line["text"]
        for zone in page.zones
        if zone.get("in_text")
        for line in zone.get("lines", [])
        if any(min(line["box"][2], s[2]) > max(line["box"][0], s[0]) for s in stamps if _rows(line["box"], s))
    ]


def _rows(a: list[float], b: list[float]) -> bool:
    return min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * (a[3] - a[1])


def test_type_under_a_lifted_stamp_is_kept_however_unsurely_read(tmp_path, test_text):
    """A tune-set letter in colour with two violet round stamps over its type: their ink is lifted before
    the OCR, and the words under them, read with little confidence through the gaps the lifting leaves
    in their letters, are the type's (small letters on a line of type running on past the stamp)."""
    page = archival.render_page(test_text.split(), 1054, fontset="tune", page_type="letter")
    under = _under_stamps(page)
    assert len(under) >= 8
    text = _read_rendered(page, tmp_path, "letter")
    # Each line under a stamp is in the text nearly whole (without the rule: 77 % of one).
    assert all(fuzz.partial_ratio(line, text) >= 90 for line in under)
    assert evaluate.score(page.text, text).cer < 0.02  # 3.6 % without
