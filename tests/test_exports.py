"""The exchange formats as an archive uses them: boxes on the original scan, checked against the
synthetic pages' own word boxes (synth knows where it printed every word)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from lxml import etree
from PIL import Image

from pipeline import correct, export, preprocess, synth
from pipeline.config import Settings
from pipeline.model import BBox, Line, Page, Paragraph, Step, Word

from .conftest import SCHEMAS, TOOLS, archocr, load_json, tool_python

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
    # A scanned PDF: its pages have no image file of their own.
    scanned = synth.render_pages(test_text, 1, seed=73, max_skew=2, degradations=("texture",))[0]
    synth.write_pages([scanned], folder / "in", "doc", "pdf")
    out = folder / "out"
    archocr("run", str(folder / "in"), "--out", str(out), "--serial", "-q", "--cleaned-frame", check=True)
    return out, {"skewed-0001": skewed, "turned-0001": turned, "doc": scanned}


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


def test_pdf_page_keeps_its_rasterised_original(skewed_and_turned):
    out, truth = skewed_and_turned
    data = load_json(out / "doc" / "0001.json")
    assert data["outputs"]["original"] == "0001.orig.jpg" and data["original"]["name"] == "0001.orig.jpg"
    image, words = page_words(out / "doc" / "0001.page.xml")
    assert image == "0001.orig.jpg"
    with Image.open(out / "doc" / image) as im:
        assert im.size == truth["doc"].image.shape[::-1] and im.info["dpi"][0] == pytest.approx(300, abs=1)
    on_word, _, _ = landing(words, truth["doc"].words)
    assert on_word > 0.97


def test_page_png_carries_its_resolution(skewed_and_turned):
    out, _ = skewed_and_turned
    data = load_json(out / "skewed-0001" / "0001.json")
    with Image.open(out / "skewed-0001" / "0001.png") as im:
        assert im.info["dpi"][0] == pytest.approx(data["page"]["dpi"], abs=0.5)


# --- baselines, hyphenated words, correction marks --------------------------------------------------


def test_every_line_has_a_baseline_on_its_line(skewed_and_turned):
    out, _ = skewed_and_turned
    for document in ("skewed-0001", "turned-0001"):
        page = etree.parse(str(out / document / "0001.page.xml"))
        lines = page.xpath("//p:TextLine", namespaces=PAGE_NS)
        assert len(lines) > 20
        for line in lines:
            polygon = _quad(line.find("p:Coords", PAGE_NS).get("points"))
            baseline = _quad(line.find("p:Baseline", PAGE_NS).get("points"))
            assert len(baseline) >= 2
            # Both ends on the line's own box (within 3 px), in its lower half: where letters stand.
            for x, y in baseline:
                assert cv2.pointPolygonTest(polygon, (float(x), float(y)), True) >= -3
            assert np.linalg.norm(baseline[-1] - baseline[0]) > 0.5 * np.linalg.norm(polygon[1] - polygon[0])
        alto = etree.parse(str(out / document / "0001.alto.xml"))
        alto_lines = alto.xpath("//a:TextLine", namespaces=ALTO_NS)
        assert len(alto_lines) == len(lines) and all(ln.get("BASELINE") for ln in alto_lines)


def _hand_page(lines: list[list[str]]) -> Page:
    """A page built by hand: each word 100 px wide, lines 60 px apart."""
    model_lines = []
    for row, words in enumerate(lines):
        boxes = [
            BBox(100 + 120 * i, 100 + 60 * row, 200 + 120 * i, 140 + 60 * row) for i in range(len(words))
        ]
        model_lines.append(
            Line(tuple(Word(w, b, 91.0) for w, b in zip(words, boxes, strict=True)), BBox.enclosing(boxes))
        )
    par = Paragraph(tuple(model_lines), BBox.enclosing([ln.bbox for ln in model_lines]))
    return Page("hand", 1, 1400, 800, 300, (par,), steps=(Step("ocr", "5.3.0"),))


def line_texts(page_xml: bytes, alto: bytes, hocr: bytes) -> tuple[list[str], list[str], list[str]]:
    """Each format's own text of every line: PAGE's TextLine TextEquiv, ALTO's Strings with their SP
    and HYP, hOCR's words."""
    page = etree.fromstring(page_xml)
    page_lines = [
        ln.xpath("string(p:TextEquiv/p:Unicode)", namespaces=PAGE_NS)
        for ln in page.xpath("//p:TextLine", namespaces=PAGE_NS)
    ]
    alto_lines = []
    for ln in etree.fromstring(alto).xpath("//a:TextLine", namespaces=ALTO_NS):
        parts = []
        for el in ln:
            name = etree.QName(el).localname
            parts.append({"String": el.get("CONTENT"), "SP": " ", "HYP": el.get("CONTENT")}.get(name, ""))
        alto_lines.append("".join(parts))
    hocr_lines = [
        " ".join(w.text for w in ln.xpath("h:span[@class='ocrx_word']", namespaces=XHTML_NS))
        for ln in etree.fromstring(hocr).xpath("//h:span[@class='ocr_line']", namespaces=XHTML_NS)
    ]
    return page_lines, alto_lines, hocr_lines


def test_hyphenated_word_stays_on_its_printed_lines_in_every_format():
    printed = [["Работа", "шла", "под", "руко-"], ["водством", "партии,", "и", "6ыл", "успех."]]
    page = correct.page_corrector(Settings())(_hand_page(printed))
    assert "руководством" in page.text  # the page text has the word whole
    page_xml, alto, hocr = (f(page, "0001.png") for f in (export.to_page_xml, export.to_alto, export.to_hocr))
    page_lines, alto_lines, hocr_lines = line_texts(page_xml, alto, hocr)
    # Every format transcribes each line image as printed (the correction of 6ыл is the same in all).
    assert page_lines == alto_lines == hocr_lines
    assert page_lines[0] == "Работа шла под руко-" and page_lines[1].startswith("водством партии,")
    # ... and records the whole word the way ALTO does.
    alto_root = etree.fromstring(alto)
    halves = alto_root.xpath("//a:String[@SUBS_TYPE]", namespaces=ALTO_NS)
    assert [(s.get("SUBS_TYPE"), s.get("SUBS_CONTENT")) for s in halves] == [
        ("HypPart1", "руководством"),
        ("HypPart2", "руководством"),
    ]
    page_root = etree.fromstring(page_xml)
    whole = page_root.xpath("//p:Word/p:TextEquiv[@index='2']/p:Unicode/text()", namespaces=PAGE_NS)
    assert whole.count("руководством") == 2
    assert hocr.decode().count("x_subs_content руководством") == 2


def test_machine_corrections_are_marked_as_such():
    page = correct.page_corrector(Settings())(_hand_page([["Он", "6ыл", "в", "городе."]]))
    (change,) = [c for c in page.corrections if c.original == "6ыл"]
    assert change.corrected == "был"
    alto = etree.fromstring(export.to_alto(page, "0001.png"))
    assert not alto.xpath("//*[@CS]"), "CS means manual correction in ALTO"
    (string,) = alto.xpath("//a:String[a:ALTERNATIVE]", namespaces=ALTO_NS)
    assert string.get("CONTENT") == "был"
    assert string.xpath("string(a:ALTERNATIVE)", namespaces=ALTO_NS) == "6ыл"
    assert float(string.get("WC")) == pytest.approx(min(1.0, change.confidence), abs=0.001)
    (processing,) = alto.xpath(f"//a:Processing[@ID='{string.get('PROCESSINGREFS')}']", namespaces=ALTO_NS)
    assert processing.xpath("string(a:processingStepDescription)", namespaces=ALTO_NS) == "correct"
    page_xml = etree.fromstring(export.to_page_xml(page, "0001.png"))
    (word,) = page_xml.xpath("//p:Word[p:TextEquiv[@index='2']]", namespaces=PAGE_NS)
    first, second = word.findall("p:TextEquiv", PAGE_NS)
    assert first.findtext("p:Unicode", namespaces=PAGE_NS) == "был"
    assert float(first.get("conf")) == pytest.approx(min(1.0, change.confidence), abs=0.001)
    assert second.findtext("p:Unicode", namespaces=PAGE_NS) == "6ыл" and float(second.get("conf")) == 0.91


def test_real_pages_agree_line_by_line_across_formats(skewed_and_turned):
    out, _ = skewed_and_turned
    for document in ("skewed-0001", "turned-0001"):
        folder = out / document
        texts = line_texts(*((folder / f"0001.{s}").read_bytes() for s in ("page.xml", "alto.xml", "hocr")))
        assert texts[0] == texts[1] == texts[2] and len(texts[0]) > 20


# --- other projects' readers and validators ----------------------------------------------------------


@pytest.mark.slow
def test_kraken_reads_a_baseline_for_every_line(skewed_and_turned):
    """kraken (and so eScriptorium and ketos) loads PAGE and ALTO in its default baseline mode."""
    out, _ = skewed_and_turned
    files = [
        out / d / f"0001.{s}" for d in ("skewed-0001", "turned-0001", "doc") for s in ("page.xml", "alto.xml")
    ]
    result = subprocess.run(
        [str(tool_python("kraken")), str(TOOLS / "kraken_read.py"), *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for parsed, path in zip(json.loads(result.stdout), files, strict=True):
        ours = etree.parse(str(path)).xpath("//*[local-name()='TextLine']")
        assert parsed["type"] == "baselines" and len(parsed["lines"]) == len(ours) > 20, path
        assert all(len(line["baseline"]) >= 2 and line["text"] for line in parsed["lines"]), path
        assert Path(parsed["image"]).resolve().is_file(), parsed["image"]  # the original, found from the file
    page_lines = [ln["text"] for ln in json.loads(result.stdout)[0]["lines"]]
    assert (
        page_lines
        == line_texts(
            *((out / "skewed-0001" / f"0001.{s}").read_bytes() for s in ("page.xml", "alto.xml", "hocr"))
        )[0]
    )


@pytest.mark.slow
def test_ocrd_workspace_validate_accepts_our_pages(skewed_and_turned):
    out, _ = skewed_and_turned
    python = tool_python("ocrd")
    for document in ("doc", "turned-0001"):
        folder = out / document
        page = etree.parse(str(folder / "0001.page.xml"))
        original = page.find(".//p:Page", PAGE_NS).get("imageFilename")
        pc_gts_id = page.getroot().get("pcGtsId")
        subprocess.run(
            [str(python), str(TOOLS / "ocrd_workspace.py"), str(folder), "0001", original, pc_gts_id],
            check=True,
            capture_output=True,
        )
        result = subprocess.run(
            [str(python.parent / "ocrd"), "workspace", "-d", str(folder), "validate"],
            capture_output=True,
            text=True,
            cwd=folder,
        )
        assert '<report valid="true">' in result.stdout, (document, result.stdout, result.stderr[-2000:])


def test_hocr_passes_hocr_spec_standard_profile(skewed_and_turned):
    out, _ = skewed_and_turned
    for path in sorted(out.rglob("*.hocr")):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "from hocr_spec.cli import main; main()",
                "--profile",
                "standard",
                str(path),
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0 and "Document is valid" in result.stdout + result.stderr, (
            path,
            result.stdout[-2000:],
        )
