"""Lines of type cut in two at a stamp are read in the order they were typed: a rendered carbon copy
read by real Tesseract, its word order checked against the text the page was rendered from."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from pipeline import archival, evaluate, layout, ocr
from pipeline.config import Settings
from pipeline.model import BBox, Line, Page, Paragraph, Word
from pipeline.process import process_page
from pipeline.scans import load_page


def _inversions(truth: str, text: str) -> int:
    """Words that stand once in both texts, taken in the truth's order: how often the next one stands
    before the one before it in `text` (0 when the text keeps the truth's order)."""
    truth_words, read = re.findall(r"\w{4,}", truth), re.findall(r"\w{4,}", text)
    once_truth, once_read = Counter(truth_words), Counter(read)
    position = {w: k for k, w in enumerate(read) if once_read[w] == 1}
    order = [position[w] for w in truth_words if once_truth[w] == 1 and w in position]
    return sum(b < a for a, b in zip(order, order[1:], strict=False))


def test_a_line_cut_at_a_round_stamp_is_read_in_its_order(tests_words, tmp_path, monkeypatch):
    """Seed 1905: a grey carbon with a round stamp as dark as its type over three lines; Tesseract reads
    the pieces right of the ring as a paragraph of their own, after the left pieces. The lines through
    the stamp are read again only across their paragraphs' width here, as before the text's width was
    used (which reads these rows whole and leaves join_cut_rows nothing to do on this seed)."""
    monkeypatch.setattr(layout, "_column_frame", lambda page, furniture: (page.width, 0))
    page = archival.render_page(tests_words, 1905, fontset="tune", page_type="carbon", grey=True)
    path = archival.write_pages([page], tmp_path, "tests")[0]
    settings = Settings(correct=False)
    scan = load_page(path, 1, settings)
    joined = process_page(scan, "p", settings).page
    monkeypatch.setattr(layout, "join_cut_rows", lambda body, stamps: body)
    apart = process_page(scan, "p", settings).page
    assert _inversions(page.text, apart.text) >= 2  # the right pieces read after the rows below them
    assert _inversions(page.text, joined.text) < _inversions(page.text, apart.text)
    assert evaluate.score(page.text, joined.text).cer < 0.8 * evaluate.score(page.text, apart.text).cer


def _line(x0: int, x1: int, y: int, text: str) -> Line:
    words = text.split()
    step = (x1 - x0) // len(words)
    boxes = [BBox(x0 + k * step, y, x0 + (k + 1) * step - 10, y + 40) for k in range(len(words))]
    return Line(tuple(Word(w, b, 90.0) for w, b in zip(words, boxes, strict=True)), BBox.enclosing(boxes))


def _page(paragraphs: list[list[Line]]) -> Page:
    pars = tuple(Paragraph(tuple(ls), BBox.enclosing([ln.bbox for ln in ls])) for ls in paragraphs)
    return Page(document="d", number=1, width=2400, height=3400, dpi=300, paragraphs=pars)


STAMP = BBox(1000, 980, 1400, 1300)


def test_pieces_beside_a_stamp_join_their_rows_left_to_right():
    left = [_line(300, 990, 1000 + 80 * k, f"лево{k} начало{k}") for k in range(3)]
    right = [_line(1410, 2100, 1000 + 80 * k, f"конец{k} право{k}") for k in range(3)]
    joined = layout.join_cut_rows(_page([left, right]), [STAMP])
    assert [ln.text for ln in joined.lines] == [f"лево{k} начало{k} конец{k} право{k}" for k in range(3)]
    assert len(joined.paragraphs) == 1


def test_pieces_join_when_a_stroke_beside_the_stamp_was_read_as_a_letter():
    """Tesseract read a stamp's stroke left of the ring (or the first letter of a word it crosses) as a
    word of the right piece (`о утем` for `осуществить это путем`), and a grey stamp's box may fall a
    little short of its ring: the cut is by the stamp, give or take a row's height."""
    left = [_line(300, 800, 1000 + 80 * k, f"лево{k} начало{k}") for k in range(3)]
    right = []
    for k in range(3):
        rest = _line(1410, 2100, 1000 + 80 * k, f"конец{k} право{k}")
        stroke = Word("о", BBox(960, 1000 + 80 * k, 985, 1040 + 80 * k), 90.0)
        right.append(Line((stroke, *rest.words), BBox.enclosing([stroke.bbox, rest.bbox])))
    joined = layout.join_cut_rows(_page([right, left]), [STAMP])
    assert [ln.text for ln in joined.lines] == [f"лево{k} начало{k} о конец{k} право{k}" for k in range(3)]
    far = [_line(300, 800, 1000 + 80 * k, f"лево{k} начало{k}") for k in range(3)]
    page = _page([[_line(1410, 2100, 1000 + 80 * k, f"конец{k} право{k}") for k in range(3)], far])
    assert layout.join_cut_rows(page, [BBox(1900, 980, 1950, 1300)]) == page  # no stamp by the cut
    # A word read in the margin before a row whose first word, a whole word, a stamp lies on: no cut.
    note = [_line(150, 230, 1000 + 80 * k, f"нет{k}") for k in range(3)]
    rows = [_line(400, 2100, 1000 + 80 * k, f"занимать{k} печатный{k} лист{k}") for k in range(3)]
    page = _page([note, rows])
    assert layout.join_cut_rows(page, [BBox(560, 980, 1000, 1300)]) == page


def test_rows_cut_by_a_grey_stamp_below_a_table_are_read_in_their_order(tests_words, tmp_path):
    """Tune seed 4517: a grey table page with a grey round stamp over the rows below the table; each row
    was read as its piece right of the ring, then its piece left of it, and a stroke of the ring read
    as a letter kept the pieces of the second row apart (`о утем нападения` before the first row,
    `старается` after it)."""
    page = archival.render_page(tests_words, 4517, fontset="tune", page_type="table", grey=True)
    rows = [
        "попытка разрушить, т.е. ликвидировать партии, причем Корш",
        "старается осуществить это путем нападения извне, а Рут Фишер и",
    ]
    assert all(row in page.text.splitlines() for row in rows)  # what this seed renders
    path = archival.write_pages([page], tmp_path, "tests")[0]
    settings = Settings(correct=False)
    text = process_page(load_page(path, 1, settings), "p", settings).page.text
    lines = text.splitlines()
    second = next(k for k, ln in enumerate(lines) if "нападения" in ln)
    assert "старается" in lines[second]
    assert text.index("ликвидировать") < text.index("старается") < text.index("нападения")
    assert _inversions(page.text, text) <= 1


@pytest.mark.parametrize("stamp", [None, BBox(1000, 2000, 1400, 2300)])
def test_no_stamp_in_the_gap_leaves_the_pieces_apart(stamp):
    left = [_line(300, 990, 1000 + 80 * k, f"лево{k} начало{k}") for k in range(3)]
    right = [_line(1410, 2100, 1000 + 80 * k, f"конец{k} право{k}") for k in range(3)]
    page = _page([left, right])
    assert layout.join_cut_rows(page, [stamp] if stamp else []) == page


def test_two_columns_beside_a_stamp_in_their_gutter_stay_columns():
    """Rows above and below the stamp stand in columns too: a printed two-column page."""
    left = [_line(300, 990, 400 + 80 * k, f"лево{k} начало{k}") for k in range(16)]
    right = [_line(1410, 2100, 400 + 80 * k, f"конец{k} право{k}") for k in range(16)]
    page = _page([left, right])
    assert layout.join_cut_rows(page, [BBox(1000, 900, 1400, 1200)]) == page


def test_a_page_read_sideways_or_a_sliver_beside_a_stamp_joins_nothing():
    """Lines taller than wide (a page whose lines run down it) and a narrow sliver of ink read as a line
    (a page's edge) are no rows of type."""
    down = [_line(300 + 80 * k, 340 + 80 * k, 1000, f"вниз{k}") for k in range(6)]
    across = [_line(300 + 80 * k, 340 + 80 * k, 1000, f"поперек{k}") for k in range(6)]
    sideways = _page(
        [
            [Line(ln.words, BBox(ln.bbox.x0, 300, ln.bbox.x1, 1400)) for ln in down],
            [Line(ln.words, BBox(ln.bbox.x0 + 800, 300, ln.bbox.x1 + 800, 1400)) for ln in across],
        ]
    )
    assert layout.join_cut_rows(sideways, [BBox(850, 300, 1100, 1400)]) == sideways
    sliver = Line((Word("ыы", BBox(174, 1000, 181, 1060), 30.0),), BBox(174, 1000, 181, 1060))
    body = [_line(900, 2100, 1000 + 80 * k, f"строка{k} текста{k}") for k in range(6)]
    page = _page([[sliver], body])
    assert layout.join_cut_rows(page, [BBox(0, 0, 216, 1400)]) == page


def test_a_word_read_on_a_note_in_the_margin_takes_no_line_of_type_with_it():
    """Tesseract reads a note in the left margin (`NB`) as a word of a paragraph of its own, before the
    text; the line of type on its row, in a paragraph further down, stays where it is."""
    note = Line((Word("ий", BBox(141, 1160, 211, 1200), 45.0),), BBox(141, 1160, 211, 1200))
    above = [_line(300, 2100, 1000 + 80 * k, f"строка{k} текста{k}") for k in range(2)]
    row = _line(300, 2100, 1160, "постановление является одним")
    page = _page([[note], [*above, row]])
    joined = layout.join_cut_rows(page, [BBox(139, 1155, 230, 1205)])
    assert [ln.text for ln in joined.lines] == ["ий", "строка0 текста0", "строка1 текста1", row.text]


def test_a_line_beside_a_note_in_the_margin_is_read_in_its_order(tests_words, tmp_path):
    """Tune seed 2340: a table page with `NB` written in red in the margin beside a line of type."""
    page = archival.render_page(tests_words, 2340, fontset="tune", page_type="table", grey=False)
    path = archival.write_pages([page], tmp_path, "tests")[0]
    settings = Settings(correct=False)
    read = process_page(load_page(path, 1, settings), "p", settings).page
    truth = page.text
    line = next(ln for ln in truth.splitlines() if ln.startswith("постановление является"))
    assert line.split()[1] in read.text
    assert _inversions(truth, read.text) <= 2
    assert evaluate.score(truth, read.text).cer < 0.06


ROUND = BBox(650, 880, 1450, 1380)  # a round stamp over the middle of the lines


def _words_at(y: int, spans: list[tuple[int, int, str]]) -> Line:
    words = tuple(Word(text, BBox(x0, y, x1, y + 40), 90.0) for x0, x1, text in spans)
    return Line(words, BBox.enclosing([w.bbox for w in words]))


def _cut_row_page(piece_x: tuple[int, int]) -> Page:
    """Lines of type with a stamp over their middle: Tesseract read the row at y 1000 without the words
    under the ring, and those words as a line of their own in a paragraph after the text."""
    above = [_line(300, 2100, 600 + 80 * k, f"выше{k} строка{k} текста{k}") for k in range(4)]
    row = _words_at(
        1000, [(300, 380, "Тт."), (1500, 1530, "о"), (1560, 1900, "«водоразделе»"), (1930, 2100, "между")]
    )
    below = [_line(300, 2100, 1080 + 80 * k, f"ниже{k} строка{k} текста{k}") for k in range(4)]
    piece = _words_at(
        1004, [(piece_x[0], piece_x[0] + 200, "Троцкий"), (piece_x[0] + 230, piece_x[1], "Зиновьев")]
    )
    return _page([[*above, row, *below], [piece]])


def test_a_piece_read_on_its_own_inside_a_stamp_goes_back_into_the_gap_of_its_line():
    filled = layout.fill_row_gaps(_cut_row_page((700, 1400)), [ROUND])
    assert "Тт. Троцкий Зиновьев о «водоразделе» между" in [ln.text for ln in filled.lines]
    assert len(filled.paragraphs) == 1
    assert len(filled.lines) == 9


def test_a_piece_no_stamp_lies_on_or_that_fits_no_gap_stays_where_it_was_read():
    page = _cut_row_page((700, 1400))
    assert layout.fill_row_gaps(page, [BBox(1000, 2500, 1400, 2900)]) == page  # the stamp is elsewhere
    assert layout.fill_row_gaps(page, []) == page
    overlapping = _cut_row_page((700, 1700))  # it runs into the line's words: no piece of it
    assert layout.fill_row_gaps(overlapping, [ROUND]) == overlapping


def test_a_line_cut_at_a_round_stamps_ring_is_read_with_its_middle_in_place(tests_words, tmp_path):
    """Tune seed 2507: a grey carbon copy, a round stamp darker than the type over eight lines. Tesseract
    reads `оцкий и Зиновьев раз` inside the ring as a line of its own, after the line it belongs in,
    whose ends it reads as `Тт. о «водоразделе» между`."""
    page = archival.render_page(tests_words, 2507, fontset="tune", page_type="carbon", grey=True)
    truth = next(ln for ln in page.text.splitlines() if "«водоразделе»" in ln)
    assert "Зиновьев" in truth and truth.index("Зиновьев") < truth.index("«водоразделе»")
    path = archival.write_pages([page], tmp_path, "tests")[0]
    settings = Settings(correct=False)
    read = process_page(load_page(path, 1, settings), "p", settings).page
    line = next(ln.text for ln in read.lines if "«водоразделе»" in ln.text)
    assert "Зиновьев" in line and line.index("Зиновьев") < line.index("«водоразделе»")
    assert read.text.count("Зиновьев") == page.text.count("Зиновьев")  # read once, not twice


def _rows(ys: list[int], name: str) -> list[Line]:
    return [_line(300, 2100, 1000 + 80 * y, f"{name}{y} строка{y}") for y in ys]


def test_a_paragraph_running_over_rows_another_holds_is_cut_and_read_in_row_order():
    """Round a stamp Tesseract made one paragraph of rows 0-2 and 4 and another of rows 3 and 5."""
    first, second = _rows([0, 1, 2, 4], "а"), _rows([3, 5], "б")
    page = _page([first, second])
    out = ocr.top_down(layout.split_interleaved(list(page.paragraphs)))
    ys = [(ln.bbox.y0 - 1000) // 80 for par in out for ln in par.lines]
    assert ys == [0, 1, 2, 3, 4, 5]
    assert ocr.top_down(page.paragraphs) == page.paragraphs  # without the cut: rows 0-2, 4, 3, 5


def test_columns_and_specks_between_rows_cut_no_paragraph():
    left = [_line(300, 990, 400 + 80 * k, f"лево{k} начало{k}") for k in range(8)]
    right = [_line(1410, 2100, 400 + 80 * k, f"конец{k} право{k}") for k in range(8)]
    speck = Line((Word("<", BBox(700, 505, 716, 521), 20.0),), BBox(700, 505, 716, 521))
    page = _page([left, right, [speck]])
    assert layout.split_interleaved(list(page.paragraphs)) == page.paragraphs


def test_rows_round_a_stamp_on_a_grey_carbon_are_read_in_their_order(tests_words, tmp_path, monkeypatch):
    """Tune seed 3639: a grey carbon with a round stamp at the foot of its text; Tesseract makes one
    paragraph of the rows above and below the row it reads with the stamp, and puts that row after. Rows
    read surely round a gap under a stamp are not read again here (`_gap_at_stamp`): read whole, they
    leave split_interleaved nothing to do on this seed."""
    monkeypatch.setattr(layout, "_gap_at_stamp", lambda *args: False)
    page = archival.render_page(tests_words, 3639, fontset="tune", page_type="carbon", grey=True)
    path = archival.write_pages([page], tmp_path, "tests")[0]
    settings = Settings(correct=False)
    scan = load_page(path, 1, settings)
    cut = process_page(scan, "p", settings).page
    monkeypatch.setattr(layout, "split_interleaved", tuple)
    whole = process_page(scan, "p", settings).page
    assert _inversions(page.text, cut.text) < _inversions(page.text, whole.text)
    assert evaluate.score(page.text, cut.text).cer < 0.8 * evaluate.score(page.text, whole.text).cer


def test_a_typed_lists_numbers_read_as_a_block_beside_its_names_join_their_rows():
    """The archival sample's p001: a typed list (letters 29.5 px wide) whose numbers Tesseract read as a
    block of their own, 42 px (1.4 letters) left of the names. Pieces farther apart than two letters,
    and any on a printed page (no letter width), are left as read."""
    numbers = [_line(420, 540, 1000 + 57 * k, f"{471 + k}.") for k in range(4)]
    names = [_line(572, 980, 1000 + 57 * k, f"ФАМИЛИЯ{k} И.") for k in range(4)]
    page = _page([numbers, names])
    assert [ln.text for ln in page.lines][:2] == ["471.", "472."]  # the numbers first, as read
    joined = layout.join_split_rows(page, 29.5)
    assert [ln.text for ln in joined.lines] == [f"{471 + k}. ФАМИЛИЯ{k} И." for k in range(4)]
    assert len(joined.paragraphs) == 1
    assert layout.join_split_rows(page, 0.0) == page  # a printed page
    apart = _page([numbers, [_line(620, 1020, 1000 + 57 * k, f"ФАМИЛИЯ{k} И.") for k in range(4)]])
    assert layout.join_split_rows(apart, 29.5) == apart  # 90 px: three letters, a column's gap
