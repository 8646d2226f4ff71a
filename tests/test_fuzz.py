"""Fuzzing the inbox: the sample scans, cut small and damaged at random (seeded), through `archocr run`.

Whatever the bytes, every failure must be a recorded one: the run ends with status 0 or 1, never a
traceback; each input is in the manifest, and one that failed says why and is named on standard
error; a page is either whole (all its files) or absent; nothing half-written is left behind.
The damage is byte flips, truncation, a corrupted header, a zeroed block and inserted bytes, on
small crops of the samples (PNG, JPEG, TIFF with two pages, PDF), so the whole test stays fast.
OCR made elsewhere (ALTO, hOCR, plain text) is damaged the same way and fed to `archocr correct`.
"""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline import scans
from pipeline.config import Settings
from pipeline.errors import ScanError

from .conftest import SCANS, archocr, load_json

SEED = 20261126
FIXED_DATE = time.gmtime(0)  # Pillow stamps PDFs with the time; the bases must not vary
CASES_PER_BASE = 6  # × 4 bases × 5 kinds of damage, drawn at random: 24 files per run


def _crop(width: int = 900, height: int = 260) -> Image.Image:
    sample = Image.open(SCANS / "stalin-conference-1925.jpg").convert("L")
    return sample.crop((100, 300, 100 + width, 300 + height))


def _bases() -> dict[str, bytes]:
    crop = _crop()
    out: dict[str, bytes] = {}
    for name, fmt, options in (
        ("png", "PNG", {}),
        ("jpg", "JPEG", {"quality": 70}),
        ("pdf", "PDF", {"resolution": 300, "creationDate": FIXED_DATE, "modDate": FIXED_DATE}),
    ):
        buffer = io.BytesIO()
        crop.save(buffer, fmt, dpi=(300, 300), **options)
        out[name] = buffer.getvalue()
    buffer = io.BytesIO()
    second = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    crop.save(
        buffer, "TIFF", save_all=True, append_images=[second], compression="tiff_deflate", dpi=(300, 300)
    )
    out["tif"] = buffer.getvalue()
    return out


def _flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(1, len(data) - 1)]


def _corrupt_header(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        out[rng.randrange(min(64, len(out)))] = rng.randrange(256)
    return bytes(out)


def _zero_block(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data))
    length = rng.randint(1, max(1, len(data) // 4))
    return data[:start] + bytes(min(length, len(data) - start)) + data[start + length :]


def _insert_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + rng.randbytes(rng.randint(1, 512)) + data[at:]


DAMAGE = {
    "flip": _flip_bytes,
    "truncate": _truncate,
    "header": _corrupt_header,
    "zero": _zero_block,
    "insert": _insert_bytes,
}


def mutants(seed: int = SEED) -> dict[str, bytes]:
    """File name -> damaged bytes; the same every time for a seed."""
    rng = random.Random(seed)
    files: dict[str, bytes] = {}
    for suffix, data in _bases().items():
        for index in range(CASES_PER_BASE):
            kind = rng.choice(sorted(DAMAGE))
            files[f"{kind}-{index}.{suffix}"] = DAMAGE[kind](data, rng)
    return files


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("fuzz-inbox")
    for name, data in mutants().items():
        (inbox / name).write_bytes(data)
    out = tmp_path_factory.mktemp("fuzz-out")
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct", timeout=600)
    return inbox, out, result


def test_the_run_ends_with_a_status_never_a_traceback(fuzz_run):
    _, _, result = fuzz_run
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def test_every_input_is_recorded_and_every_failure_explained(fuzz_run):
    inbox, out, result = fuzz_run
    manifest = load_json(out / "manifest.json")
    documents = {Path(d["input"]).name: d for d in manifest["documents"]}
    assert set(documents) == {p.name for p in inbox.iterdir()}
    for name, doc in documents.items():
        assert doc["status"] in ("ok", "partial", "failed"), (name, doc["status"])
        failures = [doc["reason"]] if doc["status"] == "failed" and not doc["pages"] else []
        failures += [p["reason"] for p in doc["pages"] if p["status"] == "failed"]
        for reason in failures:
            # A clear reason, not an exception the code did not expect.
            assert reason and "internal error" not in reason, (name, reason)
            assert any(name in line and reason in line for line in result.stderr.splitlines()), (name, reason)


def test_pages_are_whole_or_absent_and_nothing_half_written(fuzz_run):
    _, out, _ = fuzz_run
    manifest = load_json(out / "manifest.json")
    for doc in manifest["documents"]:
        for page in doc["pages"]:
            folder = out / doc["document"]
            stem = f"{page['number']:04d}"
            if page["status"] == "ok":
                assert page["outputs"] and all((folder / n).is_file() for n in page["outputs"].values())
            else:
                assert not (folder / f"{stem}.json").exists(), (doc["document"], stem)
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".part") or p.name.startswith(".archocr-")]
    assert not leftovers


def test_the_damage_is_real():
    """The fuzzing means something only if it makes bad files: most mutants must differ from their base."""
    bases = _bases()
    files = mutants()
    assert len(files) == 4 * CASES_PER_BASE
    assert mutants() == files  # seeded: the same cases every run
    changed = sum(data != bases[name.rsplit(".", 1)[1]] for name, data in files.items())
    assert changed == len(files)


# --- the page loader on its own: many more cases, no Tesseract -----------------------------------

RESOURCES = Path(__file__).resolve().parent / "resources"
DEEP_BASES = [
    "grey16.png",
    "grey12-in-16bit-bigendian.tif",
    "float32.tif",
    "rgba-transparent-paper.png",
    "palette-transparent-paper.png",
    "rgb48.png",
    "cmyk.tif",
    "intact.pdf",
]


def test_page_loader_raises_only_clear_scan_errors(tmp_path):
    """Each damaged file either loads as 8-bit pixels or raises ScanError naming it; nothing else."""
    bases = {f"sample.{k}": v for k, v in _bases().items()}
    bases.update({name: (RESOURCES / name).read_bytes() for name in DEEP_BASES})
    rng = random.Random(SEED + 1)
    outcomes = {"loaded": 0, "refused": 0}
    for base, data in bases.items():
        for index in range(6):
            kind = rng.choice(sorted(DAMAGE))
            path = tmp_path / f"{kind}-{index}-{base}"
            path.write_bytes(DAMAGE[kind](data, rng))
            for number in (1, 2) if base.endswith(".tif") else (1,):
                try:
                    page = scans.load_page(path, number, Settings())
                except ScanError as exc:
                    assert str(path) in str(exc) and exc.reason, exc
                    outcomes["refused"] += 1
                    continue
                assert page.pixels.dtype == np.uint8 and page.pixels.ndim in (2, 3), path.name
                assert min(page.pixels.shape[:2]) >= 32
                outcomes["loaded"] += 1
    assert outcomes["loaded"] and outcomes["refused"], outcomes  # the damage tried both ways


# --- OCR made elsewhere through `archocr correct` ------------------------------------------------


def ocr_file_mutants(seed: int = SEED, per_base: int = 8) -> dict[str, bytes]:
    """Damaged ALTO, hOCR and plain-text OCR (the bases are in tests/resources and the samples)."""
    truth = (SCANS / "ground-truth" / "stalin-conference-1925.gt.txt").read_bytes()
    bases = {
        "alto.xml": (RESOURCES / "alto-lenient.xml").read_bytes(),
        "hocr": (RESOURCES / "hocr-html-not-xml.hocr").read_bytes(),
        "txt": truth[:600],
    }
    rng = random.Random(seed)
    files: dict[str, bytes] = {}
    for suffix, data in bases.items():
        for index in range(per_base):
            kind = rng.choice(sorted(DAMAGE))
            # The kind of file leads the name: two inputs with one stem would share an output name.
            files[f"{suffix.split('.')[0]}-{kind}-{index}.{suffix}"] = DAMAGE[kind](data, rng)
    return files


def test_correct_records_every_damaged_ocr_file(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for name, data in ocr_file_mutants().items():
        (inbox / name).write_bytes(data)
    inputs = sorted(inbox.iterdir())
    result = archocr("correct", *map(str, inputs), "--out", str(out), timeout=600)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("archocr: error:")]
    for path in inputs:
        written = (out / f"{path.stem}.txt").is_file() and (out / f"{path.stem}.changes.json").is_file()
        named = [line for line in errors if f"{path}:" in line]
        # Each file is either corrected (both outputs) or named with its problem, never both or neither.
        assert written != bool(named), (path.name, written, named)
    assert (result.returncode == 1) == bool(errors)
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
