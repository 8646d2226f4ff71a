"""Type under a grey stamp (layout.reread_under_stamps) and lines read again round a stamp put in their
place (ocr._put_band).

The pages are tune-set stamped pages rendered by the generator, read by the whole pipeline with real
Tesseract; the ground truth is the generator's text of the page."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from rapidfuzz import fuzz

from benchmarks import archival_eval
from pipeline import archival, evaluate, layout, ocr, preprocess, process
from pipeline.config import Settings
from pipeline.model import BBox, Line, Paragraph, Word, to_dict
from pipeline.scans import load_page


def _read_rendered(page: archival.ArchivalPage, folder: Path) -> str:
    path = archival.write_pages([page], folder, "tests")[0]
    return process.process_page(load_page(path, 1, Settings()), "page", Settings()).page.text


def _lines_under_stamps(page: archival.ArchivalPage) -> list[str]:
    """The document's lines that a stamp of the rendered page lies over."""
    stamps = [z["box"] for z in page.zones if z["type"] == "stamp"]

    def meet(a: list[float], b: list[float]) -> bool:
        return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * (a[3] - a[1])

    return [
        line["text"]
        for zone in page.zones
        if zone.get("in_text")
        for line in zone.get("lines", [])
        if any(meet(line["box"], s) for s in stamps)
    ]


def _carbon_line_read(
    test_text: str, seed: int, grey: bool, line: str, folder: Path
) -> tuple[archival.ArchivalPage, str]:
    """A tune carbon page rendered from `seed`, checked to hold `line` under a stamp, and its text as
    archocr reads it."""
    page = archival.render_page(test_text.split(), seed, fontset="tune", page_type="carbon", grey=grey)
    assert line in page.text.splitlines()  # what this seed renders
    assert line in _lines_under_stamps(page)
    return page, _read_rendered(page, folder)


def test_type_under_a_grey_stamp_is_read_without_the_stamps_ink(tmp_path, test_text):
    """A tune-set stamped page scanned in grey, three round stamps over its type: the cleaning's threshold
    keeps their lighter ink, and Tesseract read the lines under them as a jumble (5.6 % CER). Read again
    from the scan cut between the two inks, each line under a stamp is in the text nearly whole."""
    page = archival.render_page(test_text.split(), 1639, fontset="tune", page_type="stamped", grey=True)
    assert [z["type"] for z in page.zones].count("stamp") == 3  # what this seed renders
    under = _lines_under_stamps(page)
    assert len(under) >= 8
    text = _read_rendered(page, tmp_path)
    assert sum(fuzz.partial_ratio(line, text) >= 90 for line in under) >= len(under) - 1
    assert evaluate.score(page.text, text).cer < 0.03


def test_type_under_a_colour_stamp_keeps_the_letters_the_stamps_strokes_cross(tmp_path, test_text):
    """A tune-set stamped page in colour, stamps in violet and blue over its type. Lifting every pixel of
    coloured ink to the paper took the pieces of letters a stamp's stroke crosses with it (5.2 % CER,
    words under the rings misread); the type's own share of each such pixel stays, and the lines under
    the stamps are read nearly whole."""
    page = archival.render_page(test_text.split(), 1944, fontset="tune", page_type="stamped", grey=False)
    under = _lines_under_stamps(page)
    assert len(under) >= 12  # what this seed renders
    text = _read_rendered(page, tmp_path)
    assert sum(fuzz.partial_ratio(line, text) >= 95 for line in under) >= len(under) - 1
    assert evaluate.score(page.text, text).cer < 0.015


def test_type_of_a_violet_carbon_copy_under_a_violet_stamp_is_read(tmp_path, test_text):
    """A tune-set carbon copy typed in violet, in colour, a violet stamp over five of its lines. Both inks
    coloured, the stamp was lifted whole with the letters under its strokes: one of the five lines read
    nearly whole, 5.6 % CER. Parted by their hues, all five are (2.9 %)."""
    page = archival.render_page(test_text.split(), 2100, fontset="tune", page_type="carbon", grey=False)
    assert page.params["text_ink"] == "carbon_violet"  # what this seed renders
    assert [z["ink"] for z in page.zones if z["type"] == "stamp"] == ["stamp_violet"]
    under = _lines_under_stamps(page)
    assert len(under) >= 5
    text = _read_rendered(page, tmp_path)
    assert sum(fuzz.partial_ratio(line, text) >= 90 for line in under) >= len(under) - 1
    assert evaluate.score(page.text, text).cer < 0.04


def test_coloured_ink_is_divided_out_of_the_type_under_it():
    """Inks multiply on paper: violet strokes across black and across faded grey type leave each type's
    own share of the light, and a stroke alone lets all of it through (a lift to the paper's value took
    the letters' pieces under the strokes too)."""
    paper = np.array((240, 232, 214), np.float32)
    violet = np.array((110, 62, 165), np.float32) / 255
    image = np.tile(paper, (200, 600, 1))
    image[40:52, 20:580] *= 0.15  # black type
    image[130:142, 20:580] *= 0.55  # faded type
    mask = np.zeros((200, 600), np.uint8)
    for x in range(100, 440, 40):  # violet strokes, 5 px wide, across both, at full and half strength
        strength = 1.0 if x < 260 else 0.5
        image[20:180, x : x + 5] *= 1 - strength * (1 - violet)
        mask[20:180, x : x + 5] = 255
    image = np.clip(image, 0, 255).astype(np.uint8)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    share = layout._type_share(image, grey, np.full(grey.shape, 232, np.float32), mask)
    assert share is not None
    for row, type_share in ((46, 0.15), (136, 0.55)):
        for x in (102, 142, 302, 342):  # stroke over type: the type's share, as beside the stroke
            assert abs(share[row, x] - type_share) < 0.05, (row, x, share[row, x])
    assert share[90, 102] > 0.95 and share[90, 302] > 0.95  # a stroke alone: paper
    lifted = layout.grey_without_colour_ink(image, mask)
    assert lifted[136, 102] > 200  # what the lift alone did to the faded type under the stroke
    # Type of the stamp's own hue cannot be parted from it: the patch is lifted as before.
    carbon = np.tile(paper, (200, 600, 1))
    carbon[40:52, 20:580] *= 1 - 0.6 * (1 - violet)
    carbon[:, 100:440][mask[:, 100:440] > 0] *= 1 - (1 - violet)
    carbon = np.clip(carbon, 0, 255).astype(np.uint8)
    grey = cv2.cvtColor(carbon, cv2.COLOR_RGB2GRAY)
    assert layout._type_share(carbon, grey, np.full(grey.shape, 232, np.float32), mask) is None


def test_a_blue_stamp_is_parted_from_violet_carbon_type_by_their_hues():
    """A violet carbon copy's type under a blue stamp's strokes: both inks are coloured, so the black-type
    model cannot tell them apart and the patch was lifted whole, letters under the strokes with it. The
    two inks' hues part them: under a stroke the type keeps its share of the light (as beside it), a
    stroke alone is paper, and the type beside the strokes is left as it was."""
    paper = np.array((238, 232, 216), np.float32)
    carbon = np.array(archival.INKS["carbon_violet"], np.float32) / 255
    stamp = np.array(archival.INKS["stamp_blue"], np.float32) / 255
    image = np.tile(paper, (200, 600, 1))
    image[40:52, 20:580] *= 1 - 0.7 * (1 - carbon)  # faint carbon type
    image[130:142, 20:580] *= 1 - 0.4 * (1 - carbon)  # fainter still
    mask = np.zeros((200, 600), np.uint8)
    for x in range(100, 440, 40):  # blue strokes, 5 px wide, across both, at full and 60 % strength
        strength = 1.0 if x < 260 else 0.6
        image[5:195, x : x + 5] *= 1 - strength * (1 - stamp)
        mask[5:195, x : x + 5] = 255
    for y in (5, 190):  # the frame that makes the strokes one stamp
        image[y : y + 5, 100:425] *= 1 - (1 - stamp)
        mask[y : y + 5, 100:425] = 255
    image = np.clip(image, 0, 255).astype(np.uint8)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    paper_grey = float(cv2.cvtColor(paper[None, None].astype(np.uint8), cv2.COLOR_RGB2GRAY)[0, 0])
    share = layout._type_share(image, grey, np.full(grey.shape, paper_grey, np.float32), mask)
    assert share is not None
    for row in (46, 136):
        beside = grey[row, 60] / paper_grey
        assert abs(share[row, 60] - beside) < 0.02  # the type beside the strokes as it was
        for x in (102, 142):  # full-strength stroke over type: the type's share, as beside the stroke
            assert abs(share[row, x] - beside) < 0.03, (row, x, share[row, x], beside)
        for x in (302, 342):  # a fainter stroke: the type kept, a little darker (the generator lays a
            # partial stroke on as a blend with the paper, while densities add for the model)
            assert beside - 0.12 < share[row, x] < beside + 0.03, (row, x, share[row, x], beside)
    assert share[90, 102] > 0.95  # a stroke alone: paper (a fainter one leaves a trace fainter than type)
    assert share[90, 302] > max(share[46, 302], share[136, 302]) + 0.1
    # Lifted whole (what was done before), the type under a stroke was paper too.
    assert layout.grey_without_colour_ink(image, mask)[46, 102] > 0.95 * paper_grey
    # The patch as a whole: stamp-sized at 300 dpi, its type kept; at 600 dpi it is a third of an inch
    # tall, a note's size, and is lifted whole as before (a note hides few letters).
    assert abs(int(layout.grey_without_colour_ink(image, mask, image, 300)[46, 102]) - int(grey[46, 60])) < 12
    assert layout.grey_without_colour_ink(image, mask, image, 600)[46, 102] > 0.95 * paper_grey


def _drawn_line(words: list[str]) -> np.ndarray:
    """A line of dark type on light paper, a lighter grey ring (a stamp's rim) drawn across it."""
    image = np.full((120, 1500), 235, np.uint8)
    x = 40
    for word in words:
        cv2.putText(image, word, (x, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 40, 4, cv2.LINE_AA)
        x += cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, 1.6, 4)[0][0] + 40
    cv2.circle(image, (700, 60), 150, 150, 9)
    cv2.circle(image, (700, 60), 110, 150, 6)
    return image


def test_a_line_is_cut_between_the_types_ink_and_the_stamps():
    image = _drawn_line(["paper", "under", "the", "stamp", "ring"])
    cut = layout._type_only(image, layout.UNDER_STAMP_LEVELS[0])
    dark = image < 90
    ring = (image > 120) & (image < 180)
    assert np.mean(cut[dark] == 0) > 0.95  # the type stays ink
    assert np.mean(cut[ring] == 255) > 0.95  # the ring's lighter ink goes with the paper
    # Read with the ring, Tesseract drops or garbles a word under it; cut, the line reads whole.
    config = Settings(lang="eng", psm=7)
    cut_text = " ".join(
        w.text for p in ocr.recognise(cut, config, 300)[0] for ln in p.lines for w in ln.words
    )
    assert fuzz.ratio(cut_text.lower(), "paper under the stamp ring") >= 90


def _par(*lines: Line) -> Paragraph:
    return Paragraph(tuple(lines), BBox.enclosing([ln.bbox for ln in lines]))


def _line(y: int, x0: int, x1: int, text: str) -> Line:
    word = Word(text, BBox(x0, y, x1, y + 40), 90.0)
    return Line((word,), word.bbox)


def test_a_band_read_again_goes_after_the_text_above_it_though_a_margin_note_was_read_first():
    """Tesseract read a note in the left margin, low on the page and reaching a little into the text's
    columns, before the text; a band read again in the middle of the text goes after the lines above
    it, not before the note (which put it above the letter's registration and addressee)."""
    note = _par(_line(1500, 60, 300, "заметка"))
    top = _par(_line(200, 250, 2000, "регистрация"), _line(300, 250, 2000, "адресат"))
    middle = _par(_line(600, 250, 2000, "первая"), _line(700, 250, 2000, "утеряна"))
    rest = _par(_line(900, 250, 2000, "после"))
    band = BBox(240, 680, 2010, 760)
    again = (_line(700, 250, 2000, "вторая"),)
    out = ocr._put_band((note, top, middle, rest), band, again)
    assert [ln.text for p in out for ln in p.lines] == [
        "заметка",
        "регистрация",
        "адресат",
        "первая",
        "вторая",
        "после",
    ]


def test_a_band_read_again_round_a_stamp_stays_in_its_place_on_a_rendered_page(tmp_path, test_text):
    """A tune-set stamped page in grey with a note in the margin low on the page, which Tesseract reads
    before the body: the lines read again round a stamp were put before the note, above the page's
    registration number (25 % CER); they go back in their place."""
    page = archival.render_page(test_text.split(), 1633, fontset="tune", page_type="stamped", grey=True)
    text = _read_rendered(page, tmp_path)
    body = next(z for z in page.zones if z["type"] == "body" and z.get("in_text"))
    registration = next(z for z in page.zones if z["type"] == "registration")
    number = fuzz.partial_ratio_alignment(registration["text"].split("\n")[0], text)
    starts = [fuzz.partial_ratio_alignment(line["text"], text) for line in body["lines"][:6]]
    found = [s.dest_start for s in starts if s.score > 80]
    assert len(found) >= 4
    assert number.dest_start < min(found)
    assert found == sorted(found)
    assert evaluate.score(page.text, text).cer < 0.12


def test_a_paragraph_above_another_in_its_column_is_read_first():
    """Tesseract's order, except a paragraph wholly above another in the same column goes before it; a
    note in the margin and the other column of a page in two columns keep their places."""
    note = _par(_line(1500, 20, 200, "заметка"))
    body = _par(_line(600, 250, 2000, "текст"), _line(660, 250, 2000, "дальше"))
    late = _par(_line(500, 400, 1900, "присутствовали"))
    right = _par(_line(800, 1300, 2200, "правая"))
    left = _par(_line(900, 250, 1200, "левая"))
    out = ocr.top_down((note, body, late, left, right))
    assert [p.lines[0].text for p in out] == ["заметка", "присутствовали", "текст", "левая", "правая"]


def test_a_documents_head_is_read_row_by_row():
    """Tesseract made a block of each side of a table page's head (dev 7919: the registration number
    and the heading at the left, the secrecy mark and the date at the right) and read the left one
    first. The secrecy mark above them is read first and the date after the number on its row; a speck
    read at the sheet's top edge stays first, and the body keeps its place. The sheet's side edge read
    as a tall line shares no row with the lines beside it."""
    speck = _par(_line(0, 1500, 1600, "ПД"))
    edge = _par(Line((Word("|", BBox(80, 150, 120, 600), 10.0),), BBox(80, 150, 120, 600)))
    number = _par(_line(280, 280, 570, "№ 66881/сс"))
    heading = _par(_line(400, 1160, 1390, "СВЕДЕНИЯ"))
    secrecy = _par(_line(180, 1710, 2260, "Совершенно секретно"))
    date = _par(_line(285, 1770, 2260, "«24» июля 1936 г."))
    body = _par(_line(500, 400, 2250, "тогда"), _line(580, 290, 1770, "где"))
    out = ocr.rows_in_order((speck, edge, number, heading, secrecy, date, body), 2480)
    assert [p.lines[0].text for p in out] == [
        "ПД",
        "|",
        "Совершенно секретно",
        "№ 66881/сс",
        "«24» июля 1936 г.",
        "СВЕДЕНИЯ",
        "тогда",
    ]
    # Paragraphs of more lines keep Tesseract's order: beside the other column of a page in columns
    # not told for one (too few rows side by side), a column's top lies above its last paragraph.
    top = _par(*(_line(300 + 60 * k, 250, 1150, "левая") for k in range(6)))
    low = _par(*(_line(700 + 60 * k, 250, 1150, "ниже") for k in range(6)))
    right = _par(_line(300, 1300, 2200, "правая"), _line(360, 1300, 2200, "правая"))
    assert ocr.rows_in_order((top, low, right), 2480) == (top, low, right)


def test_a_table_pages_head_is_read_in_its_rows_on_a_rendered_page(tmp_path, tests_words):
    """A dev-set table page in grey: Tesseract read the registration number and the heading at the
    left before the secrecy mark and the date at the right (4.3 % CER, the plain baseline 2.4 %)."""
    page = archival.render_page(tests_words, 7919, fontset="dev", page_type="table", grey=True)
    text = _read_rendered(page, tmp_path)
    secrecy = next(z["text"] for z in page.zones if z["type"] == "secrecy")
    number, date = next(z["text"] for z in page.zones if z["type"] == "registration").split(" «")
    heading = next(z["text"] for z in page.zones if z["type"] == "heading")
    found = [fuzz.partial_ratio_alignment(t, text) for t in (secrecy, number, "«" + date, heading)]
    assert all(f.score > 85 for f in found)
    starts = [f.dest_start for f in found]
    assert starts == sorted(starts)


def test_a_line_a_stamp_touches_is_read_in_its_place_on_a_rendered_page(tmp_path, test_text):
    """A tune-set protocol scanned in grey, a round stamp over the list of those present: Tesseract made
    that line a block of its own and read it after the first item below it (10 % CER, 2.4 % for the plain
    baseline). It is read in its place, before the item."""
    page = archival.render_page(test_text.split(), 1969, fontset="tune", page_type="protocol", grey=True)
    text = _read_rendered(page, tmp_path)
    present = next(line for line in page.text.split("\n") if line.startswith("Присутствовали"))
    first_item = page.text.index("1. Слушали")
    assert page.text.index(present) < first_item  # the truth's order
    seen = fuzz.partial_ratio_alignment(present, text)
    item = fuzz.partial_ratio_alignment("1. Слушали:", text)
    assert seen.score > 85 and item.score > 80
    assert seen.dest_start < item.dest_start
    assert evaluate.score(page.text, text).cer < 0.05


def test_a_grey_stamps_outer_ring_is_found_and_the_lines_it_cuts_are_read_in_order(tmp_path, test_text):
    """A tune-set protocol in grey with a round stamp over the text: Hough's circle was the stamp's inner
    ring, whose band outside (the ring's text) is inked, so no stamp was found; and Tesseract read the
    lines the stamp cuts as two paragraphs side by side, the pieces right of the stamp first. The outer
    ring is found, and each cut line is read whole, left piece first."""
    page = archival.render_page(test_text.split(), 1945, fontset="tune", page_type="protocol", grey=True)
    truth = [z for z in page.zones if z["type"] == "stamp"]
    assert [z["role"] for z in truth].count("round") == 1  # what this seed renders
    result = process.process_page(
        load_page(archival.write_pages([page], tmp_path, "tests")[0], 1, Settings()), "page", Settings()
    )
    zones = archival_eval.predicted_zones({"page": to_dict(result.page)})
    assert archival_eval.score_zones(truth, zones)["stamp"][3] >= 1  # the round stamp, where it is
    text = result.page.text
    for left, right in (
        ("прибавилось с того", "Почему и для каких"),
        ("заново?» Нам", "прикидываются удивленными"),
    ):
        assert left in page.text and right in page.text
        a, b = fuzz.partial_ratio_alignment(left, text), fuzz.partial_ratio_alignment(right, text)
        assert a.score > 70 and b.score > 70
        assert a.dest_start < b.dest_start


def test_no_round_stamp_is_found_in_dense_print_beside_a_real_one(tmp_path, test_text):
    """A tune-set page in two printed columns with one round stamp. A circle through the dense print
    (its rim inked two thirds of the way round by the letters, the band outside it nearly half) passed
    for a second stamp; a broken rim now needs a mostly clear band outside it, and only the real stamp
    is found."""
    page = archival.render_page(test_text.split(), 1966, fontset="tune", page_type="two_columns", grey=False)
    truth = [z for z in page.zones if z["type"] == "stamp"]
    assert [z["role"] for z in truth] == ["round"]  # what this seed renders
    result = process.process_page(
        load_page(archival.write_pages([page], tmp_path, "tests")[0], 1, Settings()), "page", Settings()
    )
    zones = archival_eval.predicted_zones({"page": to_dict(result.page)})
    assert archival_eval.score_zones(truth, zones)["stamp"][1:] == [1, 1, 1]  # found, predicted, right


def test_a_line_through_a_stamp_on_a_faint_carbon_is_read_again_from_the_grey_page(tmp_path, test_text):
    """Tune seed 2533: a grey carbon copy cleaned to grey, a rectangular stamp darker than its type over
    four lines. The page's layout analysis takes the stamp and the type under it for a picture and loses
    `Политбюро, так как загро` of one line (`рассматривались в тах как жденное множеством`); cuts of the
    scan between two inks keep the stamp, not the type. Read again from the cleaned grey on its own, the
    line comes out nearly whole."""
    line = "рассматривались в Политбюро, так как загроможденное множеством"
    page, text = _carbon_line_read(test_text, 2533, True, line, tmp_path)
    assert fuzz.partial_ratio(line, text) >= 85
    assert evaluate.score(page.text, text).cer < 0.05


def test_a_line_beside_a_stamp_is_read_again_across_the_texts_width(tmp_path, test_text, monkeypatch):
    """Tune seed 3033: a grey carbon copy cleaned to grey, a round stamp over the left half of the type.
    Tesseract read the pieces right of the ring as a paragraph of their own (`чему этот режим не может
    держаться долго.`) and lost what lies left of it and in it; read again across its paragraph's width
    the line stayed short. Read across the text's width it comes out nearly whole. Checked without the
    stamp's strokes divided out of the crop: on this seed that reads `нет. Вот по` under them as `изв:
    лБ` (the page 4.36 → 4.67 % CER; on the tune set it gains, see the design notes). And
    checked with the deskew's corners flattened as paper: left out, the two words inside the ring are lost
    (`Но этого чему этот режим`, the page 4.36 → 4.41 %), the line's two ends still read together."""
    monkeypatch.setattr(layout, "_stamp_divided", lambda crop, stamps: crop)
    monkeypatch.setattr(preprocess, "deskew_corners", lambda shape, forward, canvas: [])
    line = "Но этого нет. Вот почему этот режим не может держаться долго. Он"
    _, text = _carbon_line_read(test_text, 3033, True, line, tmp_path)
    assert fuzz.partial_ratio(line, text) >= 85
    assert fuzz.partial_ratio("Но этого нет", text) == 100


def test_type_under_a_lifted_coloured_stamp_on_a_carbon_is_read_again(tmp_path, test_text):
    """Tune seed 3024: a violet carbon copy on a colour scan, a round stamp over seven lines; its ink is
    lifted before the OCR, and Tesseract read the traces it left with the type as a jumble (`Наконец,
    янне «Р\\рабочих`). On a page cleaned to grey such lines are read again from the cleaned grey too, and
    the new reading is taken when it holds the old one's sure words and more letters."""
    line = "Наконец, изменившееся настроение рабочих захватило, недовольство"
    _, text = _carbon_line_read(test_text, 3024, False, line, tmp_path)
    assert fuzz.partial_ratio("Наконец, изменившее", text) == 100


def _words(text: str, conf: float) -> tuple[Word, ...]:
    return tuple(Word(t, BBox(40 * k, 0, 40 * k + 30, 20), conf) for k, t in enumerate(text.split()))


def test_a_reading_fills_the_old_one_only_when_it_keeps_its_sure_words():
    old = _words("лишь ра атривающие эти группки", 92)
    assert layout._fills(_words("лишь чиновники-фоааИисты, раЕЗАатривающие эти группки", 10), old)
    # The same letters without the old reading's words: another line, or the stamp's lettering.
    assert not layout._fills(_words("СЕКРЕТАРИАТ ЦКК Получено Вх. № 345", 90), old)
    # Nothing more read.
    assert not layout._fills(_words("лишь ра атривающие эти группки", 30), old)
    # An old reading with less than two words read surely may be the stamp's own: not replaced this way.
    assert not layout._fills(_words("КОПИЯ архив Ор. 17", 50), _words("офхив, Ор.", 74)[1:])


def test_a_row_lost_with_a_stamp_is_read_at_the_line_pitch(tmp_path, test_text):
    """Tune seed 3029: a grey carbon copy cleaned to grey, a rectangular stamp over the right end of three
    lines. The page's layout analysis took two rows with the stamp for a picture and read nothing of the
    one below (`внутрипартийном положении ...` came out as `т. е`), so no line was there to read again.
    Such a row, between two well-read lines twice the pitch apart, is read across the text and goes in
    after the line above it."""
    line = "внутрипартийном положении в связи с выступлением т. Троцкого, он мне"
    _, text = _carbon_line_read(test_text, 3029, True, line, tmp_path)
    assert fuzz.partial_ratio("внутрипартийном положении в связи с выступлением т.", text) >= 95
    # In its place: after the line above it, before the line below.
    at = text.find("внутрипартийном")
    assert text.rfind("Письмо", 0, at) >= 0 and text.find("передал нижеследующее", at) > at


def _two_column_page(test_text: str, seed: int) -> archival.ArchivalPage:
    """A tune-set page printed in two columns, scanned in grey, with one round stamp over a column."""
    page = archival.render_page(test_text.split(), seed, fontset="tune", page_type="two_columns", grey=True)
    assert [z["type"] for z in page.zones].count("stamp") == 1  # what this seed renders
    assert [z["type"] for z in page.zones].count("column") == 2
    return page


def test_a_grey_stamp_over_a_printed_column_is_one_round_stamp(tmp_path, test_text):
    """A grey round stamp over dense print joins the lines it crosses into pieces of ink, none of a
    stamp's size, and HoughCircles' circles there are pulled off by the print: the pieces were taken for
    handwriting, the lines under them read as a jumble (2.2 % CER against the plain baseline's 1.5 %).
    Together the pieces hold the stamp's rim: one round stamp, its type read again without its ink."""
    page = _two_column_page(test_text, 3829)
    path = archival.write_pages([page], tmp_path, "tests")[0]
    result = process.process_page(load_page(path, 1, Settings()), "page", Settings()).page
    truth = next(z for z in page.zones if z["type"] == "stamp")["box"]
    stamps = [z for z in result.zones if z.type == "stamp"]
    assert len(stamps) == 1 and stamps[0].role == "round"
    assert not any(z.type == "handwriting" for z in result.zones)
    # The stamp's box in the cleaned page lies where the truth's (scan pixels) does, give or take the
    # cleaning's crop and deskew.
    box = stamps[0].bbox
    assert abs((box.x0 + box.x1) / 2 - (truth[0] + truth[2]) / 2) < 150
    assert abs((box.y0 + box.y1) / 2 - (truth[1] + truth[3]) / 2) < 150
    under = _lines_under_stamps(page)
    assert len(under) >= 8
    assert sum(fuzz.partial_ratio(line, result.text) >= 90 for line in under) >= len(under) - 1
    assert evaluate.score(page.text, result.text).cer < 0.01


def test_lines_of_a_column_cut_short_at_a_grey_stamp_are_read_across_the_column(tmp_path, test_text):
    """On a grey two-column page Tesseract read the type beside a stamp's ring surely and left out the
    rest of the line (`тся выражением` for `Советской власти являются выражением`), so the line was not
    read again; a surely read line that stops short of its column's edge at a stamp is read again across
    its column (not the page: psm 6 would run the columns into each other)."""
    page = _two_column_page(test_text, 3801)
    line = "Советской власти являются выражением"
    assert line in _lines_under_stamps(page)
    path = archival.write_pages([page], tmp_path, "tests")[0]
    result = process.process_page(load_page(path, 1, Settings()), "page", Settings()).page
    assert line in result.text
    assert evaluate.score(page.text, result.text).cer < 0.02
    # The page number and the sheet number stamped on its row were read as one line (`— 171 - 388`):
    # the sheet number is split off its end, and the rest is the page number, out of the text.
    number = next(z for z in page.zones if z["type"] == "page_number")["text"]
    assert number == "– 171 –"
    assert "171" not in result.text
    assert any(z.type == "page_number" and "171" in z.text for z in result.zones)


def test_a_line_stopping_at_a_stamp_before_its_columns_edge_is_cut_short():
    stamp = [BBox(1400, 2200, 1850, 2650)]
    column = (1330, 2290)
    assert layout._cut_at_stamp(BBox(1800, 2230, 2110, 2265), column, stamp, 40)  # its start under the ring
    assert not layout._cut_at_stamp(BBox(1340, 2230, 2110, 2265), column, stamp, 40)  # the whole line
    assert not layout._cut_at_stamp(BBox(1340, 2800, 1700, 2835), column, stamp, 40)  # a paragraph's end
    assert not layout._cut_at_stamp(BBox(1800, 2230, 2110, 2265), (2500, 0), stamp, 40)  # no frame known


def test_a_column_broken_by_a_stamp_in_the_gutter_is_read_before_the_next_column(tmp_path, test_text):
    """A grey round stamp over the gutter of a two-column page: its words, read across the gutter, made a
    heading of it for the OCR stage, and the lines read again round it kept Tesseract's order (the left
    column's top, the right one's top, then both columns' rest in turn: 36 % CER, the plain baseline
    24 %). With the stamp's words out, the layout stage puts the columns in order again."""
    page = _two_column_page(test_text, 4545)
    columns = [z for z in page.zones if z["type"] == "column"]
    left, right = sorted(columns, key=lambda z: z["box"][0])
    result = _read_rendered(page, tmp_path)
    last_left = left["text"].splitlines()[-1]
    first_right = right["text"].splitlines()[0]
    assert result.index(first_right) > result.index(last_left)
    assert evaluate.score(page.text, result).cer < 0.02


def test_a_carbon_cleaned_to_grey_on_white_paper_is_read_again_from_its_grey(tmp_path, test_text):
    """Tune seed 4923: a grey carbon copy cleaned to grey, its paper flattened to white (255) round wide
    margins, so that only 22 % of its pixels lie between black and white. Taken for ink and paper, its
    lines under a round stamp darker than the type were read again from cuts of the scan that keep the
    darkest ink, the stamp's, and none was replaced (`более и более самоДовлеющий, стягивает`, the rest
    of the row, `все ити. Участие`, a line above it). Judged by what is not white, the page is grey, and
    the lines are read from the cleaned grey: the row comes out whole and in its place."""
    line = "более и более самодовлеющий, стягивает к себе все нити. Участие"
    _, text = _carbon_line_read(test_text, 4923, True, line, tmp_path)
    assert fuzz.partial_ratio(line, text) >= 85


def test_grey_crops_are_judged_by_their_ink_not_their_white_paper():
    grey = np.full((40, 40), 255, np.uint8)
    grey[10:14, 5:35] = 150  # a faint line of type on flattened paper: 7.5 % of the crop grey
    binary = np.where(grey < 255, 0, 255).astype(np.uint8)
    assert layout._grey_crops([grey]) is not None
    assert layout._grey_crops([binary]) is None and layout._grey_crops([grey, binary]) is None


def test_a_line_read_surely_round_a_gap_under_a_stamp_is_read_again(tmp_path, test_text):
    """Tune seed 4909: a grey carbon copy, a round stamp darker than the type over eight lines. Tesseract
    read `и даже в пе спорили` surely, every word at 85 or more, and left out without a sign what the
    ring's top strokes cross (`чати,`); such lines were never read again. A row whose words leave a gap under
    a stamp is read again across the text, and the reading that holds the old one's words and more is
    taken."""
    page = archival.render_page(test_text.split(), 4909, fontset="tune", page_type="carbon", grey=True)
    assert "мы в партийных организациях, и даже в печати, спорили о привлечении" in page.text.splitlines()
    assert "и даже в печати, спорили" in _read_rendered(page, tmp_path)


def test_a_row_gap_under_a_stamp_is_told_from_a_line_ending_beside_one():
    stamp = [BBox(1000, 0, 1400, 400)]

    def line(*spans: tuple[int, int]) -> Line:
        return Line.of(tuple(Word("слово", BBox(x0, 100, x1, 130), 96) for x0, x1 in spans))

    cut = line((100, 400), (420, 950), (1450, 1800))  # words either side of the stamp
    short = line((100, 400), (420, 950))  # a registration ending beside it
    clear = line((100, 400), (420, 950), (1450, 1800))
    for ln, stamps, gapped in ((cut, stamp, True), (short, stamp, False), (clear, [], False)):
        boxes = np.array([(w.bbox.x0, w.bbox.y0, w.bbox.x1, w.bbox.y1) for w in ln.words], np.int64)
        assert layout._gap_at_stamp(ln, boxes, stamps, 25.0) is gapped


def test_a_stamp_darker_than_the_type_is_divided_out_of_a_line_read_again(tmp_path, test_text):
    """Tune seed 4939: a grey carbon copy, a rectangular registration stamp darker than the faint type
    over the first line of the body. Read again from the cleaned grey with the stamp's strokes in it,
    the line came out `как о. том уже 1` (its start lost in the strokes); with the strokes divided by
    their own level, the letters they cross stay and the line reads nearly whole."""
    page = archival.render_page(test_text.split(), 4939, fontset="tune", page_type="carbon", grey=True)
    assert "партии, так как об этом уже говорилось выше. Еще раз: что" in page.text.splitlines()
    assert "партии, так как об этом уже" in _read_rendered(page, tmp_path)


def test_a_stamps_stroke_is_divided_out_and_the_letter_under_it_stays():
    crop = np.full((40, 120), 255, np.uint8)
    crop[10:30, 10:14] = 180  # a letter's stem beside the stamp: the type's ink
    crop[10:30, 60:64] = 180  # the same stem under the stamp's stroke
    crop[18:22, 40:110] = 120  # the stroke, darker than the type
    crop[18:22, 60:64] = 120 * 180 // 255  # inks multiply where they cross
    out = layout._stamp_divided(crop, [BBox(35, 0, 120, 40)])
    assert out[20, 90] > 240  # the stroke alone is paper again
    # The stem under it stays ink, fainter: the crossing darkens the stroke's measured level.
    assert out[20, 62] < 225 and out[12, 62] == 180
    assert np.array_equal(out[:, :35], crop[:, :35])  # nothing outside the stamp changes


def _violet_carbon_under_a_stamp(stamp_ink: str) -> tuple[np.ndarray, BBox]:
    """A crop of a violet carbon's type (two lines, full and faint) with a stamp's strokes of `stamp_ink`
    across them, at the type's darkness, and the stamp's box."""
    paper = np.array((238, 232, 216), np.float32)
    carbon = np.array(archival.INKS["carbon_violet"], np.float32) / 255
    stamp = np.array(archival.INKS[stamp_ink], np.float32) / 255
    image = np.tile(paper, (200, 800, 1))
    for x in range(20, 780, 16):  # letters' stems beside and under the stamp
        image[40:64, x : x + 5] *= 1 - (1 - carbon)
        image[130:154, x : x + 5] *= 1 - 0.6 * (1 - carbon)
    for x in range(420, 740, 60):  # the stamp's strokes, 5 px wide, across both lines
        image[10:190, x : x + 5] *= 1 - (1 - stamp)
    image[10:15, 420:745] *= 1 - (1 - stamp)  # its frame
    return np.clip(image, 0, 255).astype(np.uint8), BBox(400, 0, 800, 200)


def test_a_stamp_of_the_types_darkness_is_parted_from_violet_carbon_type_by_its_hue():
    """Tune carbons 4928 and 4936: violet type under a blue and under a violet stamp, the stamp as dark
    as the type, on a page whose colour mask takes the whole type for coloured ink (so nothing was
    lifted) and no cut between two levels parts the inks. Their hues do: in optical density the type
    and the stamp are two directions (12 and 8 degrees apart here), found from the ink beside the stamp
    and the ink in its box, and a stroke alone becomes paper while a letter under it stays."""
    for stamp_ink in ("stamp_blue", "stamp_violet"):
        image, box = _violet_carbon_under_a_stamp(stamp_ink)
        density = layout._density(layout._colour_shares(image))
        inside = np.zeros(image.shape[:2], bool)
        inside[box.y0 : box.y1, box.x0 : box.x1] = True
        hue = layout._stamp_hue(density, inside)
        assert hue is not None, stamp_ink
        parted = layout._hue_parted(image, [(box, *hue)])
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        assert grey[100, 422] < 170  # the stroke alone, as dark as type: a cut keeps it
        assert parted[100, 422] > 235, (stamp_ink, parted[100, 422])  # parted: paper
        beside = int(parted[52, 214])  # a stem beside the stamp, as it was (its share of the paper)
        for y, x in ((52, 422), (142, 422)):  # stems under a stroke: ink still
            assert parted[y, x] < parted[100, 422] - 40, (stamp_ink, y, x, parted[y, x])
        # As dark as beside the stamp or a little lighter: the generator lays a faint letter on as a blend
        # with the paper, so the type's direction is the median of its strengths', not the full one's.
        assert parted[52, 422] < (beside + 255) // 2, (stamp_ink, parted[52, 422], beside)
        assert np.array_equal(parted[:, :390], layout._hue_parted(image, [])[:, :390])


def test_a_stamp_of_the_types_own_hue_is_not_parted():
    image, box = _violet_carbon_under_a_stamp("carbon_violet")
    density = layout._density(layout._colour_shares(image))
    inside = np.zeros(image.shape[:2], bool)
    inside[box.y0 : box.y1, box.x0 : box.x1] = True
    assert layout._stamp_hue(density, inside) is None


def test_a_row_put_at_the_line_pitch_is_moved_to_its_ink():
    """A row put at the body's pitch above the first line (an addressee under the registration stamp)
    is read where its ink is: the most ink in a band of the type's height, clear of the stamp."""
    image = np.full((300, 1000), 255, np.uint8)
    image[100:140, 100:500] = 60  # the addressee's letters, 26 pixels above the pitch's row (146)
    image[120:260, 600:900] = 0  # the stamp, whose ink is left out
    stamp = [BBox(590, 110, 910, 270)]
    assert abs(layout._ink_row(image, 146.0, 34.0, (50, 950), stamp) - 120) <= 2
    assert layout._ink_row(np.full((300, 1000), 255, np.uint8), 146.0, 34.0, (50, 950), stamp) == 146.0


def test_a_violet_carbon_under_a_stamp_of_its_darkness_is_read_with_its_addressee(tmp_path, test_text):
    """Tune seed 4928: a violet carbon copy in colour thresholded to black and white, a blue rectangular
    registration stamp over the addressee and the first line, a blue round stamp over eight lines, each as
    dark as the type. The lines under the ring were read from cuts of the scan that keep both inks
    (`передвижки срока`, `сроку, я поступлю` lost; 6.3 % CER), and the addressee typed under the
    registration stamp, off the body's line pitch, was never read. Parted by hue, and its row read where
    its ink is, both come out."""
    page = archival.render_page(test_text.split(), 4928, fontset="tune", page_type="carbon", grey=False)
    assert page.params["text_ink"] == "carbon_violet"  # what this seed renders
    assert [z["ink"] for z in page.zones if z["type"] == "stamp"] == ["stamp_blue", "stamp_blue"]
    text = _read_rendered(page, tmp_path)
    assert "ЧЛЕНАМ И КАНДИДАТАМ ПОЛИТБЮРО" in text
    for piece in ("о передвижки срока на 1 апреля", "крайнему сроку, я поступлю так"):
        assert fuzz.partial_ratio(piece, text) >= 85, piece


def _typed_line(text: str, x0: int, y0: int, height: int = 40, letter: int = 24) -> Line:
    words, x = [], x0
    for word in text.split():
        words.append(Word(word, BBox(x, y0, x + letter * len(word), y0 + height), 90.0))
        x += letter * (len(word) + 1)
    return Line.of(words)


def test_a_stamps_own_wording_read_surely_into_the_text_is_the_stamps():
    stamp = layout.Region("stamp", "rect", BBox(1800, 250, 2400, 600))
    entry = {"type": "stamp", "role": "rect", "bbox": stamp.bbox, "region": stamp, "words": []}
    # The stamp's reading holds a short word of the type under it too (`не`).
    entry["text"] = "ЦК ВКП(б) СЕКРЕТНЫЙ ОТДЕЛ Вх. № не 193 г. 1930"
    date = _typed_line("«25» февраля 1930 г. К СЕКРЕТНЫЙ ОТДЕЛ", 360, 300)
    # Moved under the stamp: `К` (a piece of its `ЦК`) and its wording.
    date = Line.of(date.words[:4] + tuple(_at(w, 1100) for w in date.words[4:]))
    addressee = _typed_line("Секретарю ЦК ВКП(б)", 1550, 400)  # typed on under the stamp
    body = _typed_line("работе не отдела 1930", 1900, 500)  # small letters and figures: type
    out = layout._stamp_wording_out([Paragraph.of([date, addressee, body])], [entry])
    text = [ln.text for p in out for ln in p.lines]
    assert text == ["«25» февраля 1930 г. К", "Секретарю ЦК ВКП(б)", "работе не отдела 1930"]
    assert [w.text for w in entry["words"]] == ["СЕКРЕТНЫЙ", "ОТДЕЛ"]
    # Without the stamp's reading, nothing is taken.
    entry["text"] = ""
    assert layout._stamp_wording_out([Paragraph.of([date])], [entry])[0].lines[0].text == date.text


def _at(word: Word, dx: int) -> Word:
    return Word(word.text, word.bbox.shifted(dx, 0), word.conf)


def test_a_grey_registration_stamps_wording_stays_out_of_the_registration(tmp_path, tests_words):
    """Tune seed 6705: a violet carbon copy scanned in grey, the registration stamp `СЕКРЕТАРИАТ ЦКК
    Получено Вх. №` beside the typed registration. Tesseract read the stamp's capitals surely, and a word
    read surely on a stamp is kept as the type under it: `№ 43010 В ло СЕКРЕТАРИАТ ЦКК 19;`, `«24» ноября
    1938 г. Получено`. The stamp's own reading holds those words: they are its."""
    page = archival.render_page(tests_words, 6705, fontset="tune", page_type="carbon", grey=True)
    stamp = [z for z in page.zones if z["type"] == "stamp"]
    assert [z["text"] for z in stamp] == ["СЕКРЕТАРИАТ ЦКК Получено Вх. №"]  # what this seed renders
    text = _read_rendered(page, tmp_path)
    head = " ".join(text.splitlines()[:4])
    assert "«24» ноября 1938 г." in head and "оргбюро цк" in head.lower()
    assert not {"СЕКРЕТАРИАТ", "Получено"} & set(head.split())
