"""The transcript's apparatus and the normalised readings that pages and transcripts are aligned on.

Editorial brackets, footnote markers and blocks, page numbers and running headers of the edition,
Markdown markup and line-end hyphens are parsed into spans with offsets into the transcript as given;
the rest becomes a *reading*: normalised text (quotes, dashes, ё, pre-1918 letters, Latin look-alikes,
whitespace) with a map back to those offsets. OCR pages get the same treatment, with a map back into
their `NNNN.txt`.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .lint import bracket_problem, names_in
from .transcripts import MD_FOOTNOTE_BLOCK, markdown_spans

_FOLD = str.maketrans(
    {
        "«": '"', "»": '"', "„": '"', "“": '"', "”": '"', "‟": '"', "‘": "'", "’": "'",
        "–": "-", "—": "-", "‒": "-", "−": "-", "‐": "-", "‑": "-",
        "ё": "е", "Ё": "Е", "ѣ": "е", "Ѣ": "Е", "і": "и", "І": "И", "ї": "и", "ѳ": "ф", "Ѳ": "Ф",
        "ѵ": "и", "Ѵ": "И",
    }
)  # fmt: skip
_LATIN_IN_CYRILLIC = str.maketrans("AaBCcEeHKMOoPpTXxYy", "АаВСсЕеНКМОоРрТХхУу")
_CYR = re.compile(r"[А-Яа-яЁё]")
_WORD_CHARS = re.compile(r"\w")

# Apparatus patterns of printed editions (on the transcript as given; Markdown is in transcripts.py).
_PAGE_NUMBER = re.compile(r"^[ \t]*\d{1,4}[ \t]*$", re.MULTILINE)
# A footnote number glued to a word or after its punctuation (not the decimals of `23.05`).
_FOOTNOTE_DIGITS = re.compile(r"(?:(?<=[а-яёa-z»)])|(?<=[^\d\s][.,;:]))\d{1,3}(?=[\s.,;:»)]|$)")
_LINE_END_HYPHEN = re.compile(r"(\w+)([-\u00ad])([ \t]*\n[ \t]*)(?=(\w+))")
_BRACKET = re.compile(r"\[([^\[\]\n]{1,40})\](?!\()")


@dataclass(frozen=True)
class Apparatus:
    kind: str  # restoration, expansion, broken_fragment, footnote_marker, footnote, page_number,
    # running_header, markup, hyphen
    start: int
    end: int
    text: str
    word: str = ""  # for brackets: the word as the transcript means it (brackets removed)
    inner: str = ""  # for brackets: what the editor supplied
    word_start: int = 0
    word_end: int = 0
    problem: str = ""  # for broken fragments: the linter's class (lint.BRACKET_CLASSES)
    message: str = ""  # ... and what is wrong, in words


@dataclass
class Reading:
    """Normalised text for aligning, with, for each of its characters, the offset it came from."""

    text: str
    offsets: np.ndarray  # int32, one per character of `text`

    def source_span(self, start: int, end: int, fallback: int = 0) -> tuple[int, int]:
        if start >= end:
            if start < len(self.offsets):
                return int(self.offsets[start]), int(self.offsets[start])
            at = int(self.offsets[-1]) + 1 if len(self.offsets) else fallback
            return at, at
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1

    def index_of(self, source_offset: int) -> int:
        """The first reading character that comes from `source_offset` or later."""
        return int(np.searchsorted(self.offsets, source_offset))


def fold_char(ch: str) -> str:
    return ch.translate(_FOLD)


_SPACES = np.array(
    [
        9,
        10,
        11,
        12,
        13,
        32,
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    ],
    dtype=np.uint32,
)


def _is_letter(codes: np.ndarray) -> np.ndarray:
    return (
        ((codes >= 0x41) & (codes <= 0x5A))
        | ((codes >= 0x61) & (codes <= 0x7A))
        | ((codes >= 0x400) & (codes <= 0x4FF))
    )


def make_reading(text: str, excluded: list[tuple[int, int]]) -> Reading:
    """The normalised reading of `text` without the `excluded` spans: whitespace collapsed, quotes,
    dashes, ё and pre-1918 letters folded, Latin look-alikes inside Cyrillic words made Cyrillic,
    soft hyphens and final hard signs (pre-1918) dropped. Vectorised: a whole book is one pass of
    NumPy over its code points, never a Python object per character."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    keep = np.ones(len(codes), dtype=bool)
    for start, end in excluded:
        keep[start:end] = False
    keep &= codes != 0xAD
    letter = _is_letter(codes)
    hard = (codes == ord("ъ")) | (codes == ord("Ъ"))
    after = np.append(letter[1:], False)
    before = np.insert(letter[:-1], 0, False)
    keep &= ~(hard & ~after & before)  # pre-1918 final hard sign: no sound, not in modern spelling
    space = np.isin(codes, _SPACES)
    index = np.nonzero(keep)[0]
    kept_space = space[index]
    # Collapse runs of whitespace to their first character; drop whitespace at either end.
    first_of_run = kept_space & ~np.insert(kept_space[:-1], 0, True)
    keep_mask = ~kept_space | first_of_run
    index = index[keep_mask]
    kept = codes[index].copy()
    kept[space[index]] = 32
    while len(kept) and kept[-1] == 32:
        kept, index = kept[:-1], index[:-1]
    folded = kept.tobytes().decode("utf-32-le").translate(_FOLD)
    # Latin look-alikes inside Cyrillic words (OCR of typescripts mixes them in); length-preserving.
    folded = _HAS_LATIN.sub(_cyrillic_word, folded)  # only words with a Latin letter need a look
    return Reading(folded, index.astype(np.int32))


_HAS_LATIN = re.compile(r"[^\sA-Za-z]*[A-Za-z]\S*")


def _cyrillic_word(match: re.Match[str]) -> str:
    word = match.group(0)
    return word.translate(_LATIN_IN_CYRILLIC) if _CYR.search(word) else word


@dataclass
class Transcript:
    path: str
    text: str
    encoding: str
    apparatus: list[Apparatus]
    reading: Reading
    word_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # reading offsets of words
    index: dict[str, list[int]] = field(default_factory=dict)  # rare word -> word positions


def _word_of(text: str, start: int, end: int) -> tuple[int, int]:
    """Extend [start, end) over letters, digits and brackets to the whole word around a bracket."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "[]"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] in "[]"):
        end += 1
    return start, end


def classify_bracket(
    text: str, match: re.Match[str], is_word: Callable[[str], bool], names: set[str] | None = None
) -> Apparatus:
    """Restoration, expansion or broken fragment: the linter's checks decide whether the bracket went
    wrong (and how); where it sits in its word tells an abbreviation written out from letters supplied."""
    start, end = match.span()
    inner = match.group(1)
    w_start, w_end = _word_of(text, start, end)
    raw_word = text[w_start:w_end]
    word = raw_word.replace("[", "").replace("]", "")
    before, after = text[w_start:start], text[end:w_end]
    problem = bracket_problem(text, start, end, w_start, w_end, is_word, names or set())
    if problem is not None:
        kind = "broken_fragment"
    elif inner.isdigit() or (before and not after and (len(before) <= 4 or before[:1].isupper())):
        kind = "expansion"  # [19]23, Ф[рунзе], Sots[ialist]: an abbreviation written out
    else:
        kind = "restoration"  # letters or a whole word supplied by the editor
    return Apparatus(
        kind,
        start,
        end,
        match.group(0),
        word,
        inner,
        w_start,
        w_end,
        problem.cls if problem else "",
        problem.message if problem else "",
    )


def _compound_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The hyphenated compound around a word (`V[military]-G[ruzin]`)."""
    while start > 1 and text[start - 1] == "-" and (text[start - 2].isalnum() or text[start - 2] in "[]"):
        start = _word_of(text, start - 2, start - 1)[0]
    while end < len(text) - 1 and text[end] == "-" and (text[end + 1].isalnum() or text[end + 1] in "[]"):
        end = _word_of(text, end + 1, end + 2)[1]
    return start, end


def _spread_half_translations(text: str, brackets: list[Apparatus]) -> list[Apparatus]:
    """A compound half of which is translated is broken as a whole: its other brackets go with it."""
    spans = [_compound_of(text, b.word_start, b.word_end) for b in brackets]
    broken = {span for span, b in zip(spans, brackets, strict=True) if b.problem == "half_translated"}
    return [
        dataclasses.replace(
            b,
            kind="broken_fragment",
            problem="half_translated",
            message=f"the other half of the compound '{text[span[0] : span[1]]}' is translated",
        )
        if span in broken and b.kind != "broken_fragment"
        else b
        for span, b in zip(spans, brackets, strict=True)
    ]


def running_headers(text: str) -> list[tuple[int, int]]:
    """Short lines repeated three times or more: the running headers of a printed edition."""
    lines = [
        (m.start(), m.end(), m.group(0).strip()) for m in re.finditer(r"^[^\n]{3,80}$", text, re.MULTILINE)
    ]
    counts = Counter(t for _, _, t in lines if t and t[-1:] not in ".,;:" and len(t.split()) <= 8)
    repeated = {t for t, c in counts.items() if c >= 3}
    return [(s, e) for s, e, t in lines if t in repeated]


def parse_transcript(
    text: str, is_word: Callable[[str], bool], path: str = "", encoding: str = "utf-8"
) -> Transcript:
    apparatus: list[Apparatus] = []

    def add(kind: str, pattern: re.Pattern[str], group: int = 0) -> None:
        for m in pattern.finditer(text):
            if m.end(group) > m.start(group):
                apparatus.append(Apparatus(kind, m.start(group), m.end(group), m.group(group)))

    add("footnote", MD_FOOTNOTE_BLOCK)
    apparatus += [Apparatus(kind, start, end, text[start:end]) for kind, start, end in markdown_spans(text)]
    add("page_number", _PAGE_NUMBER)
    add("footnote_marker", _FOOTNOTE_DIGITS)
    for start, end in running_headers(text):
        apparatus.append(Apparatus("running_header", start, end, text[start:end]))
    for m in _LINE_END_HYPHEN.finditer(text):
        left, right = m.group(1), m.group(4)
        if is_word(left + right) or not is_word(right):
            apparatus.append(Apparatus("hyphen", m.start(2), m.end(3), m.group(2) + m.group(3)))
        else:  # a compound broken at its own hyphen: only the line break goes (российско-американского)
            apparatus.append(Apparatus("hyphen", m.start(3), m.end(3), m.group(3)))
    covered = _covered(apparatus)
    names = names_in(text)
    brackets = [
        classify_bracket(text, m, is_word, names)
        for m in _BRACKET.finditer(text)
        if not _inside(covered, m.start())
    ]
    apparatus += _spread_half_translations(text, brackets)
    apparatus.sort(key=lambda a: a.start)
    # Footnote blocks stay in the reading (a printed page may carry them); their markers go.
    kept = ("restoration", "expansion", "broken_fragment", "footnote")
    excluded = [(a.start, a.end) for a in apparatus if a.kind not in kept]
    # The brackets themselves go; what the editor wrote inside them stays in the reading.
    excluded += [
        (a.start, a.start + 1) for a in apparatus if a.kind in ("restoration", "expansion", "broken_fragment")
    ]
    excluded += [
        (a.end - 1, a.end) for a in apparatus if a.kind in ("restoration", "expansion", "broken_fragment")
    ]
    reading = make_reading(text, excluded)
    return Transcript(path, text, encoding, apparatus, reading)


def _covered(apparatus: list[Apparatus]) -> list[tuple[int, int]]:
    """The spans the apparatus covers, merged so that no two overlap."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((a.start, a.end) for a in apparatus if a.kind != "footnote"):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect.bisect_right(spans, (pos, 10**12)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def words_of(reading: str) -> tuple[list[int], list[str]]:
    """Start offsets and lower-cased cores (outer punctuation stripped) of the words of a reading."""
    starts, words = [], []
    for m in _TOKEN.finditer(reading):
        starts.append(m.start())
        words.append(_EDGES.sub("", m.group(0)).lower())
    return starts, words


_TOKEN = re.compile(r"\S+")
_EDGES = re.compile(r"^\W+|\W+$")


def extend_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1] != " ":
        start -= 1
    while end < len(text) and text[end] != " ":
        end += 1
    return start, end


def fold_word(word: str) -> str:
    return make_reading(word, []).text.lower()
