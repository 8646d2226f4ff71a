"""Tesseract: the only module that calls it. Words keep their boxes and confidences, and the
block / paragraph / line structure Tesseract found."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import pytesseract
from lxml import etree

from . import preprocess
from .config import Settings
from .errors import OcrError
from .model import BBox, Line, Paragraph, Step, Word

# One Tesseract thread per page: batch runs put one page on each core, and Tesseract's own OpenMP
# threads then only fight each other (measured: 5.9 s wall per page against 2.75 s with the limit).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@functools.lru_cache(maxsize=1)
def tesseract_version() -> str:
    try:
        return str(pytesseract.get_tesseract_version())
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise OcrError(
            "Tesseract is not installed: run `make setup` (tesseract-ocr, tesseract-ocr-rus)"
        ) from exc


@functools.lru_cache(maxsize=8)
def traineddata_id(lang: str) -> str:
    """Identity of the language models in use (name and a short hash of each file), for provenance."""
    folder = _tessdata_dir()
    parts = []
    for name in lang.split("+"):
        path = folder / f"{name}.traineddata" if folder else None
        if not path or not path.is_file():
            raise OcrError(f"Tesseract has no '{name}' language model (install tesseract-ocr-{name})")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        parts.append(f"{name}:{digest}")
    return "+".join(parts)


def _tessdata_dir() -> Path | None:
    try:
        listing = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'"(.+?)"', listing)
    return Path(match.group(1)) if match else None


def _temp_image(image: np.ndarray, folder: str) -> str:
    # Uncompressed BMP: the file lives for one Tesseract call, so encoding it (50 ms as PNG) is waste.
    # The resolution goes to Tesseract as --dpi, not through the file.
    path = os.path.join(folder, "page.bmp")
    cv2.imwrite(path, image)
    return path


def _run(func, image: np.ndarray, settings: Settings, config: str):  # type: ignore[no-untyped-def]
    tesseract_version()
    # The process id in the name lets a later run remove what a killed worker left (remove_stale_scratch).
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=_scratch_dir()) as folder:
        path = _temp_image(image, folder)
        try:
            return func(path, lang=settings.lang, config=config, timeout=settings.page_timeout)
        except RuntimeError as exc:  # pytesseract raises a bare RuntimeError on timeout
            if "timeout" in str(exc).lower():
                raise OcrError(
                    f"Tesseract took longer than {settings.page_timeout:g} s and was stopped"
                ) from exc
            raise OcrError(f"Tesseract failed: {exc}") from exc
        except pytesseract.TesseractError as exc:
            raise OcrError(f"Tesseract failed (status {exc.status}): {exc.message.strip()[:300]}") from exc


def _scratch_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


SCRATCH_PREFIX = "archocr-"


def remove_stale_scratch() -> int:
    """Remove the scratch folders (a page image each) of archocr processes that no longer exist, such as
    a killed Dask worker's. Returns how many were removed."""
    removed = 0
    for path in Path(_scratch_dir() or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tsv_and_hocr(path: str, lang: str, config: str, timeout: float) -> tuple[str, str, float]:
    """One Tesseract run writing both TSV (words, boxes, confidences to two decimals) and hOCR (the
    baseline of every line, which the TSV lacks), and the seconds the Tesseract process took."""
    base = os.path.splitext(path)[0]
    started = time.perf_counter()
    pytesseract.pytesseract.run_tesseract(
        path, base, "hocr", lang, f"{config} -c tessedit_create_tsv=1", timeout=timeout
    )
    seconds = time.perf_counter() - started
    tsv, hocr = (Path(f"{base}.{ext}").read_text(encoding="utf-8") for ext in ("tsv", "hocr"))
    return tsv, hocr, seconds


def recognise(image: np.ndarray, settings: Settings, dpi: int) -> tuple[tuple[Paragraph, ...], Step]:
    """OCR one cleaned page image. Returns its paragraphs (reading order) and the step record: its
    seconds are the whole call, `tesseract_seconds` in its settings the Tesseract process alone
    (writing its input and parsing its output are archocr's own work)."""
    started = time.perf_counter()
    config = f"--psm {settings.psm} --dpi {dpi}"
    tsv, hocr, tesseract_seconds = _run(_tsv_and_hocr, image, settings, config)
    paragraphs = parse_tsv(tsv, hocr_baselines(hocr))
    step = Step(
        "ocr",
        tesseract_version(),
        {
            "engine": "tesseract",
            "lang": settings.lang,
            "models": traineddata_id(settings.lang),
            "psm": settings.psm,
            "dpi": dpi,
            "tesseract_seconds": round(tesseract_seconds, 4),
        },
        round(time.perf_counter() - started, 4),
    )
    return paragraphs, step


_LINE_CLASSES = {"ocr_line", "ocr_caption", "ocr_textfloat", "ocr_header"}
_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_BASELINE = re.compile(r"baseline (-?[\d.]+) (-?[\d.]+)")


def hocr_baselines(hocr: str) -> dict[tuple[int, int, int, int], tuple[tuple[int, int], ...]]:
    """{line box (x0, y0, x1, y1): baseline from its left to its right end} from Tesseract's hOCR,
    where `baseline slope offset` is relative to the bottom left corner of the line's box."""
    found: dict[tuple[int, int, int, int], tuple[tuple[int, int], ...]] = {}
    if not hocr.strip():
        return found
    root = etree.fromstring(hocr.encode("utf-8"), etree.XMLParser(recover=True, resolve_entities=False))
    for el in root.iter("{*}span"):
        if el.get("class") not in _LINE_CLASSES:
            continue
        title = el.get("title", "")
        box, base = _BBOX.search(title), _BASELINE.search(title)
        if not box or not base:
            continue
        x0, y0, x1, y1 = (int(v) for v in box.groups())
        slope, offset = float(base.group(1)), float(base.group(2))
        left_y = y1 + offset
        found[(x0, y0, x1, y1)] = ((x0, round(left_y)), (x1, round(left_y + slope * (x1 - x0))))
    return found


def parse_tsv(
    tsv: str, baselines: dict[tuple[int, int, int, int], tuple[tuple[int, int], ...]] | None = None
) -> tuple[Paragraph, ...]:
    """Tesseract's TSV output (level, block, par, line, word, box, conf, text) as paragraphs; each
    line gets its baseline from `baselines` (see hocr_baselines), found by the line's box."""
    rows = tsv.splitlines()
    if not rows:
        return ()
    header = rows[0].split("\t")
    index = {name: i for i, name in enumerate(header)}
    columns = len(header)
    # The columns' places, looked up once rather than in every row.
    level_at, left_at, top_at, width_at, height_at = (
        index[name] for name in ("level", "left", "top", "width", "height")
    )
    block_at, par_at, line_at, text_at, conf_at = (
        index[name] for name in ("block_num", "par_num", "line_num", "text", "conf")
    )
    grouped: dict[tuple[int, int], dict[int, list[Word]]] = defaultdict(lambda: defaultdict(list))
    line_baselines: dict[tuple[int, int, int], tuple[tuple[int, int], ...]] = {}
    order: list[tuple[int, int]] = []
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) < columns:
            continue
        level = cells[level_at]
        if level != "4" and level != "5":
            continue
        left, top = int(cells[left_at]), int(cells[top_at])
        box = BBox(left, top, left + int(cells[width_at]), top + int(cells[height_at]))
        key = (int(cells[block_at]), int(cells[par_at]))
        line_num = int(cells[line_at])
        if level == "4":
            found = (baselines or {}).get((box.x0, box.y0, box.x1, box.y1))
            if found:
                line_baselines[(*key, line_num)] = found
            continue
        text = cells[text_at].strip()
        if not text:
            continue
        if key not in grouped:
            order.append(key)
        grouped[key][line_num].append(Word(text, box, round(float(cells[conf_at]), 2)))
    paragraphs = []
    for key in order:
        lines = tuple(
            Line.of(words, line_baselines.get((*key, number), ()))
            for number, words in sorted(grouped[key].items())
        )
        paragraphs.append(Paragraph.of(lines, key[0]))
    return tuple(paragraphs)


def detect_orientation(image: np.ndarray, settings: Settings) -> tuple[int, float]:
    """Tesseract OSD on the page: (degrees to turn clockwise, confidence). (0, 0.0) when it cannot tell."""
    small = image
    if max(image.shape) > 2000:
        factor = 2000 / max(image.shape)
        small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    try:
        report = _run(pytesseract.image_to_osd, small, settings.replace(lang="osd"), "--psm 0")
    except OcrError:
        return 0, 0.0
    rotate = re.search(r"Rotate:\s*(\d+)", report)
    confidence = re.search(r"Orientation confidence:\s*([\d.]+)", report)
    return (int(rotate.group(1)) if rotate else 0), (float(confidence.group(1)) if confidence else 0.0)


# ---------------------------------------------------------------- lines Tesseract's layout dropped

DROPPED_SIDE = 2000  # long side of the copy of the page the dropped lines are looked for on
DROPPED_MIN_LETTERS = 8  # letter-sized pieces of ink no word covers, in a row, before a band is re-read
DROPPED_MIN_WIDTH = 5.0  # ... spanning at least this many glyph heights
REREAD_MIN_CONF = 30.0  # a line read again with a lower median word confidence is not type
SPLIT_MAX_GAP = 10.0  # glyph heights: lines of two paragraphs closer than this on one row may be one line
SPLIT_GAP_INK = 0.05  # ... when this share of the space between them is ink (a stamp's ring or frame)


COLUMN_ROWS = 6  # rows where two lines stand side by side, their right ones starting at one x: columns


def in_columns(lines: list[Line], width: int) -> bool:
    """The text stands in columns (a printed two-column page, a table): many rows hold two lines side
    by side across a gap, and the right ones start at one x. Reading a band of such a page again as one
    block (psm 6) would run the columns into each other."""
    return column_start(lines, width) is not None


def column_start(lines: list[Line], width: int) -> int | None:
    """Where the right column starts when the text stands in columns (see in_columns), else None."""
    if not lines:
        return None
    # Every pair (a, b) of lines at once: b to the right of a across a gap, on a row with it.
    x0, y0, x1, y1 = np.array([(ln.bbox.x0, ln.bbox.y0, ln.bbox.x1, ln.bbox.y1) for ln in lines]).T
    ids = np.array([id(ln) for ln in lines])
    rows = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    height = y1 - y0
    gap = x0[None, :] - x1[:, None]
    pairs = (
        (ids[:, None] != ids[None, :])
        & (gap > 0)
        & (rows > 0.5 * np.minimum(height[:, None], height[None, :]))
        & (gap > 0.02 * width)
    )
    starts = np.broadcast_to(x0[None, :], pairs.shape)[pairs].tolist()  # b's start, for each pair
    if len(starts) < COLUMN_ROWS:
        return None
    aligned = np.abs(np.array(starts) - np.median(starts)) < 0.02 * width
    return int(np.min(np.array(starts)[aligned])) if int(aligned.sum()) >= COLUMN_ROWS else None


COLUMN_WIDTH = 0.25  # share of the page's width the lines of each of two printed columns span (median)


def two_columns(lines: list[Line], width: int) -> int | None:
    """Where the right column starts when the text stands in two printed columns, each of COLUMN_ROWS
    lines or more and COLUMN_WIDTH of the page wide: not a margin of notes, nor the edge of the next
    page in a book's scan, beside one column of type."""
    split = column_start(lines, width)
    if split is None:
        return None
    sides = (
        [ln.bbox.width for ln in lines if ln.bbox.x1 <= split],
        [ln.bbox.width for ln in lines if ln.bbox.x0 >= split],
    )
    wide = all(len(w) >= COLUMN_ROWS and float(np.median(w)) >= COLUMN_WIDTH * width for w in sides)
    return split if wide else None


COLUMN_SIDE = 0.8  # share of a line's words' width on one side of the gutter that puts it in that column


def columns_apart(paragraphs: tuple[Paragraph, ...], width: int) -> tuple[Paragraph, ...]:
    """On a page in two columns, a paragraph Tesseract made of lines of both columns (a speck in the
    gutter can join them) is split: its lines of the right column are read with that column, before
    the first of its paragraphs lower down. Lines across both columns (a heading) stay where they are."""
    split = two_columns([line for p in paragraphs for line in p.lines], width)
    if split is None:
        return paragraphs

    def side(line: Line) -> str:
        total = sum(w.bbox.width for w in line.words) or 1
        right = sum(max(0, w.bbox.x1 - max(w.bbox.x0, split)) for w in line.words) / total
        return "right" if right >= COLUMN_SIDE else "left" if right <= 1 - COLUMN_SIDE else "across"

    def paragraph(lines: list[Line], block: int) -> Paragraph:
        return Paragraph.of(lines, block)

    kept: list[Paragraph] = []
    moved: list[Paragraph] = []
    for par in paragraphs:
        sides = [side(line) for line in par.lines]
        if "left" in sides and "right" in sides:
            kept.append(
                paragraph([ln for ln, s in zip(par.lines, sides, strict=True) if s != "right"], par.block)
            )
            moved.append(
                paragraph([ln for ln, s in zip(par.lines, sides, strict=True) if s == "right"], par.block)
            )
        else:
            kept.append(par)
    for new in moved:
        later = next(
            (
                i
                for i, p in enumerate(kept)
                if p.bbox.y0 > new.bbox.y0 and all(side(line) == "right" for line in p.lines)
            ),
            None,
        )
        if later is None:  # after the right column's last paragraph, or at the end
            rights = [i for i, p in enumerate(kept) if all(side(line) == "right" for line in p.lines)]
            later = rights[-1] + 1 if rights else len(kept)
        kept.insert(later, new)
    return _column_by_column(kept, side, split)


def top_down(paragraphs: tuple[Paragraph, ...]) -> tuple[Paragraph, ...]:
    """Tesseract's order of paragraphs, except that one wholly above another in the same column (the two
    share most of the narrower one's width) is read before it. Round a stamp, Tesseract's layout may make
    a block of the line the stamp touches and read it after the text below."""
    out: list[Paragraph] = []
    for par in paragraphs:
        height = float(np.median([ln.bbox.height for ln in par.lines])) if par.lines else 0.0
        below = next(
            (
                i
                for i, q in enumerate(out)
                if par.bbox.y1 <= q.bbox.y0 + 0.5 * height and _beside(par.bbox, q.bbox)
            ),
            None,
        )
        out.insert(len(out) if below is None else below, par)
    return tuple(out)


def reading_order(paragraphs: tuple[Paragraph, ...], width: int) -> tuple[Paragraph, ...]:
    """Tesseract's paragraphs in reading order: columns apart (`columns_apart`), a paragraph above
    another in its column first (`top_down`), and, on a page not in two columns, short lines in the
    order of their rows (`rows_in_order`)."""
    return rows_in_order(top_down(columns_apart(paragraphs, width)), width)


def rows_in_order(paragraphs: tuple[Paragraph, ...], width: int) -> tuple[Paragraph, ...]:
    """Tesseract makes a block of each side of a document's head (a registration number at the left,
    a secrecy mark and the date at the right) and reads the left one first, the secrecy mark above it
    after it. On a page not in two printed columns, a paragraph of one line
    - lying wholly above the paragraphs read last before it is read before them (a speck read at the
      sheet's top edge may come first of all);
    - on the row of an earlier one-line paragraph, to its right, is read just after it (the date at
      the end of the registration number's row).
    Longer paragraphs keep their places: beside the other column of a page in columns that was not
    told for one, a column's first paragraph lies above the other column's last ones."""
    if len(paragraphs) < 2 or two_columns([ln for p in paragraphs for ln in p.lines], width) is not None:
        return paragraphs
    out: list[Paragraph] = []
    for par in paragraphs:
        if len(par.lines) != 1:
            out.append(par)
            continue
        line = par.lines[0].bbox
        under = len(out)  # where the paragraphs read last, all of them below this line, begin
        while under and line.y1 <= out[under - 1].bbox.y0 + 0.5 * line.height:
            under -= 1
        if under == len(out):
            beside = [
                i
                for i, q in enumerate(out)
                if len(q.lines) == 1 and q.bbox.x1 <= line.x0 and _on_row(q.bbox, line)
            ]
            under = beside[-1] + 1 if beside else len(out)
        out.insert(under, par)
    return tuple(out)


def _on_row(a: BBox, b: BBox) -> bool:
    """Whether two lines' boxes share most of the taller one's height: one row of the page (a sheet's
    edge read as a tall line beside a page's last lines is none: a real 18th-century page)."""
    return min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5 * max(a.height, b.height)


def _column_by_column(
    paragraphs: list[Paragraph], side: Callable[[Line], str], split: int
) -> tuple[Paragraph, ...]:
    """Tesseract may read two columns' blocks in turn where something in the gutter (a stamp, a
    picture) breaks them (the left column's top, the right one's top, the left one's rest, ...). Between
    two paragraphs across the page (a heading), the left column's paragraphs are read top to bottom,
    then the right one's. A paragraph across the gutter with column text on both sides of it at its
    height (a stamp's words read between the columns) is no heading: it goes with the side of its
    centre."""
    sides = [{side(line) for line in p.lines} for p in paragraphs]
    one_side = [next(iter(s)) if s in ({"left"}, {"right"}) else "" for s in sides]

    def beside_columns(par: Paragraph) -> bool:
        middle = (par.bbox.y0 + par.bbox.y1) / 2
        return all(
            any(k == s and p.bbox.y0 < middle < p.bbox.y1 for p, k in zip(paragraphs, one_side, strict=True))
            for s in ("left", "right")
        )

    ordered: list[Paragraph] = []
    section: list[tuple[str, Paragraph]] = []

    def close() -> None:
        for s in ("left", "right"):
            ordered.extend(sorted((p for k, p in section if k == s), key=lambda p: p.bbox.y0))
        section.clear()

    for par, kind in zip(paragraphs, one_side, strict=True):
        if not kind and beside_columns(par):
            kind = "right" if (par.bbox.x0 + par.bbox.x1) / 2 >= split else "left"
        if kind:
            section.append((kind, par))
        else:
            close()
            ordered.append(par)
    close()
    return tuple(ordered)


def reduced_copy(image: np.ndarray, made: np.ndarray | None = None) -> np.ndarray:
    """The page at most DROPPED_SIDE pixels long (`preprocess.shrink`): what dropped_bands looks at.
    `made`: `shrink`'s copy of `image` made already (`preprocess.Cleaned.reduced`), used when its size is
    the one asked for (the same call on the same image: the same copy)."""
    scale = min(1.0, DROPPED_SIDE / max(image.shape))
    if scale == 1.0:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    if made is not None and (made.shape[1], made.shape[0]) == size:
        return made
    return preprocess.shrink(image, size)


def dropped_bands(
    binary: np.ndarray, paragraphs: tuple[Paragraph, ...], glyph: float, small: np.ndarray | None = None
) -> list[BBox]:
    """Bands of the page holding type that no word read covers: Tesseract's page layout (psm 3) takes
    the ink round a stamp's ring or frame for a picture and drops the lines of type through it.

    Only letter-sized ink counts (a ring, a frame, a rule or cursive handwriting is one big piece),
    and only runs of at least DROPPED_MIN_LETTERS pieces of the page's glyph height side by side, so
    a word of a marginal note does not make a band. Each band is widened to the lines read beside it,
    so that it is re-read as whole lines. `small` is `binary`'s reduced_copy, when it is made already."""
    if glyph <= 0 or not paragraphs:
        return []
    if small is None:
        small = reduced_copy(binary)
    width = binary.shape[1]
    lines = [line for p in paragraphs for line in p.lines]
    split = two_columns(lines, width)
    if split is None:
        return [] if in_columns(lines, width) else _dropped_bands(binary, paragraphs, glyph, small)
    # Text in two columns: each column is looked at on its own, the other one painted over, so that no
    # band runs across the gutter (one block of psm 6 would run the columns into each other). A column
    # that itself stands in columns (a table) is left alone.
    scale = small.shape[1] / width
    gutter = max(0, split - int(0.01 * width))
    bands = []
    for x0, x1 in ((0, gutter), (gutter, width)):
        own = tuple(
            Paragraph.of(kept, p.block)
            for p in paragraphs
            if (kept := tuple(ln for ln in p.lines if x0 <= (ln.bbox.x0 + ln.bbox.x1) / 2 < x1))
        )
        if not own or in_columns([line for p in own for line in p.lines], width):
            continue
        column = np.full_like(small, 255)
        sx0, sx1 = int(x0 * scale), int(np.ceil(x1 * scale))
        column[:, sx0:sx1] = small[:, sx0:sx1]
        # A line dropped in a column runs the column's width, though only its letters clear of the stamp
        # are found (those touching its ring are one piece with it): the band is read across the column.
        left = int(np.percentile([ln.bbox.x0 for p in own for ln in p.lines], 10))
        right = int(np.percentile([ln.bbox.x1 for p in own for ln in p.lines], 90))
        for b in _dropped_bands(binary, own, glyph, column):
            if min(b.x1, x1) - max(b.x0, x0) > 0:
                bands.append(BBox(max(min(b.x0, left), x0), b.y0, min(max(b.x1, right), x1), b.y1))
    return bands


def _dropped_bands(
    binary: np.ndarray, paragraphs: tuple[Paragraph, ...], glyph: float, small: np.ndarray
) -> list[BBox]:
    """dropped_bands on text that does not stand in columns."""
    scale = min(1.0, DROPPED_SIDE / max(binary.shape))
    g = glyph * scale
    # Otsu, not a fixed level: the page may be the flattened grey (`--binarise none`).
    ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    stats, centroids = preprocess.piece_stats(ink)  # only what each piece is counts, not its number
    x, y, w, h, area = (stats[:, i] for i in range(5))
    letter = (h >= 0.5 * g) & (h <= 1.6 * g) & (w <= 2.5 * g) & (area >= max(4.0, 0.05 * g * g))
    letter[0] = False
    covered = np.zeros(small.shape, np.uint8)
    pad = max(1, int(round(g / 3)))
    lines = [line for p in paragraphs for line in p.lines]
    for line in lines:
        for word in line.words:
            b = word.bbox
            x0, y0 = max(0, int(b.x0 * scale) - pad), max(0, int(b.y0 * scale) - pad)
            covered[y0 : int(b.y1 * scale) + pad + 1, x0 : int(b.x1 * scale) + pad + 1] = 1
    cx = np.clip(centroids[:, 0].astype(int), 0, small.shape[1] - 1)
    cy = np.clip(centroids[:, 1].astype(int), 0, small.shape[0] - 1)
    unread = letter & (covered[cy, cx] == 0)
    bands = [_widen_to_lines(b, lines, glyph) for b in _split_rows(paragraphs, ink, scale, glyph)]
    if unread.sum() < DROPPED_MIN_LETTERS:
        return _merge_boxes(bands, glyph, ink, scale)
    mask = np.zeros(small.shape, np.uint8)
    for i in np.flatnonzero(unread):
        cv2.rectangle(mask, (int(x[i]), int(y[i])), (int(x[i] + w[i] - 1), int(y[i] + h[i] - 1)), 1, -1)
    # Letters of a line are less than a glyph height apart; lines are further apart than a third of one.
    joined = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(1.6 * g)), 1)))
    n, runs, run_stats, _ = preprocess.components(joined)
    members = np.bincount(runs[cy[unread], cx[unread]], minlength=n)
    for r in range(1, n):
        rx, ry, rw, rh, _ = run_stats[r]
        if members[r] < DROPPED_MIN_LETTERS or rw < DROPPED_MIN_WIDTH * g or rh > 2.5 * g:
            continue
        box = BBox(int(rx / scale), int(ry / scale), int((rx + rw) / scale), int((ry + rh) / scale))
        bands.append(_widen_to_lines(box, lines, glyph))
    return _merge_boxes(bands, glyph, ink, scale)


def _split_rows(paragraphs: tuple[Paragraph, ...], ink: np.ndarray, scale: float, glyph: float) -> list[BBox]:
    """Rows of type the page layout cut in two round a stamp: lines of different paragraphs side by side
    on one row with ink between them (a ring or a frame)."""
    placed = [(k, line.bbox) for k, p in enumerate(paragraphs) for line in p.lines]
    found: list[BBox] = []
    for i, (k, a) in enumerate(placed):
        for m, b in placed[i + 1 :]:
            if m != k and _one_row(a, b, ink, scale, glyph):
                found.append(a.union(b))
    return found


def _one_row(a: BBox, b: BBox, ink: np.ndarray, scale: float, glyph: float) -> bool:
    """Whether two boxes side by side on a row are parts of one row of type: close, or with a stamp's
    ink between them. Columns and a table's cells have a blank gutter between them, or only a rule."""
    left, right = (a, b) if a.x0 <= b.x0 else (b, a)
    gap = right.x0 - left.x1
    rows = min(a.y1, b.y1) - max(a.y0, b.y0)
    if rows < 0.5 * min(a.height, b.height) or gap > SPLIT_MAX_GAP * glyph or gap < 0:
        return False
    if gap < glyph:
        return True
    y0, y1 = int(max(a.y0, b.y0) * scale), int(np.ceil(min(a.y1, b.y1) * scale))
    between = ink[y0:y1, int(left.x1 * scale) : int(np.ceil(right.x0 * scale))]
    if between.size:
        between = between[:, between.mean(axis=0) < 0.8]  # a table's rules run the row's height
    return bool(between.size) and float(between.mean()) >= SPLIT_GAP_INK


def _widen_to_lines(box: BBox, lines: list[Line], glyph: float) -> BBox:
    """The band grown to the read lines on its rows that lie beside it (not those of another column
    across a wide gap), and up and down by half a glyph."""
    grown = box
    changed = True
    while changed:
        changed = False
        for line in lines:
            b = line.bbox
            rows = min(b.y1, grown.y1) - max(b.y0, grown.y0) > 0.5 * min(b.height, grown.height)
            near = b.x0 - grown.x1 < 3 * glyph and grown.x0 - b.x1 < 3 * glyph
            if rows and near and (b.x0 < grown.x0 or b.x1 > grown.x1):
                grown = grown.union(b)
                changed = True
    margin = int(glyph / 2)
    return BBox(max(0, grown.x0 - margin), max(0, grown.y0 - margin), grown.x1 + margin, grown.y1 + margin)


def _merge_boxes(boxes: list[BBox], glyph: float, ink: np.ndarray, scale: float) -> list[BBox]:
    """Boxes that overlap (or nearly touch above and below, or lie on one row with a stamp between
    them) joined, until none do."""
    merged = sorted(boxes, key=lambda b: (b.y0, b.x0))
    while True:
        out: list[BBox] = []
        for b in merged:
            for i, m in enumerate(out):
                touch = (
                    b.y0 <= m.y1 + glyph / 2 and m.y0 <= b.y1 + glyph / 2 and b.x0 <= m.x1 and m.x0 <= b.x1
                )
                if touch or _one_row(m, b, ink, scale, glyph):
                    out[i] = m.union(b)
                    break
            else:
                out.append(b)
        if len(out) == len(merged):
            return out
        merged = out


T = TypeVar("T")


def stacked(crops: Sequence[np.ndarray], gap: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The crops one under another on white paper, `gap` pixels apart and round them, for one Tesseract
    call over them all: the montage and each crop's rows (top, bottom) in it. A crop's pixel (x, y)
    stands at (x + gap, y + top)."""
    width = max(c.shape[1] for c in crops) + 2 * gap
    montage = np.full((sum(c.shape[0] + gap for c in crops) + gap, width), 255, np.uint8)
    spans, top = [], gap
    for crop in crops:
        montage[top : top + crop.shape[0], gap : gap + crop.shape[1]] = crop
        spans.append((top, top + crop.shape[0]))
        top += crop.shape[0] + gap
    return montage, spans


def by_span(
    items: Iterable[T], middle: Callable[[T], float], spans: Sequence[tuple[int, int]], margin: float = 0.0
) -> list[list[T]]:
    """What was read over a montage (lines or words, in reading order), sorted to the crop whose rows
    hold its `middle`, `margin` rows beyond them included; what lies in no crop's rows is left out."""
    out: list[list[T]] = [[] for _ in spans]
    for item in items:
        y = middle(item)
        k = next((i for i, (top, bottom) in enumerate(spans) if top - margin <= y < bottom + margin), None)
        if k is not None:
            out[k].append(item)
    return out


def reread_dropped(
    image: np.ndarray,
    paragraphs: tuple[Paragraph, ...],
    settings: Settings,
    dpi: int,
    glyph: float,
    small: np.ndarray | None = None,
) -> tuple[tuple[Paragraph, ...], list[BBox], float, float]:
    """Re-read the bands `dropped_bands` finds as a uniform block of text (psm 6, one Tesseract call
    over a montage of them) and put their lines in place of whatever was read there, in reading order.
    Returns (paragraphs, bands, seconds of the whole call, seconds of the Tesseract process alone).
    `small` is `image`'s reduced_copy, when it is made already."""
    bands = dropped_bands(image, paragraphs, glyph, small)
    if not bands:
        return paragraphs, [], 0.0, 0.0
    started = time.perf_counter()
    h, w = image.shape[:2]
    bands = [BBox(b.x0, b.y0, min(w, b.x1), min(h, b.y1)) for b in bands]
    gap = max(20, int(2 * glyph))
    montage, spans = stacked([image[b.y0 : b.y1, b.x0 : b.x1] for b in bands], gap)
    tsv, hocr, tesseract_seconds = _run(_tsv_and_hocr, montage, settings, f"--psm 6 --dpi {dpi}")
    read = [line for paragraph in parse_tsv(tsv, hocr_baselines(hocr)) for line in paragraph.lines]
    new_lines: list[list[Line]] = [[] for _ in bands]
    lines_read = by_span(read, lambda line: (line.bbox.y0 + line.bbox.y1) / 2, spans, gap / 2)
    for k, (band, (top, _)) in enumerate(zip(bands, spans, strict=True)):
        for line in lines_read[k]:
            confs = [wd.conf for wd in line.words if wd.conf >= 0]
            if not confs or float(np.median(confs)) < REREAD_MIN_CONF:
                continue  # a stamp's own lettering or its ring read as letters, not a line of type
            moved = line.shifted(band.x0 - gap, band.y0 - top)
            new_lines[k].append(Line.of(moved.words, moved.baseline))
    for band, lines in zip(bands, new_lines, strict=True):
        if lines:
            paragraphs = _put_band(paragraphs, band, tuple(sorted(lines, key=line_middle)))
    return paragraphs, bands, time.perf_counter() - started, tesseract_seconds


def line_middle(line: Line) -> float:
    """A line's height on the page by its words' middles: a piece of a stamp read with it (taller than
    the type) does not lift it above the line before."""
    return float(np.median([(w.bbox.y0 + w.bbox.y1) / 2 for w in line.words]))


def _put_band(
    paragraphs: tuple[Paragraph, ...], band: BBox, lines: tuple[Line, ...]
) -> tuple[Paragraph, ...]:
    """`paragraphs` without the words whose middle lies in `band`, with `lines` as a paragraph of their
    own where the band falls in the reading order: a paragraph running through the band is split."""

    def inside(b: BBox) -> bool:
        cx, cy = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
        return band.x0 <= cx < band.x1 and band.y0 <= cy < band.y1

    def paragraph(kept: list[Line], block: int) -> Paragraph:
        return Paragraph.of(kept, block)

    new = Paragraph.of(lines)
    out: list[Paragraph] = []
    placed = False
    for par in paragraphs:
        above, below = [], []
        split = _beside(par.bbox, band)  # a paragraph beside the band runs on below it
        for line in par.lines:
            words = tuple(wd for wd in line.words if not inside(wd.bbox))
            if not words:
                continue
            kept = Line.of(words, line.baseline)
            (below if split and (kept.bbox.y0 + kept.bbox.y1) / 2 >= band.y1 else above).append(kept)
        if above:
            if not placed and below == [] and par.bbox.y0 >= band.y0 and _beside(par.bbox, band):
                out.append(new)
                placed = True
            out.append(paragraph(above, par.block))
        if below:
            if not placed:
                out.append(new)
                placed = True
            out.append(paragraph(below, par.block))
    if not placed:
        out.append(new)
    return tuple(out)


def _beside(a: BBox, b: BBox) -> bool:
    """Whether two boxes share most of the narrower one's columns: a paragraph in the band's column, not
    a note in the margin that only reaches into it (Tesseract may read such a note before the text)."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 * min(a.width, b.width)


# ---------------------------------------------------------------- typed text as typed

DASH_GLYPHS = frozenset("-‐‑‒–—―")  # what Tesseract makes of a dash standing alone between words
TYPED_DASH = "–"  # ... which the edited text of a typed document writes as an en dash
MONOSPACE_SPREAD = 0.02  # words' width per letter varying less than this (median deviation): typewritten
MONOSPACE_MIN_WORDS = 20  # ... told from at least this many words of five letters or more
SPACED_DASH_GAP = 0.9  # letter widths of paper between a dash and a word beside it: a typed space
TYPED_SPECKS = "‘‚`|‹›"  # marks no typewriter types, read from specks at a word's edge or alone


def typed_letter_width(paragraphs: Iterable[Paragraph]) -> float:
    """The width of one letter when the page is typed in a monospaced face, else 0. Every letter of
    such a face takes one width, so its words' width per letter hardly varies: tune carbon pages
    0.004-0.018 (Tesseract's boxes are the ink's: the first and last letters' bearings vary them a
    little); printed 18th-century pages 0.034 and more; running text set in proportional faces 0.025
    (DejaVu Sans) to 0.042 (Liberation Serif)."""
    per_letter = [
        word.bbox.width / len(word.text)
        for paragraph in paragraphs
        for line in paragraph.lines
        for word in line.words
        if len(word.text) >= 5 and word.text.isalpha()
    ]
    if len(per_letter) < MONOSPACE_MIN_WORDS:
        return 0.0
    widths = np.array(per_letter)
    typical = float(np.median(widths))
    if typical <= 0 or float(np.median(np.abs(widths - typical))) / typical >= MONOSPACE_SPREAD:
        return 0.0
    return typical


def typed_text(paragraphs: tuple[Paragraph, ...]) -> tuple[Paragraph, ...]:
    """A typewritten page's dashes written as the edited text writes them (`typed_dashes`). Printed
    pages are left as read."""
    letter = typed_letter_width(paragraphs)
    if not letter:
        return paragraphs
    out = []
    for paragraph in paragraphs:
        lines = tuple(typed_dashes(line, letter) for line in paragraph.lines)
        out.append(
            paragraph if lines == paragraph.lines else Paragraph(lines, paragraph.bbox, paragraph.block)
        )
    return tuple(out)


def without_typed_specks(paragraphs: tuple[Paragraph, ...]) -> tuple[Paragraph, ...]:
    """A typewritten page's words without the marks Tesseract makes of a carbon's grain and ghost edges
    beside its letters (`‘стараясь`, `в‘`, `|` alone): a typewriter has no key for them, and the
    corpus's edited text has none of them in 1.3 million characters (its lexicon split), so on a typed
    page they are specks. A word of nothing else keeps its box with no text (as a word folded into the
    line before does), so the page's structure, its zones' paragraph indices and the ink its words
    cover stay as the layout stage left them. Printed pages are left as read."""
    if not typed_letter_width(paragraphs):
        return paragraphs

    def line(ln: Line) -> Line:
        if not any(c in TYPED_SPECKS for w in ln.words for c in (w.text[:1], w.text[-1:])):
            return ln
        words = tuple(Word(w.text.strip(TYPED_SPECKS), w.bbox, w.conf) for w in ln.words)
        return Line(words, ln.bbox, ln.baseline)

    return tuple(Paragraph(tuple(line(ln) for ln in p.lines), p.bbox, p.block) for p in paragraphs)


def typed_dashes(line: Line, letter: float) -> Line:
    """On a typewritten page (letters `letter` pixels wide) a dash standing alone between typed spaces
    is the typist's dash, written `–`: a typewriter has one key for hyphen and dash, and Tesseract reads
    it `-` (or `—`). In the corpus's lexicon split a dash between spaces is `–` 1105 times in 1137. A
    dash Tesseract read apart from the words beside it with less than a typed space to either
    (`административно - распорядительными`) is a hyphen, and the three are one word again. Other
    in-word dashes are left as read: there the hyphen is the rule (`Нью-Йорк`, `кем-либо`)."""
    if not any(w.text in DASH_GLYPHS for w in line.words):
        return line
    words = sorted(line.words, key=lambda w: w.bbox.x0)
    out: list[Word] = []
    k = 0
    while k < len(words):
        word = words[k]
        if word.text not in DASH_GLYPHS:
            out.append(word)
            k += 1
            continue
        before = out[-1] if out else None
        after = words[k + 1] if k + 1 < len(words) else None
        gaps = [(b.bbox.x0 - a.bbox.x1) / letter for a, b in ((before, word), (word, after)) if a and b]
        if before and after and all(g < SPACED_DASH_GAP for g in gaps):
            joined = f"{before.text}-{after.text}"
            box = BBox.enclosing([before.bbox, word.bbox, after.bbox])
            out[-1] = Word(joined, box, min(before.conf, word.conf, after.conf))
            k += 2
            continue
        spaced = bool(gaps) and all(g >= SPACED_DASH_GAP for g in gaps)
        out.append(Word(TYPED_DASH, word.bbox, word.conf) if spaced else word)
        k += 1
    if out == list(line.words):
        return line
    return Line(tuple(out), line.bbox, line.baseline)
