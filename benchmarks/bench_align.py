"""Issue 4 benchmark: re-alignment with transcripts.

1. Scale: the whole large edition of the corpus as the transcript, 200+ page-sized stretches of it
   with OCR-like damage as the pages (in random order). Time to locate and to align each page and
   peak memory, beside a naive aligner (edlib infix search over the whole text) in the same run.
2. Accuracy: real archocr OCR of synthetic pages, against transcripts of their ground truth with
   discrepancies of every kind injected at known places: found with the right kind, false flags.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import edlib
import numpy as np

from pipeline import align, corpus, lexicon, process, report, synth
from pipeline.config import Settings
from pipeline.correct import Corrector
from pipeline.ocr_files import _read_plain
from pipeline.scans import PageImage

from .common import bench_text, peak_rss_mb, run_fresh, save, table

PAGES = 220
PAGE_CHARS = 2000
CONFUSE = {"и": "н", "н": "и", "ш": "щ", "л": "д", "о": "0", "е": "с", "б": "6", "т": "г", "ь": "ъ"}


def ocr_damage(text: str, rng: random.Random, rate: float = 0.02) -> str:
    out = []
    for ch in text:
        roll = rng.random()
        if roll < rate and ch in CONFUSE:
            out.append(CONFUSE[ch])
        elif roll < rate * 0.2:
            continue
        else:
            out.append(ch)
    return "".join(out)


def scale(is_word) -> dict:  # type: ignore[no-untyped-def]
    folder = corpus.corpus_dir()
    book = (folder / corpus.BOOK_NAME).read_text(encoding="utf-8")
    started = time.perf_counter()
    transcript = align.parse_transcript(book, is_word)
    parse_seconds = time.perf_counter() - started
    aligner = align.Aligner(transcript, is_word)
    rng = random.Random(4)
    reading = transcript.reading.text
    starts = sorted(rng.sample(range(0, len(reading) - PAGE_CHARS * 2), PAGES))
    rng.shuffle(starts)
    locate_s, align_s, correct = [], [], 0
    for n, start in enumerate(starts):
        chunk = reading[start : start + PAGE_CHARS]
        chunk = chunk[chunk.find(" ") + 1 : chunk.rfind(" ")]
        lines = [" ".join(chunk.split()[i : i + 10]) for i in range(0, len(chunk.split()), 10)]
        page = _read_plain(Path(f"page-{n}"), ocr_damage("\n".join(lines), rng))[0]
        t0 = time.perf_counter()
        _, words = align._words(align.make_reading(page.text, []).text)
        location = align.locate(words, transcript)
        t1 = time.perf_counter()
        result = aligner.align_page(page)
        t2 = time.perf_counter()
        locate_s.append(t1 - t0)
        align_s.append(t2 - t1 - (t1 - t0))  # align_page locates again; count only its own work
        if location and result.status == "aligned":
            true_start = transcript.reading.offsets[start]
            correct += abs(result.transcript_start - true_start) < 200
    peak = peak_rss_mb()  # before the naive baseline, whose own memory is not archocr's
    naive = []
    for start in starts[:3]:
        chunk = ocr_damage(reading[start : start + PAGE_CHARS], rng)
        t0 = time.perf_counter()
        edlib.align(chunk, reading, mode="HW", task="locations")
        naive.append(time.perf_counter() - t0)
    summary = {
        "transcript_chars": len(book),
        "pages": len(starts),
        "parse_and_index_seconds": parse_seconds,
        "locate_ms_mean": 1000 * float(np.mean(locate_s)),
        "locate_ms_p95": 1000 * float(np.percentile(locate_s, 95)),
        "align_ms_mean": 1000 * float(np.mean(align_s)),
        "align_ms_p95": 1000 * float(np.percentile(align_s, 95)),
        "naive_whole_text_edlib_ms": 1000 * float(np.mean(naive)),
        "located_correctly": correct / len(starts),
        "peak_rss_mb": peak,
    }
    table(
        "book-length transcript against page-sized OCR",
        ["", "archocr", "naive (edlib over the whole text)"],
        [
            [
                "locate a page (mean / p95)",
                f"{summary['locate_ms_mean']:.2f} / {summary['locate_ms_p95']:.2f} ms",
                f"{summary['naive_whole_text_edlib_ms']:.0f} ms",
            ],
            [
                "align a page (mean / p95)",
                f"{summary['align_ms_mean']:.1f} / {summary['align_ms_p95']:.1f} ms",
                "",
            ],
            ["pages placed right", f"{correct}/{len(starts)}", ""],
            ["parse + index the book", f"{parse_seconds:.2f} s", ""],
            ["peak memory", f"{peak:.0f} MB", ""],
        ],
    )
    return summary


def injected(is_word, lex) -> dict:  # type: ignore[no-untyped-def]
    pages = synth.render_pages(bench_text(), 6, seed=1924, max_skew=3.0)
    fix = Corrector(lex)  # the run's own correction, as `archocr run` applies it
    confusions = {(c.seen, c.meant) for c in lex.confusions}
    per_kind: Counter[str] = Counter()
    found_kind: Counter[str] = Counter()
    false_flags = 0
    examples = []
    for i, page in enumerate(pages):
        scan = PageImage(pixels=page.image, dpi=300, source=Path(f"synthetic-{i}"), number=i + 1)
        ocr_page = fix(process.process_page(scan, "bench", Settings(correct=False)).page)
        text, injections = synth.inject_discrepancies(
            page.text, np.random.default_rng(i), is_word, per_kind=2, filler=bench_text()[:20000]
        )
        transcript = align.parse_transcript(text, is_word)
        result = align.Aligner(transcript, is_word, confusions).align_page(ocr_page)
        matched = set()
        for inj in injections:
            per_kind[inj.kind] += 1
            hits = [
                d
                for d in result.discrepancies
                if d.kind == inj.kind
                and d.transcript_start <= max(inj.end, inj.start + 1)
                and d.transcript_end >= inj.start
            ]
            if hits:
                found_kind[inj.kind] += 1
                matched.update(id(d) for d in hits)
            else:
                examples.append((inj.kind, inj.note[:40]))
        flags = [
            d
            for d in result.discrepancies
            if id(d) not in matched and d.kind not in ("ocr_error", "normalisation")
        ]
        false_flags += len(flags)
    total, found = sum(per_kind.values()), sum(found_kind.values())
    summary = {
        "injected": total,
        "found_with_right_kind": found / total,
        "false_flags_per_page": false_flags / len(pages),
        "per_kind": {k: found_kind[k] / v for k, v in per_kind.items()},
        "missed_examples": examples[:10],
    }
    table(
        "injected discrepancies on real archocr OCR of synthetic pages",
        ["kind", "found with the right kind"],
        [[k, f"{found_kind[k]}/{v}"] for k, v in sorted(per_kind.items())]
        + [
            ["all", f"{found}/{total} = {found / total:.1%}"],
            ["false flags per page", f"{false_flags / len(pages):.2f}"],
        ],
    )
    return summary


def main() -> dict:
    lex = lexicon.load("default")
    is_word = report.word_checker(lex)
    results = {"scale": run_fresh("benchmarks.bench_align", "scale")}  # its own process: its own memory
    results["injected"] = injected(is_word, lex)
    print(f"\nresults: {save('align', results)}")
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["scale"]:
        print(json.dumps(scale(report.word_checker(lexicon.load("default")))))
    else:
        main()
