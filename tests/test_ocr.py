"""Real Tesseract on rendered pages: text, boxes and confidences."""

import numpy as np

from pipeline import evaluate, ocr, preprocess, synth
from pipeline.config import Settings

TSV = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    "1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t\n"
    "5\t1\t1\t1\t1\t1\t10\t5\t30\t12\t96.5\tПолитбюро\n"
    "5\t1\t1\t1\t1\t2\t45\t5\t20\t12\t91\tЦК\n"
    "5\t1\t1\t1\t2\t1\t10\t25\t25\t12\t40.25\tтов.\n"
    "5\t1\t2\t1\t1\t1\t10\t40\t25\t12\t88\t \n"
    "5\t1\t2\t1\t1\t2\t40\t40\t25\t12\t77\tСталин\n"
)


def test_parse_tsv_keeps_structure_boxes_and_confidence():
    paragraphs = ocr.parse_tsv(TSV)
    assert [[ln.text for ln in p.lines] for p in paragraphs] == [["Политбюро ЦК", "тов."], ["Сталин"]]
    word = paragraphs[0].lines[0].words[1]
    assert (word.bbox.x0, word.bbox.y0, word.bbox.x1, word.bbox.y1) == (45, 5, 65, 17)
    assert word.conf == 91.0
    assert paragraphs[0].bbox.x1 == 65 and paragraphs[0].bbox.y1 == 37


def test_real_tesseract_reads_a_clean_page(test_text):
    page = synth.render_pages(test_text, 1, seed=31, max_skew=0, degradations=())[0]
    cleaned = preprocess.clean(page.image, 300, Settings())
    paragraphs, step = ocr.recognise(cleaned.image, Settings(), cleaned.dpi)
    text = "\n".join(ln.text for p in paragraphs for ln in p.lines)
    assert evaluate.score(page.text, text).cer < 0.02
    h, w = cleaned.image.shape
    words = [wd for p in paragraphs for ln in p.lines for wd in ln.words]
    assert len(words) > 200
    assert all(0 <= wd.bbox.x0 < wd.bbox.x1 <= w and 0 <= wd.bbox.y0 < wd.bbox.y1 <= h for wd in words)
    assert all(0 <= wd.conf <= 100 for wd in words)
    assert step.name == "ocr" and step.settings["lang"] == "rus" and step.version.startswith("5")
    assert step.settings["models"].startswith("rus:")


def test_upside_down_page_is_detected_by_osd(test_text):
    page = synth.render_pages(test_text, 1, seed=32, max_skew=0, degradations=(), turn=180)[0]
    cleaned = preprocess.clean(page.image, 300, Settings())
    rotate, confidence = ocr.detect_orientation(cleaned.image, Settings())
    assert rotate == 180 and confidence > 1


HOCR_LINE = (
    '<html xmlns="http://www.w3.org/1999/xhtml"><body><div class="ocr_page">'
    "<span class='ocr_line' id='line_1_1' title=\"bbox 10 5 65 17; baseline 0.018 -2; x_size 12\">"
    "</span></div></body></html>"
)


def test_line_baselines_come_from_tesseracts_hocr_and_round_trip():
    from pipeline.model import Page, page_from_dict, to_dict

    baselines = ocr.hocr_baselines(HOCR_LINE)
    # bottom-left (10, 17) moved by the offset -2; the right end 55 px further along a slope of 0.018.
    assert baselines == {(10, 5, 65, 17): ((10, 15), (65, 16))}
    tsv = TSV.replace(
        "5\t1\t1\t1\t1\t1\t10\t5", "4\t1\t1\t1\t1\t0\t10\t5\t55\t12\t-1\t\n5\t1\t1\t1\t1\t1\t10\t5", 1
    )
    paragraphs = ocr.parse_tsv(tsv, baselines)
    assert paragraphs[0].lines[0].baseline == ((10, 15), (65, 16))
    assert paragraphs[0].lines[1].baseline == ()  # no hOCR line for it
    page = Page("d", 1, 100, 50, 300, paragraphs)
    assert page_from_dict(to_dict(page)) == page


def test_crops_stacked_for_one_call_stand_apart_and_what_is_read_goes_back_to_its_crop():
    # Three crops of different sizes, each filled with its own value: each stands `gap` pixels in from
    # the left at its span's rows, with white paper between and round them; the montage is as wide as
    # the widest crop and the gaps. Middles are sorted to the crop whose rows (and margin) hold them.
    crops = [np.full((h, w), v, np.uint8) for h, w, v in ((10, 30, 0), (4, 50, 1), (7, 5, 2))]
    montage, spans = ocr.stacked(crops, 6)
    assert spans == [(6, 16), (22, 26), (32, 39)]
    assert montage.shape == (45, 62)
    for crop, (top, bottom) in zip(crops, spans, strict=True):
        assert np.array_equal(montage[top:bottom, 6 : 6 + crop.shape[1]], crop)
    assert int((montage != 255).sum()) == sum(c.size for c in crops)
    middles = [0.0, 6.0, 15.9, 16.0, 20.0, 25.0, 38.0, 44.0]
    assert ocr.by_span(middles, float, spans) == [[6.0, 15.9], [25.0], [38.0]]
    assert ocr.by_span(middles, float, spans, 3.0) == [[6.0, 15.9, 16.0], [20.0, 25.0], [38.0]]
