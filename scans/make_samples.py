"""Regenerate the sample scans in this folder (deterministic): `python3 scans/make_samples.py`.

Each sample is rendered from a transcript in `transcripts/` with `archocr synth`'s renderer; the exact
text of every page is written beside it as ground truth (`ground-truth/`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline import synth
from pipeline.corpus import clean_edition_text
from pipeline.transcripts import markdown_to_plain

HERE = Path(__file__).resolve().parent
TRANSCRIPTS = HERE / "transcripts"
TRUTH = HERE / "ground-truth"

# (transcript, output stem, format, pages, seed, options)
SAMPLES = [
    (
        "stalin-lenin-1923.md",
        "stalin-lenin-1923",
        "pdf",
        2,
        1923,
        {"style": "typewriter", "max_skew": 3.0, "degradations": ("texture", "fade", "bleed", "jpeg")},
    ),
    (
        "stalin-conference-1925.md",
        "stalin-conference-1925",
        "jpeg",
        1,
        1925,
        {"style": "typewriter", "max_skew": 6.0, "degradations": ("lighting", "borders", "blur", "jpeg")},
    ),
    (
        "politburo-1923-doc5.txt",
        "politburo-1923-doc5",
        "png",
        1,
        5,
        {"style": "book", "max_skew": 2.0, "degradations": ("fade", "stains", "curl"), "turn": 90},
    ),
]


def text_of(name: str) -> str:
    raw = (TRANSCRIPTS / name).read_text(encoding="utf-8")
    return markdown_to_plain(raw) if name.endswith(".md") else clean_edition_text(raw)


def main() -> None:
    for transcript, stem, fmt, pages, seed, options in SAMPLES:
        rendered = synth.render_pages(text_of(transcript), pages, seed, wrap=False, **options)
        work = HERE / ".render"
        synth.write_pages(rendered, work, stem, fmt)
        for path in work.iterdir():
            if path.name.endswith(".gt.txt"):
                TRUTH.mkdir(exist_ok=True)
                shutil.move(path, TRUTH / path.name.replace(f"{stem}-0001.gt", f"{stem}.gt"))
            elif path.suffix in (".pdf", ".png", ".jpg", ".tif"):
                shutil.move(path, HERE / path.name.replace(f"{stem}-0001.", f"{stem}."))
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
