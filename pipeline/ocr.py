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
from pathlib import Path

import cv2
import numpy as np
import pytesseract
from lxml import etree

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
    grouped: dict[tuple[int, int], dict[int, list[Word]]] = defaultdict(lambda: defaultdict(list))
    line_baselines: dict[tuple[int, int, int], tuple[tuple[int, int], ...]] = {}
    order: list[tuple[int, int]] = []
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) < len(header) or cells[index["level"]] not in ("4", "5"):
            continue
        left, top = int(cells[index["left"]]), int(cells[index["top"]])
        box = BBox(left, top, left + int(cells[index["width"]]), top + int(cells[index["height"]]))
        key = (int(cells[index["block_num"]]), int(cells[index["par_num"]]))
        line_num = int(cells[index["line_num"]])
        if cells[index["level"]] == "4":
            found = (baselines or {}).get((box.x0, box.y0, box.x1, box.y1))
            if found:
                line_baselines[(*key, line_num)] = found
            continue
        text = cells[index["text"]].strip()
        if not text:
            continue
        if key not in grouped:
            order.append(key)
        grouped[key][line_num].append(Word(text, box, round(float(cells[index["conf"]]), 2)))
    paragraphs = []
    for key in order:
        lines = tuple(
            Line(
                tuple(words), BBox.enclosing([w.bbox for w in words]), line_baselines.get((*key, number), ())
            )
            for number, words in sorted(grouped[key].items())
        )
        paragraphs.append(Paragraph(lines, BBox.enclosing([ln.bbox for ln in lines]), block=key[0]))
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
