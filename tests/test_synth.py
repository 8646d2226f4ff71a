import numpy as np

from pipeline import synth


def test_same_seed_same_pixels_and_truth(test_text):
    a = synth.render_pages(test_text, 1, seed=3)
    b = synth.render_pages(test_text, 1, seed=3)
    assert np.array_equal(a[0].image, b[0].image)
    assert a[0].lines == b[0].lines


def test_different_seed_differs(test_text):
    a = synth.render_pages(test_text, 1, seed=3)[0]
    b = synth.render_pages(test_text, 1, seed=4)[0]
    assert not np.array_equal(a.image, b.image) or a.params != b.params


def test_ground_truth_is_the_text_in_order(test_text):
    pages = synth.render_pages(test_text, 2, seed=9)
    rendered = " ".join(" ".join(p.lines) for p in pages).split()
    assert rendered == test_text.split()[: len(rendered)]
    assert len(rendered) > 300  # two full pages of text


def test_no_wrap_stops_at_the_end_of_the_text():
    text = "Протокол заседания Политбюро ЦК ВКП(б) от 11 октября 1923 г."
    pages = synth.render_pages(text, 5, seed=1, wrap=False)
    assert len(pages) == 1
    assert " ".join(pages[0].lines) == text


def test_degradations_are_applied_as_asked(test_text):
    clean = synth.render_pages(test_text, 1, seed=5, degradations=(), max_skew=0)[0]
    bordered = synth.render_pages(test_text, 1, seed=5, degradations=("borders",), max_skew=0)[0]
    assert clean.params["degradations"] == []
    # A clean page is white at its edges; borders darken at least one edge band.
    edges = lambda im: min(im[:10].mean(), im[-10:].mean(), im[:, :10].mean(), im[:, -10:].mean())  # noqa: E731
    assert edges(clean.image) > 200
    assert edges(bordered.image) < 100


def test_turned_page_is_landscape(test_text):
    page = synth.render_pages(test_text, 1, seed=2, turn=90)[0]
    assert page.image.shape[1] > page.image.shape[0]
