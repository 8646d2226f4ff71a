"""Issue 5 benchmark: batch throughput on this machine.

40+ synthetic pages (files in an inbox, as a scheduled run sees them): pages per second serially, on
a local Dask cluster of one worker and of two, the scaling from one worker to two, archocr's time per
page against raw Tesseract's on the same pages (one after another, in this process), and the time a
rerun over a finished batch takes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytesseract
from PIL import Image

from pipeline import batch, synth
from pipeline.config import Settings
from pipeline.scans import find_inputs

from .common import bench_text, save, table

PAGES = 40


def make_inbox(folder: Path) -> list[Path]:
    pages = synth.render_pages(bench_text(), PAGES, seed=1925, max_skew=4.0)
    for i, page in enumerate(pages):
        Image.fromarray(page.image).save(folder / f"scan-{i + 1:03d}.png", dpi=(300, 300))
    return [found.path for found in find_inputs([folder])]


def timed_run(inputs: list[Path], out: Path, **kwargs) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    manifest = batch.run(inputs, out, Settings(), **kwargs)
    seconds = time.perf_counter() - started
    summary = manifest.summary()
    assert summary["failed"] == 0, summary
    return seconds


def stage_times(manifest_path: Path, wall: float) -> dict[str, float]:
    """Mean seconds per page: Tesseract's share of archocr's time, and everything else (load, clean,
    correct, write, and per document the PDF and the manifest)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pages = [p for d in manifest["documents"] for p in d["pages"]]
    tesseract = sum(p["timings"].get("ocr", 0.0) + p["timings"].get("osd", 0.0) for p in pages)
    return {"tesseract": tesseract / len(pages), "own": (wall - tesseract) / len(pages)}


def main() -> dict:
    work = Path(tempfile.mkdtemp(prefix="archocr-bench-batch-"))
    try:
        inbox = work / "inbox"
        inbox.mkdir()
        inputs = make_inbox(inbox)
        started = time.perf_counter()
        for path in inputs:
            pytesseract.image_to_data(str(path), lang="rus", config="--psm 3")
        raw = time.perf_counter() - started
        serial = timed_run(inputs, work / "serial", executor="serial")
        stages = stage_times(work / "serial" / "manifest.json", serial)
        one = timed_run(inputs, work / "one", executor="dask", workers=1)
        two = timed_run(inputs, work / "two", executor="dask", workers=2)
        rerun = timed_run(inputs, work / "two", executor="dask", workers=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = len(inputs)
    results = {
        "pages": n,
        "raw_tesseract_s_per_page": raw / n,
        "pages_per_second": {"serial": n / serial, "dask_1_worker": n / one, "dask_2_workers": n / two},
        "scaling_2_over_1": one / two,
        "archocr_over_raw_tesseract_per_page": (serial / n) / (raw / n),
        "tesseract_in_archocr_s_per_page": stages["tesseract"],
        "archocr_own_stages_s_per_page": stages["own"],
        "rerun_seconds": rerun,
        "rerun_share_of_first_run": rerun / two,
    }
    table(
        "batch throughput",
        ["", "value"],
        [
            ["pages", n],
            ["raw Tesseract, s/page (serial)", f"{raw / n:.2f}"],
            ["archocr serial, pages/s", f"{n / serial:.3f}"],
            ["archocr Dask 1 worker, pages/s", f"{n / one:.3f}"],
            ["archocr Dask 2 workers, pages/s", f"{n / two:.3f}"],
            ["scaling 2 workers / 1 worker", f"{one / two:.2f}x"],
            ["archocr / raw Tesseract time per page (serial)", f"{(serial / n) / (raw / n):.2f}x"],
            # Raw Tesseract is quick on the pages it cannot read (it finds no text on them); on the
            # cleaned page it reads everything, and takes longer. The split shows what archocr adds.
            ["  Tesseract inside archocr, s/page", f"{stages['tesseract']:.2f}"],
            [
                "  archocr's own stages, s/page",
                f"{stages['own']:.2f} = {stages['own'] / (raw / n):.2f}x raw Tesseract's time",
            ],
            ["rerun of the finished batch", f"{rerun:.2f} s = {rerun / two:.1%} of the first run"],
        ],
    )
    print(f"\nresults: {save('batch', results)}")
    return results


if __name__ == "__main__":
    main()
