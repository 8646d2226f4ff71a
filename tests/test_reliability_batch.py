"""What a bad inbox or a bad night does to a batch run (issue 13): every failure of one input or page is
recorded with a clear message while the run goes on; nothing is written outside the output folder;
the manifest is the single truth about which pages are finished; environment faults (a full disk, a
read-only folder, an unreachable scheduler, Ctrl-C) end with a clear message and a documented status.

The hostile files are made here, small: PNG chunks that inflate past Pillow's limit, TIFFs cut short
or with 50,000 frames, names like `...png` or `manifest.json.png`, symbolic link loops. Dask cases
run on a real LocalCluster; a full disk and a read-only folder are real tmpfs mounts (tests run as root;
without the right to mount they are skipped)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont

from pipeline import batch, scans, synth
from pipeline.config import Settings

from .conftest import ROOT, archocr, load_json

WORDS = ("Политбюро ЦК", "Протокол заседания", "Секретариат губкома", "Товарищ Калинин")


def tiny_page(path: Path, text: str = WORDS[0], frames: int = 1) -> Path:
    """A small page with one line of real text (Tesseract reads it in well under a second)."""
    font = ImageFont.truetype(synth.available_fonts()[0][0], 60)
    images = []
    for i in range(frames):
        im = Image.new("L", (900, 160), 255)
        ImageDraw.Draw(im).text((20, 40), WORDS[(WORDS.index(text) + i) % len(WORDS)], font=font)
        images.append(im)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, dpi=(300, 300), save_all=frames > 1, append_images=images[1:])
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_with_inflating_chunk(kind: bytes) -> bytes:
    """A valid small PNG plus a zTXt or iCCP chunk that inflates to 20 MB (past Pillow's MAX_TEXT_CHUNK)."""
    buf = io.BytesIO()
    Image.new("L", (100, 100), 255).save(buf, "PNG")
    png = buf.getvalue()
    payload = b"Comment\x00\x00" if kind == b"zTXt" else b"icc\x00\x00"
    return png[:33] + _chunk(kind, payload + zlib.compress(b"A" * 20_000_000, 9)) + png[33:]


def many_page_tiff(frames: int, side: int = 40, order: str = "<") -> bytes:
    """A TIFF of `frames` white 8-bit pages that share one strip (5.7 MB for 50,000); `order` "<" writes
    it little-endian (II), ">" big-endian (MM)."""
    strip = b"\xff" * (side * side)
    magic = b"II*\x00" if order == "<" else b"MM\x00*"
    body = bytearray(magic + struct.pack(order + "I", 8 + len(strip)) + strip)
    tags = [(256, side), (257, side), (258, 8), (259, 1), (262, 1), (273, 8), (277, 1), (278, side)]
    for i in range(frames):
        start = len(body)
        ifd = struct.pack(order + "H", len(tags) + 1)
        for tag, value in [*tags, (279, len(strip))]:
            ifd += struct.pack(order + "HHII", tag, 4, 1, value)
        body += ifd + struct.pack(order + "I", start + len(ifd) + 4 if i < frames - 1 else 0)
    return bytes(body)


def _documents(out: Path) -> dict[str, dict]:
    return {d["document"]: d for d in load_json(out / "manifest.json")["documents"]}


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


# --- 1. byte-identical inputs under Dask -------------------------------------------------------------


def test_identical_inputs_each_get_their_pages_under_dask(tmp_path):
    inbox = tmp_path / "in"
    first = tiny_page(inbox / "separator-1.png")
    for name in ("separator-2.png", "cover/separator-1.png"):
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(first, inbox / name)
    out = tmp_path / "out"
    result = archocr("run", str(inbox), "--out", str(out), "--workers", "2", "--no-correct", "-q")
    assert result.returncode == 0, result.stderr
    docs = _documents(out)
    assert len(docs) == 3 and len({d["sha256"] for d in docs.values()}) == 1
    for name, doc in docs.items():
        assert doc["status"] == "ok" and [p["status"] for p in doc["pages"]] == ["ok"], doc
        assert "Политбюро" in (out / name / "0001.txt").read_text(encoding="utf-8")


def test_dask_keys_differ_for_the_same_content_in_two_documents():
    a = batch.PageTask("a.png", "0" * 64, "a", 1, "k" * 64)
    b = batch.PageTask("b.png", "0" * 64, "b", 1, "k" * 64)
    assert batch.dask_key(a) != batch.dask_key(b)
    assert batch.dask_key(a) == batch.dask_key(batch.PageTask("elsewhere", "0" * 64, "a", 1, "k" * 64))


# --- 2. one malformed file never stops the run --------------------------------------------------------


def test_malformed_files_are_recorded_and_the_run_goes_on(tmp_path):
    inbox = tmp_path / "in"
    tiny_page(inbox / "good.png")
    (inbox / "text-bomb.png").write_bytes(png_with_inflating_chunk(b"zTXt"))
    (inbox / "icc-bomb.png").write_bytes(png_with_inflating_chunk(b"iCCP"))
    whole = tiny_page(tmp_path / "three.tif", frames=3).read_bytes()
    second_ifd = struct.unpack("<I", whole[4:8])[0]  # cut inside the pages after the first
    (inbox / "cut-short.tif").write_bytes(whole[: max(second_ifd + 200, len(whole) // 2)])
    out = tmp_path / "out"
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct")
    _no_traceback(result.stderr)
    assert result.returncode == 1
    docs = _documents(out)
    assert docs["good"]["status"] == "ok"
    for name in ("text-bomb", "icc-bomb"):
        assert docs[name]["status"] == "failed" and "not a readable image" in docs[name]["reason"]
        assert any(
            f"{name}.png" in line and "not a readable image" in line for line in result.stderr.splitlines()
        )
    cut = docs["cut-short"]
    # Every page of the cut TIFF has a record: a page that cannot be read is a failure with its reason.
    assert cut["pages_total"] >= 2 and len(cut["pages"]) == cut["pages_total"]
    assert all(p["status"] == "ok" or p["reason"] for p in cut["pages"])
    assert any(p["status"] == "failed" for p in cut["pages"])


def test_any_exception_while_planning_one_input_is_recorded(tmp_path, monkeypatch):
    good, odd = tiny_page(tmp_path / "good.png"), tiny_page(tmp_path / "odd.png")
    real = scans.page_count

    def flaky(path, settings):
        if path.name == "odd.png":
            raise TypeError("Missing dimensions")
        return real(path, settings)

    monkeypatch.setattr(scans, "page_count", flaky)
    documents, tasks = batch.plan([good, odd], Settings(correct=False))
    by_name = {d.document: d for d in documents}
    assert by_name["odd"].status == "failed" and "TypeError: Missing dimensions" in by_name["odd"].reason
    assert [t.document for t in tasks] == ["good"]


# --- 4 and 17. names that escape the output folder or take archocr's own names ------------------------

HOSTILE_NAMES = (
    "...png",
    "..png",
    "manifest.json.png",
    ".archocr.lock.png",
    "report.html.png",
    "discrepancies.csv.png",
    "line\nbreak.png",
    "Scan.png",
    "scan.png",
    "a:b*c?.png",
)


def test_hostile_file_names_stay_inside_the_output_folder(tmp_path):
    inbox = tmp_path / "in"
    first = tiny_page(inbox / "seed.png")
    for name in HOSTILE_NAMES:
        shutil.copy(first, inbox / name)
    os.rename(inbox / "seed.png", inbox / os.fsdecode(b"bad-\xff-bytes.png"))
    out = tmp_path / "nest" / "out"
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct")
    _no_traceback(result.stderr)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "nest").iterdir()) == ["out"]  # nothing beside the output
    manifest = load_json(out / "manifest.json")
    names = [d["document"] for d in manifest["documents"]]
    assert len(names) == len(HOSTILE_NAMES) + 1
    assert len({n.casefold() for n in names}) == len(names)  # unique, even on a case-blind file system
    for doc in manifest["documents"]:
        folder = out / doc["document"]
        assert folder.parent == out and not doc["document"].startswith(".") and "\n" not in doc["document"]
        assert doc["status"] == "ok" and (folder / "0001.json").is_file(), doc
    assert {p.name for p in out.iterdir() if p.is_file()} == {"manifest.json", ".archocr.lock"}
    assert {p.name for p in out.iterdir() if p.is_dir()} == set(names)
    # A path that is not UTF-8 cannot be named in the XML and JSON: that page keeps a copy of its scan.
    (bad,) = [d for d in manifest["documents"] if "\ufffd" in d["input"]]
    copy = out / bad["document"] / "0001.orig.png"
    assert copy.read_bytes() == (inbox / os.fsdecode(b"bad-\xff-bytes.png")).read_bytes()
    assert 'imageFilename="0001.orig.png"' in (copy.parent / "0001.page.xml").read_text(encoding="utf-8")
    # align goes through the manifest and is not confused by a folder named like its own report
    transcript = tmp_path / "t.txt"
    transcript.write_text(WORDS[0] + "\n", encoding="utf-8")
    aligned = archocr("align", str(out), "--transcript", str(transcript))
    _no_traceback(aligned.stderr)
    assert (out / "report.html").is_file() and (out / "discrepancies.csv").is_file()


def _inputs(*relative: str) -> list[scans.Input]:
    root = Path("/archive/inbox")
    return [scans.Input(root / r, root, r) for r in relative]


def test_document_names_follow_one_rule():
    names = batch.document_names(
        _inputs("...png", "..png", "manifest.json.png", "a/x.png", "b/X.png", "y.png")
    )
    assert names[5] == "y"  # a plain, unique, safe stem is kept as it is
    for name in names[:5]:
        assert batch.safe_name(name) == name and name not in (".", "..") and "/" not in name
        assert name.rsplit("-", 1)[1].isalnum() and len(name.rsplit("-", 1)[1]) == 8  # the hash says why
    assert names[2].startswith("manifest.json-")
    assert batch.document_names(_inputs("con.png", "LPT1.x.png", "console.png")) != [
        "con",
        "LPT1.x",
        "console",
    ]
    assert batch.document_names(_inputs("console.png")) == ["console"]
    # No order decides: the same inputs in any order get the same names.
    shuffled = _inputs("y.png", "b/X.png", "a/x.png", "manifest.json.png", "..png", "...png")
    assert dict(zip(shuffled, batch.document_names(shuffled), strict=True)) == dict(
        zip(
            _inputs("...png", "..png", "manifest.json.png", "a/x.png", "b/X.png", "y.png"), names, strict=True
        )
    )


def test_document_names_are_stable_across_runs():
    first = _inputs("a/scan.png")
    (name,) = batch.document_names(first)
    assert name == "scan"
    previous = {batch._source(first[0]): name}
    # A later run adds another `scan`: the earlier input keeps its folder, the newcomer gets a hash.
    later = _inputs("b/scan.png", "a/scan.png")
    assert batch.document_names(later, previous)[1] == "scan"
    assert batch.document_names(later, previous)[0].startswith("scan-")
    # The earlier input gone, its name is still not handed to a different file.
    assert batch.document_names(_inputs("b/scan.png"), previous) != ["scan"]
    long = batch.safe_name("я" * 300)
    assert len(long.encode()) <= batch.MAX_NAME_BYTES


# --- 5. an output folder inside the input folder ------------------------------------------------------


def test_output_folder_inside_the_inbox_is_not_read_back(tmp_path):
    inbox = tmp_path / "inbox"
    tiny_page(inbox / "letter.png")
    out = inbox / "results"
    for _ in range(2):
        result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct")
        assert result.returncode == 0, result.stderr
    assert list(_documents(out)) == ["letter"]
    assert [i.relative for i in scans.find_inputs([inbox], exclude=[out])] == ["letter.png"]
    # Nor are the results of a run into another folder inside the inbox (say, last night's).
    archocr("run", str(inbox), "--out", str(inbox / "2026-11-25"), "--serial", "--no-correct", check=True)
    assert [i.relative for i in scans.find_inputs([inbox, inbox / "letter.png"])] == ["letter.png"]


# --- 8. stale and mislabelled outputs; the manifest is the truth ---------------------------------------


def test_rescanned_document_with_fewer_pages_keeps_no_old_pages(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "delo.tif", frames=3)
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    assert sorted(p.name for p in (out / "delo").glob("*.json")) == ["0001.json", "0002.json", "0003.json"]
    tiny_page(inbox / "delo.tif", text=WORDS[2], frames=1)  # re-scanned: one page now
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    assert sorted(p.name for p in (out / "delo").iterdir()) == sorted(
        [*batch.export.page_output_names(1).values(), "delo.pdf"]
    )
    assert [(p.document, p.number) for p in batch.finished_pages(out)] == [("delo", 1)]
    assert "Секретариат" in (out / "delo" / "0001.txt").read_text(encoding="utf-8")


def test_page_failing_on_a_forced_rerun_keeps_no_old_files(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "one.png")
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    assert (out / "one" / "0001.txt").is_file()
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "tesseract").write_text(  # crashes on any page image; version queries pass through
        '#!/bin/sh\ncase "$1" in -*) ;; *) kill -SEGV $$ ;; esac\nexec /usr/bin/tesseract "$@"\n'
    )
    (fake_bin / "tesseract").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", "--force", env=env)
    assert result.returncode == 1
    page = _documents(out)["one"]["pages"][0]
    assert page["status"] == "failed" and "Tesseract failed" in page["reason"]
    assert not [p.name for p in (out / "one").iterdir()]  # no text of an earlier run passes for this page
    assert batch.finished_pages(out) == []


def test_a_change_of_archocrs_code_redoes_the_page_and_the_same_code_resumes(tmp_path, monkeypatch):
    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "p.png")
    settings = Settings(correct=False)
    batch.run([inbox / "p.png"], out, settings)
    page_json = out / "p" / "0001.json"
    made = page_json.stat().st_mtime_ns
    assert load_json(page_json)["versions"]["code"] == batch.code_identity()
    again = batch.run([inbox / "p.png"], out, settings).documents["p"].pages[1]
    assert again.skipped and page_json.stat().st_mtime_ns == made  # the same code resumes
    # The same __version__ but other code (a checkout some commits on): the page is made again.
    monkeypatch.setattr(batch, "code_identity", lambda: "0" * 16)
    redone = batch.run([inbox / "p.png"], out, settings).documents["p"].pages[1]
    assert redone.status == "ok" and not redone.skipped and redone.key != again.key
    assert page_json.stat().st_mtime_ns != made
    assert load_json(page_json)["versions"]["code"] == "0" * 16
    assert load_json(out / "manifest.json")["versions"]["code"] == "0" * 16


def test_the_code_digest_follows_the_package_source_wherever_it_is(tmp_path):
    copy = tmp_path / "pipeline"
    shutil.copytree(ROOT / "pipeline", copy, ignore=shutil.ignore_patterns("__pycache__"))

    def digest_of_copy() -> str:
        return subprocess.run(
            [sys.executable, "-c", "from pipeline import batch; print(batch.code_identity())"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert digest_of_copy() == batch.code_identity()  # the same files elsewhere (a wheel) agree
    with (copy / "review" / "app.py").open("a", encoding="utf-8") as f:
        f.write("\n# the review server makes no page\n")
    assert digest_of_copy() == batch.code_identity()
    with (copy / "layout.py").open("a", encoding="utf-8") as f:
        f.write("\n# any change to a stage\n")
    assert digest_of_copy() != batch.code_identity()


def test_adding_an_input_never_hands_a_folder_to_another_input(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "b" / "scan.png", text=WORDS[1])
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    tiny_page(inbox / "a" / "scan.png", text=WORDS[3])  # sorts before the first one
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    docs = _documents(out)
    assert docs["scan"]["input"].endswith("b/scan.png") and docs["scan"]["pages"][0]["skipped"]
    newcomer = next(d for n, d in docs.items() if n != "scan")
    assert newcomer["input"].endswith("a/scan.png")
    assert "Калинин" in (out / newcomer["document"] / "0001.txt").read_text(encoding="utf-8")
    assert "Протокол" in (out / "scan" / "0001.txt").read_text(encoding="utf-8")


def test_align_and_reruns_go_by_the_manifest_not_by_stray_files(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "kept.png")
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    shutil.copytree(out / "kept", out / "ghost")  # pages no manifest lists (another tool, an old layout)
    assert [p.document for p in batch.finished_pages(out)] == ["kept"]
    (inbox / "kept.png").unlink()
    tiny_page(inbox / "new.png", text=WORDS[1])
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    docs = load_json(out / "manifest.json")["documents"]
    # The earlier document stays on record (its input is gone from the inbox), marked as such.
    assert [(d["document"], d["in_this_run"]) for d in docs] == [("new", True), ("kept", False)]
    assert [p.document for p in batch.finished_pages(out)] == ["kept", "new"]
    from pipeline import report

    transcript = tmp_path / "t.txt"
    transcript.write_text(f"{WORDS[0]}\n\n{WORDS[1]}\n", encoding="utf-8")
    aligned = report.align_output(out, transcript)
    assert sorted({p.document for p in aligned.pages}) == ["kept", "new"]


# --- 9. environment faults ----------------------------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs file systems (root only); unmounted afterwards."""
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        target = tmp_path / name
        target.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill a file system up, then give back `leave` bytes (room for the manifest, not for a page)."""
    with (disk / "filler").open("wb") as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        size = fh.tell()
    os.truncate(disk / "filler", max(0, size - leave))


def test_full_disk_fails_pages_not_the_run(tmp_path, tmpfs):
    inbox = tmp_path / "in"
    for i, name in enumerate(("a-first", "b-second", "c-third")):
        tiny_page(inbox / f"{name}.png", text=WORDS[i])
    disk = tmpfs("disk", "size=2m")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", str(inbox), "--out", str(disk), "--serial", "--no-correct",
         "--progress-json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    for line in proc.stdout:
        if json.loads(line)["event"] == "page":
            _fill(disk, leave=20 * 1024)  # the disk fills up after the first document
            break
    _, stderr = proc.communicate(timeout=300)
    _no_traceback(stderr)
    assert proc.returncode == 1
    docs = _documents(disk)
    assert docs["a-first"]["status"] == "ok"  # finished before the disk filled, and recorded
    failed = [p for d in docs.values() for p in d["pages"] if p["status"] == "failed"]
    assert failed and all("no space left" in p["reason"] for p in failed)
    assert all(d["pages"] for d in docs.values())  # every input was still tried
    assert docs["b-second"]["status"] == docs["c-third"]["status"] == "failed"
    assert not (disk / "b-second").exists() or not any((disk / "b-second").iterdir())
    assert not [p for p in disk.rglob("*") if p.name.endswith((".part", batch.STAGING_SUFFIX))]


def test_read_only_output_folder_is_a_clear_error(tmp_path, tmpfs):
    tiny_page(tmp_path / "in" / "x.png")
    read_only = tmpfs("ro", "ro,size=1m")
    result = archocr("run", str(tmp_path / "in"), "--out", str(read_only), "--serial", "--no-correct")
    _no_traceback(result.stderr)
    assert result.returncode == 4
    assert "cannot write to the output folder" in result.stderr and "read-only" in result.stderr


def test_unreachable_scheduler_is_a_clear_error_within_seconds(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tiny_page(tmp_path / "in" / "x.png")
    started = time.monotonic()
    result = archocr(
        "run",
        str(tmp_path / "in"),
        "--out",
        str(tmp_path / "out"),
        "--scheduler",
        f"tcp://127.0.0.1:{port}",
        timeout=120,
    )
    elapsed = time.monotonic() - started
    _no_traceback(result.stderr)
    assert result.returncode == 4
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    assert elapsed < 60  # a hang guard, not a speed claim: the limit is CONNECT_TIMEOUT (5 s) plus start-up
    assert not (tmp_path / "out").exists()  # found out before anything was read or written
    bad = archocr("run", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--scheduler", "nonsense")
    assert bad.returncode == 2 and "not a Dask scheduler address" in bad.stderr  # a bad option value


# --- 10. what a killed run leaves ----------------------------------------------------------------------


def test_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "two.tif", frames=2)
    archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", check=True)
    folder = out / "two"
    # What SIGKILL leaves: atomic_write's temporary files, a staging folder, and a page whose files
    # were moved into place but whose JSON (which marks it done) never was.
    (folder / ".0001.png.k3j2h1.part").write_bytes(b"half")
    (out / ".manifest.json.a1b2c3.part").write_text("{")
    (folder / ".0002.x7y8.writing").mkdir()
    (folder / ".0002.x7y8.writing" / "0002.txt").write_text("half")
    (folder / "0002.json").unlink()
    dead = subprocess.Popen(["true"])
    dead.wait()
    scratch = Path("/dev/shm" if os.access("/dev/shm", os.W_OK) else "/tmp") / f"archocr-{dead.pid}-zz"
    scratch.mkdir()
    (scratch / "page.bmp").write_bytes(b"BM" + b"\0" * 1000)
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", "--progress-json")
    assert result.returncode == 0, result.stderr
    assert not scratch.exists()
    assert not [p for p in out.rglob(".*") if p.name != ".archocr.lock"]
    start = json.loads(result.stdout.splitlines()[0])
    assert start["event"] == "start" and start["skipped"] == 1 and start["todo"] == 1  # page 2 was redone
    # Every output of page 2, and nothing else: a frame of a multi-page TIFF also keeps its original.
    outputs = load_json(folder / "0002.json")["outputs"]
    assert outputs["original"] == "0002.orig.jpg"
    assert sorted(p.name for p in folder.glob("0002.*")) == sorted(outputs.values())
    assert set(batch.export.page_output_names(2).values()) < set(outputs.values())


def test_page_files_move_into_place_together_or_not_at_all(tmp_path, monkeypatch):
    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "p.png")
    real_replace = os.replace
    moved = []

    def interrupted(src, dst):
        if Path(dst).name == "0001.json":
            raise OSError(5, "Input/output error")
        moved.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(batch.os, "replace", interrupted)
    manifest = batch.run([inbox / "p.png"], out, Settings(correct=False))
    monkeypatch.undo()
    page = manifest.documents["p"].pages[1]
    assert page.status == "failed" and "input/output error" in page.reason
    assert moved  # the other files had been moved before the JSON failed ...
    assert not [p.name for p in (out / "p").iterdir()]  # ... and none of them is left


# --- 11. symbolic links -------------------------------------------------------------------------------


def test_symlinked_folders_are_followed_once_and_dangling_links_recorded(tmp_path):
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    tiny_page(inbox / "real" / "r.png")
    tiny_page(elsewhere / "e.png", text=WORDS[1])
    (inbox / "shared").symlink_to(elsewhere, target_is_directory=True)  # a share linked in: followed
    (inbox / "real" / "again").symlink_to(inbox / "real", target_is_directory=True)  # a loop
    (inbox / "up").symlink_to(inbox, target_is_directory=True)  # a loop from the top
    (inbox / "gone.png").symlink_to(tmp_path / "nowhere.png")
    (inbox / "unmounted").symlink_to(tmp_path / "no-such-share", target_is_directory=True)
    os.mkfifo(inbox / "pipe.png")  # reading it would hang the run
    found = scans.find_inputs([inbox])
    assert sorted(i.relative for i in found if not i.problem) == ["real/r.png", "shared/e.png"]
    problems = {i.relative: i.problem for i in found if i.problem}
    assert set(problems) == {"gone.png", "unmounted", "pipe.png"}
    assert "broken symbolic link" in problems["gone.png"] and "broken symbolic link" in problems["unmounted"]
    assert "not a regular file" in problems["pipe.png"]
    out = tmp_path / "out"
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct")
    assert result.returncode == 1
    docs = _documents(out)
    assert docs["r"]["status"] == docs["e"]["status"] == "ok"
    assert docs["gone"]["status"] == "failed" and "broken symbolic link" in docs["gone"]["reason"]
    assert "gone.png" in result.stderr and "broken symbolic link" in result.stderr


# --- 18. Ctrl-C under Dask -----------------------------------------------------------------------------


def test_ctrl_c_under_dask_is_a_short_clean_stop(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    for i in range(8):
        tiny_page(inbox / f"p{i}.png", text=WORDS[i % len(WORDS)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", str(inbox), "--out", str(out), "--workers", "2",
         "--no-correct", "--progress-json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    for line in proc.stdout:
        if json.loads(line)["event"] == "page":
            break
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole process group gets it
    _, stderr = proc.communicate(timeout=120)
    _no_traceback(stderr)
    assert proc.returncode == 130
    assert len(stderr.strip().splitlines()) <= 2 and "interrupted" in stderr, stderr
    manifest = load_json(out / "manifest.json")
    assert manifest["finished"] is None
    for page in batch.finished_pages(out):  # what the manifest calls done is there, whole
        assert page.json_path.is_file() and all((page.folder / n).is_file() for n in page.outputs.values())
    assert batch.finished_pages(out)


# --- 19. page limit -----------------------------------------------------------------------------------


def test_tiff_with_50000_frames_is_refused_quickly_with_a_clear_reason(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "endless.tif").write_bytes(many_page_tiff(50_000))
    tiny_page(inbox / "ok.png")
    out = tmp_path / "out"
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", timeout=300)
    assert result.returncode == 1
    doc = _documents(out)["endless"]
    assert (
        doc["status"] == "failed"
        and "more than 2,000 pages" in doc["reason"]
        and "--max-pages" in doc["reason"]
    )
    assert _documents(out)["ok"]["status"] == "ok"


def test_max_pages_below_one_is_a_usage_error(tmp_path):
    tiny_page(tmp_path / "x.png")
    result = archocr("run", str(tmp_path / "x.png"), "--out", str(tmp_path / "out"), "--max-pages", "0")
    assert result.returncode == 2 and "--max-pages" in result.stderr


def test_tiff_page_count_matches_pillow_and_max_pages_applies(tmp_path):
    (tmp_path / "little.tif").write_bytes(many_page_tiff(7))
    (tmp_path / "big.tif").write_bytes(many_page_tiff(4, order=">"))
    tiny_page(tmp_path / "pillow.tif", frames=3)
    for name in ("little", "big", "pillow"):
        path = tmp_path / f"{name}.tif"
        with Image.open(path) as im:
            assert scans.page_count(path, Settings()) == im.n_frames
    with pytest.raises(scans.ScanError, match="more than 5 pages"):
        scans.page_count(tmp_path / "little.tif", Settings(max_pages=5))
    looped = bytearray(many_page_tiff(3))
    looped[-4:] = looped[4:8]  # the last directory points back at the first: counted once, no hang
    (tmp_path / "loop.tif").write_bytes(bytes(looped))
    assert scans.page_count(tmp_path / "loop.tif", Settings()) == 3


# --- damaged but readable: warnings --------------------------------------------------------------------


def test_page_warnings_reach_the_manifest_summary_and_progress(tmp_path, monkeypatch):
    from pipeline import cli

    inbox, out = tmp_path / "in", tmp_path / "out"
    tiny_page(inbox / "damaged.png")
    tiny_page(inbox / "whole.png", text=WORDS[1])
    real = scans.load_page

    def with_warning(path, number, settings):
        page = real(path, number, settings)
        if path.name == "damaged.png":
            return scans.PageImage(page.pixels, page.dpi, page.source, page.number, ("decoder: bad stream",))
        return page

    monkeypatch.setattr(scans, "load_page", with_warning)
    result = CliRunner().invoke(
        cli.app, ["run", str(inbox), "--out", str(out), "--serial", "--no-correct", "--progress-json"]
    )
    assert result.exit_code == 0, result.output  # documented: warnings do not fail the run ...
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    page_events = {e["document"]: e for e in events if e["event"] == "page"}
    assert (
        page_events["damaged"]["warnings"] == ["decoder: bad stream"] and not page_events["whole"]["warnings"]
    )
    assert events[-1]["event"] == "finish" and events[-1]["warnings"] == 1  # ... but they are never hidden
    docs = _documents(out)
    assert docs["damaged"]["pages"][0]["status"] == "ok"
    assert docs["damaged"]["pages"][0]["warnings"] == ["decoder: bad stream"]
    assert load_json(out / "damaged" / "0001.json")["warnings"] == ["decoder: bad stream"]
    assert [p.warnings for p in batch.finished_pages(out)] == [("decoder: bad stream",), ()]
    monkeypatch.undo()  # a rerun skips the page and keeps its warnings
    again = CliRunner().invoke(cli.app, ["run", str(inbox), "--out", str(out), "--serial", "--no-correct"])
    assert again.exit_code == 0
    assert "damaged but readable" in again.stderr and "decoder: bad stream" in again.stderr
