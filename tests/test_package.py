"""archocr as a regular install: the wheel carries its lexicon and runs outside the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline import evaluate

from .conftest import ROOT, SCANS


def _clean_env() -> dict[str, str]:
    """The environment of a worker machine: nothing pointing back at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "ARCHOCR_DICTIONARIES"}}
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheelhouse = tmp_path_factory.mktemp("wheelhouse")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheelhouse), str(ROOT)],
        capture_output=True,
        text=True,
        env=_clean_env(),
    )
    assert build.returncode == 0, build.stderr
    (found,) = wheelhouse.glob("archocr-*.whl")
    return found


def test_wheel_carries_the_lexicon_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("default", "common"):
        for path in (ROOT / "dictionaries" / folder).iterdir():
            assert f"pipeline/dictionaries/{folder}/{path.name}" in names, path.name
    assert "pipeline/templates/report.html.j2" in names


def test_installed_wheel_has_the_code_digest_of_its_checkout(wheel, tmp_path):
    """The digest of archocr's code in every page's key (batch.code_identity) is the same for the
    wheel installed on a worker as for the checkout it was built from: their pages resume each other's."""
    from pipeline import batch

    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        env=_clean_env(),
    )
    assert install.returncode == 0, install.stderr[-3000:]
    probe = "import pipeline, pipeline.batch as b; print(pipeline.__file__); print(b.code_identity())"
    where, digest = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**_clean_env(), "PYTHONPATH": str(target)},
        cwd=tmp_path,
        check=True,
    ).stdout.split()
    assert where.startswith(str(target))
    assert digest == batch.code_identity()


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_ocrs_a_sample_page(wheel, tmp_path):
    """A plain virtual environment (no system site-packages), the wheel and its dependencies from the
    package index: what `pip install archocr-*.whl` does on a Dask worker machine."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = _clean_env()
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True, env=env
    )
    assert install.returncode == 0, install.stderr[-3000:]
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import pipeline, pipeline.lexicon as l; print(pipeline.__file__); print(l.DICTIONARIES)",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    ).stdout.split("\n")
    assert where[0].startswith(str(venv)) and where[1].startswith(str(venv)), where

    out = tmp_path / "out"
    run = subprocess.run(
        [str(venv / "bin" / "archocr"), "run", str(SCANS / "politburo-1923-doc5.png"), "--out", str(out)]
        + ["--serial", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    page = json.loads((out / "politburo-1923-doc5" / "0001.json").read_text(encoding="utf-8"))["page"]
    assert page["lexicon"].startswith("default@")
    assert [s["name"] for s in page["steps"]][-1] == "correct"
    truth = (SCANS / "ground-truth" / "politburo-1923-doc5.gt.txt").read_text(encoding="utf-8")
    text = (out / "politburo-1923-doc5" / "0001.txt").read_text(encoding="utf-8")
    assert evaluate.score(truth, text).cer < 0.05  # the corrected text of a real run
