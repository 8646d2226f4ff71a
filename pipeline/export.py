"""Page outputs: plain text, hOCR, ALTO v4, PAGE-XML 2019 and the searchable PDF.

Each function turns a Page (and the name of its cleaned image) into bytes; writing them is the
caller's job, so the same functions serve `archocr run`, `archocr correct` and the tests.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from lxml import etree
from lxml.builder import ElementMaker
from PIL import Image
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from . import __version__
from .files import atomic_write, atomic_write_json
from .model import BBox, Page, page_from_dict, to_dict

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
PAGE_SCHEMA = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15/pagecontent.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Binary image streams: ASCII85 text encoding of page images is done in pure Python (a third of the
# PDF's time) and makes the file a quarter larger; no PDF reader of the last thirty years needs it.
rl_config.useA85 = 0

PDF_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def page_text(page: Page) -> str:
    text = page.text
    return text + "\n" if text else ""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _corrections_by_position(page: Page) -> dict[tuple[int, int], str]:
    return {(c.line, c.word): c.original for c in page.corrections}


# --- hOCR -------------------------------------------------------------------------------------


def _title(box: BBox, extra: str = "") -> str:
    return f"bbox {box.x0} {box.y0} {box.x1} {box.y1}{extra}"


def to_hocr(page: Page, image_name: str) -> bytes:
    E = ElementMaker(namespace=XHTML_NS, nsmap={None: XHTML_NS})  # noqa: N806 (lxml idiom)
    body = E.body()
    page_div = E.div(
        {
            "class": "ocr_page",
            "id": f"page_{page.number}",
            "title": f'image "{image_name}"; bbox 0 0 {page.width} {page.height}; ppageno {page.number - 1}; '
            f"scan_res {page.dpi} {page.dpi}",
        }
    )
    body.append(page_div)
    line_no = 0
    for p_index, par in enumerate(page.paragraphs, 1):
        area = E.div({"class": "ocr_carea", "id": f"block_{p_index}", "title": _title(par.bbox)})
        para = E.p({"class": "ocr_par", "id": f"par_{p_index}", "title": _title(par.bbox), "lang": "rus"})
        area.append(para)
        for line in par.lines:
            line_no += 1
            span = E.span({"class": "ocr_line", "id": f"line_{line_no}", "title": _title(line.bbox)})
            for w_index, word in enumerate(line.words, 1):
                if not word.text:
                    continue  # the second half of a word joined across a line end
                wspan = E.span(
                    {
                        "class": "ocrx_word",
                        "id": f"word_{line_no}_{w_index}",
                        "title": _title(word.bbox, f"; x_wconf {max(0, round(word.conf))}"),
                    }
                )
                wspan.text = word.text
                if len(span):
                    span[-1].tail = " "
                span.append(wspan)
            para.append(span)
        page_div.append(area)
    html = E.html(
        {"{http://www.w3.org/XML/1998/namespace}lang": "ru", "lang": "ru"},
        E.head(
            E.title(f"{page.document} page {page.number}"),
            E.meta({"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"}),
            E.meta({"name": "ocr-system", "content": f"archocr {__version__}"}),
            E.meta(
                {
                    "name": "ocr-capabilities",
                    "content": "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf",
                }
            ),
        ),
        body,
    )
    doctype = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
    )
    return etree.tostring(html, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype=doctype)


# --- ALTO v4 ------------------------------------------------------------------------------------


def _alto_box(el: etree._Element, box: BBox) -> None:
    el.set("HPOS", str(box.x0))
    el.set("VPOS", str(box.y0))
    el.set("WIDTH", str(box.width))
    el.set("HEIGHT", str(box.height))


def to_alto(page: Page, image_name: str) -> bytes:
    A = ElementMaker(namespace=ALTO_NS, nsmap={None: ALTO_NS, "xsi": XSI})  # noqa: N806
    root = A.alto({f"{{{XSI}}}schemaLocation": f"{ALTO_NS} {ALTO_SCHEMA}", "SCHEMAVERSION": "4.2"})
    description = A.Description(A.MeasurementUnit("pixel"), A.sourceImageInformation(A.fileName(image_name)))
    for i, step in enumerate(page.steps, 1):
        settings = "; ".join(f"{k}={v}" for k, v in step.settings.items())
        description.append(
            A.Processing(
                {"ID": f"step_{i}"},
                A.processingCategory("contentGeneration" if step.name == "ocr" else "contentModification"),
                A.processingStepDescription(step.name),
                A.processingStepSettings(settings),
                A.processingSoftware(
                    A.softwareName("archocr" if step.name != "ocr" else "tesseract"),
                    A.softwareVersion(step.version),
                ),
            )
        )
    root.append(description)
    layout = A.Layout()
    alto_page = A.Page(
        {
            "ID": f"page_{page.number}",
            "PHYSICAL_IMG_NR": str(page.number),
            "WIDTH": str(page.width),
            "HEIGHT": str(page.height),
        }
    )
    space = A.PrintSpace()
    _alto_box(space, BBox(0, 0, page.width, page.height))
    originals = _corrections_by_position(page)
    hyphenated = {
        (c.line, c.word): (c.original, c.candidates[0] if c.candidates else c.corrected, c.corrected != "")
        for c in page.corrections
        if c.reason == "line_end_hyphen"
    }
    line_no = 0
    for p_index, par in enumerate(page.paragraphs, 1):
        block = A.TextBlock({"ID": f"block_{p_index}"})
        _alto_box(block, par.bbox)
        for line in par.lines:
            text_line = A.TextLine({"ID": f"line_{line_no + 1}"})
            _alto_box(text_line, line.bbox)
            for w_index, word in enumerate(line.words):
                string = A.String({"ID": f"string_{line_no + 1}_{w_index + 1}", "CONTENT": word.text})
                _alto_box(string, word.bbox)
                if word.conf >= 0:
                    string.set("WC", f"{min(1.0, word.conf / 100):.3f}")
                hyphen = hyphenated.get((line_no, w_index))
                original = originals.get((line_no, w_index))
                if hyphen is not None:
                    # ALTO's own way: each printed half keeps its text, SUBS_CONTENT carries the word.
                    printed, joined, first_half = hyphen
                    string.set("CONTENT", printed.rstrip("-‐‑¬\u00ad") if first_half else printed)
                    string.set("SUBS_TYPE", "HypPart1" if first_half else "HypPart2")
                    string.set("SUBS_CONTENT", joined)
                elif original is not None:
                    string.set("CS", "true")
                    string.append(A.ALTERNATIVE({"PURPOSE": "original OCR"}, original))
                if w_index:
                    text_line.append(A.SP())
                text_line.append(string)
                if hyphen is not None and hyphen[2]:
                    text_line.append(A.HYP({"CONTENT": "-"}))
            block.append(text_line)
            line_no += 1
        space.append(block)
    alto_page.append(space)
    layout.append(alto_page)
    root.append(layout)
    return _xml(root)


# --- PAGE-XML 2019 ------------------------------------------------------------------------------


def _points(box: BBox) -> str:
    return f"{box.x0},{box.y0} {box.x1},{box.y0} {box.x1},{box.y1} {box.x0},{box.y1}"


def to_page_xml(page: Page, image_name: str) -> bytes:
    P = ElementMaker(namespace=PAGE_NS, nsmap={None: PAGE_NS, "xsi": XSI})  # noqa: N806
    now = _now()
    metadata = P.Metadata(P.Creator(f"archocr {__version__}"), P.Created(now), P.LastChange(now))
    for step in page.steps:
        settings = "; ".join(f"{k}={v}" for k, v in step.settings.items())
        metadata.append(
            P.MetadataItem(
                {"type": "processingStep", "name": step.name, "value": f"{step.version}; {settings}"}
            )
        )
    pc_page = P.Page(
        {"imageFilename": image_name, "imageWidth": str(page.width), "imageHeight": str(page.height)}
    )
    originals = _corrections_by_position(page)
    line_no = 0
    for p_index, par in enumerate(page.paragraphs, 1):
        region = P.TextRegion(
            {"id": f"r{p_index}", "type": "paragraph"}, P.Coords({"points": _points(par.bbox)})
        )
        for line in par.lines:
            text_line = P.TextLine(
                {"id": f"r{p_index}_l{line_no + 1}"}, P.Coords({"points": _points(line.bbox)})
            )
            for w_index, word in enumerate(line.words):
                equiv = P.TextEquiv(P.Unicode(word.text))
                if word.conf >= 0:
                    equiv.set("conf", f"{min(1.0, word.conf / 100):.3f}")
                pc_word = P.Word(
                    {"id": f"r{p_index}_l{line_no + 1}_w{w_index + 1}"},
                    P.Coords({"points": _points(word.bbox)}),
                    equiv,
                )
                original = originals.get((line_no, w_index))
                if original is not None:
                    equiv.set("index", "1")
                    pc_word.append(
                        P.TextEquiv({"index": "2", "comments": "original OCR"}, P.Unicode(original))
                    )
                text_line.append(pc_word)
            text_line.append(P.TextEquiv(P.Unicode(line.text)))
            region.append(text_line)
            line_no += 1
        region.append(P.TextEquiv(P.Unicode("\n".join(ln.text for ln in par.lines))))
        pc_page.append(region)
    root = P.PcGts({f"{{{XSI}}}schemaLocation": f"{PAGE_NS} {PAGE_SCHEMA}"}, metadata, pc_page)
    return _xml(root)


# --- searchable PDF -------------------------------------------------------------------------------


def _pdf_font() -> str:
    name = "ArchocrText"
    if name not in pdfmetrics.getRegisteredFontNames():
        path = next((p for p in PDF_FONT_FILES if Path(p).is_file()), None)
        if path is None:
            raise RuntimeError("no Unicode font for the PDF text layer: run `make setup` (fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(name, path))
    return name


def searchable_pdf(pages: list[tuple[Page, Path]]) -> bytes:
    """One PDF of the document: each cleaned page image with its words as an invisible text layer,
    placed over the word boxes so that search hits and text selection land on the right spot."""
    font = _pdf_font()
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pageCompression=1)
    pdf.setCreator(f"archocr {__version__}")
    for page, image_path in pages:
        scale = 72.0 / page.dpi
        width_pt, height_pt = page.width * scale, page.height * scale
        pdf.setPageSize((width_pt, height_pt))
        with Image.open(image_path) as im:
            # reportlab packs 8-bit grey far faster than 1-bit images; Flate keeps the file as small.
            pixels = im.convert("L") if im.mode == "1" else im.copy()
        pdf.drawImage(ImageReader(pixels), 0, 0, width=width_pt, height=height_pt)
        for line in page.lines:
            # One text object per line, all words on the line's baseline: PDF readers then keep reading order.
            size = max(1.0, line.bbox.height * scale * 0.75)
            baseline = height_pt - line.bbox.y1 * scale + line.bbox.height * scale * 0.2
            text = pdf.beginText()
            text.setTextRenderMode(3)  # invisible: searchable and selectable, the image shows through
            text.setFont(font, size)
            for i, word in enumerate(line.words):
                box = word.bbox
                # The word stretched to its box, plus the gap to the next word as a stretched space.
                right = line.words[i + 1].bbox.x0 if i + 1 < len(line.words) else box.x1
                chunk = word.text + (" " if i + 1 < len(line.words) else "")
                natural = pdfmetrics.stringWidth(chunk, font, size)
                text.setTextOrigin(box.x0 * scale, baseline)
                if natural > 0:
                    text.setHorizScale(100.0 * max(1, right - box.x0) * scale / natural)
                text.textOut(chunk)
            pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


# --- files ------------------------------------------------------------------------------------------


def page_stem(number: int) -> str:
    return f"{number:04d}"


def page_output_names(number: int) -> dict[str, str]:
    """{kind: file name} of every per-page output."""
    stem = page_stem(number)
    return {
        "image": f"{stem}.png",
        "text": f"{stem}.txt",
        "raw_text": f"{stem}.raw.txt",
        "hocr": f"{stem}.hocr",
        "alto": f"{stem}.alto.xml",
        "page_xml": f"{stem}.page.xml",
        "json": f"{stem}.json",
    }


def write_page_files(page: Page, image: np.ndarray, folder: Path, extra: dict[str, Any]) -> dict[str, str]:
    """Write every per-page output into `folder`, each atomically; returns {kind: file name}.

    The page JSON goes last: its presence (with a matching key) is what marks the page as done."""
    names = page_output_names(page.number)
    # Bilevel PNG: a binarised page at 300 dpi packs into about 100 KB.
    # (inRange + countNonZero: a hundred times faster than numpy's isin on a full page.)
    grey_8bit = image.ndim == 2 and image.dtype == np.uint8
    bilevel = grey_8bit and cv2.countNonZero(cv2.inRange(image, 1, 254)) == 0
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_BILEVEL, 1] if bilevel else [])
    if not ok:
        raise RuntimeError(f"could not encode page image for {folder / names['image']}")
    raw = page.raw_text if page.raw_text is not None else page.text
    contents: dict[str, Any] = {
        "image": lambda: png.tobytes(),
        "text": lambda: page_text(page),
        "raw_text": lambda: raw + "\n" if raw else "",
        "hocr": lambda: to_hocr(page, names["image"]),
        "alto": lambda: to_alto(page, names["image"]),
        "page_xml": lambda: to_page_xml(page, names["image"]),
    }
    written: list[Path] = []
    try:
        for kind, make in contents.items():
            written.append(atomic_write(folder / names[kind], make()))
        atomic_write_json(folder / names["json"], {**extra, "image": names["image"], "page": to_dict(page)})
    except BaseException:
        # A page is all or nothing: no stray outputs from a page whose JSON never got written.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return names


def read_page_json(path: Path) -> tuple[Page, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return page_from_dict(data["page"]), data


def write_document_pdf(folder: Path, document: str, numbers: list[int]) -> Path | None:
    """Assemble `<document>.pdf` from the finished pages' JSON and images (in page order)."""
    pages = []
    for number in sorted(numbers):
        json_path = folder / f"{page_stem(number)}.json"
        if json_path.is_file():
            page, data = read_page_json(json_path)
            pages.append((page, folder / data["image"]))
    if not pages:
        return None
    return atomic_write(folder / f"{document}.pdf", searchable_pdf(pages))
