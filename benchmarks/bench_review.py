"""Issue 9 benchmark: the reviewers' workbench on a generated run of 1,000 pages and 10,000
discrepancies (benchmarks/review_run.py), over the HTTP API of a real `archocr review` server.

Figures: time to open the queue (HTML and JSON), to move to the next discrepancy (the detail page a
browser loads on `j`) and to store a decision, median and p95 over 200 actions each; the server's
memory; the export of the 1,000 pages. Baselines in the same run: an HTTP round trip for a static file
(the floor of any request to this server) and copying the 1,000 pages' text, ALTO and PAGE-XML with
the same atomic writes (the floor of any export). Targets: next and decision < 50 ms p95; export < 30 s.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx2
import psutil

from pipeline.files import atomic_write

from .common import ROOT, save, table
from .review_run import make_run

PAGES = 1000
PER_PAGE = 10
ACTIONS = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _copy_baseline(folder: Path) -> float:
    started = time.perf_counter()
    for path in folder.glob("*/[0-9][0-9][0-9][0-9].*"):
        if path.suffix in (".txt", ".xml") and ".reviewed." not in path.name:
            atomic_write(path.with_name("copy-" + path.name), path.read_bytes())
    return time.perf_counter() - started


def main() -> dict:
    work = Path(tempfile.mkdtemp(prefix="archocr-bench-review-"))
    server = None
    try:
        folder = work / "run"
        started = time.perf_counter()
        make_run(folder, PAGES, PER_PAGE, documents=10, seed=9)
        generate_s = time.perf_counter() - started
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "review", str(folder), "--port", str(port)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        while True:
            try:
                urllib.request.urlopen(url + "/static/review.css", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(server.stderr.read()) from None
                time.sleep(0.1)
        startup_s = time.perf_counter() - started
        with httpx2.Client(base_url=url, timeout=60) as client:
            open_html = [_timed(lambda: client.get("/").raise_for_status()) for _ in range(5)]
            open_json = [_timed(lambda: client.get("/api/queue").raise_for_status()) for _ in range(5)]
            ids = client.get("/api/queue").json()["ids"]
            static = [
                _timed(lambda: client.get("/static/review.css").raise_for_status()) for _ in range(ACTIONS)
            ]
            nxt = [_timed(lambda i=i: client.get(f"/d/{i}").raise_for_status()) for i in ids[1 : ACTIONS + 1]]
            csrf = client.cookies["archocr_csrf"]
            headers = {"X-CSRF-Token": csrf, "Origin": url}
            decide = [
                _timed(
                    lambda i=i, a=a: client.post(
                        "/api/decide",
                        json={"id": i, "action": a, "version": 0, "reviewer": "bench"},
                        headers=headers,
                    ).raise_for_status()
                )
                for i, a in zip(ids[:ACTIONS], "tob" * ACTIONS, strict=False)
            ]
            # The usual rhythm: decide, then the next one loads (the queue is recomputed after a decision).
            after, after_open = [], []
            for n, (i, j) in enumerate(zip(ids[ACTIONS:], ids[ACTIONS + 1 :], strict=False)):
                if n == 2 * ACTIONS:
                    break
                body = {"id": i, "action": "t", "version": 0, "reviewer": "bench"}
                client.post("/api/decide", json=body, headers=headers).raise_for_status()
                # Half in the whole queue, half in the queue of open ones (recomputed after each decision).
                query = "" if n < ACTIONS else "?status=open"
                timing = _timed(lambda j=j, q=query: client.get(f"/d/{j}{q}").raise_for_status())
                (after if n < ACTIONS else after_open).append(timing)
            rss_mb = psutil.Process(server.pid).memory_info().rss / 2**20
            export_s = _timed(lambda: client.post("/api/export", headers=headers).raise_for_status()) / 1000
        copy_s = _copy_baseline(folder)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    static_med = statistics.median(static)
    results = {
        "pages": PAGES,
        "discrepancies": PAGES * PER_PAGE,
        "generate_run_s": generate_s,
        "server_start_s": startup_s,
        "open_queue_html_ms": {"first": open_html[0], "median": statistics.median(open_html)},
        "open_queue_json_ms": {"first": open_json[0], "median": statistics.median(open_json)},
        "next_ms": {"median": statistics.median(nxt), "p95": _p95(nxt)},
        "decision_ms": {"median": statistics.median(decide), "p95": _p95(decide)},
        "next_after_decision_ms": {"median": statistics.median(after), "p95": _p95(after)},
        "next_after_decision_open_queue_ms": {
            "median": statistics.median(after_open),
            "p95": _p95(after_open),
        },
        "static_file_ms": {"median": static_med, "p95": _p95(static)},
        "server_rss_mb": rss_mb,
        "export_s": export_s,
        "copy_baseline_s": copy_s,
    }
    table(
        f"review workbench: {PAGES} pages, {PAGES * PER_PAGE} discrepancies, HTTP on 127.0.0.1",
        ["action", "median ms", "p95 ms", "x static round trip", "target"],
        [
            ["open queue (HTML, first)", f"{open_html[0]:.0f}", "", f"{open_html[0] / static_med:.0f}", ""],
            ["open queue (HTML)", f"{statistics.median(open_html):.0f}", "", "", ""],
            ["open queue (JSON)", f"{statistics.median(open_json):.0f}", "", "", ""],
            ["next discrepancy", f"{statistics.median(nxt):.1f}", f"{_p95(nxt):.1f}",
             f"{statistics.median(nxt) / static_med:.1f}", "p95 < 50"],
            ["store a decision", f"{statistics.median(decide):.1f}", f"{_p95(decide):.1f}",
             f"{statistics.median(decide) / static_med:.1f}", "p95 < 50"],
            ["next, right after a decision", f"{statistics.median(after):.1f}", f"{_p95(after):.1f}",
             f"{statistics.median(after) / static_med:.1f}", "p95 < 50"],
            ["next after a decision, open ones", f"{statistics.median(after_open):.1f}",
             f"{_p95(after_open):.1f}", f"{statistics.median(after_open) / static_med:.1f}", "p95 < 50"],
            ["static file (baseline)", f"{static_med:.1f}", f"{_p95(static):.1f}", "1.0", ""],
        ],
    )  # fmt: skip
    table(
        "review export",
        ["what", "seconds", "x copying the files", "target"],
        [
            [f"export of {PAGES} pages", f"{export_s:.1f}", f"{export_s / copy_s:.1f}", "< 30 s"],
            ["copy text + ALTO + PAGE (baseline)", f"{copy_s:.1f}", "1.0", ""],
        ],
    )
    print(f"server memory: {rss_mb:.0f} MB resident; run generated in {generate_s:.1f} s")
    save("review", results)
    return results


if __name__ == "__main__":
    main()
