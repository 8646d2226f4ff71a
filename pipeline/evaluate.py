"""CER and WER against ground truth, raw and after folding typographic differences (quotes, dashes,
ё, and words hyphenated at a line end, which line-by-line ground truth keeps and archocr rejoins).

Texts are NFC-normalised and whitespace is collapsed (line breaks count as one space) before
comparing, so that layout alone never counts as an error. Distances are Levenshtein distances from
RapidFuzz, over characters (CER) or over words (WER), divided by the ground truth's length.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from .errors import ArchocrError, TranscriptError
from .transcripts import decode

_FOLD = str.maketrans(
    {
        "«": '"',
        "»": '"',
        "„": '"',
        "“": '"',
        "”": '"',
        "‟": '"',
        "'": '"',
        "‘": '"',
        "’": '"',  # noqa: E501
        "–": "-",
        "—": "-",
        "‒": "-",
        "−": "-",
        "‐": "-",
        "‑": "-",
        "\u00ad": "",
        "ё": "е",
        "Ё": "Е",
    }
)
_GT_NAME = re.compile(r"^(?P<doc>.+?)(?:\.(?P<page>\d{4}))?\.gt\.txt$")


# A word hyphenated at a line end, as line-by-line ground truth keeps it and archocr's text rejoins it.
_LINE_END_HYPHEN = re.compile(r"(\w)[-\u00ad¬]\s*\n\s*(\w)")


def normalise(text: str, fold: bool = False) -> str:
    text = unicodedata.normalize("NFC", text)
    if fold:
        text = _LINE_END_HYPHEN.sub(r"\1\2", text).translate(_FOLD)
    return " ".join(text.split())


@dataclass(frozen=True)
class Score:
    char_errors: int
    chars: int
    word_errors: int
    words: int

    @property
    def cer(self) -> float:
        return self.char_errors / self.chars if self.chars else float(self.char_errors > 0)

    @property
    def wer(self) -> float:
        return self.word_errors / self.words if self.words else float(self.word_errors > 0)

    def __add__(self, other: Score) -> Score:
        return Score(
            self.char_errors + other.char_errors,
            self.chars + other.chars,
            self.word_errors + other.word_errors,
            self.words + other.words,
        )


EMPTY = Score(0, 0, 0, 0)


def score(truth: str, hypothesis: str, fold: bool = False) -> Score:
    gt, hyp = normalise(truth, fold), normalise(hypothesis, fold)
    gt_words, hyp_words = gt.split(), hyp.split()
    return Score(
        char_errors=Levenshtein.distance(gt, hyp),
        chars=len(gt),
        word_errors=Levenshtein.distance(gt_words, hyp_words),
        words=len(gt_words),
    )


@dataclass(frozen=True)
class PageScore:
    document: str
    page: int
    raw: Score
    folded: Score
    missing: bool = False  # no output for this ground-truth page
    error: str | None = None  # the ground truth or the output could not be read: not scored, named here


def ground_truth_pages(gt_dir: Path) -> list[tuple[str, int, Path]]:
    """(document, page, path) for each `<document>[.<NNNN>].gt.txt` under gt_dir."""
    found = []
    for path in sorted(gt_dir.rglob("*.gt.txt")):
        match = _GT_NAME.match(path.name)
        if match:
            found.append((match.group("doc"), int(match.group("page") or 1), path))
    return found


def evaluate_dir(gt_dir: Path, out_dir: Path) -> list[PageScore]:
    """Score every ground-truth page against `out_dir/<document>/<NNNN>.txt` (missing output = all wrong).

    Files are decoded as transcripts are (byte-order marks, UTF-8, else a detected Cyrillic encoding);
    one that cannot be read is returned with its `error` and left out of the totals, never an abort."""
    scores = []
    for document, page, gt_path in ground_truth_pages(gt_dir):
        out_path = out_dir / document / f"{page:04d}.txt"
        missing = not out_path.is_file()
        try:
            truth = _read(gt_path)
            hypothesis = "" if missing else _read(out_path)
        except ArchocrError as exc:
            scores.append(PageScore(document, page, EMPTY, EMPTY, missing, error=str(exc)))
            continue
        scores.append(
            PageScore(document, page, score(truth, hypothesis), score(truth, hypothesis, True), missing)
        )
    return scores


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"cannot be read: {exc.strerror}", path=str(path)) from exc
    if not data.strip():
        return ""  # a blank page's text is empty, and so is its ground truth
    return decode(data, path)[0]


def total(scores: list[PageScore], folded: bool = False) -> Score:
    result = EMPTY
    for s in scores:
        if s.error is None:
            result = result + (s.folded if folded else s.raw)
    return result
