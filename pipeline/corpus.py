"""The period corpus: where it lives, how its big document collection is split, and clean text from it.

The large collection (a published edition: documents headed `№ N`) is split by document number so
that the lexicon, the tests and the benchmarks never see the same documents:
  - `lexicon`: documents the period lexicon is built from (and the preface),
  - `tests`:   documents the test suite renders into synthetic scans,
  - `bench`:   documents only the benchmarks use, to measure on text nothing was built or tuned on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

SPLITS = ("lexicon", "tests", "bench")
BOOK_NAME = "003_e9b9b5efb6246efd.part1.txt"

_DOC_HEADER = re.compile(r"^№\s*(\d+)\s*$")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,4}\s*$")
_FOOTNOTE_DIGITS = re.compile(r"(?<=[а-яёА-ЯЁ»)\.,;:])\d{1,3}(?=[\s.,;:»)]|$)")
_LINE_END_HYPHEN = re.compile(r"(\w)[-\u00ad]\s*\n\s*(\w)")


def corpus_dir() -> Path | None:
    """The shared corpus folder, from $ARCHOCR_CORPUS or beside the project; None when absent."""
    env = os.environ.get("ARCHOCR_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
    return next((p for p in candidates if p.is_dir()), None)


def split_of(document_number: int) -> str:
    if document_number % 10 == 0:
        return "bench"
    if document_number % 10 == 5:
        return "tests"
    return "lexicon"


def book_documents(path: Path) -> Iterator[tuple[int, str]]:
    """(document number, raw text) for each `№ N` document of the edition; the preface is number 0."""
    number, lines = 0, []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _DOC_HEADER.match(line.strip())
        if match and int(match.group(1)) == number + 1:
            yield number, "\n".join(lines)
            number, lines = int(match.group(1)), []
        else:
            lines.append(line)
    yield number, "\n".join(lines)


def clean_edition_text(raw: str) -> str:
    """Running text from the edition's text layer: page numbers dropped, footnote digits unglued,
    words hyphenated across printed lines joined (the printed line breaks become spaces)."""
    lines = [ln.strip() for ln in raw.splitlines()]
    lines = [ln for ln in lines if ln and not _PAGE_NUMBER.match(ln)]
    text = "\n".join(lines)
    text = _LINE_END_HYPHEN.sub(r"\1\2", text)
    text = _FOOTNOTE_DIGITS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def split_documents(split: str, corpus: Path | None = None) -> list[tuple[int, str]]:
    """(number, raw text) of every document of the edition in `split`, as the text layer has it."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {SPLITS}")
    folder = corpus or corpus_dir()
    if folder is None or not (folder / BOOK_NAME).is_file():
        raise FileNotFoundError(f"the period corpus ({BOOK_NAME}) is not available")
    return [
        (number, raw)
        for number, raw in book_documents(folder / BOOK_NAME)
        if (split_of(number) if number else "lexicon") == split
    ]


def split_text(split: str, corpus: Path | None = None) -> str:
    """Clean running text of every document of the edition in `split`."""
    parts = [clean_edition_text(raw) for _, raw in split_documents(split, corpus)]
    return "\n".join(p for p in parts if p)
