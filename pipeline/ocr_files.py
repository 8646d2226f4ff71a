"""Reading OCR made earlier, by archocr or other engines: plain text, hOCR and ALTO, into Pages.

Plain text has no boxes or confidences (conf -1); a form feed separates pages. hOCR and ALTO keep
their word boxes, and their confidences where the file has them (x_wconf, WC)."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from .errors import TranscriptError
from .model import BBox, Line, Page, Paragraph, Word
from .transcripts import decode

NO_BOX = BBox(0, 0, 0, 0)
_BBOX = re.compile(r"bbox\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)")
_WCONF = re.compile(r"x_wconf\s+([\d.]+)")


def read_ocr_file(path: Path, encoding: str | None = None) -> list[Page]:
    data = path.read_bytes() if path.is_file() else None
    if data is None:
        raise TranscriptError("no such file", path=str(path))
    head = data[:2048].lower()
    if b"ocrx_word" in data[:200_000] or b"ocr_page" in head:
        return _read_hocr(path, data)
    if b"<alto" in head:
        return _read_alto(path, data)
    text, _ = decode(data, path, encoding)
    return _read_plain(path, text)


def _read_plain(path: Path, text: str) -> list[Page]:
    pages = []
    for number, chunk in enumerate(text.split("\f"), 1):
        paragraphs, lines = [], []
        for raw in chunk.splitlines() + [""]:
            if raw.strip():
                lines.append(Line(tuple(Word(w, NO_BOX, -1.0) for w in raw.split()), NO_BOX))
            elif lines:
                paragraphs.append(Paragraph(tuple(lines), NO_BOX))
                lines = []
        pages.append(
            Page(document=path.stem, number=number, width=0, height=0, dpi=0, paragraphs=tuple(paragraphs))
        )
    return pages


def _parse_xml(path: Path, data: bytes) -> etree._Element:
    try:
        return etree.fromstring(
            data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        )
    except etree.XMLSyntaxError as exc:
        raise TranscriptError(f"not well-formed XML: {exc}", path=str(path)) from exc


def _box(title: str) -> BBox:
    match = _BBOX.search(title or "")
    return BBox(*(int(v) for v in match.groups())) if match else NO_BOX


def _read_hocr(path: Path, data: bytes) -> list[Page]:
    root = _parse_xml(path, data)
    pages = []
    for number, page_el in enumerate(root.iterfind(".//{*}div[@class='ocr_page']"), 1):
        page_box = _box(page_el.get("title", ""))
        paragraphs = []
        for par in page_el.iterfind(".//{*}p[@class='ocr_par']"):
            lines = []
            for line_el in par.iterfind(".//{*}span"):
                if line_el.get("class") not in ("ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"):
                    continue
                words = []
                for w in line_el.iterfind(".//{*}span[@class='ocrx_word']"):
                    text = "".join(w.itertext()).strip()
                    if text:
                        conf = _WCONF.search(w.get("title", ""))
                        words.append(
                            Word(text, _box(w.get("title", "")), float(conf.group(1)) if conf else -1.0)
                        )
                if words:
                    lines.append(Line(tuple(words), _box(line_el.get("title", ""))))
            if lines:
                paragraphs.append(Paragraph(tuple(lines), _box(par.get("title", ""))))
        pages.append(
            Page(
                document=path.stem,
                number=number,
                width=page_box.x1,
                height=page_box.y1,
                dpi=0,
                paragraphs=tuple(paragraphs),
            )
        )
    if not pages:
        raise TranscriptError("hOCR file has no ocr_page", path=str(path))
    return pages


def _alto_box(el: etree._Element) -> BBox:
    try:
        x, y = round(float(el.get("HPOS", 0))), round(float(el.get("VPOS", 0)))
        return BBox(x, y, x + round(float(el.get("WIDTH", 0))), y + round(float(el.get("HEIGHT", 0))))
    except ValueError:
        return NO_BOX


def _read_alto(path: Path, data: bytes) -> list[Page]:
    root = _parse_xml(path, data)
    pages = []
    for number, page_el in enumerate(root.iterfind(".//{*}Page"), 1):
        paragraphs = []
        for block in page_el.iterfind(".//{*}TextBlock"):
            lines = []
            for line_el in block.iterfind("{*}TextLine"):
                words = []
                for s in line_el.iterfind("{*}String"):
                    text = s.get("CONTENT", "").strip()
                    if text:
                        wc = s.get("WC")
                        words.append(Word(text, _alto_box(s), float(wc) * 100 if wc else -1.0))
                if words:
                    lines.append(Line(tuple(words), _alto_box(line_el)))
            if lines:
                paragraphs.append(Paragraph(tuple(lines), _alto_box(block)))
        width = round(float(page_el.get("WIDTH", 0) or 0))
        height = round(float(page_el.get("HEIGHT", 0) or 0))
        pages.append(
            Page(
                document=path.stem,
                number=number,
                width=width,
                height=height,
                dpi=0,
                paragraphs=tuple(paragraphs),
            )
        )
    if not pages:
        raise TranscriptError("ALTO file has no Page", path=str(path))
    return pages
