"""The cleaning stage on its own: CER before correction of four ways of preparing a page for Tesseract,
on the same pages in one process: raw Tesseract on the page as it is; a plain deskew + Otsu + 3x3
median baseline; archocr's previous cleaning (`--binarise otsu`); archocr's cleaning (`auto`).

Three sets, reported separately:
- TUNE: what the automatic cleaning's rules were chosen on. archocr's synth with four of its fonts, and
  carbon-copy-like pages from benchmarks/pages.py in two typewriter faces, from the first half of the
  bench text; plus the archival generator's tuning pages when they are there.
- HELD-OUT: never looked at while tuning. archocr's synth with fonts it does not use, carbon-copy-like
  pages in other faces (a naturally light one among them), other seeds and the second half of the
  text, and pages degraded by another generator (augraphy, see make_augraphy_pages.py) when present.
- REAL: 12 real 18th-century pages with hand-corrected ground truth (must not get worse).
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline import evaluate, ocr, preprocess
from pipeline.config import Settings
from pipeline.scans import load_page

from .bench_ocr import plain_baseline
from .common import OUT, REALDATA, bench_text, pct, save, table
from .pages import BenchPage, carbon_page, load_folder, synth_pages

METHODS = ("raw", "plain", "old", "new")
TUNE_SYNTH_FONTS = ("PTM55F.ttf", "LiberationMono-Regular.ttf", "PTF55F.ttf", "DejaVuSerif.ttf")
TUNE_CARBON_FONTS = ("LiberationMono-Regular.ttf", "PTM55F.ttf")
HELDOUT_SYNTH_FONTS = (
    "LiberationSans-Regular.ttf",
    "PTS55F.ttf",
    "PTZ55F.ttf",
    "LiberationSansNarrow-Regular.ttf",
)
# (font, thin it?): a synth face left out of tuning, a naturally light weight, a bold face worn thin.
HELDOUT_CARBON_FONTS = (
    ("DejaVuSansMono.ttf", True),
    ("DejaVuSans-ExtraLight.ttf", False),
    ("PTM75F.ttf", True),
    ("LiberationMono-Italic.ttf", True),
)
# Rendered tune archival pages to add, when a folder of them is marked READY (`archocr synth --layout
# archival --fontset tune --out bench-out/archival-tune-pages`, then `touch .../READY`).
ARCHIVAL_TUNE = Path(os.environ.get("ARCHOCR_ARCHIVAL_TUNE", OUT / "archival-tune-pages"))
AUGRAPHY_PAGES = Path(os.environ.get("ARCHOCR_AUGRAPHY_PAGES", OUT / "augraphy-pages"))
REAL_PAGES = 12


def _texts() -> tuple[list[str], list[str]]:
    words = bench_text().split()
    return words[: len(words) // 2], words[len(words) // 2 :]


def tune_pages(count: int = 8) -> list[BenchPage]:
    words, _ = _texts()
    pages = synth_pages(" ".join(words), count, 7001, TUNE_SYNTH_FONTS)
    for i in range(count):
        font = TUNE_CARBON_FONTS[i % len(TUNE_CARBON_FONTS)]
        pages.append(carbon_page(f"carbon-{i}-{font.split('.')[0]}", words, 800 * i + 300, font, 7100 + i))
    if (ARCHIVAL_TUNE / "READY").exists():
        pages += load_folder(ARCHIVAL_TUNE, "archival")
    return pages


def heldout_pages(count: int = 8) -> list[BenchPage]:
    _, words = _texts()
    pages = synth_pages(" ".join(words), count, 9001, HELDOUT_SYNTH_FONTS)
    for i in range(count):
        font, thin = HELDOUT_CARBON_FONTS[i % len(HELDOUT_CARBON_FONTS)]
        name = f"carbon-{i}-{font.split('.')[0]}"
        pages.append(carbon_page(name, words, 700 * i + 100, font, 9100 + i, thin=thin))
    if AUGRAPHY_PAGES.is_dir():
        pages += load_folder(AUGRAPHY_PAGES, "augraphy")
    else:
        print(f"(augraphy pages not found in {AUGRAPHY_PAGES}: see benchmarks/make_augraphy_pages.py)")
    return pages


def real_pages(count: int = REAL_PAGES) -> list[BenchPage]:
    folder = REALDATA / "nlr18c_pages"
    pages = []
    for path in sorted(folder.glob("*.jpeg"))[:count]:
        scan = load_page(path, 1, Settings())
        truth = path.with_suffix(".gt.txt").read_text(encoding="utf-8")
        pages.append(BenchPage(path.stem, "real", preprocess.to_grey(scan.pixels), truth, scan.dpi))
    return pages


def _read(image: np.ndarray, settings: Settings, dpi: int) -> tuple[str, float]:
    started = time.perf_counter()
    paragraphs, _ = ocr.recognise(image, settings, dpi)
    text = "\n".join(line.text for p in paragraphs for line in p.lines)
    return text, time.perf_counter() - started


def prepare(method: str, page: BenchPage) -> tuple[np.ndarray, int, float, dict]:
    """(image for Tesseract, its dpi, seconds of own work, what the cleaning chose)."""
    started = time.perf_counter()
    if method == "raw":
        return page.image, page.dpi, 0.0, {}
    if method == "plain":
        image = plain_baseline(page.image)
        return image, page.dpi, time.perf_counter() - started, {}
    settings = Settings(binarise="otsu") if method == "old" else Settings()
    cleaned = preprocess.clean(page.image, page.dpi, settings)
    chosen = {}
    if cleaned.plan is not None and cleaned.measures is not None:
        chosen = {**cleaned.measures.as_dict(), "sigma": cleaned.plan.smoothing, "up": cleaned.plan.upscale}
    return cleaned.image, cleaned.dpi, time.perf_counter() - started, chosen


def run_set(title: str, pages: list[BenchPage]) -> dict:
    settings = Settings(correct=False)
    totals: dict[str, dict[str, evaluate.Score]] = defaultdict(lambda: defaultdict(lambda: evaluate.EMPTY))
    seconds: dict[str, float] = defaultdict(float)
    rows = []
    for page in pages:
        scores, chosen = {}, {}
        for method in METHODS:
            image, dpi, own, info = prepare(method, page)
            text, tess = _read(image, settings, dpi)
            scores[method] = evaluate.score(page.text, text)
            seconds[f"{method}_own"] += own
            seconds[f"{method}_tesseract"] += tess
            chosen = info or chosen
            for key in (page.kind, "all"):
                totals[key][method] = totals[key][method] + scores[method]
        rows.append(
            [page.name[:48], page.kind]
            + [pct(scores[m].cer) for m in METHODS]
            + [
                " ".join(
                    f"{k}={chosen[k]:g}"
                    for k in ("noise", "paper", "ink", "stroke_width", "glyph_height", "sigma", "up")
                    if k in chosen
                )
            ]
        )
    table(f"{title}: CER before correction, per page", ["page", "kind", *METHODS, "measured / chosen"], rows)
    kinds = sorted(k for k in totals if k != "all") + ["all"]
    table(
        f"{title}: CER by kind of page",
        ["kind", "pages", *METHODS, "new/plain", "new/raw"],
        [
            [kind, sum(1 for p in pages if kind in (p.kind, "all"))]
            + [pct(totals[kind][m].cer) for m in METHODS]
            + [
                f"{totals[kind]['new'].cer / max(totals[kind]['plain'].cer, 1e-9):.2f}x",
                f"{totals[kind]['new'].cer / max(totals[kind]['raw'].cer, 1e-9):.2f}x",
            ]
            for kind in kinds
        ],
    )
    n = max(1, len(pages))
    share = seconds["new_own"] / max(seconds["new_tesseract"], 1e-9)
    print(
        f"{title}: own cleaning {seconds['new_own'] / n:.3f} s/page (old {seconds['old_own'] / n:.3f}), "
        f"Tesseract on it {seconds['new_tesseract'] / n:.3f} s/page: "
        f"cleaning = {share:.1%} of Tesseract's time"
    )
    return {
        "pages": len(pages),
        "cer": {kind: {m: totals[kind][m].cer for m in METHODS} for kind in kinds},
        "wer": {kind: {m: totals[kind][m].wer for m in METHODS} for kind in kinds},
        "seconds_per_page": {k: v / n for k, v in seconds.items()},
        "cleaning_share_of_tesseract_time": share,
    }


def main(which: list[str] | None = None) -> dict:
    which = which or ["tune", "heldout", "real"]
    results = {}
    if "tune" in which:
        results["tune"] = run_set("TUNE", tune_pages())
    if "heldout" in which:
        results["heldout"] = run_set("HELD-OUT", heldout_pages())
    if "real" in which:
        if (REALDATA / "nlr18c_pages").is_dir():
            results["real"] = run_set("REAL 18th-c. pages", real_pages())
        else:
            print(f"(real pages skipped: {REALDATA / 'nlr18c_pages'} not found)")
    print(f"\nresults: {save('clean', results)}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
