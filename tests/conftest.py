"""Shared fixtures: synthetic pages rendered from corpus text (ground truth known exactly), and one
real `archocr run` over the committed samples that several tests inspect."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.archival_eval import predicted_zones
from pipeline import archival, corpus
from pipeline.transcripts import markdown_to_plain

ROOT = Path(__file__).resolve().parents[1]
SCANS = ROOT / "scans"
SCHEMAS = Path(__file__).resolve().parent / "schemas"


def archocr(*args: str, check: bool = False, **kwargs) -> subprocess.CompletedProcess:
    """Run the real command line, as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=ROOT, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(f"archocr {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def test_text() -> str:
    """Period text for rendering test pages: the corpus's `tests` split, or the committed transcripts."""
    try:
        return corpus.split_text("tests")
    except FileNotFoundError:
        return " ".join(
            markdown_to_plain(p.read_text(encoding="utf-8")) for p in (SCANS / "transcripts").glob("*")
        )


@pytest.fixture(scope="session")
def tests_words() -> list[str]:
    """The corpus's `tests` split as words, as the archival benchmark's tune pages take it (no fallback:
    those pages are rendered from exactly this text)."""
    try:
        return archival.corpus_words("tests")
    except FileNotFoundError:
        pytest.skip("the corpus (/work/shared/corpus) is not on this machine")


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`archocr run scans/` once for the session (serial, so it is the reference executor)."""
    out = tmp_path_factory.mktemp("sample-run")
    result = archocr("run", str(SCANS), "--out", str(out), "--serial", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def headless_chromium_flags(profile: Path) -> list[str]:
    """Chromium's flags for the browser tests: headless as root, a fresh profile, and no background
    connections (the test machines' network is closed, so Chromium would keep trying)."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


def chromium_command(profile: Path) -> list[str]:
    """Debian's Chromium with `headless_chromium_flags`; the test fails if `make setup` did not install it."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Chromium is not installed: run `make setup`")
    return [chromium, *headless_chromium_flags(profile)]


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


TOOLS = Path(__file__).resolve().parent / "tools"
# Other projects' validators and readers, each in a virtual environment of its own (cached between
# runs) so that their dependencies never mix with archocr's.
TOOL_ENVS = Path(os.environ.get("ARCHOCR_TEST_TOOLS", Path.home() / ".cache" / "archocr" / "test-tools"))
TOOL_PACKAGES = {
    "ocrd": [["ocrd==3.13.3"]],
    # kraken's XML parser without its model stack: kraken itself without dependencies, then what the
    # parser's modules import (torch is stood in for by tools/kraken_read.py).
    "kraken": [
        ["--no-deps", "kraken==7.1.1"],
        [
            "scipy==1.17.1",
            "scikit-image==0.26.0",
            "shapely==2.2.0",
            "iso639-lang==2.6.3",
            "lxml",
            "numpy",
            "pillow",
        ],
    ],
}


def run_archival_page(tmp_path: Path, seed: int, page_type: str) -> tuple[list[dict], list[tuple[str, list]]]:
    """(the generator's zones, archocr's zones in scan pixels) for one rendered tune page."""
    truth_dir, out = tmp_path / "truth", tmp_path / "out"
    archocr(
        "synth", "--layout", "archival", "--fontset", "tune", "--split", "tests", "--seed", str(seed),
        "--pages", "1", "--page-type", page_type, "--colour", "mixed", "--out", str(truth_dir), check=True,
    )  # fmt: skip
    stem = f"archival-{seed:04d}"
    archocr("run", str(truth_dir), "--out", str(out), "--serial", "--quiet", "--no-correct", check=True)
    return load_json(truth_dir / f"{stem}.zones.json"), predicted_zones(load_json(out / stem / "0001.json"))


def tool_python(name: str) -> Path:
    """The Python of the tool's virtual environment, made on first use; skips the test with the
    reason when the tool cannot be installed (no network, no wheel for this platform)."""
    venv = TOOL_ENVS / name
    python = venv / "bin" / "python"
    done = venv / ".installed"
    if done.is_file():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    for packages in TOOL_PACKAGES[name]:
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *packages], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.skip(
                f"could not install {' '.join(packages)} for the test: {result.stderr.strip()[-500:]}"
            )
    done.write_text("ok\n")
    return python
