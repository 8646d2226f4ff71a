"""Words typed over with `х` are found and kept out of the text (layout._overtyped), on rendered
archival pages scored against the generator's zones."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import archival_eval
from pipeline import archival, layout, process
from pipeline.config import Settings
from pipeline.model import BBox, Line, Word, to_dict
from pipeline.scans import load_page


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


@pytest.fixture(scope="module")
def overtyped_page(test_text, tmp_path_factory):
    """A tune-set page (grey JPEG scan) with four words typed over, read with and without the test."""
    page = archival.render_page(test_text.split(), 117, fontset="tune", page_type="handwritten", grey=True)
    folder = tmp_path_factory.mktemp("overtyped")
    path = archival.write_pages([page], folder, "tests")[0]
    scan = load_page(path, 1, Settings())
    pages = {}
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(layout, "_overtyped", lambda word, line, found: False)
        pages["text only"] = process.process_page(scan, "page", Settings(correct=False)).page
    pages["with ink"] = process.process_page(scan, "page", Settings(correct=False)).page
    return archival_eval.load_truth(folder)[0], pages


def test_typed_over_words_are_struck_zones_not_text(overtyped_page):
    truth, pages = overtyped_page
    assert sum(z["type"] == "struck" for z in truth.zones) >= 3
    counts = {
        name: archival_eval.score_zones(truth.zones, archival_eval.predicted_zones({"page": to_dict(page)}))[
            "struck"
        ]
        for name, page in pages.items()
    }
    assert counts["with ink"][1] > counts["text only"][1]  # more typed-over words found
    assert counts["with ink"][3] == counts["with ink"][2]  # and every struck zone predicted is one
