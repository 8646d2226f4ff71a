"""Regenerate the sample scans in this folder (deterministic): `python3 scans/make_samples.py`.

Each sample is rendered from a transcript in `transcripts/` with `archocr synth`'s renderer; the exact
text of every page is written beside it as ground truth (`ground-truth/`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pipeline import archival, synth
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
    (  # an archival page: letterhead, registration, stamps in colour, handwriting, folio number
        "trotsky-politburo-1926.txt",
        "trotsky-politburo-1926",
        "jpeg",
        1,
        1926,
        {
            "layout": "archival",
            "page_type": "stamped",
            "degradations": ("stains", "lighting", "fade", "blur"),
        },
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


def main(only: list[str]) -> None:
    """Regenerate the samples (or only those whose stems are given)."""
    for transcript, stem, fmt, pages, seed, options in SAMPLES:
        if only and stem not in only:
            continue
        work = HERE / ".render"
        if options.get("layout") == "archival":
            page = archival.render_page(
                text_of(transcript).split(),
                seed,
                page_type=options["page_type"],
                degradations=options["degradations"],
            )
            archival.write_pages([page], work, stem, fmt, quality=50)  # a few hundred KB in the repository
            numbered = f"{stem}-{seed:04d}"
        else:
            rendered = synth.render_pages(text_of(transcript), pages, seed, wrap=False, **options)
            synth.write_pages(rendered, work, stem, fmt)
            numbered = f"{stem}-0001"
        for path in work.iterdir():
            if path.name.endswith((".gt.txt", ".zones.json")):  # the text, and an archival page's zones
                TRUTH.mkdir(exist_ok=True)
                shutil.move(path, TRUTH / path.name.replace(f"{numbered}.", f"{stem}."))
            elif path.suffix in (".pdf", ".png", ".jpg", ".tif"):
                shutil.move(path, HERE / path.name.replace(f"{numbered}.", f"{stem}."))
        shutil.rmtree(work)


if __name__ == "__main__":
    main(sys.argv[1:])
