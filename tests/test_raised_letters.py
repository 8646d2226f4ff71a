"""A typewriter letter struck above the line (common on carbon copies) reads as its capital inside a
word (`коТорой`); the corrector lowers it. Rendered lines read by real Tesseract; the truth is the
rendered text."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import layout, lexicon, ocr
from pipeline.config import Settings
from pipeline.correct import Corrector
from pipeline.model import BBox, Page, Word

TYPEWRITER = "/usr/share/fonts/truetype/paratype/PTM55F.ttf"
# (before, the raised letter, after): each line as typed, one key struck 9 px high.
RAISED = [
    ("по вопросу, ко", "т", "орой был решен"),
    ("этот вы", "в", "од ясен"),
    ("регулярной ар", "м", "ии и флота"),
    ("информационный лис", "т", "ок"),
]
# Capitals that belong where they are: names, abbreviations, a heading in capitals.
PLAIN = ["ПОЛИТБЮРО ЦК ВКП(б)", "письмо Коминтерна тов. Маслову", "ОССОВСКОГО и Рут Фишер"]


def _typed(lines: list[tuple[str, str, str]], raise_px: int = 9) -> np.ndarray:
    font = ImageFont.truetype(TYPEWRITER, 46)
    image = Image.new("L", (1600, 120 * len(lines) + 80), 255)
    draw = ImageDraw.Draw(image)
    for i, (before, key, after) in enumerate(lines):
        x, y = 60.0, 60 + 120 * i
        for text, dy in ((before, 0), (key, -raise_px), (after, 0)):
            draw.text((x, y + dy), text, font=font, fill=40)
            x += font.getlength(text)
    return np.array(image)


def _words(image: np.ndarray) -> list:
    paragraphs, _ = ocr.recognise(image, Settings(), 300)
    return [w for p in paragraphs for line in p.lines for w in line.words]


@pytest.fixture(scope="module")
def corrector() -> Corrector:
    return Corrector(lexicon.load("default"))


def test_a_raised_letter_read_as_a_capital_inside_a_word_is_lowered(corrector):
    words = _words(_typed(RAISED))
    truth = " ".join(b + k + a for b, k, a in RAISED).split()
    read = [w.text for w in words]
    mixed = [t for t in read if any(c.isupper() for c in t[1:]) and any(c.islower() for c in t)]
    assert len(mixed) >= 3, read  # Tesseract reads the raised letters as capitals
    fixed = []
    for k, word in enumerate(words):
        decision = corrector.correct_word(word.text, word.conf, read[k - 1] if k else None)
        fixed.append(decision.corrected if decision else word.text)
    assert fixed == truth, (read, fixed)
    reasons = {
        corrector.correct_word(t, 90.0).reason for t in mixed if corrector.correct_word(t, 90.0) is not None
    }
    assert reasons == {"raised_letter"}


def test_words_in_capitals_names_and_abbreviations_keep_their_capitals(corrector):
    words = _words(_typed([(line, "", "") for line in PLAIN], raise_px=0))
    read = [w.text for w in words]
    assert read == " ".join(PLAIN).split(), read
    for text in read:
        decision = corrector.correct_word(text, 90.0)
        assert decision is None or decision.reason != "raised_letter", (text, decision)


@pytest.mark.parametrize(
    "token, expected",
    [("деЯтельности", "деятельности"), ("(оТказ", "(отказ"), ("оТ", "от"), ("КомИссия", "Комиссия")],
)
def test_known_words_get_their_small_letters_back(corrector, token, expected):
    decision = corrector.correct_word(token, 90.0, "и")
    assert decision is not None and decision.corrected == expected and decision.reason == "raised_letter"


@pytest.mark.parametrize("token", ["ПОлиТБЮРО", "РУт", "ВКПб", "СССр", "МакДональд"])
def test_capitals_with_a_small_letter_read_among_them_are_left(corrector, token):
    decision = corrector.correct_word(token, 90.0, "и")
    assert decision is None or decision.reason != "raised_letter"


# A first letter struck high, after words that leave the sentence running; and capitals that are capitals.
RAISED_FIRST = [
    ("ответ на вопрос о ", "т", "ом, что было решено"),
    ("работа в связи с ", "п", "артией и ее органами"),
    ("письмо было подписано ", "н", "ами вчера"),
    ("и в Политбюро, и в Коминтерне", "", ""),
    ("как сказал тов. Маслов ", "в", "чера"),
]


def test_a_first_letter_struck_above_the_line_is_read_small_by_its_height():
    image = _typed(RAISED_FIRST)
    paragraphs, _ = ocr.recognise(image, Settings(), 300)
    page = Page(
        document="d", number=1, width=image.shape[1], height=image.shape[0], dpi=300, paragraphs=paragraphs
    )
    truth = " ".join(b + k + a for b, k, a in RAISED_FIRST).split()
    read = [w.text for w in page.words]
    assert sum(a != b for a, b in zip(read, truth, strict=True)) >= 3, read  # read as capitals
    lowered, count = layout.lower_raised_capitals(page, image)
    assert [w.text for w in lowered.words] == truth
    assert count == sum(a != b for a, b in zip(read, truth, strict=True))


def test_the_text_zones_hold_the_page_text_with_the_raised_letters_lowered():
    """The layout stage lowers the raised letters before it makes the zones: a zone's text is the page's."""
    image = _typed(RAISED_FIRST)
    paragraphs, _ = ocr.recognise(image, Settings(), 300)
    page = Page(
        document="d", number=1, width=image.shape[1], height=image.shape[0], dpi=300, paragraphs=paragraphs
    )
    nothing = layout.Found(
        regions=[], labels=np.zeros(image.shape, np.int32), ink=np.zeros(image.shape, bool), scale=1.0
    )
    out = layout.apply(page, nothing, lambda region: image, Settings(), image)
    truth = " ".join(b + k + a for b, k, a in RAISED_FIRST).split()
    assert out.text.split() == truth
    assert " ".join(z.text for z in out.zones if z.in_text).split() == truth
    step = out.steps[-1]
    assert step.name == "layout" and step.settings["raised_letters_lowered"] >= 3


def test_capitals_typed_on_the_line_stay_capitals():
    """The same words with their capitals typed (as tall as capitals, on the line)."""
    typed = [(b + k.upper() + a, "", "") for b, k, a in RAISED_FIRST]
    image = _typed(typed)
    paragraphs, _ = ocr.recognise(image, Settings(), 300)
    page = Page(
        document="d", number=1, width=image.shape[1], height=image.shape[0], dpi=300, paragraphs=paragraphs
    )
    assert [w.text for w in page.words] == " ".join(t for t, _, _ in typed).split()
    assert layout.lower_raised_capitals(page, image) == (page, 0)


def test_a_first_letter_struck_above_the_line_is_lowered_on_a_page_cleaned_to_ink_and_paper():
    """On a page the cleaning left as ink (0) and paper (255) Otsu's level is the ink's own: the line's
    ink is what lies at or under it."""
    image = np.where(_typed(RAISED_FIRST) < 128, 0, 255).astype(np.uint8)
    paragraphs, _ = ocr.recognise(image, Settings(), 300)
    page = Page(
        document="d", number=1, width=image.shape[1], height=image.shape[0], dpi=300, paragraphs=paragraphs
    )
    truth = " ".join(b + k + a for b, k, a in RAISED_FIRST).split()
    read = [w.text for w in page.words]
    assert sum(a != b for a, b in zip(read, truth, strict=True)) >= 3, read
    lowered, _ = layout.lower_raised_capitals(page, image)
    assert [w.text for w in lowered.words] == truth


def _as_read(page: Page, capitals: dict[str, str]) -> Page:
    """The page with some words read otherwise (a small first letter taken for its capital)."""

    def line(ln):
        return dataclasses.replace(
            ln, words=tuple(dataclasses.replace(w, text=capitals.get(w.text, w.text)) for w in ln.words)
        )

    paragraphs = tuple(
        dataclasses.replace(p, lines=tuple(line(ln) for ln in p.lines)) for p in page.paragraphs
    )
    return dataclasses.replace(page, paragraphs=paragraphs)


def test_a_small_letter_typed_on_the_line_but_read_as_its_capital_is_lowered():
    """A small first letter on the line, as tall as the small letters round it, read as its capital (as
    Tesseract reads a faint carbon's `т`, `п`, `в` now and then) is small; a capital typed on the line,
    taller, stays."""
    lines = [("ответ на вопрос о том, что было решено", "", ""), ("и в Политбюро, и в Коминтерне", "", "")]
    image = _typed(lines)
    paragraphs, _ = ocr.recognise(image, Settings(), 300)
    page = Page(
        document="d", number=1, width=image.shape[1], height=image.shape[0], dpi=300, paragraphs=paragraphs
    )
    truth = " ".join(t for t, _, _ in lines).split()
    assert [w.text for w in page.words] == truth
    misread = _as_read(page, {"том,": "Том,", "вопрос": "Вопрос"})
    lowered, count = layout.lower_raised_capitals(misread, image)
    assert [w.text for w in lowered.words] == truth and count == 2


def test_small_letters_measured_taller_than_the_word_leave_it_as_read():
    """A stamp's ink on the row (a ring's arc over the line) makes the columns round a word start high:
    the small letters then measure taller than the word's own box, and any glyph of the word as tall as
    them. No height tells a small letter from its capital there: the capital stays."""
    width, baseline = 800, 60
    columns = np.ones(width, bool)
    feet = np.full(width, baseline)
    word = Word("Политбюро", BBox(300, 20, 300 + 9 * 24, 62), 95.0)  # 42 px high, 24 px a letter
    for ink_top, expected in ((42, True), (10, False)):  # small letters 19 px high, or 51 px on a stamp
        tops = np.full(width, ink_top)
        tops[300:324] = ink_top - 2  # the first glyph as tall as the letters round it
        assert layout._raised_small((columns, tops, feet, 0), word, 0) is expected
