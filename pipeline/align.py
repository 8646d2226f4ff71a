"""Re-aligning OCR pages with an existing transcript and classifying every difference.

1. The transcript's apparatus and the normalised readings: `apparatus.py`.
2. A page is located in the transcript by voting with its rare words: `locate.py`.
3. The page is aligned with its region at character level (this module): words unique to both are
   anchors (as in RETAS), and edlib's bit-parallel aligner fills each gap. Nothing quadratic over
   long text.
4. Each difference becomes a Discrepancy of one kind, with the evidence that decided it: `classify.py`.
The transcript linter is `lint.py`.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import edlib

from . import apparatus as _apparatus
from .apparatus import (
    _CYR,
    _LATIN_IN_CYRILLIC,
    Apparatus,
    Reading,
    Transcript,
    extend_to_words,
    fold_char,
    fold_word,
    make_reading,
    words_of,
)
from .classify import (
    KINDS,
    Classifier,
    Op,
    absorb_passage_edges,
    furniture_spans,
    in_damaged_stretch,
    read_out_of_order,
)
from .evaluate import Score, score
from .lint import english_words, lint_transcript
from .locate import Location, index_transcript, locate
from .model import Discrepancy, Page

__all__ = [
    "KINDS",
    "_CYR",
    "_LATIN_IN_CYRILLIC",
    "Aligner",
    "Apparatus",
    "Location",
    "PageAlignment",
    "Reading",
    "Transcript",
    "align_text",
    "english_words",
    "fold_char",
    "fold_word",
    "lemma_finder",
    "lint_transcript",
    "locate",
    "make_reading",
    "parse_transcript",
]

_words = words_of  # the name the benchmarks and tests use


def lemma_finder(lexicon: Any) -> Callable[[str], set[str]]:
    """The lemmas of a word (pymorphy3 for Russian, the word itself otherwise): two readings that share
    one are forms of the same word, which an edition may well choose differently."""
    morph = getattr(lexicon, "morph", None)

    @functools.lru_cache(maxsize=65536)
    def lemmas(word: str) -> frozenset[str]:
        word = word.lower()
        if morph is None or not _CYR.search(word):
            return frozenset({word})
        return frozenset(p.normal_form for p in morph.parse(word)) | {word}

    return lemmas  # type: ignore[return-value]


def parse_transcript(
    text: str, is_word: Callable[[str], bool], path: str = "", encoding: str = "utf-8"
) -> Transcript:
    """The transcript's apparatus and reading, with the index that pages are located by."""
    return index_transcript(_apparatus.parse_transcript(text, is_word, path, encoding))


def align_text(page: str, region: str, page_offset: int = 0, region_offset: int = 0) -> list[Op]:
    """Character-level opcodes ('equal', 'replace', 'insert', 'delete') of page against region.
    Words unique to both (in the same order) are anchors; edlib aligns the gaps between them."""
    p_starts, p_words = _words(page)
    r_starts, r_words = _words(region)
    p_count, r_count = Counter(p_words), Counter(r_words)
    r_pos = {w: i for i, w in enumerate(r_words) if r_count[w] == 1 and len(w) >= 3}
    pairs = [(i, r_pos[w]) for i, w in enumerate(p_words) if p_count[w] == 1 and w in r_pos]
    anchors = _increasing(pairs)
    ops: list[Op] = []
    p_at, r_at = 0, 0
    first = True
    for pi, ri in anchors:
        ps, rs = p_starts[pi], r_starts[ri]
        pe, re_ = ps + len(page[ps:].split(" ", 1)[0]), rs + len(region[rs:].split(" ", 1)[0])
        if page[ps:pe] != region[rs:re_] or ps < p_at or rs < r_at:
            continue
        # Before the first anchor the region's start is free: the page may begin anywhere in it.
        ops += _edlib_ops(page[p_at:ps], region[r_at:rs], p_at, r_at, free="start" if first else "")
        ops.append(("equal", ps, pe, rs, re_))
        p_at, r_at = pe, re_
        first = False
    # After the last anchor the region's end is free (and with no anchor at all, both ends).
    ops += _edlib_ops(page[p_at:], region[r_at:], p_at, r_at, free="both" if first else "end")
    return [
        (t, a + page_offset, b + page_offset, c + region_offset, d + region_offset)
        for t, a, b, c, d in _merge(ops)
    ]


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest subsequence increasing in both coordinates (patience sorting)."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(pairs)
    for i, (_, r) in enumerate(pairs):
        k = bisect.bisect_left(tails, r)
        if k == len(tails):
            tails.append(r)
            tail_idx.append(i)
        else:
            tails[k] = r
            tail_idx[k] = i
        prev[i] = tail_idx[k - 1] if k else -1
    out, i = [], tail_idx[-1] if tail_idx else -1
    while i != -1:
        out.append(pairs[i])
        i = prev[i]
    return out[::-1]


def _edlib_ops(page: str, region: str, p0: int, r0: int, free: str = "") -> list[Op]:
    """edlib's alignment of a page stretch with a region stretch, as opcodes. `free`: which ends of
    the region may be left unmatched at no cost ("start", "end", "both")."""
    if not page and not region:
        return []
    if not page:
        return [("delete", p0, p0, r0, r0 + len(region))]
    if not region:
        return [("insert", p0, p0 + len(page), r0, r0)]
    if free == "start":
        # edlib frees only the end (SHW): align both reversed so that the free end is the start.
        flipped = _edlib_ops(page[::-1], region[::-1], 0, 0, free="end")
        return [
            (t, p0 + len(page) - b, p0 + len(page) - a, r0 + len(region) - d, r0 + len(region) - c)
            for t, a, b, c, d in reversed(flipped)
        ]
    mode = {"end": "SHW", "both": "HW"}.get(free, "NW")
    infix = free in ("end", "both")
    result = edlib.align(page, region, mode=mode, task="path")
    ops: list[Op] = []
    start_r = result["locations"][0][0] if mode == "HW" and result["locations"] else 0
    if start_r:
        ops.append(("delete", p0, p0, r0, r0 + start_r))
    pi, ri = 0, start_r
    for count, op in re.findall(r"(\d+)([=XID])", result["cigar"] or ""):
        n = int(count)
        if op == "=":
            ops.append(("equal", p0 + pi, p0 + pi + n, r0 + ri, r0 + ri + n))
            pi, ri = pi + n, ri + n
        elif op == "X":
            ops.append(("replace", p0 + pi, p0 + pi + n, r0 + ri, r0 + ri + n))
            pi, ri = pi + n, ri + n
        elif op == "I":  # in the page, not in the region
            ops.append(("insert", p0 + pi, p0 + pi + n, r0 + ri, r0 + ri))
            pi += n
        else:
            ops.append(("delete", p0 + pi, p0 + pi, r0 + ri, r0 + ri + n))
            ri += n
    if infix and ri < len(region):
        ops.append(("delete", p0 + pi, p0 + pi, r0 + ri, r0 + len(region)))
    return ops


def _merge(ops: list[Op]) -> list[Op]:
    merged: list[Op] = []
    for op in ops:
        if merged and merged[-1][0] == op[0] and merged[-1][2] == op[1] and merged[-1][4] == op[3]:
            last = merged[-1]
            merged[-1] = (last[0], last[1], op[2], last[3], op[4])
        elif op[2] > op[1] or op[4] > op[3]:
            merged.append(op)
    return merged


@dataclass
class PageAlignment:
    document: str
    page: int
    status: str  # "aligned" or "unmatched"
    reason: str = ""
    transcript_start: int = 0  # the region of the transcript (offsets into the file as decoded)
    transcript_end: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    raw: Score | None = None
    normalised: Score | None = None

    def counts(self) -> dict[str, int]:
        return dict(Counter(d.kind for d in self.discrepancies))


def _diff_spans(ops: list[Op], page_text: str, region_text: str) -> list[tuple[int, int, int, int]]:
    """Differences widened to whole words on both sides and merged where they touch."""
    spans: list[tuple[int, int, int, int]] = []
    for tag, ps, pe, rs, re_ in ops:
        if tag == "equal":
            continue
        if page_text[ps:pe].strip() == "" and region_text[rs:re_].strip() == "":
            continue  # a space more or less
        a, b = extend_to_words(page_text, ps, pe) if pe > ps or ps < len(page_text) else (ps, pe)
        c, d = extend_to_words(region_text, rs, re_) if re_ > rs or rs < len(region_text) else (rs, re_)
        # Text only one side has is a difference of its own when it is whole words; letters glued to
        # a word (`Калинин` / `Калинину`) make that word, on both sides, the difference.
        if pe == ps:
            whole = (rs == 0 or region_text[rs - 1] == " ") and (
                re_ >= len(region_text) or region_text[re_] == " "
            )
            a, b = (ps, ps) if whole else extend_to_words(page_text, ps, ps)
        if re_ == rs:
            whole = (ps == 0 or page_text[ps - 1] == " ") and (pe >= len(page_text) or page_text[pe] == " ")
            c, d = (rs, rs) if whole else extend_to_words(region_text, rs, rs)
        if spans and (a <= spans[-1][1] + 1 and c <= spans[-1][3] + 1):
            last = spans[-1]
            spans[-1] = (min(last[0], a), max(last[1], b), min(last[2], c), max(last[3], d))
        else:
            spans.append((a, b, c, d))
    return spans


class Aligner:
    """Aligns pages of one document with one transcript. Heavy state (the transcript, its index, the
    lexicon) is built once and reused for every page."""

    def __init__(
        self,
        transcript: Transcript,
        is_word: Callable[[str], bool],
        confusion_pairs: set[tuple[str, str]] | None = None,
        lemmas: Callable[[str], set[str]] | None = None,
    ) -> None:
        if not len(transcript.word_starts):
            index_transcript(transcript)
        self.transcript = transcript
        self.is_word = is_word
        self.classifier = Classifier(transcript, is_word, confusion_pairs, lemmas)

    def align_page(self, page: Page) -> PageAlignment:
        text = page.text
        spans = page.word_spans()
        reading = make_reading(text, [])
        _, words = words_of(reading.text)
        location = locate(words, self.transcript)
        if location is None or not words:
            reason = (
                "the page is blank" if not words else "no passage of the transcript shares enough rare words"
            )
            return PageAlignment(page.document, page.number, "unmatched", reason)
        region = self.transcript.reading.text[location.start : location.end]
        # Archival furniture (secrecy marks, folios, registry stamps...) is set aside before aligning,
        # so that it cannot pull the page's edges onto the transcript's text; where the transcript has
        # it after all (an edition that prints the secrecy mark), it goes back and is aligned.
        furniture = furniture_spans(page, spans)
        if furniture:
            stripped = make_reading(text, [f[:2] for f in furniture])
            ops = align_text(stripped.text, region, 0, location.start)
            kept = [
                f
                for f in furniture
                if self._transcript_has_at(text[f[0] : f[1]], ops, stripped, f[1], region)
            ]
            if kept:
                furniture = [f for f in furniture if f not in kept]
                stripped = make_reading(text, [f[:2] for f in furniture])
                ops = align_text(stripped.text, region, 0, location.start)
            reading = stripped
        else:
            ops = align_text(reading.text, region, 0, location.start)
        unmatched = _not_this_text(reading.text, ops)
        if unmatched:
            return PageAlignment(page.document, page.number, "unmatched", unmatched)
        # Trim the region to what the page actually covers.
        covered = [op for op in ops if op[0] == "equal"]
        r_first = covered[0][3] if covered else location.start
        r_last = covered[-1][4] if covered else location.start
        ops = [op for op in ops if not (op[0] == "delete" and (op[4] <= r_first or op[3] >= r_last))]
        t_start, t_end = self.transcript.reading.source_span(r_first, r_last)
        alignment = PageAlignment(page.document, page.number, "aligned", "", t_start, t_end)
        t_reading = self.transcript.reading
        classifier = self.classifier
        local_ops = [(t, a, b, c - location.start, d - location.start) for t, a, b, c, d in ops]
        for a, b, c, d in _diff_spans(local_ops, reading.text, region):
            parts = classifier.split_words(reading.text, a, b, c + location.start, d + location.start)
            found = [
                x
                for x in (classifier.classify(page, spans, reading, *part) for part in parts)
                if x is not None
            ]
            alignment.discrepancies += absorb_passage_edges(found, text, self.transcript.text)
        alignment.discrepancies += classifier.brackets_in(page, spans, reading, ops, r_first, r_last)
        alignment.discrepancies += classifier.normalisation(page, spans, reading, ops)
        for start, end, subkind, evidence in furniture:
            r_at = _transcript_at(ops, reading.index_of(end), r_first)
            at = t_reading.source_span(r_at, r_at)[0]
            alignment.discrepancies.append(
                classifier.make(page, spans, "extra", start, end, at, at, evidence, subkind=subkind)
            )
        alignment.discrepancies.sort(key=lambda d: (d.ocr_start, d.transcript_start))
        alignment.discrepancies = in_damaged_stretch(
            read_out_of_order(
                absorb_passage_edges(alignment.discrepancies, text, self.transcript.text, touching=True)
            )
        )
        excluded_text = t_reading.text[r_first:r_last]
        alignment.normalised = score(excluded_text, reading.text)
        raw_region = self._raw_without_apparatus(t_start, t_end)
        alignment.raw = score(raw_region, text)
        return alignment

    def _transcript_has_at(
        self, passage: str, ops: list[Op], reading: Reading, page_end: int, region: str
    ) -> bool:
        """Does the transcript hold this set-aside scan passage: a longer one anywhere in the page's
        region (OCR may read a mark in another order), a short one (`83`, `За`) where the page has it?"""
        if len(re.sub(r"\W+", "", passage)) >= 8:
            return _transcript_has(passage, region)
        r_at = _transcript_at(ops, reading.index_of(page_end), ops[0][3] if ops else 0)
        width = 3 * len(passage) + 30
        window = self.transcript.reading.text[max(0, r_at - width) : r_at + width]
        return _transcript_has(passage, window)

    def _raw_without_apparatus(self, start: int, end: int) -> str:
        out, at = [], start
        for a in self.transcript.apparatus:
            if a.end <= start or a.start >= end or a.kind == "footnote" or a.start < at:
                continue
            if a.kind in ("restoration", "expansion", "broken_fragment"):
                out.append(self.transcript.text[at : a.start] + a.inner)
                at = a.end
            else:
                out.append(self.transcript.text[at : max(at, a.start)])
                at = max(at, a.end)
        out.append(self.transcript.text[at:end])
        return "".join(out)


MIN_MATCHED_WORDS = 0.15  # a page whose longer words match less than this is another text (measured: own
# text 0.98-1.0 with Tesseract on synthetic pages, another document of the same period 0.00-0.03)


def _not_this_text(page: str, ops: list[Op]) -> str:
    """Why the region is not this page's text (empty if it is): of the page's words of four letters
    or more, too few lie whole inside stretches that match the transcript exactly. A page of another
    document of the same period shares rare words (names, institutions) but not its running text;
    even a poor OCR keeps most longer words whole against its own text."""
    equal = [(ps, pe) for tag, ps, pe, _, _ in ops if tag == "equal"]
    starts = [ps for ps, _ in equal]
    long_words = matched = 0
    for m in re.finditer(r"\w{4,}", page):
        long_words += 1
        i = bisect.bisect_right(starts, m.start()) - 1
        matched += i >= 0 and equal[i][1] >= m.end()
    if long_words and matched < MIN_MATCHED_WORDS * long_words:
        return (
            f"the passage the page was placed in is not its text: {matched} of its {long_words} longer "
            "words match it"
        )
    return ""


def _transcript_at(ops: list[Op], page_index: int, default: int) -> int:
    """The transcript reading offset aligned with page reading offset `page_index`."""
    for tag, ps, pe, rs, re_ in ops:
        if ps <= page_index < pe or (ps == pe == page_index):
            return rs + (min(page_index - ps, re_ - rs) if tag in ("equal", "replace") else 0)
    return ops[-1][4] if ops and page_index >= ops[-1][2] else default


def _transcript_has(passage: str, region: str) -> bool:
    """Does the transcript's region hold this scan passage (allowing OCR errors in longer ones)?"""
    folded = make_reading(passage, []).text
    letters = re.sub(r"\W+", "", folded)
    if len(letters) >= 8:
        found = edlib.align(folded, region, mode="HW", task="distance")
        return 0 <= found["editDistance"] <= 0.2 * len(folded)
    return re.search(rf"(?<!\w){re.escape(folded.lower())}(?!\w)", region.lower()) is not None
