"""The exchange formats as an archive uses them: boxes on the original scan, checked against the
synthetic pages' own word boxes (synth knows where it printed every word)."""

from __future__ import annotations

import dataclasses
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

from pipeline import correct, evaluate, export, pdf, preprocess, synth
from pipeline.config import Settings
from pipeline.model import BBox, Line, Page, Paragraph, Step, Word, Zone

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
    assert hocr.decode().count('data-subs-content="руководством"') == 2


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
def test_ocrd_workspace_validate_accepts_our_pages(skewed_and_turned, tmp_path):
    out, _ = skewed_and_turned
    python = tool_python("ocrd")
    # ... and a page with zones (typed regions, a stamp's reading nested in its graphic region).
    zoned = tmp_path / "zoned"
    zoned.mkdir()
    page = _zoned_page()
    Image.new("L", (page.width, page.height), 255).save(zoned / "0001.png", dpi=(300, 300))
    (zoned / "0001.page.xml").write_bytes(export.to_page_xml(page, "0001.png"))
    for folder in (out / "doc", out / "turned-0001", zoned):
        document = folder.name
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


# --- zones -----------------------------------------------------------------------------------------


def _zoned_page() -> Page:
    """A letter as the layout stage gives it: a heading, two body paragraphs, a round stamp with its
    reading, a resolution in the margin, a folio number, and a stamp nobody could read."""
    base = _hand_page([["ПРОТОКОЛ", "№", "5"], ["Слушали:", "о", "работе"], ["Постановили:", "принять"]])
    lines = base.paragraphs[0].lines
    paragraphs = tuple(Paragraph((ln,), ln.bbox, block=i + 1) for i, ln in enumerate(lines))
    zones = (
        Zone("z1", "heading", BBox(90, 90, 480, 150), paragraphs=(0,)),
        Zone("z2", "body", BBox(90, 150, 500, 270), paragraphs=(1, 2)),
        Zone("z3", "stamp", BBox(900, 100, 1200, 400), text="ЦК ВКП(б) Секретариат", conf=71.0, role="round"),
        Zone("z4", "handwriting", BBox(900, 450, 1300, 520), text="В архив", conf=40.0, role="resolution"),
        Zone("z5", "folio", BBox(1250, 20, 1350, 60), text="34", conf=90.0),
        Zone("z6", "stamp", BBox(100, 600, 300, 750), role="rect"),
    )
    return dataclasses.replace(base, paragraphs=paragraphs, zones=zones)


def test_zones_become_typed_regions_in_every_format():
    page = _zoned_page()
    page_xml = etree.fromstring(export.to_page_xml(page, "0001.png"))
    assert etree.XMLSchema(etree.parse(str(SCHEMAS / "pagecontent-2019-07-15.xsd"))).validate(
        page_xml.getroottree()
    )
    regions = {r.get("id"): r for r in page_xml.xpath("//p:Page/*[p:Coords]", namespaces=PAGE_NS)}
    kinds = {rid: (etree.QName(r).localname, r.get("type")) for rid, r in regions.items()}
    assert kinds == {
        "z1": ("TextRegion", "heading"),
        "z2": ("TextRegion", "paragraph"),
        "z3": ("GraphicRegion", "stamp"),
        "z4": ("TextRegion", "marginalia"),
        "z5": ("TextRegion", "page-number"),
        "z6": ("GraphicRegion", "stamp"),
    }
    assert len(regions["z2"].findall("p:TextLine", PAGE_NS)) == 2
    assert (
        regions["z3"].xpath("string(.//p:TextEquiv/p:Unicode)", namespaces=PAGE_NS) == "ЦК ВКП(б) Секретариат"
    )
    assert "role:resolution" in regions["z4"].get("custom")

    alto = etree.fromstring(export.to_alto(page, "0001.png"))
    assert etree.XMLSchema(etree.parse(str(SCHEMAS / "alto-4-2.xsd"))).validate(alto.getroottree())
    tags = {t.get("ID"): (etree.QName(t).localname, t.get("LABEL")) for t in alto.find("a:Tags", ALTO_NS)}
    assert tags["tag_heading"] == ("LayoutTag", "heading")
    assert tags["tag_stamp_round"] == ("OtherTag", "stamp:round")
    blocks = {b.get("ID"): b for b in alto.xpath("//a:PrintSpace/*", namespaces=ALTO_NS)}
    assert (
        blocks["z1"].get("TAGREFS") == "tag_heading"
        and blocks["z4"].get("TAGREFS") == "tag_handwriting_resolution"
    )
    assert etree.QName(blocks["z6"]).localname == "Illustration" and blocks["z6"].get("TYPE") == "stamp"
    assert [s.get("CONTENT") for s in blocks["z3"].iter(f"{{{ALTO_NS['a']}}}String")] == [
        "ЦК",
        "ВКП(б)",
        "Секретариат",
    ]

    hocr = export.to_hocr(page, "0001.png")
    areas = etree.fromstring(hocr).xpath("//h:div[starts-with(@class, 'ocr_carea')]", namespaces=XHTML_NS)
    assert [a.get("class") for a in areas] == [
        "ocr_carea zone-heading",
        "ocr_carea zone-body",
        "ocr_carea zone-stamp role-round",
        "ocr_carea zone-handwriting role-resolution",
        "ocr_carea zone-folio",
        "ocr_carea zone-stamp role-rect",
    ]
    # The document's own text stays what it was: furniture never enters the page text.
    assert page.text == "ПРОТОКОЛ № 5\n\nСлушали: о работе\n\nПостановили: принять"


def test_zoned_and_hyphenated_hocr_passes_hocr_spec(tmp_path):
    path = tmp_path / "0001.hocr"
    hyphenated = correct.page_corrector(Settings())(_hand_page([["под", "руко-"], ["водством", "партии"]]))
    path.write_bytes(export.to_hocr(_zoned_page(), "0001.png"))
    (tmp_path / "0002.hocr").write_bytes(export.to_hocr(hyphenated, "0002.png"))
    result = subprocess.run(
        [sys.executable, "-c", "from hocr_spec.cli import main; main()", "--profile", "standard", str(path)]
        + [str(tmp_path / "0002.hocr")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "ERROR" not in result.stdout, result.stdout[-2000:]
    assert "data-subs-content" in (tmp_path / "0002.hocr").read_text(encoding="utf-8")


# --- the searchable PDF/A ------------------------------------------------------------------------------


def _pdf_words(path: Path, page: int = 1, mode: str = "-raw") -> list[tuple[str, np.ndarray]]:
    """pdftotext's words (in content order with `-raw`, in its physical layout with `-layout`) with
    their boxes, in pixels at 300 dpi on the original scan's frame (undoing the PDF's straightening).
    On slanted text poppler cuts a word where its baseline steps; pieces that touch are joined again."""
    box_option = "-bbox-layout" if mode == "-layout" else "-bbox"
    html = subprocess.run(
        [
            "pdftotext",
            *([mode] if mode == "-raw" else []),
            box_option,
            "-f",
            str(page),
            "-l",
            str(page),
            str(path),
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    pieces = [(m.group(5), [float(v) for v in m.groups()[:4]]) for m in re.finditer(pattern, html)]
    words: list[tuple[str, list[float]]] = []
    for text, (x0, y0, x1, y1) in pieces:
        if words and abs(x0 - words[-1][1][2]) < 0.01 and abs(y0 - words[-1][1][1]) < 5:
            last_text, (a0, b0, a1, b1) = words[-1]
            words[-1] = (last_text + text, [min(a0, x0), min(b0, y0), max(a1, x1), max(b1, y1)])
        else:
            words.append((text, [x0, y0, x1, y1]))
    import pikepdf

    with pikepdf.open(path) as document:
        rotate = int(document.pages[page - 1].obj.get("/Rotate", 0)) % 360
        _, _, width, height = (float(v) for v in document.pages[page - 1].mediabox)

    def unrotated(x: float, y: float) -> tuple[float, float]:
        """pdftotext gives points as displayed (after /Rotate, clockwise); back to the page's frame."""
        if rotate == 90:
            return y, height - x
        if rotate == 180:
            return width - x, height - y
        if rotate == 270:
            return width - y, x
        return x, y

    data = load_json(path.parent / f"{page:04d}.json")
    with Image.open(path.parent / data["original"]["name"]) as im:
        straighten, _, _ = pdf.straightening(data["page"]["transform"], *im.size)
    back = np.linalg.inv(straighten)
    boxes = []
    for text, (x0, y0, x1, y1) in words:
        corners = np.array([unrotated(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]) * 300 / 72
        on_original = np.c_[corners, np.ones(4)] @ back.T
        boxes.append((text, on_original[:, :2].astype(np.float32)))
    return boxes


def test_pdf_is_pdfa_2b_with_embedded_fonts_and_metadata(skewed_and_turned):
    """What PDF/A-2b asks that can be checked here (veraPDF is not installable from the package
    registries): identification in XMP agreeing with the document information, an sRGB OutputIntent
    with its ICC profile, every font embedded, a document ID, no encryption, no transparency groups."""
    import pikepdf

    out, _ = skewed_and_turned
    for path in sorted(out.glob("*/*.pdf")):
        with pikepdf.open(path) as pdf:
            assert pdf.pdf_version <= "1.7" and not pdf.is_encrypted
            meta = pdf.open_metadata()
            assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"
            assert meta["dc:title"] == str(pdf.docinfo.Title) == path.stem
            assert str(pdf.docinfo.Producer).startswith("archocr") and meta["pdf:Producer"] == str(
                pdf.docinfo.Producer
            )
            assert "/Author" not in pdf.docinfo and str(pdf.Root.Lang) == "ru"
            (intent,) = pdf.Root.OutputIntents
            assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
            profile = intent.DestOutputProfile.read_bytes()
            assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB "
            assert len(pdf.trailer.ID) == 2
            for page in pdf.pages:
                assert "/Group" not in page.obj
                for font in page.Resources.Font.values():
                    descriptor = font.get("/FontDescriptor")
                    assert descriptor is not None and "/FontFile2" in descriptor, font  # embedded TrueType
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows and all(row.split()[-5] == "yes" for row in rows), fonts  # the "emb" column
        assert "Helvetica" not in fonts


@pytest.mark.parametrize("document", ["skewed-0001", "turned-0001"])
def test_pdf_shows_the_original_with_the_words_on_it(skewed_and_turned, document):
    out, truth = skewed_and_turned
    path = out / document / f"{document}.pdf"
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    image = images.splitlines()[2].split()
    # The scan in grey (as scanned), JPEG, at its own size: not the binarised page.
    assert image[5] == "gray" and image[8] == "jpeg"
    assert (int(image[3]), int(image[4])) == truth[document].image.shape[::-1]
    words = _pdf_words(path)
    on_word, same_text, _ = landing(words, truth[document].words)
    assert on_word > 0.95 and same_text > 0.8, (on_word, same_text)
    import pikepdf

    with pikepdf.open(path) as pdf:  # shown upright: a turned scan keeps its frame and gets /Rotate
        assert int(pdf.pages[0].obj.get("/Rotate", 0)) == (270 if document == "turned-0001" else 0)
    # Read in content order the text is the page's, line by line.
    raw = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert evaluate.score(truth[document].text, raw).cer < 0.05


@pytest.mark.parametrize("document", ["skewed-0001", "turned-0001"])
def test_pdf_of_a_skewed_scan_reads_line_by_line_in_every_extractor(skewed_and_turned, document):
    """poppler's default (physical layout) reading, the one archives index with most, gets the page's
    text back as -raw and pypdf do, and its word boxes lie on the words ALTO gives on the original."""
    import pypdf

    out, truth = skewed_and_turned
    assert abs(truth[document].params["skew"]) > 1  # a page whose lines are slanted on the scan
    path = out / document / f"{document}.pdf"
    page_text = (out / document / "0001.txt").read_text(encoding="utf-8")
    readings = {
        "default": subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True),
        "raw": subprocess.run(
            ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
        ),
    }
    cers = {mode: evaluate.score(page_text, done.stdout).cer for mode, done in readings.items()}
    cers["pypdf"] = evaluate.score(page_text, pypdf.PdfReader(str(path)).pages[0].extract_text()).cer
    assert max(cers.values()) < 0.02, cers
    _, alto = alto_words(out / document / "0001.alto.xml")
    on_word, same_text, _ = landing(_pdf_words(path, mode="-layout"), [(t, q.tolist()) for t, q in alto])
    assert on_word > 0.95 and same_text > 0.9, (on_word, same_text)


def test_pdf_with_the_cleaned_image_is_bilevel_g4(skewed_and_turned, tmp_path):
    import shutil

    out, truth = skewed_and_turned
    folder = tmp_path / "doc"
    shutil.copytree(out / "doc", folder)
    cleaned = export.write_document_pdf(folder, "doc", [1], image="cleaned")
    original_size = (out / "doc" / "doc.pdf").stat().st_size
    images = subprocess.run(["pdfimages", "-list", str(cleaned)], capture_output=True, text=True, check=True)
    image = images.stdout.splitlines()[2].split()
    assert image[6] == "1" and image[7] == "1" and image[8] == "ccitt"  # one component, one bit, G4
    assert cleaned.stat().st_size < original_size
    # The G4 image renders as the cleaned PNG does (polarity and geometry).
    subprocess.run(["pdftoppm", "-r", "300", "-gray", str(cleaned), str(tmp_path / "r")], check=True)
    rendered = np.asarray(Image.open(next(tmp_path.glob("r*.pgm"))), np.int16)
    png = np.asarray(Image.open(folder / "0001.png").convert("L"), np.int16)
    h, w = min(rendered.shape[0], png.shape[0]), min(rendered.shape[1], png.shape[1])
    assert (np.abs(rendered[:h, :w] - png[:h, :w]) < 128).mean() > 0.97
    text = subprocess.run(["pdftotext", str(cleaned), "-"], capture_output=True, text=True, check=True).stdout
    assert evaluate.score(truth["doc"].text, text).cer < 0.05


def test_pdf_text_layer_holds_only_the_document_text(tmp_path):
    """Furniture zones (stamps, resolutions, folio numbers) keep their readings in the XML files but
    not in the PDF's text: it is the document's text, as NNNN.txt."""
    page = _zoned_page()
    image = tmp_path / "0001.png"
    Image.new("L", (page.width, page.height), 255).save(image)
    data = pdf.searchable_pdf([pdf.PdfPage(page, image)], title="hand", image="cleaned")
    (tmp_path / "hand.pdf").write_bytes(data)
    raw = subprocess.run(
        ["pdftotext", "-raw", str(tmp_path / "hand.pdf"), "-"], capture_output=True, text=True
    )
    assert raw.stdout.split() == page.text.split()
