"""Reading OCR made earlier, by archocr or other engines: plain text, hOCR and ALTO, into Pages.

Plain text has no boxes or confidences (conf -1); a form feed separates pages. hOCR and ALTO keep
their word boxes, and their confidences where the file has them (x_wconf, WC)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import lxml.html
from lxml import etree

from .errors import TranscriptError
from .model import BBox, Line, Page, Paragraph, Word
from .transcripts import decode, sniff_bom

NO_BOX = BBox(0, 0, 0, 0)
# Files from other engines are read leniently where the meaning is clear: decimal coordinates, units
# after a number ("2480px"), confidences written as percentages. A value that means nothing ("high")
# counts as absent: no box, or confidence unknown (-1).
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_BBOX = re.compile(rf"bbox\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})")
_WCONF = re.compile(rf"x_wconf\s+({_NUMBER})")
_LEADING_NUMBER = re.compile(rf"\s*({_NUMBER})")
_HTML_END = re.compile(rb"</html>\s*$", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def read_ocr_file(path: Path, encoding: str | None = None) -> list[Page]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"cannot be read: {exc.strerror}", path=str(path)) from exc
    head = _peek(data)
    if "ocrx_word" in head or "ocr_page" in head[:2048]:
        return _read_hocr(path, data)
    if "<alto" in head[:2048]:
        return _read_alto(path, data)
    text, _ = decode(data, path, encoding)
    return _read_plain(path, text)


def _peek(data: bytes) -> str:
    """The start of the file as lower-case text, for telling hOCR and ALTO from plain text (UTF-16 too)."""
    head = data[:200_000]
    bom = sniff_bom(head)
    if bom is None:
        return head.decode("latin-1").lower()
    return head[bom[1] :].decode(bom[0], errors="replace").lower()


def _number(value: str | None) -> float | None:
    """A number from an attribute, units or trailing junk ignored; None when there is none."""
    match = _LEADING_NUMBER.match(value or "")
    if not match:
        return None
    number = float(match.group(1))
    return number if math.isfinite(number) else None


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
    if not match:
        return NO_BOX
    values = [float(v) for v in match.groups()]
    return BBox(*(round(v) for v in values)) if all(math.isfinite(v) for v in values) else NO_BOX


def _confidence(value: float | None, scale: float) -> float:
    """A word confidence on archocr's 0-100 scale; -1 when absent or meaningless. ALTO's WC is 0-1, but
    some engines write percentages (WC="87"): above 1 and up to 100 it is taken as one."""
    if value is None or value < 0:
        return -1.0
    if scale != 1.0 and value > 1.0:
        return value if value <= 100.0 else -1.0
    return min(value * scale, 100.0)


def _parse_hocr(path: Path, data: bytes) -> etree._Element:
    """hOCR as XHTML; a complete file that is HTML but not XML (other engines write `<meta ...>` without
    its end, `&nbsp;`) is read by the HTML parser. A file cut short stays an error: its end is missing."""
    try:
        return _parse_xml(path, data)
    except TranscriptError:
        if not _HTML_END.search(data[-512:]):
            raise
    text = _XML_DECLARATION.sub("", decode(data, path)[0])  # decoded as any text file; HTML has no say
    return lxml.html.document_fromstring(text, parser=lxml.html.HTMLParser(no_network=True))


def _read_hocr(path: Path, data: bytes) -> list[Page]:
    root = _parse_hocr(path, data)
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
                        score = _confidence(float(conf.group(1)) if conf else None, 1.0)
                        words.append(Word(text, _box(w.get("title", "")), score))
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
    values = [_number(el.get(name)) for name in ("HPOS", "VPOS", "WIDTH", "HEIGHT")]
    if any(v is None for v in values):
        return NO_BOX
    x, y, width, height = (round(v) for v in values)  # type: ignore[arg-type]
    return BBox(x, y, x + width, y + height)


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
                        words.append(Word(text, _alto_box(s), _confidence(_number(s.get("WC")), 100.0)))
                if words:
                    lines.append(Line(tuple(words), _alto_box(line_el)))
            if lines:
                paragraphs.append(Paragraph(tuple(lines), _alto_box(block)))
        width = round(_number(page_el.get("WIDTH")) or 0)
        height = round(_number(page_el.get("HEIGHT")) or 0)
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
