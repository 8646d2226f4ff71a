"""Batch runs on a real Dask LocalCluster: same results as the serial reference, and faults survived:
a killed worker (its scratch image removed), a killed run started again, Tesseract crashing or hanging
on a page. More faults of a bad inbox or a bad night: tests/test_reliability_batch.py."""

import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import batch, synth

from .conftest import ROOT, archocr, load_json


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, test_text):
    """Six single-page scans, so that a batch lasts long enough to be interfered with."""
    folder = tmp_path_factory.mktemp("inbox")
    for i, page in enumerate(
        synth.render_pages(test_text, 6, seed=77, max_skew=2, degradations=("texture",))
    ):
        Image.fromarray(page.image).save(folder / f"scan-{i + 1}.png", dpi=(300, 300))
    return folder


def _outputs(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in sorted(out.glob("*/*.txt"))}


def _assert_complete(out: Path, pages: int) -> dict:
    manifest = load_json(out / "manifest.json")
    records = [(d["document"], p["number"]) for d in manifest["documents"] for p in d["pages"]]
    assert len(records) == len(set(records)) == pages, records
    assert manifest["finished"] and manifest["summary"]["failed"] == 0
    assert len(list(out.glob("*/0001.json"))) == pages  # every page once, nothing doubled
    assert not list(out.rglob("*.part"))
    return manifest


def test_dask_run_matches_the_serial_reference(inbox, tmp_path):
    serial, dask = tmp_path / "serial", tmp_path / "dask"
    archocr("run", str(inbox), "--out", str(serial), "--serial", "-q", check=True)
    archocr("run", str(inbox), "--out", str(dask), "--workers", "2", "-q", check=True)
    assert _outputs(serial) == _outputs(dask)
    manifest = _assert_complete(dask, 6)
    workers = {p["worker"] for d in manifest["documents"] for p in d["pages"]}
    assert len(workers) == 2  # both worker processes took pages
    assert all(p["versions"]["tesseract"] for d in manifest["documents"] for p in d["pages"])


def _start(inbox: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", str(inbox), "--out", str(out), "--progress-json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for_pages(proc: subprocess.Popen, pages: int) -> list[dict]:
    events = []
    for line in proc.stdout:
        event = json.loads(line)
        events.append(event)
        if sum(e["event"] == "page" for e in events) >= pages:
            return events
    raise AssertionError(f"run ended before {pages} pages: {proc.stderr.read()}")


def test_killed_worker_batch_still_completes(inbox, tmp_path):
    out = tmp_path / "out"
    proc = _start(inbox, out, "--workers", "2")
    _wait_for_pages(proc, 1)
    # Kill the worker process that is running Tesseract right now, the hard way.
    victim = None
    for _ in range(100):
        busy = [p for p in psutil.process_iter(["name", "ppid"]) if p.info["name"] == "tesseract"]
        parents = [psutil.Process(p.info["ppid"]) for p in busy if psutil.pid_exists(p.info["ppid"])]
        parents = [p for p in parents if proc.pid in {a.pid for a in p.parents()}]
        if parents:
            victim = parents[0]
            break
        time.sleep(0.1)
    assert victim is not None, "no worker was running Tesseract"
    victim.send_signal(signal.SIGKILL)
    scratch = Path("/dev/shm" if os.access("/dev/shm", os.W_OK) else "/tmp")
    assert list(scratch.glob(f"archocr-{victim.pid}-*"))  # the page image the killed worker left
    proc.communicate(timeout=600)
    assert proc.returncode == 0
    _assert_complete(out, 6)
    assert not list(scratch.glob(f"archocr-{victim.pid}-*"))  # removed by the run


def test_killed_run_resumes_without_redoing_finished_pages(inbox, tmp_path):
    out = tmp_path / "out"
    proc = _start(inbox, out, "--serial")
    _wait_for_pages(proc, 2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    killed = load_json(out / "manifest.json")
    done = {
        (d["document"], p["number"]) for d in killed["documents"] for p in d["pages"] if p["status"] == "ok"
    }
    assert len(done) >= 2 and killed["finished"] is None  # a true record of an unfinished run
    before = {p: p.stat().st_mtime_ns for p in out.glob("*/0001.json")}
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--progress-json")
    assert result.returncode == 0, result.stderr
    manifest = _assert_complete(out, 6)
    assert manifest["summary"]["skipped"] == len(before) >= 2
    for path, mtime in before.items():
        assert path.stat().st_mtime_ns == mtime  # finished pages were not redone
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "start" and events[0]["todo"] == 6 - len(before)


def test_second_run_on_the_same_folder_is_refused(inbox, tmp_path):
    out = tmp_path / "out"
    proc = _start(inbox, out, "--serial")
    _wait_for_pages(proc, 1)
    second = archocr("run", str(inbox), "--out", str(out), "--serial")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert second.returncode == 3
    assert "another archocr run" in second.stderr and f"pid {proc.pid}" in second.stderr  # names the holder


def test_tesseract_crash_and_hang_fail_one_page_and_the_batch_goes_on(inbox, tmp_path, test_text):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "crashed-once"
    # A Tesseract that crashes (SIGSEGV) on the first page image it is given, then behaves
    # (`--version` and `--list-langs` calls carry no image and pass through).
    (fake_bin / "tesseract").write_text(
        "#!/bin/sh\n"
        f'case "$1" in -*) ;; *) if [ ! -e "{marker}" ]; then touch "{marker}"; kill -SEGV $$; fi ;; esac\n'
        'exec /usr/bin/tesseract "$@"\n'
    )
    (fake_bin / "tesseract").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    small = tmp_path / "in"
    small.mkdir()
    for name in ("scan-1.png", "scan-2.png"):
        (small / name).write_bytes((inbox / name).read_bytes())
    out = tmp_path / "out"
    result = archocr("run", str(small), "--out", str(out), "--serial", env=env)
    assert result.returncode == 1
    manifest = load_json(out / "manifest.json")
    pages = {d["document"]: d["pages"][0] for d in manifest["documents"]}
    assert pages["scan-1"]["status"] == "failed" and "Tesseract failed" in pages["scan-1"]["reason"]
    assert pages["scan-2"]["status"] == "ok"
    # A page that takes longer than the per-page limit is stopped and marked; a quick one is done.
    tiny = Image.new("L", (900, 160), 255)
    ImageDraw.Draw(tiny).text(
        (20, 40), "Политбюро ЦК", font=ImageFont.truetype(synth.available_fonts()[0][0], 60)
    )
    tiny.save(small / "scan-0-tiny.png", dpi=(300, 300))
    slow = archocr(
        "run", str(small), "--out", str(tmp_path / "slow"), "--serial", "--page-timeout", "1.0", "--no-orient"
    )
    timed_out = load_json(tmp_path / "slow" / "manifest.json")
    pages = {d["document"]: d["pages"][0] for d in timed_out["documents"]}
    assert slow.returncode == 1
    assert pages["scan-0-tiny"]["status"] == "ok", pages["scan-0-tiny"]
    assert "Политбюро" in (tmp_path / "slow" / "scan-0-tiny" / "0001.txt").read_text(encoding="utf-8")
    for name in ("scan-1", "scan-2"):
        assert pages[name]["status"] == "failed" and "longer than 1 s" in pages[name]["reason"]


def test_local_workers_keep_glibc_malloc_defaults_and_a_run_leaves_no_dask_variables(tmp_path):
    """Dask's nanny gives its workers MALLOC_TRIM_THRESHOLD_ (every freed page image then goes back to
    the kernel and is faulted in again) and writes what it gives them into the caller's environment."""
    from dask.distributed import Client

    from pipeline import batch
    from pipeline.config import Settings

    page = Image.new("L", (900, 160), 255)
    ImageDraw.Draw(page).text(
        (20, 40), "Политбюро ЦК", font=ImageFont.truetype(synth.available_fonts()[0][0], 60)
    )
    page.save(tmp_path / "scan.png", dpi=(300, 300))
    before = dict(os.environ)
    manifest = batch.run([tmp_path / "scan.png"], tmp_path / "out", Settings(), executor="dask", workers=1)
    assert manifest.summary()["failed"] == 0
    assert dict(os.environ) == before  # so programs this one starts later do not inherit them

    cluster = batch.start_local_cluster(1)
    try:
        with Client(cluster) as client:
            malloc = client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_")
            omp = client.run(os.getenv, "OMP_NUM_THREADS")
    finally:
        cluster.close()
        os.environ.clear()
        os.environ.update(before)
    assert list(malloc.values()) == [None] and list(omp.values()) == ["1"]  # Dask's other settings stay


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def test_a_page_sized_block_comes_from_the_heap_not_a_fresh_mapping():
    """After keep_freed_memory, a block the size of a float copy of a page is not mapped on its own
    (glibc counts such mappings in mallinfo2's hblkhd), so freeing it keeps its memory for the next."""
    if not batch.keep_freed_memory():
        pytest.skip("the C library has no mallopt (not glibc)")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc before 2.33 has no mallinfo2")
    libc.mallinfo2.restype = _MallInfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    mapped = libc.mallinfo2().hblkhd
    block = libc.malloc(100 * 2**20)
    try:
        assert block
        assert libc.mallinfo2().hblkhd == mapped
    finally:
        libc.free(block)
