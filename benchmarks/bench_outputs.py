"""Issue 12 benchmark: the searchable PDF and the cost of the exchange formats.

On the sample scans (scans/) and 20 synthetic pages from the corpus's bench split (seed 1212, a
random mix of degradations, up to 4 degrees of skew), each OCRed once with `archocr run --serial`:

- PDF bytes per page and build seconds per page for the PDF/A writer over the original scan
  (`--pdf-image original`, the default) and over the cleaned image (`cleaned`), against the writer
  before PDF/A (kept below, verbatim, as the baseline), all in this process;
- the text each PDF gives back (CER against the page's own text) with pdftotext in content order
  (-raw) and in its default physical-layout mode, which splits lines that are slanted on the page;
- Tesseract's time for one run writing TSV and hOCR (baselines) against TSV alone, on 6 pages.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytesseract
from PIL import Image
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from pipeline import __version__, batch, evaluate, export, ocr, pdf, preprocess, synth
from pipeline.config import Settings
from pipeline.model import Page
from pipeline.scans import find_inputs

from .common import ROOT, bench_text, save, table

SYNTH_PAGES = 20


def legacy_searchable_pdf(pages: list[tuple[Page, Path]]) -> bytes:
    """archocr's PDF writer before PDF/A (export.searchable_pdf at 0.1.0), the baseline."""
    rl_config.useA85 = 0
    font = pdf._font()
    buf = io.BytesIO()
    out = canvas.Canvas(buf, pageCompression=1)
    out.setCreator(f"archocr {__version__}")
    for page, image_path in pages:
        scale = 72.0 / page.dpi
        width_pt, height_pt = page.width * scale, page.height * scale
        out.setPageSize((width_pt, height_pt))
        with Image.open(image_path) as im:
            pixels = im.convert("L") if im.mode == "1" else im.copy()
        out.drawImage(ImageReader(pixels), 0, 0, width=width_pt, height=height_pt)
        for line in page.lines:
            size = max(1.0, line.bbox.height * scale * 0.75)
            baseline = height_pt - line.bbox.y1 * scale + line.bbox.height * scale * 0.2
            text = out.beginText()
            text.setTextRenderMode(3)
            text.setFont(font, size)
            for i, word in enumerate(line.words):
                box = word.bbox
                right = line.words[i + 1].bbox.x0 if i + 1 < len(line.words) else box.x1
                chunk = word.text + (" " if i + 1 < len(line.words) else "")
                natural = pdfmetrics.stringWidth(chunk, font, size)
                text.setTextOrigin(box.x0 * scale, baseline)
                if natural > 0:
                    text.setHorizScale(100.0 * max(1, right - box.x0) * scale / natural)
                text.textOut(chunk)
            out.drawText(text)
        out.showPage()
    out.save()
    return buf.getvalue()


def _pdf_text(path: Path, raw: bool) -> str:
    args = ["pdftotext", *(["-raw"] if raw else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _documents(out: Path) -> list[tuple[Path, list[int]]]:
    docs = []
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        numbers = sorted(int(p.name[:4]) for p in folder.glob("[0-9][0-9][0-9][0-9].json"))
        if numbers:
            docs.append((folder, numbers))
    return docs


def measure_pdfs(out: Path, label: str) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {
        k: {"bytes": 0, "seconds": 0.0, "cer_raw": 0.0, "cer_layout": 0.0}
        for k in ("before", "original", "cleaned")
    }
    pages_total = 0
    truth_chars = 0
    for folder, numbers in _documents(out):
        loaded = [export.read_page_json(folder / f"{n:04d}.json") for n in numbers]
        truth = "\n".join(page.text for page, _ in loaded)
        pages_total += len(numbers)
        truth_chars += len(truth)
        for kind in figures:
            target = folder / f"bench-{kind}.pdf"
            started = time.perf_counter()
            if kind == "before":
                target.write_bytes(
                    legacy_searchable_pdf([(page, folder / data["image"]) for page, data in loaded])
                )
            else:
                built = export.write_document_pdf(folder, folder.name, numbers, image=kind)
                shutil.move(built, target)
            figures[kind]["seconds"] += time.perf_counter() - started
            figures[kind]["bytes"] += target.stat().st_size
            # CER weighted by the document's length.
            for mode, raw in (("cer_raw", True), ("cer_layout", False)):
                figures[kind][mode] += evaluate.score(truth, _pdf_text(target, raw)).cer * len(truth)
    for kind in figures:
        figures[kind]["bytes_per_page"] = figures[kind]["bytes"] / pages_total
        figures[kind]["seconds_per_page"] = figures[kind]["seconds"] / pages_total
        figures[kind]["cer_raw"] /= truth_chars
        figures[kind]["cer_layout"] /= truth_chars
    before = figures["before"]
    table(
        f"searchable PDF, {label} ({pages_total} pages)",
        [
            "writer",
            "KB/page",
            "x before",
            "s/page",
            "x before",
            "CER pdftotext -raw",
            "CER pdftotext (layout)",
        ],
        [
            [
                kind,
                f"{f['bytes_per_page'] / 1024:.0f}",
                f"{f['bytes_per_page'] / before['bytes_per_page']:.2f}",
                f"{f['seconds_per_page']:.3f}",
                f"{f['seconds_per_page'] / before['seconds_per_page']:.2f}",
                f"{f['cer_raw']:.2%}",
                f"{f['cer_layout']:.2%}",
            ]
            for kind, f in figures.items()
        ],
    )
    return {"pages": pages_total, **figures}


def measure_ocr_outputs(inbox: list[Path]) -> dict[str, float]:
    """Tesseract writing TSV + hOCR in one run against TSV alone (what recognise did before): each of
    6 pages twice each way, alternating which goes first; the median of the per-page ratios, which a
    busy machine's stray slow run does not move."""
    settings = Settings()
    tsv_times, both_times, ratios = [], [], []
    for path in inbox[:6]:
        with Image.open(path) as im:
            cleaned = preprocess.clean(np.asarray(im.convert("L")), 300, settings)
        config = f"--psm {settings.psm} --dpi {cleaned.dpi}"
        page = {"tsv": [], "both": []}
        for repeat in range(2):
            runs = [("tsv", pytesseract.image_to_data), ("both", ocr._tsv_and_hocr)]
            for kind, func in runs if repeat == 0 else runs[::-1]:
                started = time.perf_counter()
                ocr._run(func, cleaned.image, settings, config)
                page[kind].append(time.perf_counter() - started)
        tsv_times.append(min(page["tsv"]))
        both_times.append(min(page["both"]))
        ratios.append(min(page["both"]) / min(page["tsv"]))
    ratio = float(np.median(ratios))
    table(
        "Tesseract per page (6 synthetic pages, best of 2 each)",
        ["run", "s/page (median)", "x TSV alone (median of per-page ratios)"],
        [
            ["TSV alone (before)", f"{np.median(tsv_times):.2f}", "1.00"],
            ["TSV + hOCR (baselines)", f"{np.median(both_times):.2f}", f"{ratio:.3f}"],
        ],
    )
    return {
        "tsv_seconds_per_page": float(np.median(tsv_times)),
        "tsv_hocr_seconds_per_page": float(np.median(both_times)),
        "ratio": ratio,
    }


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory(prefix="archocr-bench-outputs-") as tmp:
        folder = Path(tmp)
        inbox = folder / "inbox"
        inbox.mkdir()
        pages = synth.render_pages(bench_text(), SYNTH_PAGES, seed=1212, max_skew=4.0)
        synth_inputs = []
        for i, page in enumerate(pages):
            path = inbox / f"synthetic-{i + 1:03d}.png"
            Image.fromarray(page.image).save(path, dpi=(300, 300))
            synth_inputs.append(path)
        started = time.perf_counter()
        batch.run(find_inputs([ROOT / "scans"]), folder / "samples", Settings(), executor="serial")
        batch.run(find_inputs([inbox]), folder / "synthetic", Settings(), executor="serial")
        print(f"(OCR of {SYNTH_PAGES + 4} pages for the benchmark: {time.perf_counter() - started:.0f} s)")
        results["samples"] = measure_pdfs(folder / "samples", "sample scans")
        results["synthetic"] = measure_pdfs(folder / "synthetic", f"{SYNTH_PAGES} synthetic pages")
        results["ocr"] = measure_ocr_outputs(synth_inputs)
    save("outputs", results)


if __name__ == "__main__":
    main()
