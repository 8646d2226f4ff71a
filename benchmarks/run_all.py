"""`make bench`: every benchmark in one process, each printing its figures beside its baseline."""

from __future__ import annotations

import sys

from . import bench_align, bench_batch, bench_clean, bench_correct, bench_ocr

BENCHMARKS = {
    "ocr": bench_ocr.main,
    "clean": bench_clean.main,
    "correct": bench_correct.main,
    "align": bench_align.main,
    "batch": bench_batch.main,
}


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        print(f"\n######## benchmark: {name}")
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
