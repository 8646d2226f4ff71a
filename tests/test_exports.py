"""The exchange formats as an archive uses them: boxes on the original scan, checked against the
synthetic pages' own word boxes (synth knows where it printed every word)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from lxml import etree
from PIL import Image

from pipeline import preprocess, synth
from pipeline.config import Settings

from .conftest import SCHEMAS, archocr, load_json

PAGE_NS = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
ALTO_NS = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
XHTML_NS = {"h": "http://www.w3.org/1999/xhtml"}


def _quad(points: str) -> np.ndarray:
    return np.array([[float(v) for v in p.split(",")] for p in points.split()], np.float32)


def page_words(path: Path) -> tuple[str, list[tuple[str, np.ndarray]]]:
    tree = etree.parse(str(path))
    image = tree.xpath("//p:Page/@imageFilename", namespaces=PAGE_NS)[0]
    words = [
        (
            w.xpath("string(p:TextEquiv[1]/p:Unicode)", namespaces=PAGE_NS),
            _quad(w.find("p:Coords", PAGE_NS).get("points")),
        )
        for w in tree.xpath("//p:Word", namespaces=PAGE_NS)
    ]
    return image, words


def alto_words(path: Path) -> tuple[str, list[tuple[str, np.ndarray]]]:
    tree = etree.parse(str(path))
    image = tree.xpath("string(//a:sourceImageInformation/a:fileName)", namespaces=ALTO_NS)
    words = []
    for s in tree.xpath("//a:String", namespaces=ALTO_NS):
        x, y, w, h = (float(s.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
        words.append(
            (s.get("CONTENT"), np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32))
        )
    return image, words


def hocr_words(path: Path) -> tuple[str, list[tuple[str, np.ndarray]]]:
    tree = etree.parse(str(path))
    title = tree.xpath("//h:div[@class='ocr_page']/@title", namespaces=XHTML_NS)[0]
    image = re.search(r'image "([^"]+)"', title).group(1)
    words = []
    for s in tree.xpath("//h:span[@class='ocrx_word']", namespaces=XHTML_NS):
        x0, y0, x1, y1 = (
            float(v) for v in re.search(r"bbox (\d+) (\d+) (\d+) (\d+)", s.get("title")).groups()
        )
        words.append((s.text, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)))
    return image, words


def landing(
    words: list[tuple[str, np.ndarray]], truth: list[tuple[str, tuple]]
) -> tuple[float, float, float]:
    """(share of boxes whose centre lies on a printed word, share of those whose text is that word,
    mean distance in px from box centre to that word's centre)."""
    truth_quads = [(t, np.array(q, np.float32)) for t, q in truth]
    on_word = same_text = 0
    distances = []
    for text, quad in words:
        centre = quad.mean(axis=0)
        best = max(
            truth_quads,
            key=lambda tq: cv2.pointPolygonTest(tq[1], (float(centre[0]), float(centre[1])), True),
        )
        inside = cv2.pointPolygonTest(best[1], (float(centre[0]), float(centre[1])), True)
        if inside >= -3:  # on the word's ink box, or within 3 px of its edge
            on_word += 1
            same_text += text.strip('.,;:!?»«"()') == best[0].strip('.,;:!?»«"()')
            distances.append(float(np.linalg.norm(centre - best[1].mean(axis=0))))
    return on_word / len(words), same_text / max(1, on_word), float(np.mean(distances))


@pytest.fixture(scope="module")
def skewed_and_turned(tmp_path_factory: pytest.TempPathFactory, test_text: str):
    """A page skewed by a few degrees and one fed in on its side (and skewed), run through archocr."""
    folder = tmp_path_factory.mktemp("exports")
    # The first seeds from 71 that give a clear skew (the angle is drawn after typesetting the text).
    skewed = next(
        page
        for seed in range(71, 200)
        for page in synth.render_pages(test_text, 1, seed=seed, max_skew=5, degradations=("texture", "noise"))
        if abs(page.params["skew"]) > 2
    )
    # Finding the turn is the cleaning stage's job (test_preprocess); here the page must be one it
    # turns, so that the exports have a right-angle turn to undo.
    turned = next(
        page
        for seed in range(171, 300)
        for page in synth.render_pages(
            test_text, 1, seed=seed, max_skew=3, degradations=("lighting",), turn=90
        )
        if abs(page.params["skew"]) > 1 and preprocess.clean(page.image, 300, Settings()).orientation
    )
    synth.write_pages([skewed], folder / "in", "skewed")
    synth.write_pages([turned], folder / "in", "turned")
    out = folder / "out"
    archocr("run", str(folder / "in"), "--out", str(out), "--serial", "-q", "--cleaned-frame", check=True)
    return out, {"skewed-0001": skewed, "turned-0001": turned}


@pytest.mark.parametrize("document", ["skewed-0001", "turned-0001"])
@pytest.mark.parametrize("reader", [page_words, alto_words, hocr_words], ids=["page", "alto", "hocr"])
def test_boxes_land_on_the_words_of_the_original_scan(skewed_and_turned, document, reader):
    out, truth = skewed_and_turned
    suffix = {"page_words": "page.xml", "alto_words": "alto.xml", "hocr_words": "hocr"}[reader.__name__]
    image, words = reader(out / document / f"0001.{suffix}")
    original = (out / document / image).resolve()
    assert original == (out.parent / "in" / f"{document}.png").resolve()  # the scan itself, not a copy
    with Image.open(original) as im:
        assert im.size == truth[document].image.shape[::-1]
    on_word, same_text, distance = landing(words, truth[document].words)
    assert len(words) > 200
    assert on_word > 0.97, on_word
    assert same_text > 0.85, same_text
    # Centres agree to a few pixels (upright rectangles round a rotated box keep its centre).
    assert distance < 6, distance


def test_turned_page_says_how_it_was_turned(skewed_and_turned):
    out, truth = skewed_and_turned
    page = etree.parse(str(out / "turned-0001" / "0001.page.xml"))
    pc_page = page.find(".//p:Page", PAGE_NS)
    model = load_json(out / "turned-0001" / "0001.json")["page"]
    assert model["orientation"] == 270  # lying on its side clockwise: turned back 270 clockwise
    orientation = float(pc_page.get("orientation"))
    assert abs(orientation - (-90 - model["skew_angle"])) < 0.01
    (alt,) = pc_page.findall("p:AlternativeImage", PAGE_NS)
    assert alt.get("filename") == "0001.png" and "rotated-90" in alt.get("comments").split(",")
    hocr = (out / "turned-0001" / "0001.hocr").read_text(encoding="utf-8")
    angles = {float(a) for a in re.findall(r"textangle ([-\d.]+)", hocr)}
    # Lines run down the scan (90 degrees clockwise), tilted by the page's skew (counter-clockwise).
    expected = truth["turned-0001"].params["skew"] - 90
    assert angles and all(abs(a - expected) < 1.0 for a in angles), (angles, expected)
    alto = etree.parse(str(out / "turned-0001" / "0001.alto.xml"))
    assert alto.xpath("//a:TextLine/a:Shape/a:Polygon", namespaces=ALTO_NS)


def test_cleaned_frame_files_fit_the_cleaned_image(skewed_and_turned):
    out, _ = skewed_and_turned
    folder = out / "skewed-0001"
    image, words = page_words(folder / "0001.cleaned.page.xml")
    assert image == "0001.png"
    with Image.open(folder / image) as im:
        w, h = im.size
    assert all((q[:, 0] <= w).all() and (q[:, 1] <= h).all() for _, q in words)
    model = load_json(folder / "0001.json")
    assert set(model["outputs"]) >= {"hocr_cleaned", "alto_cleaned", "page_xml_cleaned"}


def test_exports_validate_against_their_schemas(skewed_and_turned):
    out, _ = skewed_and_turned
    alto = etree.XMLSchema(etree.parse(str(SCHEMAS / "alto-4-2.xsd")))
    page = etree.XMLSchema(etree.parse(str(SCHEMAS / "pagecontent-2019-07-15.xsd")))
    for path in out.rglob("*.alto.xml"):
        assert alto.validate(etree.parse(str(path))), (path, alto.error_log.last_error)
    for path in out.rglob("*.page.xml"):
        assert page.validate(etree.parse(str(path))), (path, page.error_log.last_error)


def test_pdf_page_keeps_its_rasterised_original(tmp_path, test_text):
    pages = synth.render_pages(test_text, 1, seed=73, max_skew=2, degradations=("texture",))
    synth.write_pages(pages, tmp_path / "in", "doc", "pdf")
    out = tmp_path / "out"
    archocr("run", str(tmp_path / "in" / "doc.pdf"), "--out", str(out), "--serial", "-q", check=True)
    data = load_json(out / "doc" / "0001.json")
    assert data["outputs"]["original"] == "0001.orig.jpg" and data["original"]["name"] == "0001.orig.jpg"
    image, words = page_words(out / "doc" / "0001.page.xml")
    assert image == "0001.orig.jpg"
    with Image.open(out / "doc" / image) as im:
        assert im.size == pages[0].image.shape[::-1] and im.info["dpi"][0] == pytest.approx(300, abs=1)
    on_word, _, _ = landing(words, pages[0].words)
    assert on_word > 0.97


def test_page_png_carries_its_resolution(skewed_and_turned):
    out, _ = skewed_and_turned
    data = load_json(out / "skewed-0001" / "0001.json")
    with Image.open(out / "skewed-0001" / "0001.png") as im:
        assert im.info["dpi"][0] == pytest.approx(data["page"]["dpi"], abs=0.5)
