"""Page outputs: plain text, hOCR, ALTO v4, PAGE-XML 2019 and the searchable PDF.

Each function turns a Page (and the name of its cleaned image) into bytes; writing them is the
caller's job, so the same functions serve `archocr run`, `archocr correct` and the tests.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from lxml import etree
from lxml.builder import ElementMaker
from PIL import Image

from . import __version__, pdf
from .files import atomic_write, atomic_write_json
from .model import BBox, Line, Page, Zone, page_from_dict, to_dict

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
PAGE_SCHEMA = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15/pagecontent.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XHTML_NS = "http://www.w3.org/1999/xhtml"


@dataclass(frozen=True)
class Original:
    """The image the exchange formats refer to: the scan as the archive keeps it (for PDF pages and
    frames of multi-page files, archocr's own copy `NNNN.orig.*`). `name` is how the files name it,
    relative to the page's output folder; width and height are its pixels, dpi its resolution."""

    name: str
    width: int
    height: int
    dpi: int


class Frame:
    """Carries boxes of the cleaned image into the frame the exports are written in: the original scan
    (through Page.transform) or, without an original, the cleaned image itself."""

    def __init__(self, page: Page, original: Original | None) -> None:
        self.original = original
        if original is None:
            self.matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
            self.width, self.height, self.dpi = page.width, page.height, page.dpi
        else:
            self.matrix = np.array(page.transform, float)
            self.width, self.height, self.dpi = original.width, original.height, original.dpi
        a, c = self.matrix[0, 0], self.matrix[1, 0]
        # Direction of the cleaned image's x axis on the target: the angle of the text lines,
        # counter-clockwise in degrees as hOCR's textangle and ALTO's ROTATION count it.
        angle = float(np.degrees(np.arctan2(-c, a)))
        self.angle = 0.0 if abs(angle) < 0.01 else round(angle, 2)

    @property
    def rotated(self) -> bool:
        return self.angle != 0.0

    def points(self, xy: list[tuple[float, float]]) -> list[tuple[int, int]]:
        """Points of the cleaned image mapped to the target, rounded and kept on the image."""
        src = np.asarray(xy, float)
        mapped = src @ self.matrix[:, :2].T + self.matrix[:, 2]
        xs = np.clip(np.rint(mapped[:, 0]), 0, self.width - 1).astype(int)
        ys = np.clip(np.rint(mapped[:, 1]), 0, self.height - 1).astype(int)
        return list(zip(xs.tolist(), ys.tolist(), strict=True))

    def corners(self, box: BBox) -> list[tuple[int, int]]:
        return self.points([(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)])

    def rect(self, box: BBox) -> BBox:
        """The upright rectangle around the mapped box (right/bottom exclusive, as BBox)."""
        if self.original is None:
            return box
        corners = self.corners(box)
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        return BBox(min(xs), min(ys), max(xs) + 1, max(ys) + 1)


def baseline_of(line: Line) -> tuple[tuple[int, int], ...]:
    """The line's baseline; for OCR that came without one, the bottom edge of its box."""
    return line.baseline or ((line.bbox.x0, line.bbox.y1), (line.bbox.x1, line.bbox.y1))


def _points_text(points: list[tuple[int, int]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def page_text(page: Page) -> str:
    text = page.text
    return text + "\n" if text else ""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


HYPHENS = "-‐‑¬\u00ad"


@dataclass(frozen=True)
class Marks:
    """What the corrector did to one word, as the exchange formats record it."""

    printed: str  # the text the line image shows (Tesseract's reading of this half for a joined word)
    original: str | None = None  # Tesseract's reading, where the corrector replaced the word
    confidence: float = -1.0  # the corrector's confidence in its replacement, 0..1
    hyphen_part: int = 0  # 1 or 2: a half of a word hyphenated at a line end
    joined: str = ""  # the whole hyphenated word


def _marks(page: Page) -> dict[tuple[int, int], Marks]:
    """{(line, word): Marks} of every word the corrector touched. A word changed twice keeps
    Tesseract's reading (the first original) and the last change's confidence."""
    marks: dict[tuple[int, int], Marks] = {}
    for c in page.corrections:
        key = (c.line, c.word)
        first = marks.get(key)
        if c.reason == "line_end_hyphen":
            joined = c.candidates[0] if c.candidates else c.corrected
            marks[key] = Marks(c.original, None, c.confidence, 1 if c.corrected else 2, joined)
        elif first is not None:
            if not first.hyphen_part:
                marks[key] = dataclasses.replace(first, confidence=c.confidence)
        else:
            marks[key] = Marks(c.corrected, c.original, c.confidence)
    return marks


def printed_words(line: Line, line_index: int, marks: dict[tuple[int, int], Marks]):  # type: ignore[no-untyped-def]
    """(word index, word, text as printed on this line, marks or None) for the line's words: both
    halves of a word hyphenated at the line end stay on their own lines, as printed."""
    for w_index, word in enumerate(line.words):
        mark = marks.get((line_index, w_index))
        text = mark.printed if mark is not None and mark.hyphen_part else word.text
        if text:
            yield w_index, word, text, mark


def printed_line(line: Line, line_index: int, marks: dict[tuple[int, int], Marks]) -> str:
    return " ".join(text for _, _, text, _ in printed_words(line, line_index, marks))


# --- zones: regions of the exports ------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """One region of the exports: a text zone with its paragraphs, a paragraph no zone claims, or a
    piece of furniture with its own reading. `paragraphs` are (index, first line's index in reading
    order) pairs."""

    id: str
    zone: Zone | None
    paragraphs: tuple[tuple[int, int], ...]
    bbox: BBox


def regions_of(page: Page) -> list[Region]:
    """The page's regions in reading order: text zones where their first paragraph comes (paragraphs
    no zone claims each on their own, as Tesseract's blocks), then the furniture zones."""
    first_lines, count = [], 0
    for par in page.paragraphs:
        first_lines.append(count)
        count += len(par.lines)
    claimed = {i: z for z in page.zones if z.in_text for i in z.paragraphs if i < len(page.paragraphs)}
    regions: list[Region] = []
    seen: set[str] = set()
    for index, par in enumerate(page.paragraphs):
        zone = claimed.get(index)
        if zone is None:
            regions.append(Region(f"block_{index + 1}", None, ((index, first_lines[index]),), par.bbox))
        elif zone.id not in seen:
            seen.add(zone.id)
            members = sorted(i for i, z in claimed.items() if z.id == zone.id)
            box = BBox.enclosing([zone.bbox, *(page.paragraphs[i].bbox for i in members)])
            regions.append(Region(_xml_id(zone.id), zone, tuple((i, first_lines[i]) for i in members), box))
    for zone in page.zones:
        if not zone.in_text:
            regions.append(Region(_xml_id(zone.id), zone, (), zone.bbox))
    return regions


def _xml_id(value: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", value)
    return safe if safe[:1].isalpha() or safe[:1] == "_" else f"z_{safe}"


# PAGE-XML's region for each zone type: (element, @type, custom structure type or "").
PAGE_REGION_TYPES = {
    "body": ("TextRegion", "paragraph", ""),
    "column": ("TextRegion", "paragraph", "column"),
    "heading": ("TextRegion", "heading", ""),
    "letterhead": ("TextRegion", "header", "letterhead"),
    "secrecy": ("TextRegion", "other", "secrecy"),
    "registration": ("TextRegion", "other", "registration"),
    "addressee": ("TextRegion", "other", "addressee"),
    "table": ("TextRegion", "other", "table"),
    "stamp": ("GraphicRegion", "stamp", ""),
    "handwriting": ("TextRegion", "marginalia", "handwriting"),
    "folio": ("TextRegion", "page-number", "folio"),
    "page_number": ("TextRegion", "page-number", ""),
    "struck": ("TextRegion", "other", "struck"),
    "graphic": ("GraphicRegion", "other", ""),
}


def _zone_label(zone: Zone) -> str:
    return f"{zone.type}:{zone.role}" if zone.role else zone.type


# --- hOCR -------------------------------------------------------------------------------------


def _title(box: BBox, extra: str = "") -> str:
    return f"bbox {box.x0} {box.y0} {box.x1} {box.y1}{extra}"


def _hocr_baseline(line: Line) -> str:
    """hOCR's `baseline slope offset`, relative to the bottom left corner of the line's box (only
    where the box is upright on the target image: on a deskewed or turned page `textangle` is given)."""
    (xa, ya), (xb, yb) = baseline_of(line)[0], baseline_of(line)[-1]
    slope = (yb - ya) / (xb - xa) if xb != xa else 0.0
    offset = ya + slope * (line.bbox.x0 - xa) - line.bbox.y1
    return f"; baseline {slope:.3f} {offset:.0f}"


def to_hocr(page: Page, image_name: str, original: Original | None = None) -> bytes:
    """hOCR of the page. With `original`, every box is on the original scan (upright rectangles around
    the mapped boxes, `textangle` on the lines when the page was deskewed or turned)."""
    frame = Frame(page, original)
    image = original.name if original else image_name
    E = ElementMaker(namespace=XHTML_NS, nsmap={None: XHTML_NS})  # noqa: N806 (lxml idiom)
    body = E.body()
    page_div = E.div(
        {
            "class": "ocr_page",
            "id": f"page_{page.number}",
            "title": f'image "{image}"; bbox 0 0 {frame.width} {frame.height}; ppageno {page.number - 1}; '
            f"scan_res {frame.dpi} {frame.dpi}",
        }
    )
    body.append(page_div)
    angle = f"; textangle {frame.angle:g}" if frame.rotated else ""
    marks = _marks(page)
    for region in regions_of(page):
        title = _title(frame.rect(region.bbox))
        classes = "ocr_carea"
        if region.zone is not None:
            # The layout's zone type (and role) as classes beside hOCR's own.
            classes += f" zone-{region.zone.type}" + (f" role-{region.zone.role}" if region.zone.role else "")
        area = E.div({"class": classes, "id": region.id, "title": title})
        page_div.append(area)
        if region.zone is not None and not region.zone.in_text:
            if region.zone.text:
                # Furniture's own reading: one line, its words without boxes of their own.
                para = E.p({"class": "ocr_par", "id": f"{region.id}_par", "title": title, "lang": "ru"})
                line_span = E.span({"class": "ocr_line", "id": f"{region.id}_line", "title": title})
                for k, token in enumerate(region.zone.text.split()):
                    wspan = E.span({"class": "ocrx_word", "id": f"{region.id}_w{k + 1}", "title": title})
                    wspan.text = token
                    if len(line_span):
                        line_span[-1].tail = " "
                    line_span.append(wspan)
                para.append(line_span)
                area.append(para)
            continue
        for p_index, line_no in region.paragraphs:
            par = page.paragraphs[p_index]
            para = E.p(
                {
                    "class": "ocr_par",
                    "id": f"par_{p_index + 1}",
                    "title": _title(frame.rect(par.bbox)),
                    "lang": "ru",
                }
            )
            area.append(para)
            for line in par.lines:
                line_no += 1
                span = E.span(
                    {
                        "class": "ocr_line",
                        "id": f"line_{line_no}",
                        "title": _title(frame.rect(line.bbox), angle or _hocr_baseline(line)),
                    }
                )
                for w_index, word, text, mark in printed_words(line, line_no - 1, marks):
                    title = _title(frame.rect(word.bbox), f"; x_wconf {max(0, round(word.conf))}")
                    wspan = E.span(
                        {"class": "ocrx_word", "id": f"word_{line_no}_{w_index + 1}", "title": title}
                    )
                    if mark is not None and mark.hyphen_part:
                        # hOCR has no word substitution of its own: ALTO's, as data attributes.
                        wspan.set("data-subs-type", f"HypPart{mark.hyphen_part}")
                        wspan.set("data-subs-content", mark.joined)
                    wspan.text = text
                    if len(span):
                        span[-1].tail = " "
                    span.append(wspan)
                para.append(span)
    html = E.html(
        {"{http://www.w3.org/XML/1998/namespace}lang": "ru", "lang": "ru"},
        E.head(
            E.title(f"{page.document} page {page.number}"),
            E.meta({"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"}),
            E.meta({"name": "ocr-system", "content": f"archocr {__version__}"}),
            E.meta(
                {
                    "name": "ocr-capabilities",
                    "content": "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf ocrp_lang",
                }
            ),
            E.meta({"name": "ocr-langs", "content": "ru"}),
            E.meta({"name": "ocr-scripts", "content": "Cyrl"}),
            E.meta({"name": "ocr-number-of-pages", "content": "1"}),
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


def _alto_geometry(A: ElementMaker, el: etree._Element, box: BBox, frame: Frame) -> None:  # noqa: N803
    """HPOS/VPOS/WIDTH/HEIGHT of the upright rectangle, and the exact quadrilateral as a Shape when
    the box is rotated on the target image."""
    _alto_box(el, frame.rect(box))
    if frame.rotated:
        el.append(A.Shape(A.Polygon({"POINTS": _points_text(frame.corners(box))})))


def _tag_id(zone: Zone) -> str:
    return f"tag_{_zone_label(zone).replace(':', '_')}"


def _alto_tags(A: ElementMaker, page: Page) -> etree._Element | None:  # noqa: N803
    """ALTO's Tags for the zone types on the page: LayoutTag for the document's own text zones,
    OtherTag for archival furniture (stamps, handwriting, folio numbers ...)."""
    if not page.zones:
        return None
    tags = A.Tags()
    seen: set[str] = set()
    for zone in page.zones:
        tag = _tag_id(zone)
        if tag in seen:
            continue
        seen.add(tag)
        kind = A.LayoutTag if zone.in_text else A.OtherTag
        description = "document text" if zone.in_text else "archival furniture, not part of the document text"
        tags.append(kind({"ID": tag, "LABEL": _zone_label(zone), "DESCRIPTION": description}))
    return tags


def to_alto(page: Page, image_name: str, original: Original | None = None) -> bytes:
    frame = Frame(page, original)
    A = ElementMaker(namespace=ALTO_NS, nsmap={None: ALTO_NS, "xsi": XSI})  # noqa: N806
    root = A.alto({f"{{{XSI}}}schemaLocation": f"{ALTO_NS} {ALTO_SCHEMA}", "SCHEMAVERSION": "4.2"})
    description = A.Description(
        A.MeasurementUnit("pixel"),
        A.sourceImageInformation(A.fileName(original.name if original else image_name)),
    )
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
            "WIDTH": str(frame.width),
            "HEIGHT": str(frame.height),
        }
    )
    space = A.PrintSpace()
    _alto_box(space, BBox(0, 0, frame.width, frame.height))
    marks = _marks(page)
    # Corrections point at the Processing element of the step that made them.
    correct_ref = next((f"step_{i}" for i, st in enumerate(page.steps, 1) if st.name == "correct"), None)
    tags = _alto_tags(A, page)
    if tags is not None:
        root.append(tags)
    for region in regions_of(page):
        zone = region.zone
        if zone is not None and zone.type in ("stamp", "graphic") and not zone.text:
            illustration = A.Illustration({"ID": region.id, "TYPE": zone.type, "TAGREFS": _tag_id(zone)})
            _alto_geometry(A, illustration, region.bbox, frame)
            space.append(illustration)
            continue
        block = A.TextBlock({"ID": region.id})
        _alto_geometry(A, block, region.bbox, frame)
        if zone is not None:
            block.set("TAGREFS", _tag_id(zone))
        if frame.rotated:
            block.set("ROTATION", f"{frame.angle:g}")
        if zone is not None and not zone.in_text:
            # Furniture's own reading: one line, its words carrying the zone's box (none of their own).
            text_line = A.TextLine(
                {
                    "ID": f"{region.id}_line",
                    "BASELINE": _points_text(frame.points(list(baseline_of(Line((), region.bbox))))),
                }
            )
            _alto_geometry(A, text_line, region.bbox, frame)
            for k, token in enumerate(zone.text.split()):
                if k:
                    text_line.append(A.SP())
                string = A.String({"ID": f"{region.id}_s{k + 1}", "CONTENT": token})
                _alto_geometry(A, string, region.bbox, frame)
                if zone.conf >= 0:
                    string.set("WC", f"{min(1.0, zone.conf / 100 if zone.conf > 1 else zone.conf):.3f}")
                text_line.append(string)
            if len(text_line.findall(f"{{{ALTO_NS}}}String")):  # ALTO has no empty TextLine
                block.append(text_line)
            space.append(block)
            continue
        for p_index, line_no in region.paragraphs:
            par = page.paragraphs[p_index]
            for line in par.lines:
                text_line = A.TextLine(
                    {
                        "ID": f"line_{line_no + 1}",
                        "BASELINE": _points_text(frame.points(list(baseline_of(line)))),
                    }
                )
                _alto_geometry(A, text_line, line.bbox, frame)
                hyphen_end = ""
                for w_index, word, text, mark in printed_words(line, line_no, marks):
                    string = A.String({"ID": f"string_{line_no + 1}_{w_index + 1}", "CONTENT": text})
                    _alto_geometry(A, string, word.bbox, frame)
                    if word.conf >= 0:
                        string.set("WC", f"{min(1.0, word.conf / 100):.3f}")
                    if mark is not None and correct_ref:
                        string.set("PROCESSINGREFS", correct_ref)
                    if mark is not None and mark.hyphen_part:
                        # ALTO's own way: each printed half keeps its text, SUBS_CONTENT carries the word.
                        string.set("SUBS_TYPE", f"HypPart{mark.hyphen_part}")
                        string.set("SUBS_CONTENT", mark.joined)
                        if mark.hyphen_part == 1:
                            stripped = text.rstrip(HYPHENS)
                            string.set("CONTENT", stripped)
                            hyphen_end = text[len(stripped) :] or "-"
                    elif mark is not None and mark.original is not None:
                        # A machine correction: no CS (which ALTO keeps for manual correction); the
                        # corrector's confidence as WC, Tesseract's reading as the alternative.
                        if mark.confidence >= 0:
                            string.set("WC", f"{min(1.0, mark.confidence):.3f}")
                        string.append(A.ALTERNATIVE({"PURPOSE": "original OCR"}, mark.original))
                    if len(text_line) and text_line[-1].tag == f"{{{ALTO_NS}}}String":
                        text_line.append(A.SP())
                    text_line.append(string)
                if hyphen_end:
                    text_line.append(A.HYP({"CONTENT": hyphen_end}))
                if len(text_line.findall(f"{{{ALTO_NS}}}String")):
                    block.append(text_line)
                line_no += 1
        space.append(block)
    alto_page.append(space)
    layout.append(alto_page)
    root.append(layout)
    return _xml(root)


# --- PAGE-XML 2019 ------------------------------------------------------------------------------


# archocr's steps in OCR-D's processing step categories (MetadataItem/@name).
OCRD_STEP_CATEGORIES = {
    "crop_borders": "preprocessing/optimization/cropping",
    "orient": "preprocessing/optimization/deskewing",
    "deskew": "preprocessing/optimization/deskewing",
    "binarise": "preprocessing/optimization/binarization",
    "despeckle": "preprocessing/optimization/despeckling",
    "layout": "layout/segmentation/region",
    "ocr": "recognition/text-recognition",
    "correct": "recognition/post-correction",
}


def pc_gts_id(page: Page) -> str:
    """PAGE's pcGtsId, an XML ID: the document and page number (the page's file ID in a METS)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", page.document)
    return f"{'' if safe[:1].isalpha() or safe[:1] == '_' else 'd'}{safe}_{page.number:04d}"


def _image_features(page: Page) -> str:
    """OCR-D's comma-separated list of what was done to the cleaned image, from the page's steps."""
    features = []
    steps = {step.name: step.settings for step in page.steps}
    if steps.get("crop_borders", {}).get("enabled"):
        features.append("cropped")
    if page.orientation:
        features.append(f"rotated-{(360 - page.orientation) % 360}")
    if page.skew_angle:
        features.append("deskewed")
    if steps.get("binarise", {}).get("method", "none") != "none":
        features.append("binarized")
    if steps.get("despeckle", {}).get("enabled") and "binarized" in features:
        features.append("despeckled")
    return ",".join(features)


def page_orientation(page: Page) -> float:
    """PAGE's @orientation: the clockwise turn that straightens the original, in (-180, 180]: the
    right-angle turn (clockwise) less the deskew angle (counter-clockwise)."""
    angle = (page.orientation - page.skew_angle) % 360
    return round(angle - 360 if angle > 180 else angle, 3)


def to_page_xml(page: Page, image_name: str, original: Original | None = None) -> bytes:
    """PAGE-XML of the page. With `original`, imageFilename names the original scan, every Coords
    polygon is on it, and the cleaned image is an AlternativeImage (OCR-D's convention)."""
    frame = Frame(page, original)
    P = ElementMaker(namespace=PAGE_NS, nsmap={None: PAGE_NS, "xsi": XSI})  # noqa: N806
    now = _now()
    metadata = P.Metadata(P.Creator(f"archocr {__version__}"), P.Created(now), P.LastChange(now))
    for step in page.steps:
        # OCR-D's form: name is the step's category, value the processor; parameters and version as Labels.
        metadata.append(
            P.MetadataItem(
                {
                    "type": "processingStep",
                    "name": OCRD_STEP_CATEGORIES.get(step.name, f"archocr/{step.name}"),
                    "value": f"archocr-{step.name}".replace("_", "-"),
                },
                P.Labels(
                    {"externalModel": "ocrd-tool", "externalId": "parameters"},
                    *(P.Label({"value": str(v), "type": str(k)}) for k, v in step.settings.items()),
                ),
                P.Labels(
                    {"externalModel": "ocrd-tool", "externalId": "version"},
                    P.Label(
                        {"value": step.version, "type": "tesseract" if step.name == "ocr" else "archocr"}
                    ),
                ),
            )
        )
    pc_page = P.Page(
        {
            "imageFilename": original.name if original else image_name,
            "imageWidth": str(frame.width),
            "imageHeight": str(frame.height),
        }
    )
    if original is not None:
        orientation = page_orientation(page)
        if orientation:
            pc_page.set("orientation", f"{orientation:g}")
        pc_page.append(P.AlternativeImage({"filename": image_name, "comments": _image_features(page)}))
        pc_page.append(
            P.Border(P.Coords({"points": _points_text(frame.corners(BBox(0, 0, page.width, page.height)))}))
        )
    marks = _marks(page)
    for region in regions_of(page):
        zone = region.zone
        element, region_type, structure = (
            PAGE_REGION_TYPES.get(zone.type, ("TextRegion", "other", zone.type))
            if zone
            else ("TextRegion", "paragraph", "")
        )
        pc_region = P(
            element, {"id": region.id}, P.Coords({"points": _points_text(frame.corners(region.bbox))})
        )
        pc_region.set("type", region_type)
        if structure or (zone is not None and zone.role):
            # PAGE's custom attribute, Transkribus style: the archocr zone type and role.
            props = f"type:{structure or zone.type};" + (
                f" role:{zone.role};" if zone is not None and zone.role else ""
            )
            pc_region.set("custom", f"structure {{{props}}}")
        pc_page.append(pc_region)
        if zone is not None and not zone.in_text:
            if zone.text:
                # Furniture's own reading: a stamp's within its graphic region, others as the region's text.
                holder = pc_region
                if element == "GraphicRegion":
                    holder = P.TextRegion(
                        {
                            "id": f"{region.id}_text",
                            "type": "other",
                            "custom": f"structure {{type:{zone.type}_text;}}",
                        },
                        P.Coords({"points": _points_text(frame.corners(region.bbox))}),
                    )
                    pc_region.append(holder)
                equiv = P.TextEquiv(P.Unicode(zone.text))
                if zone.conf >= 0:
                    equiv.set("conf", f"{min(1.0, zone.conf / 100 if zone.conf > 1 else zone.conf):.3f}")
                # One line, as in ALTO and hOCR, so the three formats agree line by line and baseline
                # readers (kraken) find a baseline on it: the bottom edge of the zone.
                holder.append(
                    P.TextLine(
                        {"id": f"{region.id}_line"},
                        P.Coords({"points": _points_text(frame.corners(region.bbox))}),
                        P.Baseline(
                            {"points": _points_text(frame.points(list(baseline_of(Line((), region.bbox)))))}
                        ),
                        P.TextEquiv(P.Unicode(" ".join(zone.text.split()))),
                    )
                )
                holder.append(equiv)
            continue
        line_texts = []
        for p_index, line_no in region.paragraphs:
            par = page.paragraphs[p_index]
            for line in par.lines:
                text_line = P.TextLine(
                    {"id": f"{region.id}_l{line_no + 1}"},
                    P.Coords({"points": _points_text(frame.corners(line.bbox))}),
                    P.Baseline({"points": _points_text(frame.points(list(baseline_of(line))))}),
                )
                for w_index, word, text, mark in printed_words(line, line_no, marks):
                    equiv = P.TextEquiv(P.Unicode(text))
                    if word.conf >= 0:
                        equiv.set("conf", f"{min(1.0, word.conf / 100):.3f}")
                    pc_word = P.Word(
                        {"id": f"{region.id}_l{line_no + 1}_w{w_index + 1}"},
                        P.Coords({"points": _points_text(frame.corners(word.bbox))}),
                        equiv,
                    )
                    if mark is not None and mark.hyphen_part:
                        # The half as printed first; the whole word, as ALTO's SUBS_CONTENT, second.
                        equiv.set("index", "1")
                        pc_word.append(
                            P.TextEquiv(
                                {
                                    "index": "2",
                                    "comments": f"hyphenated word, part {mark.hyphen_part}: whole word",
                                },
                                P.Unicode(mark.joined),
                            )
                        )
                    elif mark is not None and mark.original is not None:
                        # The correction first, with the corrector's confidence; Tesseract's reading second.
                        equiv.set("index", "1")
                        equiv.set("comments", "corrected by archocr")
                        if mark.confidence >= 0:
                            equiv.set("conf", f"{min(1.0, mark.confidence):.3f}")
                        original_equiv = P.TextEquiv(
                            {"index": "2", "comments": "original OCR"}, P.Unicode(mark.original)
                        )
                        if word.conf >= 0:
                            original_equiv.set("conf", f"{min(1.0, word.conf / 100):.3f}")
                        pc_word.append(original_equiv)
                    text_line.append(pc_word)
                line_text = printed_line(line, line_no, marks)
                line_texts.append(line_text)
                text_line.append(P.TextEquiv(P.Unicode(line_text)))
                pc_region.append(text_line)
                line_no += 1
        pc_region.append(P.TextEquiv(P.Unicode("\n".join(line_texts))))
    root = P.PcGts(
        {f"{{{XSI}}}schemaLocation": f"{PAGE_NS} {PAGE_SCHEMA}", "pcGtsId": pc_gts_id(page)},
        metadata,
        pc_page,
    )
    return _xml(root)


# --- files ------------------------------------------------------------------------------------------


def page_stem(number: int) -> str:
    return f"{number:04d}"


def page_output_names(number: int) -> dict[str, str]:
    """{kind: file name} of every per-page output that every page has (`original` comes on top for
    pages whose scan is not a file of its own: see `original_of`)."""
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


CLEANED_FRAME_NAMES = {"hocr": "cleaned.hocr", "alto": "cleaned.alto.xml", "page_xml": "cleaned.page.xml"}


def is_page_output(name: str, number: int) -> bool:
    """Whether a file name is one archocr writes for page `number`: every page's outputs, the
    cleaned-frame exchange files (--cleaned-frame) and the kept original (`NNNN.orig.*`)."""
    stem = page_stem(number)
    if name in page_output_names(number).values():
        return True
    if name in {f"{stem}.{suffix}" for suffix in CLEANED_FRAME_NAMES.values()}:
        return True
    ext = name.removeprefix(f"{stem}.orig.")
    return ext != name and ext.isascii() and ext.isalnum()


def _writable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_own_file(source: Path, pixels: np.ndarray) -> bool:
    """Whether the scan file itself is the page's original: one raster image, stored upright (no EXIF
    turn), decoded to exactly these pixels' size."""
    try:
        with Image.open(source) as im:
            if im.format == "PDF" or getattr(im, "n_frames", 1) > 1:
                return False
            if im.getexif().get(0x0112, 1) not in (0, 1):
                return False
            return im.size == (pixels.shape[1], pixels.shape[0])
    except Exception:
        # Damage Pillow trips over (a broken later TIFF directory raises TypeError or KeyError): the
        # page was read, but the file cannot be vouched for, so the page keeps its own copy.
        return False


def _encode_original(pixels: np.ndarray, dpi: int) -> tuple[str, bytes]:
    """A rasterised PDF page or a frame of a multi-page file, kept as the exports' original: PNG when
    bilevel (lossless and small), else JPEG at quality 90 (grey or colour as it came)."""
    im = Image.fromarray(pixels)
    buf = io.BytesIO()
    if im.mode == "L" and cv2.countNonZero(cv2.inRange(pixels, 1, 254)) == 0:
        im.convert("1").save(buf, format="PNG", dpi=(dpi, dpi), optimize=True)
        return "png", buf.getvalue()
    im.convert("RGB" if im.mode not in ("L", "RGB") else im.mode).save(
        buf, format="JPEG", quality=90, dpi=(dpi, dpi), optimize=True
    )
    return "jpg", buf.getvalue()


def original_of(
    source: Path, number: int, pixels: np.ndarray, dpi: int, folder: Path
) -> tuple[Original, bytes | None]:
    """The original the exports refer to, and the bytes to write when archocr keeps its own copy.

    A one-image scan (PNG, JPEG, single-page TIFF) is its own original, named by its path relative to
    the output folder. A PDF page or a frame of a multi-page TIFF becomes `NNNN.orig.jpg` (or `.png`
    when bilevel) beside the page's other files: the page as rasterised, in the frame of every box.
    A scan whose path cannot be written as UTF-8 is copied as it is to `NNNN.orig.<its extension>`."""
    height, width = pixels.shape[:2]
    if _is_own_file(source, pixels):
        name = os.path.relpath(source.resolve(), folder.resolve())
        if _writable(name):
            return Original(name, width, height, dpi), None
        # A path that is not valid UTF-8 (undecodable bytes in a file name) cannot go into XML or
        # JSON: the page keeps a byte-for-byte copy of the scan under its own name instead.
        suffix = source.suffix.lower()
        if suffix[1:].isascii() and suffix[1:].isalnum():
            return Original(f"{page_stem(number)}.orig{suffix}", width, height, dpi), source.read_bytes()
    ext, data = _encode_original(pixels, dpi)
    return Original(f"{page_stem(number)}.orig.{ext}", width, height, dpi), data


def _png_with_dpi(image: np.ndarray, dpi: int, folder: Path, name: str) -> bytes:
    """The cleaned image as PNG with its resolution (pHYs), bilevel when it is."""
    # (inRange + countNonZero: a hundred times faster than numpy's isin on a full page.)
    grey_8bit = image.ndim == 2 and image.dtype == np.uint8
    bilevel = grey_8bit and cv2.countNonZero(cv2.inRange(image, 1, 254)) == 0
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_BILEVEL, 1] if bilevel else [])
    if not ok:
        raise RuntimeError(f"could not encode page image for {folder / name}")
    return _set_png_dpi(png.tobytes(), dpi)


def _set_png_dpi(png: bytes, dpi: int) -> bytes:
    """Insert a pHYs chunk (pixels per metre) after IHDR: OpenCV cannot write one, and re-encoding
    with Pillow would cost more than the whole PNG."""
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, CRC
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def write_page_files(
    page: Page,
    image: np.ndarray,
    folder: Path,
    extra: dict[str, Any],
    original: tuple[Original, bytes | None] | None = None,
    cleaned_frame: bool = False,
) -> dict[str, str]:
    """Write every per-page output into `folder`, each atomically; returns {kind: file name}.

    With `original` (see `original_of`) the hOCR, ALTO and PAGE-XML give their boxes on the original
    scan; `cleaned_frame` also writes them in the cleaned image's pixels (NNNN.cleaned.hocr, ...).
    The page JSON goes last: its presence (with a matching key) is what marks the page as done."""
    names = page_output_names(page.number)
    stem = page_stem(page.number)
    orig, orig_bytes = original if original is not None else (None, None)
    raw = page.raw_text if page.raw_text is not None else page.text
    contents: dict[str, Any] = {
        "image": lambda: _png_with_dpi(image, page.dpi, folder, names["image"]),
        "text": lambda: page_text(page),
        "raw_text": lambda: raw + "\n" if raw else "",
        "hocr": lambda: to_hocr(page, names["image"], orig),
        "alto": lambda: to_alto(page, names["image"], orig),
        "page_xml": lambda: to_page_xml(page, names["image"], orig),
    }
    if orig is not None and orig_bytes is not None:
        names["original"] = orig.name
        contents["original"] = lambda: orig_bytes
    if cleaned_frame and orig is not None:
        writers = {"hocr": to_hocr, "alto": to_alto, "page_xml": to_page_xml}
        for kind, suffix in CLEANED_FRAME_NAMES.items():
            names[f"{kind}_cleaned"] = f"{stem}.{suffix}"
            contents[f"{kind}_cleaned"] = lambda w=writers[kind]: w(page, names["image"])
    names = {**{k: v for k, v in names.items() if k != "json"}, "json": names["json"]}
    written: list[Path] = []
    record = {**extra, "image": names["image"], "page": to_dict(page)}
    if orig is not None:
        record["original"] = to_dict(orig)
    if "outputs" in extra:
        record["outputs"] = names
    try:
        for kind, make in contents.items():
            written.append(atomic_write(folder / names[kind], make()))
        atomic_write_json(folder / names["json"], record)
    except BaseException:
        # A page is all or nothing: no stray outputs from a page whose JSON never got written.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return names


def read_page_json(path: Path) -> tuple[Page, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return page_from_dict(data["page"]), data


def write_document_pdf(
    folder: Path, document: str, numbers: list[int], image: str = "original"
) -> Path | None:
    """Assemble `<document>.pdf` (PDF/A-2b, see pdf.py) from the finished pages' JSON and images, in
    page order: over the original scans (`image="original"`) or archocr's cleaned images."""
    pages = []
    for number in sorted(numbers):
        json_path = folder / f"{page_stem(number)}.json"
        if json_path.is_file():
            page, data = read_page_json(json_path)
            original = data.get("original")
            original_path = (folder / original["name"]) if original else None
            pages.append(
                pdf.PdfPage(
                    page,
                    folder / data["image"],
                    original_path if original_path is not None and original_path.is_file() else None,
                    int(original["dpi"]) if original else 0,
                )
            )
    if not pages:
        return None
    return atomic_write(folder / f"{document}.pdf", pdf.searchable_pdf(pages, title=document, image=image))
