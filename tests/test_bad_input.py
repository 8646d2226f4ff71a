"""Bad input: a clear message naming file and problem; the run goes on; nothing half-written."""

import struct
import zlib

import numpy as np
import pypdf
import pytest
from PIL import Image

from pipeline import scans, synth
from pipeline.config import Settings
from pipeline.errors import ScanError

from .conftest import archocr, load_json


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width×height pixels but carries almost no data (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, test_text):
    folder = tmp_path_factory.mktemp("bad")
    good = synth.render_pages(test_text, 1, seed=51, max_skew=1, degradations=())[0]
    Image.fromarray(good.image).save(folder / "good.png", dpi=(300, 300))
    Image.fromarray(good.image).save(folder / "good-copy.pdf", resolution=300)
    data = (folder / "good-copy.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (folder / "good-copy.pdf").unlink()
    (folder / "garbage.pdf").write_bytes(b"%PDF-1.4\n this is not a pdf at all \n%%EOF\n")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner")
    with (folder / "encrypted.pdf").open("wb") as fh:
        writer.write(fh)
    (folder / "empty.tif").write_bytes(b"")
    (folder / "notes.png").write_text("Это не картинка, а текстовый файл.\n", encoding="utf-8")
    Image.new("L", (1, 1), 255).save(folder / "dot.png")
    (folder / "huge.png").write_bytes(_png_header_only(60000, 60000))
    Image.new("L", (2480, 3508), 255).save(folder / "blank.png", dpi=(300, 300))
    out = tmp_path_factory.mktemp("bad-out")
    result = archocr("run", str(folder), "--out", str(out), "--serial")
    return folder, out, result, good


EXPECTED = {
    "truncated": "corrupt or truncated",
    "garbage": "not a readable PDF",
    "encrypted": "encrypted",
    "empty": "empty",
    "notes": "text file",
    "dot": "too small",
    "huge": "over the limit",
}


def test_run_goes_on_and_exit_status_says_something_failed(bad_inputs):
    _, out, result, good = bad_inputs
    assert result.returncode == 1
    manifest = load_json(out / "manifest.json")
    by_name = {d["document"]: d for d in manifest["documents"]}
    assert by_name["good"]["status"] == "ok"
    text = (out / "good" / "0001.txt").read_text(encoding="utf-8")
    assert text.split()[:5] == good.text.split()[:5]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_input_is_named_with_its_problem(bad_inputs, name):
    folder, out, result, _ = bad_inputs
    manifest = load_json(out / "manifest.json")
    doc = next(d for d in manifest["documents"] if d["document"] == name)
    reasons = [doc["reason"] or ""] + [p["reason"] or "" for p in doc["pages"]]
    assert doc["status"] == "failed"
    assert any(EXPECTED[name] in r for r in reasons), reasons
    assert any(name in line and EXPECTED[name] in line for line in result.stderr.splitlines()), result.stderr


def test_blank_page_is_empty_text_not_an_error(bad_inputs):
    _, out, _, _ = bad_inputs
    manifest = load_json(out / "manifest.json")
    blank = next(d for d in manifest["documents"] if d["document"] == "blank")
    assert blank["status"] == "ok"
    assert (out / "blank" / "0001.txt").read_text(encoding="utf-8").strip() == ""


def test_nothing_half_written(bad_inputs):
    _, out, _, _ = bad_inputs
    assert not [
        p
        for p in out.rglob("*")
        if p.name.endswith(".part") or p.name.startswith(".") and p.is_file() and p.name != ".archocr.lock"
    ]
    for name in EXPECTED:
        assert not (out / name).exists() or not any((out / name).iterdir())


def test_huge_image_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(60000, 60000))
    with pytest.raises(ScanError, match="60000×60000"):
        scans.load_page(path, 1, Settings())


def test_missing_input_is_a_usage_error(tmp_path):
    result = archocr("run", str(tmp_path / "nowhere.pdf"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "nowhere.pdf" in result.stderr and "no such file" in result.stderr


def test_bad_option_is_a_usage_error(tmp_path):
    result = archocr("run", str(tmp_path), "--out", str(tmp_path / "o"), "--psm", "many")
    assert result.returncode == 2


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    from pipeline import files

    target = tmp_path / "0001.txt"
    target.write_text("old")

    def explode(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", explode)
    with pytest.raises(OSError):
        files.atomic_write(target, "new text")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_grey_16_bit_and_colour_inputs_load(tmp_path):
    rgb = np.zeros((200, 300, 3), np.uint8) + 255
    Image.fromarray(rgb).save(tmp_path / "c.png")
    page = scans.load_page(tmp_path / "c.png", 1, Settings())
    assert page.pixels.shape == (200, 300, 3) and page.dpi == 300
