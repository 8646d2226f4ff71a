"""The data model every stage passes along: small frozen dataclasses, no imports from the package.

Stages never mutate a page; they return a new one (``dataclasses.replace``). Everything here
round-trips through plain JSON (``to_dict`` / ``page_from_dict``) so that a page written by one
process can be read back by another (batch workers, the reviewers' report, ``archocr correct``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BBox:
    """A box in pixels of the cleaned page image: left, top, right, bottom (right/bottom exclusive)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def union(self, other: BBox) -> BBox:
        return BBox(
            min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1)
        )

    def shifted(self, dx: int, dy: int) -> BBox:
        return BBox(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)

    @staticmethod
    def enclosing(boxes: list[BBox] | tuple[BBox, ...]) -> BBox:
        if not boxes:
            return BBox(0, 0, 0, 0)
        return BBox(
            min(b.x0 for b in boxes),
            min(b.y0 for b in boxes),
            max(b.x1 for b in boxes),
            max(b.y1 for b in boxes),
        )


@dataclass(frozen=True)
class Word:
    text: str
    bbox: BBox
    conf: float  # Tesseract's word confidence, 0..100; -1 when the source had none


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]
    bbox: BBox
    # The line the letters stand on, left to right, as points in cleaned-image pixels (Tesseract's);
    # empty when the OCR came without one.
    baseline: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, words: tuple[Word, ...] | list[Word], baseline: tuple[tuple[int, int], ...] = ()) -> Line:
        """A line of `words` in a box enclosing theirs."""
        return cls(tuple(words), BBox.enclosing([w.bbox for w in words]), baseline)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words if w.text)  # a word folded into the previous line is ""

    def shifted(self, dx: int, dy: int) -> Line:
        """The line moved by (dx, dy): words, box and baseline (read in a crop, placed on the page)."""
        return Line(
            tuple(Word(w.text, w.bbox.shifted(dx, dy), w.conf) for w in self.words),
            self.bbox.shifted(dx, dy),
            tuple((x + dx, y + dy) for x, y in self.baseline),
        )


@dataclass(frozen=True)
class Paragraph:
    lines: tuple[Line, ...]
    bbox: BBox
    block: int = 0  # Tesseract's block number, kept for the XML exports

    @classmethod
    def of(cls, lines: tuple[Line, ...] | list[Line], block: int = 0) -> Paragraph:
        """A paragraph of `lines` in a box enclosing theirs."""
        return cls(tuple(lines), BBox.enclosing([ln.bbox for ln in lines]), block)


@dataclass(frozen=True)
class Step:
    """One processing step that ran on the page, with what it needs to be reproduced."""

    name: str
    version: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Correction:
    """One change the corrector made; the original is always kept."""

    line: int  # index of the line in reading order (over all paragraphs)
    word: int  # index of the word within the line
    original: str
    corrected: str
    reason: str
    confidence: float = 0.0
    candidates: tuple[str, ...] = ()


# Zone types a layout stage gives. The first group is the document's text (it goes into NNNN.txt);
# the second is archival furniture, kept out of the text with its own reading and confidence.
TEXT_ZONE_TYPES = ("body", "heading", "letterhead", "secrecy", "registration", "addressee", "table", "column")
FURNITURE_ZONE_TYPES = ("stamp", "handwriting", "folio", "page_number", "struck", "graphic")


@dataclass(frozen=True)
class Zone:
    """One region of the page with a type: a block of the document's text or a piece of furniture.

    `paragraphs` are indices into `Page.paragraphs` of the text read from this zone (text zones);
    furniture zones keep their reading in `text`/`conf` and have no paragraphs, so nothing of a stamp
    or a resolution reaches NNNN.txt. `role` refines the type: `signature`, `resolution`,
    `margin_note`, `stamp_fill` (a number written into a stamp's blank) for handwriting; `round`,
    `rect` for stamps."""

    id: str
    type: str
    bbox: BBox
    text: str = ""
    conf: float = -1.0
    paragraphs: tuple[int, ...] = ()
    role: str = ""

    @property
    def in_text(self) -> bool:
        return self.type in TEXT_ZONE_TYPES


@dataclass(frozen=True)
class Page:
    document: str
    number: int  # 1-based
    width: int
    height: int
    dpi: int
    paragraphs: tuple[Paragraph, ...] = ()
    skew_angle: float = 0.0  # degrees the page was rotated to straighten it
    orientation: int = 0  # degrees (0, 90, 180, 270) the page was turned before deskewing
    # 2x3 affine matrix mapping cleaned-image pixels back to source-image pixels.
    transform: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (1.0, 0.0, 0.0),
        (0.0, 1.0, 0.0),
    )
    steps: tuple[Step, ...] = ()
    corrections: tuple[Correction, ...] = ()
    raw_text: str | None = None  # Tesseract's text before correction; None until a corrector ran
    lexicon: str | None = None  # name@version of the lexicon used for correction
    zones: tuple[Zone, ...] = ()  # from the layout stage; empty for OCR made elsewhere

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for par in self.paragraphs for line in par.lines)

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for line in self.lines for w in line.words)

    @property
    def text(self) -> str:
        """Lines joined by newlines, paragraphs separated by a blank line."""
        return "\n\n".join("\n".join(line.text for line in par.lines) for par in self.paragraphs)

    def word_spans(self) -> list[tuple[int, int, int, int]]:
        """(start, end, line index, word index) of every non-empty word in `text`, in reading order."""
        spans, pos, line_index = [], 0, 0
        for p_index, par in enumerate(self.paragraphs):
            if p_index:
                pos += 2  # the blank line between paragraphs
            for l_index, line in enumerate(par.lines):
                if l_index:
                    pos += 1
                first = True
                for w_index, word in enumerate(line.words):
                    if not word.text:
                        continue
                    if not first:
                        pos += 1
                    spans.append((pos, pos + len(word.text), line_index, w_index))
                    pos += len(word.text)
                    first = False
                line_index += 1
        return spans

    def paragraph_spans(self) -> list[tuple[int, int]]:
        """(start, end) of every paragraph in `text`, so a zone's paragraphs give its text offsets."""
        spans, pos = [], 0
        for p_index, par in enumerate(self.paragraphs):
            if p_index:
                pos += 2
            length = len("\n".join(line.text for line in par.lines))
            spans.append((pos, pos + length))
            pos += length
        return spans

    def zone_at(self, offset: int) -> Zone | None:
        """The zone whose text holds character `offset` of `text`, if the layout stage gave zones."""
        spans = self.paragraph_spans()
        for zone in self.zones:
            for index in zone.paragraphs:
                if index < len(spans) and spans[index][0] <= offset < spans[index][1]:
                    return zone
        return None

    @property
    def mean_confidence(self) -> float:
        confs = [w.conf for w in self.words if w.conf >= 0]
        return sum(confs) / len(confs) if confs else 0.0


def to_dict(obj: Any) -> Any:
    """JSON-ready form of any model object (tuples become lists)."""
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


def _bbox(d: dict[str, Any]) -> BBox:
    return BBox(int(d["x0"]), int(d["y0"]), int(d["x1"]), int(d["y1"]))


def _word(d: dict[str, Any]) -> Word:
    return Word(text=d["text"], bbox=_bbox(d["bbox"]), conf=float(d["conf"]))


def _line(d: dict[str, Any]) -> Line:
    return Line(
        words=tuple(_word(w) for w in d["words"]),
        bbox=_bbox(d["bbox"]),
        baseline=tuple((int(x), int(y)) for x, y in d.get("baseline", ())),
    )


def _paragraph(d: dict[str, Any]) -> Paragraph:
    return Paragraph(
        lines=tuple(_line(ln) for ln in d["lines"]), bbox=_bbox(d["bbox"]), block=int(d.get("block", 0))
    )


def page_from_dict(d: dict[str, Any]) -> Page:
    return Page(
        document=d["document"],
        number=int(d["number"]),
        width=int(d["width"]),
        height=int(d["height"]),
        dpi=int(d["dpi"]),
        paragraphs=tuple(_paragraph(p) for p in d.get("paragraphs", ())),
        skew_angle=float(d.get("skew_angle", 0.0)),
        orientation=int(d.get("orientation", 0)),
        transform=tuple(tuple(float(v) for v in row) for row in d.get("transform", ((1, 0, 0), (0, 1, 0)))),  # type: ignore[arg-type]
        steps=tuple(Step(**s) for s in d.get("steps", ())),
        corrections=tuple(
            Correction(**{**c, "candidates": tuple(c.get("candidates", ()))})
            for c in d.get("corrections", ())
        ),
        raw_text=d.get("raw_text"),
        lexicon=d.get("lexicon"),
        zones=tuple(
            Zone(
                id=z["id"],
                type=z["type"],
                bbox=_bbox(z["bbox"]),
                text=z.get("text", ""),
                conf=float(z.get("conf", -1.0)),
                paragraphs=tuple(int(i) for i in z.get("paragraphs", ())),
                role=z.get("role", ""),
            )
            for z in d.get("zones", ())
        ),
    )


@dataclass(frozen=True)
class Discrepancy:
    """One place where a page and its transcript disagree, with both readings and where to find them.

    `ocr_start`/`ocr_end` are character offsets into the page's NNNN.txt; `transcript_start`/
    `transcript_end` into the transcript file as decoded. `status` is set for editorial brackets:
    `confirmed` (the scan shows the supplied letters), `absent` (it lacks them), `conflict` (it shows
    other letters). `subkind` refines `extra`: the furniture a scan-only passage is (`secrecy`,
    `registration`, `letterhead`, `addressee`, `heading` from the page's zones; `folio`, `page_number`,
    `resolution` from its look and place when the page has no zones)."""

    document: str
    page: int
    line: int
    kind: str
    ocr_text: str
    transcript_text: str
    ocr_start: int
    ocr_end: int
    transcript_start: int
    transcript_end: int
    bbox: BBox | None = None
    word_boxes: tuple[BBox, ...] = ()
    confidence: float = -1.0
    reason: str = ""
    status: str = ""
    subkind: str = ""
