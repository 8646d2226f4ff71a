"""Issue 2 benchmark: raw Tesseract on the untouched page against archocr's cleaning + Tesseract.

Synthetic pages: rendered from the corpus's `bench` split (text nothing was built or tuned on), skew up
to ±4°, mixed degradations, exact ground truth. Real pages: the shared real scans with their ground
truth (never committed). All runs happen here, in this process, one after another, on the same pages.
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from pipeline import evaluate, lexicon, ocr, preprocess, process, synth
from pipeline.config import Settings
from pipeline.correct import Corrector
from pipeline.model import Page
from pipeline.scans import PageImage, load_page

from .common import REALDATA, bench_text, pct, save, table

PAGES = 24
SEED = 20261124


def _text(paragraphs) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(line.text for p in paragraphs for line in p.lines)


def raw_tesseract(image: np.ndarray, settings: Settings, dpi: int) -> tuple[str, float]:
    started = time.perf_counter()
    paragraphs, _ = ocr.recognise(image, settings, dpi)
    return _text(paragraphs), time.perf_counter() - started


def plain_baseline(image: np.ndarray) -> np.ndarray:
    """What a careful script does: Otsu, a 3x3 median filter, deskew by the minimum-area rectangle."""
    grey = preprocess.to_grey(image)
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = cv2.medianBlur(binary, 3)
    ys, xs = np.nonzero(binary == 0)
    angle = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))[-1]
    angle = angle - 90 if angle > 45 else angle
    return preprocess.deskew(binary, angle, fill=255)[0]


def archocr_page(scan: PageImage, settings: Settings) -> tuple[Page, Page, dict[str, float]]:
    """(cleaned + OCR page, the same corrected as `archocr run` does by default, timings)."""
    result = process.process_page(scan, "bench", settings)
    started = time.perf_counter()
    corrected = _corrector()(result.page)
    return result.page, corrected, {**result.timings, "correct": time.perf_counter() - started}


@functools.lru_cache(maxsize=1)
def _corrector() -> Corrector:
    return Corrector(lexicon.load("default"))


def synthetic(settings: Settings) -> dict:
    pages = synth.render_pages(bench_text(), PAGES, SEED, max_skew=4.0)
    rows, per_kind = [], defaultdict(lambda: [evaluate.EMPTY, evaluate.EMPTY])
    totals = {
        "raw": evaluate.EMPTY,
        "plain": evaluate.EMPTY,
        "cleaned": evaluate.EMPTY,
        "archocr": evaluate.EMPTY,
    }
    seconds = defaultdict(float)
    for i, page in enumerate(pages):
        raw_text, raw_seconds = raw_tesseract(page.image, settings, 300)
        plain_text, _ = raw_tesseract(plain_baseline(page.image), settings, 300)
        scan = PageImage(pixels=page.image, dpi=300, source=Path(f"synthetic-{i}"), number=1)
        cleaned, result, timings = archocr_page(scan, settings)
        scores = {
            "raw": evaluate.score(page.text, raw_text),
            "plain": evaluate.score(page.text, plain_text),
            "cleaned": evaluate.score(page.text, cleaned.text),
            "archocr": evaluate.score(page.text, result.text),
        }
        for key, value in scores.items():
            totals[key] = totals[key] + value
        for kind in page.params["degradations"]:
            per_kind[kind][0] += scores["raw"]
            per_kind[kind][1] += scores["archocr"]
        seconds["raw_tesseract"] += raw_seconds
        for stage, value in timings.items():
            seconds[stage] += value
        rows.append(
            [
                i,
                page.params["font"],
                ",".join(page.params["degradations"]),
                f"{page.params['skew']:+.1f}",
                pct(scores["raw"].cer),
                pct(scores["plain"].cer),
                pct(scores["archocr"].cer),
                pct(scores["archocr"].wer),
            ]
        )
    table(
        "synthetic pages (CER raw Tesseract / plain deskew+Otsu+median / archocr)",
        ["page", "font", "degradations", "skew", "raw", "plain", "archocr", "archocr WER"],
        rows,
    )
    worst = max(rows, key=lambda r: float(r[6].rstrip("%")))
    n = len(pages)
    own = (seconds["clean"] + seconds.get("osd", 0.0)) / n
    summary = {
        "pages": n,
        "cer": {k: v.cer for k, v in totals.items()},
        "wer": {k: v.wer for k, v in totals.items()},
        "cer_ratio_archocr_to_raw": totals["archocr"].cer / max(totals["raw"].cer, 1e-9),
        "wer_ratio_archocr_to_raw": totals["archocr"].wer / max(totals["raw"].wer, 1e-9),
        "worst_page": {"page": worst[0], "degradations": worst[2], "cer": worst[6]},
        "per_degradation_cer": {
            k: {"raw": v[0].cer, "archocr": v[1].cer} for k, v in sorted(per_kind.items())
        },
        "seconds_per_page": {k: v / n for k, v in seconds.items()},
        "cleaning_share_of_tesseract_time": own / (seconds["ocr"] / n),
    }
    table(
        "synthetic summary",
        ["", "raw Tesseract", "plain baseline", "archocr, no correction", "archocr", "archocr/raw"],
        [
            [
                measure.upper(),
                *(pct(getattr(totals[k], measure)) for k in ("raw", "plain", "cleaned", "archocr")),
                f"{summary[f'{measure}_ratio_archocr_to_raw']:.3f}x",
            ]
            for measure in ("cer", "wer")
        ],
    )
    table(
        "CER by degradation",
        ["degradation", "raw", "archocr"],
        [[k, pct(v["raw"]), pct(v["archocr"])] for k, v in summary["per_degradation_cer"].items()],
    )
    table(
        "seconds per page",
        ["stage", "s/page"],
        [[k, f"{v:.3f}"] for k, v in summary["seconds_per_page"].items()],
    )
    print(
        f"cleaning (+OSD when asked) = {summary['cleaning_share_of_tesseract_time']:.1%} of Tesseract's; "
        f"worst archocr page: {worst[0]} ({worst[2]}) CER {worst[6]}"
    )
    return summary


def real_pages(settings: Settings) -> dict:
    folder = REALDATA / "nlr18c_pages"
    if not folder.is_dir():
        print(f"\n(real pages skipped: {folder} not found)")
        return {}
    raw_total, ours_total, rows = evaluate.EMPTY, evaluate.EMPTY, []
    raw_fold, ours_fold = evaluate.EMPTY, evaluate.EMPTY
    for image_path in sorted(folder.glob("*.jpeg")):
        truth = image_path.with_suffix(".gt.txt").read_text(encoding="utf-8")
        scan = load_page(image_path, 1, settings)
        raw_text, _ = raw_tesseract(preprocess.to_grey(scan.pixels), settings, scan.dpi)
        _, page, _ = archocr_page(scan, settings)
        raw, ours = evaluate.score(truth, raw_text), evaluate.score(truth, page.text)
        raw_total, ours_total = raw_total + raw, ours_total + ours
        raw_fold = raw_fold + evaluate.score(truth, raw_text, fold=True)
        ours_fold = ours_fold + evaluate.score(truth, page.text, fold=True)
        rows.append([image_path.stem, pct(raw.cer), pct(ours.cer)])
    table("real 18th-century pages (CER)", ["page", "raw Tesseract", "archocr"], rows)
    lines = {}
    for name in ("zhebelev1923_lines", "src1911_lines"):
        line_dir = REALDATA / name
        if not line_dir.is_dir():
            continue
        line_settings = settings.replace(psm=7)
        raw_l, ours_l = evaluate.EMPTY, evaluate.EMPTY
        for image_path in sorted(line_dir.glob("*.bin.png")):
            truth = Path(str(image_path).replace(".bin.png", ".gt.txt")).read_text(encoding="utf-8")
            scan = load_page(image_path, 1, line_settings)
            raw_text, _ = raw_tesseract(preprocess.to_grey(scan.pixels), line_settings, scan.dpi)
            _, page, _ = archocr_page(scan, line_settings)
            raw_l = raw_l + evaluate.score(truth, raw_text)
            ours_l = ours_l + evaluate.score(truth, page.text)
        lines[name] = {"raw": raw_l.cer, "archocr": ours_l.cer, "ratio": ours_l.cer / max(raw_l.cer, 1e-9)}
    summary = {
        "pages": len(rows),
        "cer": {"raw": raw_total.cer, "archocr": ours_total.cer},
        "cer_folded": {"raw": raw_fold.cer, "archocr": ours_fold.cer},
        "cer_ratio_archocr_to_raw": ours_total.cer / max(raw_total.cer, 1e-9),
        "lines": lines,
    }
    table(
        "real data summary",
        ["set", "raw Tesseract", "archocr", "archocr/raw"],
        [
            [
                "18th-c. pages",
                pct(raw_total.cer),
                pct(ours_total.cer),
                f"{summary['cer_ratio_archocr_to_raw']:.3f}x",
            ],
            [
                "  folded (quotes, dashes, line-end hyphens)",
                pct(raw_fold.cer),
                pct(ours_fold.cer),
                f"{ours_fold.cer / max(raw_fold.cer, 1e-9):.3f}x",
            ],
        ]
        + [[k, pct(v["raw"]), pct(v["archocr"]), f"{v['ratio']:.3f}x"] for k, v in lines.items()],
    )
    return summary


def main() -> dict:
    settings = Settings(correct=False)  # correction is applied to the same OCR, to show both
    results = {"synthetic": synthetic(settings), "real": real_pages(settings)}
    print(f"\nresults: {save('ocr', results)}")
    return results


if __name__ == "__main__":
    main()
