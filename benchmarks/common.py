"""Helpers shared by the benchmarks: where results go, text to render, printing tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline import corpus

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("ARCHOCR_BENCH_OUT", ROOT / "bench-out"))
REALDATA = Path(os.environ.get("ARCHOCR_REALDATA", ROOT.parent / "shared" / "realdata"))


def bench_text() -> str:
    """Corpus text that neither the lexicon nor the tests use."""
    return corpus.split_text("bench")


def save(name: str, results: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    print(f"\n== {title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=False)))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)))


@contextmanager
def timer(store: dict[str, float], key: str):
    started = time.perf_counter()
    yield
    store[key] = store.get(key, 0.0) + time.perf_counter() - started


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Unlike getrusage's ru_maxrss, which a child
    inherits from its parent across fork and exec, VmHWM starts afresh in a new program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_fresh(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args` in a new process (its own memory) and return the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    lines = out.stdout.strip().splitlines()
    print("\n".join(lines[:-1]))
    return json.loads(lines[-1])


def pct(x: float) -> str:
    return f"{x:.2%}"
