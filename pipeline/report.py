"""The reviewers' side: align a finished run with a transcript and write what they work from.

`DIR/discrepancies.json` is `json.dumps` of the model (schema in docs/discrepancies.md),
`DIR/discrepancies.csv` the same rows flat, and `DIR/report.html` a page that opens from disk:
documents and pages with counts per kind and CER, each page image with the discrepancies boxed,
OCR and transcript side by side, filters by kind, and the image crop beside each discrepancy.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape

from . import __version__, align, batch, export
from .errors import ArchocrError, TranscriptError
from .files import atomic_write
from .lexicon import Lexicon
from .lexicon import load as load_lexicon
from .transcripts import markdown_spans, read_text_with_encoding

SCHEMA_VERSION = 1
CSV_FIELDS = (
    "document",
    "page",
    "line",
    "kind",
    "status",
    "ocr_text",
    "transcript_text",
    "ocr_start",
    "ocr_end",
    "transcript_start",
    "transcript_end",
    "bbox",
    "confidence",
    "reason",
    "subkind",
)


@dataclass
class AlignmentRun:
    transcript: str
    encoding: str
    pages: list[align.PageAlignment]
    images: dict[tuple[str, int], str]  # (document, page) -> image path relative to the report
    sizes: dict[tuple[str, int], tuple[int, int]]
    texts: dict[tuple[str, int], str]
    unreadable: list[str] = field(default_factory=list)  # page files that could not be read, and why


def word_checker(lexicon: Lexicon) -> Any:
    """Is this a word? Russian from the period lexicon; Latin script from an English word list."""
    english = align.english_words()

    def is_word(word: str) -> bool:
        core = re.sub(r"^\W+|\W+$", "", word)
        if not core or not any(ch.isalpha() for ch in core):
            return True
        if align._CYR.search(core):
            return lexicon.is_word(core)
        return core.lower() in english if english else True

    return is_word


def load_transcript(path: Path, lexicon: Lexicon, encoding: str | None = None) -> align.Transcript:
    text, used = read_text_with_encoding(path, encoding)
    return align.parse_transcript(text, word_checker(lexicon), str(path), used)


def align_output(
    out_dir: Path, transcript_path: Path, *, encoding: str | None = None, lexicon_name: str = "default"
) -> AlignmentRun:
    """Align every page of a finished run in `out_dir` with the transcript."""
    lexicon = load_lexicon(lexicon_name)
    transcript = load_transcript(transcript_path, lexicon, encoding)
    if not len(transcript.word_starts):
        raise TranscriptError("has no words to align with", path=str(transcript_path))
    aligner = align.Aligner(
        transcript,
        word_checker(lexicon),
        {(c.seen, c.meant) for c in lexicon.confusions},
        align.lemma_finder(lexicon),
    )
    pages, images, sizes, texts = [], {}, {}, {}
    unreadable = []
    for finished in batch.finished_pages(out_dir):  # the manifest's pages, never stray files
        try:
            page, data = export.read_page_json(finished.json_path)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # damaged since the run wrote it
            unreadable.append(f"{finished.json_path}: page file is unreadable ({type(exc).__name__}: {exc})")
            continue
        key = (page.document, page.number)
        pages.append(aligner.align_page(page))
        images[key] = f"{finished.document}/{data['image']}"
        sizes[key] = (page.width, page.height)
        texts[key] = page.text
    if not pages:
        detail = f"; {unreadable[0]}" if unreadable else ""
        raise ArchocrError(f"no finished pages to align (run `archocr run` first){detail}", path=str(out_dir))
    return AlignmentRun(str(transcript_path), transcript.encoding, pages, images, sizes, texts, unreadable)


def _score_dict(s: Any) -> dict[str, float] | None:
    return {"cer": s.cer, "wer": s.wer, "chars": s.chars, "words": s.words} if s is not None else None


def to_json(run: AlignmentRun) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "archocr": __version__,
        "transcript": run.transcript,
        "transcript_encoding": run.encoding,
        "kinds": list(align.KINDS),
        "pages": [
            {
                "document": p.document,
                "page": p.page,
                "status": p.status,
                "reason": p.reason,
                "transcript_start": p.transcript_start,
                "transcript_end": p.transcript_end,
                "counts": p.counts(),
                "cer_raw": _score_dict(p.raw),
                "cer_normalised": _score_dict(p.normalised),
            }
            for p in run.pages
        ],
        "discrepancies": [dataclasses.asdict(d) for p in run.pages for d in p.discrepancies],
    }


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet will show as text: a leading ' before a formula's first character.
    Numbers stay numbers; the JSON always keeps the real text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(run: AlignmentRun) -> str:
    """The discrepancies as rows; text cells that a spreadsheet would run as a formula are neutralised."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for p in run.pages:
        for d in p.discrepancies:
            row = dataclasses.asdict(d)
            row["bbox"] = " ".join(str(v) for v in dataclasses.astuple(d.bbox)) if d.bbox else ""
            writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return buf.getvalue()


def _segments(
    text: str,
    discrepancies: list[Any],
    start_key: str,
    end_key: str,
    base: int = 0,
    markup: list[tuple[str, int, int]] | None = None,
) -> list[dict[str, Any]]:
    """The text cut into plain runs and marked runs (one per discrepancy), for side-by-side display.
    Each run is a list of pieces as a reader sees them: Markdown `markup` (spans relative to `text`)
    is left out and footnote links become superscript markers; every piece keeps `start`, its offset
    in the file (`base` + offset in `text`)."""
    marks = sorted(
        (getattr(d, start_key), getattr(d, end_key), i, d.kind) for i, d in enumerate(discrepancies)
    )
    out, at = [], 0
    for start, end, index, kind in marks:
        if start < at:
            continue
        if start > at:
            out.append({"pieces": _pieces(text, at, start, base, markup)})
        pieces = _pieces(text, start, end, base, markup) or [{"text": "∅", "start": base + start}]
        out.append({"pieces": pieces, "kind": kind, "index": index})
        at = max(at, end)
    out.append({"pieces": _pieces(text, at, len(text), base, markup)})
    return out


def _pieces(
    text: str, start: int, end: int, base: int, markup: list[tuple[str, int, int]] | None
) -> list[dict[str, Any]]:
    pieces: list[dict[str, Any]] = []
    at = start
    for kind, m_start, m_end in markup or []:
        if m_end <= at or m_start >= end:
            continue
        if m_start > at:
            pieces.append({"text": text[at:m_start], "start": base + at})
        if kind == "footnote_marker" and m_start >= at:
            number = re.search(r"\d+", text[m_start:m_end])
            pieces.append({"sup": number.group(0) if number else "*", "start": base + m_start})
        at = max(at, min(m_end, end))
    if at < end:
        pieces.append({"text": text[at:end], "start": base + at})
    return pieces


def _markup_in(spans: list[tuple[str, int, int]], start: int, end: int) -> list[tuple[str, int, int]]:
    """The Markdown spans inside [start, end), relative to `start`, sorted and not overlapping."""
    inside = sorted((s - start, e - start, k) for k, s, e in spans if s < end and e > start)
    out: list[tuple[str, int, int]] = []
    for s, e, k in inside:
        if out and s < out[-1][2]:
            if k == "footnote_marker" and out[-1][0] != "footnote_marker":
                out[-1] = (k, out[-1][1], max(e, out[-1][2]))
            else:
                out[-1] = (out[-1][0], out[-1][1], max(e, out[-1][2]))
        else:
            out.append((k, max(s, 0), min(e, end - start)))
    return out


CROP_MARGIN = (20, 10)  # pixels of the page shown around a discrepancy's box, left/right and above/below
CROP_WIDTH = 360  # largest width of a crop in the report, in CSS pixels


def crop_geometry(bbox: Any, width: int, height: int) -> dict[str, int] | None:
    """Size, background size and offset (CSS pixels) of the crop showing `bbox`: the box plus a margin,
    kept inside the page (a box at the top or left edge must not ask for a negative offset)."""
    if not bbox or width <= 0 or height <= 0:
        return None
    left, top = max(0, bbox.x0 - CROP_MARGIN[0]), max(0, bbox.y0 - CROP_MARGIN[1])
    right, bottom = min(width, bbox.x1 + CROP_MARGIN[0]), min(height, bbox.y1 + CROP_MARGIN[1])
    if right <= left or bottom <= top:
        return None
    scale = min(1.0, CROP_WIDTH / (right - left))
    return {
        "width": max(1, int((right - left) * scale)),
        "height": max(1, int((bottom - top) * scale)),
        "background_width": int(width * scale),
        "background_height": int(height * scale),
        "x": int(left * scale),
        "y": int(top * scale),
    }


def image_url(path: str) -> str:
    """A relative URL for an image path: every character a URL or the CSS url('…') around it could
    read as syntax (#, %, ?, quotes, brackets, spaces, line breaks, a scheme's colon) percent-encoded."""
    return quote(path, safe="/")


def to_html(run: AlignmentRun, transcript_text: str) -> str:
    env = Environment(
        loader=PackageLoader("pipeline", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    markup = markdown_spans(transcript_text)
    pages = []
    for index, p in enumerate(run.pages):
        key = (p.document, p.page)
        width, height = run.sizes[key]
        region = transcript_text[p.transcript_start : p.transcript_end] if p.status == "aligned" else ""
        shifted = [
            dataclasses.replace(
                d,
                transcript_start=d.transcript_start - p.transcript_start,
                transcript_end=d.transcript_end - p.transcript_start,
            )
            for d in p.discrepancies
        ]
        pages.append(
            {
                "id": f"p{index}",
                "document": p.document,
                "page": p.page,
                "status": p.status,
                "reason": p.reason,
                "image": image_url(run.images[key]),
                "width": width,
                "height": height,
                "counts": p.counts(),
                "cer": p.raw.cer if p.raw else None,
                "cer_normalised": p.normalised.cer if p.normalised else None,
                "discrepancies": p.discrepancies,
                "crops": [crop_geometry(d.bbox, width, height) for d in p.discrepancies],
                "ocr_segments": _segments(run.texts[key], p.discrepancies, "ocr_start", "ocr_end"),
                "transcript_segments": _segments(
                    region,
                    shifted,
                    "transcript_start",
                    "transcript_end",
                    p.transcript_start,
                    _markup_in(markup, p.transcript_start, p.transcript_end),
                ),
            }
        )
    return env.get_template("report.html.j2").render(
        pages=pages,
        kinds=align.KINDS,
        transcript=run.transcript,
        encoding=run.encoding,
        version=__version__,
        totals={k: sum(p.counts().get(k, 0) for p in run.pages) for k in align.KINDS},
    )


def write_reports(run: AlignmentRun, out_dir: Path, transcript_text: str) -> dict[str, Path]:
    paths = {
        "json": out_dir / "discrepancies.json",
        "csv": out_dir / "discrepancies.csv",
        "html": out_dir / "report.html",
    }
    atomic_write(paths["json"], json.dumps(to_json(run), ensure_ascii=False, indent=1) + "\n")
    atomic_write(paths["csv"], to_csv(run))
    atomic_write(paths["html"], to_html(run, transcript_text))
    return paths
