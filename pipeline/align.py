"""Re-aligning OCR pages with an existing transcript and classifying every difference.

1. The transcript's apparatus (editorial brackets, footnote markers and blocks, page numbers and
   running headers of the edition, Markdown markup, line-end hyphens) is parsed into spans with
   offsets into the transcript as given; the rest becomes a *reading*: normalised text (quotes,
   dashes, ё, pre-1918 letters, Latin look-alikes, whitespace) with a map back to those offsets.
   OCR pages get the same treatment, with a map back into their `NNNN.txt`.
2. A page is located in the transcript by voting with its rare words (an index built once per
   transcript), then aligned with its region at character level: words unique to both are anchors
   (as in RETAS), and edlib's bit-parallel aligner fills each gap. Nothing quadratic over long text.
3. Each difference becomes a Discrepancy of one kind, with the evidence that decided it.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import edlib
import numpy as np

from .evaluate import Score, score
from .model import BBox, Discrepancy, Page
from .transcripts import MD_FOOTNOTE_BLOCK, markdown_spans

KINDS = (
    "restoration",
    "expansion",
    "broken_fragment",
    "ocr_error",
    "variant",
    "missing",
    "extra",
    "normalisation",
)

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
_FOOTNOTE_DIGITS = re.compile(r"(?<=[а-яёa-z»)\.,;:])\d{1,3}(?=[\s.,;:»)]|$)")
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
    folded = re.sub(r"\S+", _cyrillic_word, folded)
    return Reading(folded, index.astype(np.int32))


def _cyrillic_word(match: re.Match[str]) -> str:
    word = match.group(0)
    return word.translate(_LATIN_IN_CYRILLIC) if _CYR.search(word) else word


# --- the transcript ------------------------------------------------------------------------------


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


def classify_bracket(text: str, match: re.Match[str], is_word: Callable[[str], bool]) -> Apparatus:
    """Restoration, expansion or broken fragment, from where the bracket sits in its word and
    whether the word it makes is a word at all."""
    start, end = match.span()
    inner = match.group(1)
    w_start, w_end = _word_of(text, start, end)
    raw_word = text[w_start:w_end]
    word = raw_word.replace("[", "").replace("]", "")
    before, after = text[w_start:start], text[end:w_end]
    if inner.isdigit() or (before and not after and (len(before) <= 4 or before[:1].isupper())):
        kind = "expansion"  # [19]23, Ф[рунзе], Sots[ialist]: an abbreviation written out
    elif not before and not after:
        kind = "restoration"  # a whole word supplied by the editor
    else:
        kind = "restoration" if is_word(word) else "broken_fragment"
    return Apparatus(kind, start, end, match.group(0), word, inner, w_start, w_end)


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
    for m in _BRACKET.finditer(text):
        if not _inside(covered, m.start()):
            bracket = classify_bracket(text, m, is_word)
            apparatus.append(bracket)
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
    transcript = Transcript(path, text, encoding, apparatus, reading)
    _index_words(transcript)
    return transcript


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


def _words(reading: str) -> tuple[list[int], list[str]]:
    starts, words = [], []
    for m in re.finditer(r"\S+", reading):
        core = re.sub(r"^\W+|\W+$", "", m.group(0)).lower()
        starts.append(m.start())
        words.append(core)
    return starts, words


RARE = 5  # a word seen at most this often in the transcript is an index key


def _index_words(transcript: Transcript) -> None:
    starts, words = _words(transcript.reading.text)
    transcript.word_starts = np.array(starts, dtype=np.int32)
    counts = Counter(words)
    index: dict[str, list[int]] = defaultdict(list)
    for position, word in enumerate(words):
        if len(word) >= 4 and counts[word] <= RARE:
            index[word].append(position)
    transcript.index = dict(index)


# --- locating and aligning a page ------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    start: int  # reading offsets of the region in the transcript
    end: int
    votes: int
    words: int  # page words that could vote


def locate(page_words: list[str], transcript: Transcript, margin_words: int = 40) -> Location | None:
    """Where the page lies in the transcript: each rare word shared with it votes for an offset
    (transcript position - page position); the best-supported offset, widened, is the region."""
    votes: Counter[int] = Counter()
    voters = 0
    bucket = 16
    for position, word in enumerate(page_words):
        hits = transcript.index.get(word)
        if not hits:
            continue
        voters += 1
        for hit in hits:
            votes[(hit - position) // bucket] += 1
    if not votes:
        return None
    best, count = votes.most_common(1)[0]
    count += votes.get(best - 1, 0) + votes.get(best + 1, 0)
    needed = max(3, int(0.1 * voters))
    if count < needed:
        return None
    first = max(0, (best - 1) * bucket - margin_words)
    starts = transcript.word_starts
    last = min(len(starts), (best + 2) * bucket + len(page_words) + margin_words)
    start = int(starts[first]) if first < len(starts) else len(transcript.reading.text)
    end = int(starts[last]) if last < len(starts) else len(transcript.reading.text)
    return Location(start, end, count, voters)


Op = tuple[str, int, int, int, int]  # (tag, page start, page end, transcript start, transcript end)


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


# --- classification ----------------------------------------------------------------------------


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


def _extend_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1] != " ":
        start -= 1
    while end < len(text) and text[end] != " ":
        end += 1
    return start, end


def _diff_spans(ops: list[Op], page_text: str, region_text: str) -> list[tuple[int, int, int, int]]:
    """Differences widened to whole words on both sides and merged where they touch."""
    spans: list[tuple[int, int, int, int]] = []
    for tag, ps, pe, rs, re_ in ops:
        if tag == "equal":
            continue
        if page_text[ps:pe].strip() == "" and region_text[rs:re_].strip() == "":
            continue  # a space more or less
        a, b = _extend_to_words(page_text, ps, pe) if pe > ps or ps < len(page_text) else (ps, pe)
        c, d = _extend_to_words(region_text, rs, re_) if re_ > rs or rs < len(region_text) else (rs, re_)
        if pe == ps:  # pure deletion from the page: keep the page span empty unless inside a word
            a, b = (
                (ps, ps)
                if ps == 0 or page_text[ps - 1] == " " or ps >= len(page_text) or page_text[ps] == " "
                else (a, b)
            )
        if re_ == rs:
            c, d = (
                (rs, rs)
                if rs == 0 or region_text[rs - 1] == " " or rs >= len(region_text) or region_text[rs] == " "
                else (c, d)
            )
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
    ) -> None:
        self.transcript = transcript
        self.is_word = is_word
        self.confusions = confusion_pairs or set()
        self.brackets = [
            a for a in transcript.apparatus if a.kind in ("restoration", "expansion", "broken_fragment")
        ]
        self._bracket_starts = [a.word_start for a in self.brackets]

    def align_page(self, page: Page) -> PageAlignment:
        text = page.text
        spans = page.word_spans()
        reading = make_reading(text, [])
        starts, words = _words(reading.text)
        location = locate(words, self.transcript)
        if location is None or not words:
            reason = (
                "the page is blank" if not words else "no passage of the transcript shares enough rare words"
            )
            return PageAlignment(page.document, page.number, "unmatched", reason)
        region = self.transcript.reading.text[location.start : location.end]
        ops = align_text(reading.text, region, 0, location.start)
        # Trim the region to what the page actually covers.
        covered = [op for op in ops if op[0] == "equal"]
        r_first = covered[0][3] if covered else location.start
        r_last = covered[-1][4] if covered else location.start
        ops = [op for op in ops if not (op[0] == "delete" and (op[4] <= r_first or op[3] >= r_last))]
        t_start, t_end = self.transcript.reading.source_span(r_first, r_last)
        alignment = PageAlignment(page.document, page.number, "aligned", "", t_start, t_end)
        t_reading = self.transcript.reading
        local_ops = [(t, a, b, c - location.start, d - location.start) for t, a, b, c, d in ops]
        for a, b, c, d in _diff_spans(local_ops, reading.text, region):
            parts = self._split_words(reading.text, a, b, c + location.start, d + location.start)
            found = [
                x for x in (self._classify(page, spans, reading, *part) for part in parts) if x is not None
            ]
            alignment.discrepancies += _absorb_passage_edges(found, text, self.transcript.text)
        alignment.discrepancies += self._brackets_in(page, spans, reading, ops, r_first, r_last)
        alignment.discrepancies += self._normalisation(page, spans, reading, ops)
        alignment.discrepancies.sort(key=lambda d: (d.ocr_start, d.transcript_start))
        excluded_text = t_reading.text[r_first:r_last]
        alignment.normalised = score(excluded_text, reading.text)
        raw_region = self._raw_without_apparatus(t_start, t_end)
        alignment.raw = score(raw_region, text)
        return alignment

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

    # -- helpers -----------------------------------------------------------------------------

    def _ocr_words(self, spans: list[tuple[int, int, int, int]], page: Page, start: int, end: int):  # type: ignore[no-untyped-def]
        lines = page.lines
        return [(s, e, lines[li].words[wi]) for s, e, li, wi in spans if s < end and e > start]

    def _record(
        self,
        page: Page,
        spans,
        reading: Reading,
        kind: str,
        a: int,
        b: int,
        c: int,
        d: int,  # type: ignore[no-untyped-def]
        reason: str,
        status: str = "",
        transcript_span: tuple[int, int] | None = None,
    ) -> Discrepancy:
        o_start, o_end = reading.source_span(a, b)
        t_start, t_end = transcript_span or self.transcript.reading.source_span(c, d)
        words = self._ocr_words(spans, page, o_start, max(o_end, o_start + 1))
        line = next((li for s, e, li, _ in spans if s <= o_start < e + 1), -1)
        boxes = [w.bbox for _, _, w in words if w.bbox.x1 > w.bbox.x0]
        confs = [w.conf for _, _, w in words if w.conf >= 0]
        return Discrepancy(
            document=page.document,
            page=page.number,
            line=line,
            kind=kind,
            ocr_text=page.text[o_start:o_end],
            transcript_text=self.transcript.text[t_start:t_end],
            ocr_start=o_start,
            ocr_end=o_end,
            transcript_start=t_start,
            transcript_end=t_end,
            bbox=BBox.enclosing(boxes) if boxes else None,
            word_boxes=tuple(boxes),
            confidence=min(confs) if confs else -1.0,
            reason=reason,
            status=status,
        )

    def _classify(self, page: Page, spans, reading: Reading, a: int, b: int, c: int, d: int):  # type: ignore[no-untyped-def]
        """One difference, one kind, with the evidence that decided it."""
        ocr_words = reading.text[a:b].split()
        trans_words = self.transcript.reading.text[c:d].split()
        t_start, t_end = self.transcript.reading.source_span(c, d)
        if any(br.word_start < t_end and br.word_end > t_start for br in self._brackets_near(t_start, t_end)):
            return None  # reported with its bracket (see _brackets_in)
        o_start, o_end = reading.source_span(a, b)
        words = [w for _, _, w in self._ocr_words(spans, page, o_start, max(o_end, o_start + 1))]

        def record(kind: str, reason: str) -> Discrepancy:
            return self._record(page, spans, reading, kind, a, b, c, d, reason)

        if not trans_words and len(ocr_words) >= 3:
            if _looks_like_noise(words):
                return record("ocr_error", "specks, stains or handwriting read as letters (low confidence)")
            return record(
                "extra", f"{len(ocr_words)} words on the scan have no counterpart in the transcript"
            )
        if not ocr_words and len(trans_words) >= 3:
            return record("missing", f"{len(trans_words)} words of the transcript are not on the scan")
        ocr, trans = " ".join(ocr_words), " ".join(trans_words)
        typographic = _typography(ocr) == _typography(trans)
        if typographic and ocr and trans:
            return record("normalisation", "same text once ellipses and spacing of punctuation are folded")
        low = [w for w in words if 0 <= w.conf < 85]
        unknown = [
            w for w in ocr_words if re.search(r"\w", w) and not self.is_word(re.sub(r"^\W+|\W+$", "", w))
        ]
        evidence = []
        if ocr and trans and ocr.lower() == trans.lower():
            evidence.append("differs only in letter case")
        if ocr and trans and _letters(ocr) == _letters(trans):
            evidence.append("differs only in punctuation")
        if self._confusable(ocr, trans):
            evidence.append("differs by known OCR confusions")
        if _roman_lookalike(ocr, trans):
            evidence.append("a Roman numeral on one side is read as letters on the other")
        if re.search(r"[$@|\\{}<>~^%]", ocr):
            evidence.append("symbols inside a word")
        if unknown:
            evidence.append(f"not in the lexicon: {' '.join(unknown)[:60]}")
        if low:
            evidence.append(f"OCR confidence {min(w.conf for w in low):.0f}")
        if not ocr_words or not trans_words:
            side = "scan" if ocr_words else "transcript"
            if evidence:
                return record("ocr_error", f"short passage only on the {side}: " + "; ".join(evidence))
            return record("variant", f"short passage only on the {side}, read with confidence")
        if evidence:
            return record("ocr_error", "; ".join(evidence))
        return record("variant", "both readings are words and the OCR is confident")

    def _split_words(self, page_text: str, a: int, b: int, c: int, d: int) -> list[tuple[int, int, int, int]]:
        """One difference may hold a misread word beside a whole passage only one side has: match the
        words inside it (difflib, on a handful of words) and report each unmatched run on its own."""
        t_text = self.transcript.reading.text
        p_words = [(a + m.start(), a + m.end()) for m in re.finditer(r"\S+", page_text[a:b])]
        t_words = [(c + m.start(), c + m.end()) for m in re.finditer(r"\S+", t_text[c:d])]
        if len(p_words) + len(t_words) <= 3:
            return [(a, b, c, d)]
        key = lambda text, span: re.sub(r"^\W+|\W+$", "", text[span[0] : span[1]]).lower()  # noqa: E731
        matcher = difflib.SequenceMatcher(
            None, [key(page_text, s) for s in p_words], [key(t_text, s) for s in t_words], autojunk=False
        )
        out = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            sa, sb = (
                (p_words[i1][0], p_words[i2 - 1][1])
                if i2 > i1
                else ((p_words[i1][0],) * 2 if i1 < len(p_words) else (b, b))
            )
            sc, sd = (
                (t_words[j1][0], t_words[j2 - 1][1])
                if j2 > j1
                else ((t_words[j1][0],) * 2 if j1 < len(t_words) else (d, d))
            )
            out.append((sa, sb, sc, sd))
        return out or [(a, b, c, d)]

    def _confusable(self, ocr: str, transcript: str) -> bool:
        if len(ocr) != len(transcript) or ocr == transcript:
            return False
        pairs = self.confusions  # either way round: the transcript may be the one with the misprint
        return all(
            o == t or (o.lower(), t.lower()) in pairs or (t.lower(), o.lower()) in pairs
            for o, t in zip(ocr, transcript, strict=True)
        )

    def _brackets_near(self, start: int, end: int) -> list[Apparatus]:
        i = bisect.bisect_left(self._bracket_starts, start - 60)
        out = []
        while i < len(self.brackets) and self.brackets[i].word_start < end:
            out.append(self.brackets[i])
            i += 1
        return out

    def _map_region(self, ops: list[Op], c: int, d: int) -> tuple[int, int]:
        """The page reading span aligned to transcript reading span [c, d)."""
        a = b = None
        for tag, ps, pe, rs, re_ in ops:
            if re_ <= c or rs >= d:
                continue
            if tag in ("equal", "replace"):
                lo = ps + max(0, c - rs)
                hi = ps + min(pe - ps, d - rs)
            else:
                lo, hi = ps, pe
            a = lo if a is None else min(a, lo)
            b = hi if b is None else max(b, hi)
        if a is None:
            at = next((ps for tag, ps, pe, rs, re_ in ops if rs >= d), ops[-1][2] if ops else 0)
            return at, at
        return a, b

    def _brackets_in(self, page: Page, spans, reading: Reading, ops: list[Op], r_first: int, r_last: int):  # type: ignore[no-untyped-def]
        out = []
        t_reading = self.transcript.reading
        lo, hi = t_reading.source_span(r_first, r_last)
        for br in self.brackets:
            if br.word_end <= lo or br.word_start >= hi:
                continue
            c, d = t_reading.index_of(br.word_start), t_reading.index_of(br.word_end)
            a, b = self._map_region(ops, c, d)
            a, b = _extend_to_words(reading.text, a, b) if b > a else (a, b)
            seen = re.sub(r"^\W+|\W+$", "", reading.text[a:b]).lower()
            meant = fold_word(br.word)
            without = fold_word(br.word.replace(br.inner, "", 1))
            if seen == meant:
                status, reason = "confirmed", "the scan shows the letters the editor supplied"
            elif seen in (without, without.rstrip(".")) or seen.rstrip(".") == without:
                status, reason = "absent", "the scan lacks what the editor supplied"
            else:
                status, reason = "conflict", "the scan shows other letters than the editor supplied"
            if br.kind == "broken_fragment":
                reason = f"bracketed fragment '{br.inner}' makes no word ('{br.word}'); {reason}"
            record = self._record(
                page, spans, reading, br.kind, a, b, c, d, reason, status, (br.word_start, br.word_end)
            )
            out.append(record)
        return out

    def _normalisation(self, page: Page, spans, reading: Reading, ops: list[Op]) -> list[Discrepancy]:  # type: ignore[no-untyped-def]
        """Aligned words equal once normalised but written differently (quotes, dashes, ё, old letters)."""
        out = []
        t = self.transcript
        for tag, ps, pe, rs, _re in ops:
            if tag != "equal":
                continue
            for m in re.finditer(r"\S+", reading.text[ps:pe]):
                a, b = ps + m.start(), ps + m.end()
                c, d = rs + m.start(), rs + m.end()
                o_start, o_end = reading.source_span(a, b)
                t_start, t_end = t.reading.source_span(c, d)
                raw_ocr = page.text[o_start:o_end]
                raw_trans = t.text[t_start:t_end]
                if raw_ocr != raw_trans and not any(ch in raw_trans for ch in "[]\n"):
                    out.append(
                        self._record(
                            page,
                            spans,
                            reading,
                            "normalisation",
                            a,
                            b,
                            c,
                            d,
                            "same word once quotes, dashes, ё and old letters are folded",
                        )
                    )
        return out


def _absorb_passage_edges(
    found: list[Discrepancy], page_text: str, transcript_text: str
) -> list[Discrepancy]:
    """A word or two only one side has, beside a whole passage only that side has, belongs to the
    passage (matching words inside the difference just cut its edge off): one record for both."""
    result = list(found)
    for edge in found:
        if edge.kind != "variant" or not edge.reason.startswith("short passage only on the"):
            continue
        side = "missing" if not edge.ocr_text.strip() else "extra"
        host = next((i for i, d in enumerate(result) if d.kind == side), None)
        if host is None:
            continue
        d = result[host]
        o_start, o_end = min(d.ocr_start, edge.ocr_start), max(d.ocr_end, edge.ocr_end)
        t_start, t_end = (
            min(d.transcript_start, edge.transcript_start),
            max(d.transcript_end, edge.transcript_end),
        )
        result[host] = dataclasses.replace(
            d,
            ocr_start=o_start,
            ocr_end=o_end,
            transcript_start=t_start,
            transcript_end=t_end,
            ocr_text=page_text[o_start:o_end],
            transcript_text=transcript_text[t_start:t_end],
        )
        result.remove(edge)
    return result


def _typography(text: str) -> str:
    return re.sub(r"\s+(?=[.,;:!?»)])|(?<=[«(])\s+", "", text.replace("…", "..."))


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip()


_ROMAN_LOOKS = str.maketrans(
    {"І": "I", "Т": "I", "1": "I", "Х": "X", "У": "V", "П": "II", "Ш": "III", "М": "M", "С": "C"}
)


def _roman_lookalike(ocr: str, transcript: str) -> bool:
    a, b = _letters(ocr).upper().translate(_ROMAN_LOOKS), _letters(transcript).upper().translate(_ROMAN_LOOKS)
    return a == b and ocr != transcript and bool(re.fullmatch(r"[IVXLCM ]+", a))


def _looks_like_noise(words: list) -> bool:  # type: ignore[type-arg]
    """Stains, specks and scribbles that Tesseract turned into letters: short tokens, low confidence."""
    if not words:
        return False
    confs = [w.conf for w in words if w.conf >= 0]
    short = sum(len(w.text.strip(".,:;=-")) <= 2 for w in words)
    return (bool(confs) and sum(confs) / len(confs) < 50) or short >= 0.6 * len(words)


def fold_word(word: str) -> str:
    return make_reading(word, []).text.lower()


def lint_transcript(transcript: Transcript) -> list[dict[str, object]]:
    """Problems a transcript has on its own: unbalanced brackets, fragments that make no word,
    footnote markers with no footnote (and footnotes no marker points to)."""
    text = transcript.text
    problems: list[dict[str, object]] = []
    depth_stack: list[int] = []
    for i, ch in enumerate(text):
        if ch == "[":
            depth_stack.append(i)
        elif ch == "]":
            if depth_stack:
                depth_stack.pop()
            else:
                problems.append(_problem(text, i, i + 1, "unbalanced_bracket", "']' with no '[' before it"))
    for i in depth_stack:
        problems.append(_problem(text, i, i + 1, "unbalanced_bracket", "'[' never closed"))
    for a in transcript.apparatus:
        if a.kind == "broken_fragment":
            problems.append(
                _problem(
                    text,
                    a.word_start,
                    a.word_end,
                    "broken_fragment",
                    f"bracketed '{a.inner}' makes '{a.word}', which is no word of the lexicon",
                )
            )
    markers = {int(n) for n in re.findall(r"\(#_ftn(\d+)\)", text)}
    notes = {int(n) for n in re.findall(r"\(#_ftnref(\d+)\)", text)}
    for n in sorted(markers - notes):
        m = re.search(rf"\(#_ftn{n}\)", text)
        problems.append(
            _problem(text, m.start(), m.end(), "stray_footnote_marker", f"marker {n} has no footnote")
        )
    for n in sorted(notes - markers):
        m = re.search(rf"\(#_ftnref{n}\)", text)
        problems.append(_problem(text, m.start(), m.end(), "orphan_footnote", f"footnote {n} has no marker"))
    problems.sort(key=lambda p: p["start"])  # type: ignore[arg-type, return-value]
    return problems


def _problem(text: str, start: int, end: int, kind: str, message: str) -> dict[str, object]:
    line = text.count("\n", 0, start) + 1
    return {
        "kind": kind,
        "line": line,
        "start": start,
        "end": end,
        "text": text[start:end],
        "message": message,
    }


def english_words() -> set[str]:
    """A plain English word list (Debian's wamerican), for transcripts in English."""
    for path in (Path("/usr/share/dict/american-english"), Path("/usr/share/dict/words")):
        if path.is_file():
            return {w.strip().lower() for w in path.read_text(encoding="utf-8", errors="ignore").splitlines()}
    return set()
