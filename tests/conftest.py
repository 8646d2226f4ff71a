"""Shared fixtures: synthetic pages rendered from corpus text (ground truth known exactly), and one
real `archocr run` over the committed samples that several tests inspect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import corpus
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
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`archocr run scans/` once for the session (serial, so it is the reference executor)."""
    out = tmp_path_factory.mktemp("sample-run")
    result = archocr("run", str(SCANS), "--out", str(out), "--serial", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
