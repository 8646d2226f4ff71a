"""Words typed over with `х` are found and kept out of the text (layout._overtyped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import layout, ocr, synth
from pipeline.config import Settings
from pipeline.model import BBox, Line, Word


def _found(ink: np.ndarray) -> layout.Found:
    return layout.Found(regions=[], labels=np.zeros(ink.shape, np.int32), ink=ink, scale=1.0)


def _line(texts: list[str], conf: float = 40.0) -> Line:
    words = tuple(Word(t, BBox(20 + 120 * i, 10, 120 + 120 * i, 40), conf) for i, t in enumerate(texts))
    return Line(words, BBox(20, 10, 20 + 120 * len(texts), 40))


def test_a_jumble_of_crosses_with_more_ink_than_its_neighbours_is_typed_over():
    ink = np.zeros((60, 800), bool)
    for i in range(5):
        ink[15:35, 25 + 120 * i : 110 + 120 * i : 3] = True  # ordinary words: a third of the box inked
    ink[15:35, 265:350] = True  # the third word is solid with crosses
    line = _line(["слово", "слово", "кюряжкяхя", "слово", "слово"])
    assert layout._overtyped(line.words[2], line, _found(ink))
    # The same letters read surely, or without the extra ink, are a word.
    sure = _line(["слово", "слово", "кюряжкяхя", "слово", "слово"], conf=95.0)
    assert not layout._overtyped(sure.words[2], sure, _found(ink))
    ink[15:35, 265:350] = False
    ink[15:35, 265:350:3] = True
    assert not layout._overtyped(line.words[2], line, _found(ink))


def test_real_words_full_of_k_and_ya_are_not_typed_over():
    ink = np.zeros((60, 800), bool)
    ink[15:35, 25:700:2] = True  # every word as dense as the next
    line = _line(["является", "каждая", "кажется", "тяжкие", "никаких"], conf=60.0)
    assert not any(layout._overtyped(w, line, _found(ink)) for w in line.words)


TYPE_FONTS = ("PTM55F.ttf", "LiberationMono-Regular.ttf", "DejaVuSansMono.ttf")


def _typed_line(words: list[str], over: int) -> np.ndarray:
    """A typed line at 300 dpi in a typewriter face, word `over` typed over with `х` at each letter."""
    found = {p.name: p for root in synth.FONT_DIRS for p in Path(root).rglob("*") if p.name in TYPE_FONTS}
    name = next((n for n in TYPE_FONTS if n in found), None)
    if name is None:
        pytest.skip("no typewriter face installed (make setup)")
    font = ImageFont.truetype(str(found[name]), 42)
    text = " ".join(words)
    image = Image.new("L", (int(font.getlength(text)) + 120, 120), 255)
    draw = ImageDraw.Draw(image)
    draw.text((60, 30), text, font=font, fill=0)
    start = len(" ".join(words[:over])) + (1 if over else 0)
    x = 60 + font.getlength(text[:start])
    draw.text((x, 30), "х" * len(words[over]), font=font, fill=0)
    return np.asarray(image)


@pytest.mark.parametrize("over", [1, 3])
def test_tesseract_reading_of_a_typed_over_word_is_found(over):
    words = ["Совещание", "признало", "необходимым", "усилить", "работу", "среди", "молодежи"]
    image = _typed_line(words, over)
    paragraphs, _ = ocr.recognise(image, Settings().replace(psm=7), 300)
    line = next(ln for p in paragraphs for ln in p.lines)
    found = _found(image < 128)
    flagged = [w.text for w in line.words if layout._overtyped(w, line, found)]
    assert len(flagged) == 1, [(w.text, w.conf) for w in line.words]
    clean = [w.text for w in line.words if w.text in words]
    assert len(clean) >= len(words) - 2  # the others are read as words and left alone


def test_a_typed_over_word_read_with_only_two_crosses_is_found_by_its_ink():
    # Tesseract reads `впредь` typed over with `х` as `вяйдк`: two crosses among the letters under them.
    words = ["Совещание", "признало", "впредь", "усилить", "работу", "среди", "молодежи"]
    image = _typed_line(words, 2)
    paragraphs, _ = ocr.recognise(image, Settings().replace(psm=7), 300)
    line = next(ln for p in paragraphs for ln in p.lines)
    found = _found(image < 128)
    flagged = [w.text for w in line.words if layout._overtyped(w, line, found)]
    assert len(flagged) == 1 and flagged[0] not in words, [(w.text, w.conf) for w in line.words]
    # Words with two such letters, read unsurely but no denser than the rest of the line, are words.
    ink = np.zeros((60, 800), bool)
    ink[15:35, 25:700:2] = True
    plain = _line(["разложения", "положения", "также", "языком", "кажется"], conf=60.0)
    assert not any(layout._overtyped(w, plain, _found(ink)) for w in plain.words)


def test_a_faint_carbon_s_typed_over_word_read_fairly_surely_is_typed_over():
    """On a faint carbon the crosses are thin: the word holds a little more ink than its neighbours
    (1.2-1.4 times on the tune carbons) and Tesseract may read its jumble at 80-90 (`кязываякя` 83)."""
    ink = np.zeros((60, 800), bool)
    for i in range(5):
        ink[15:35, 25 + 120 * i : 110 + 120 * i : 4] = True  # ordinary words: a quarter of the box inked
    ink[15:35, 265:350:3] = True  # the third word: a third, 1.3 times as much
    line = _line(["слово", "слово", "кажехсях", "слово", "слово"], conf=85.0)
    assert layout._overtyped(line.words[2], line, _found(ink))
    # Read at 90 or more, or with no more ink than the rest, it is a word.
    sure = _line(["слово", "слово", "кажехсях", "слово", "слово"], conf=92.0)
    assert not layout._overtyped(sure.words[2], sure, _found(ink))
    ink[15:35, 265:350] = False
    ink[15:35, 265:350:4] = True
    assert not layout._overtyped(line.words[2], line, _found(ink))


@pytest.fixture(scope="module")
def near_word():
    from pipeline import lexicon
    from pipeline.correct import Corrector

    return Corrector(lexicon.load("default")).near_word


def test_a_word_typed_over_read_as_small_letters_unknown_to_the_lexicon_is_struck(near_word):
    """Tesseract's readings of words the tune carbons 6200-6239 have typed over (their truth zones say
    struck): a cross or two left among small letters, no word one misreading away, more ink than the
    line's other words, yet too few crosses for `_overtyped`."""
    ink = np.zeros((60, 800), bool)
    for i in range(5):
        ink[15:35, 25 + 120 * i : 110 + 120 * i : 5] = True  # ordinary words: a fifth of the box inked
    ink[15:35, 265:350] = False
    ink[15:35, 265:350:4] = True  # the third word: a quarter, 1.25 times as much
    for jumble in ("вабамеке", "мнакиникленных", "мяехвянию", "ивкявннем"):
        line = _line(["слово", "слово", jumble, "слово", "слово"], conf=55.0)
        assert not layout._overtyped(line.words[2], line, _found(ink))
        assert layout._overtyped_unknown(line.words[2], line, _found(ink), near_word), jumble
        assert not layout._overtyped_unknown(line.words[2], line, _found(ink), None)  # no lexicon, no test
    # Heavy type: a word misread by a letter, a known word, capitals, a name.
    for word in ("расиространения", "организации", "ВКП", "Кяна"):
        line = _line(["слово", "слово", word, "слово", "слово"], conf=55.0)
        assert not layout._overtyped_unknown(line.words[2], line, _found(ink), near_word), word
    # The jumble read surely, or with no more ink than the rest, or on a stamp, stays.
    sure = _line(["слово", "слово", "вабамеке", "слово", "слово"], conf=92.0)
    assert not layout._overtyped_unknown(sure.words[2], sure, _found(ink), near_word)
    line = _line(["слово", "слово", "вабамеке", "слово", "слово"], conf=55.0)
    stamp = layout.Region("stamp", "round", BBox(240, 0, 600, 60))
    stamped = layout.Found(regions=[stamp], labels=np.zeros(ink.shape, np.int32), ink=ink, scale=1.0)
    assert not layout._overtyped_unknown(line.words[2], line, stamped, near_word)
    # ... or under a pen's writing found on the page (its ink swells the boxes of the type under it).
    writing = layout.Region("handwriting", "", BBox(300, 0, 700, 60))
    written = layout.Found(regions=[writing], labels=np.zeros(ink.shape, np.int32), ink=ink, scale=1.0)
    assert not layout._overtyped_unknown(line.words[2], line, written, near_word)
    ink[15:35, 265:350] = False
    ink[15:35, 265:350:5] = True
    assert not layout._overtyped_unknown(line.words[2], line, _found(ink), near_word)


def test_the_layout_stage_sorts_an_unknown_heavy_word_as_struck_only_with_a_lexicon(near_word):
    words = ["является", "которые", "работа", "комиссии", "вабамеке", "отношении", "поэтому", "партии"]
    line = Line.of(
        [Word(w, BBox(30 + 300 * i, 0, 30 + 300 * i + 30 * len(w), 40), 55.0) for i, w in enumerate(words)]
    )
    ink = np.zeros((60, 2500), bool)
    ink[:, ::4] = True
    ink[0:40, 1230:1470:3] = True  # `вабамеке` holds more ink than the rest of its line
    found = _found(ink)
    entry = layout._furniture_of(line.words[4], line, [], found, 2500, 3500, 300, near_word)
    assert entry is not None and entry["type"] == "struck"
    assert layout._furniture_of(line.words[4], line, [], found, 2500, 3500, 300) is None
    assert layout._furniture_of(line.words[3], line, [], found, 2500, 3500, 300, near_word) is None
