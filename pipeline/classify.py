"""Each difference between a page and its transcript becomes one Discrepancy of one kind, with the
evidence that decided it; editorial brackets are checked against what the scan shows."""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import re
from collections.abc import Callable

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from .apparatus import Apparatus, Reading, Transcript, extend_to_words, fold_word
from .model import BBox, Discrepancy, Page

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

FAR = 0.7  # below this similarity a bracketed word and the scan's are different words

Op = tuple[str, int, int, int, int]  # (tag, page start, page end, transcript start, transcript end)


class Classifier:
    """Classifies the differences of pages against one transcript (its brackets indexed once)."""

    def __init__(
        self,
        transcript: Transcript,
        is_word: Callable[[str], bool],
        confusion_pairs: set[tuple[str, str]] | None = None,
        lemmas: Callable[[str], set[str]] | None = None,
    ) -> None:
        self.transcript = transcript
        self.is_word = is_word
        self.confusions = confusion_pairs or set()
        self.lemmas = lemmas or (lambda word: {word.lower()})
        self.brackets = [
            a for a in transcript.apparatus if a.kind in ("restoration", "expansion", "broken_fragment")
        ]
        self._bracket_starts = [a.word_start for a in self.brackets]
        self._current: tuple[Page, str, tuple] | None = None  # type: ignore[type-arg]

    def _page(self, page: Page) -> tuple[str, tuple]:  # type: ignore[type-arg]
        """The page's text and lines, built once per page (both are computed properties)."""
        if self._current is None or self._current[0] is not page:
            self._current = (page, page.text, page.lines)
        return self._current[1], self._current[2]

    def _ocr_words(self, spans: list[tuple[int, int, int, int]], page: Page, start: int, end: int):  # type: ignore[no-untyped-def]
        lines = self._page(page)[1]
        # Spans are in reading order and do not overlap: the ones ending after `start` begin at `first`.
        first = bisect.bisect_right(spans, (start, 10**12)) - 1
        out = []
        for s, e, li, wi in spans[max(0, first) :]:
            if s >= end:
                break
            if e > start:
                out.append((s, e, lines[li].words[wi]))
        return out

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
        return self.make(page, spans, kind, o_start, o_end, t_start, t_end, reason, status)

    def make(
        self,
        page: Page,
        spans,  # type: ignore[no-untyped-def]
        kind: str,
        o_start: int,
        o_end: int,
        t_start: int,
        t_end: int,
        reason: str,
        status: str = "",
        subkind: str = "",
    ) -> Discrepancy:
        """A Discrepancy from offsets into NNNN.txt and the transcript file, with the words' boxes."""
        words = self._ocr_words(spans, page, o_start, max(o_end, o_start + 1))
        line = next((li for s, e, li, _ in spans if s <= o_start < e + 1), -1)
        boxes = [w.bbox for _, _, w in words if w.bbox.x1 > w.bbox.x0]
        confs = [w.conf for _, _, w in words if w.conf >= 0]
        return Discrepancy(
            document=page.document,
            page=page.number,
            line=line,
            kind=kind,
            ocr_text=self._page(page)[0][o_start:o_end],
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
            subkind=subkind,
        )

    def classify(self, page: Page, spans, reading: Reading, a: int, b: int, c: int, d: int):  # type: ignore[no-untyped-def]
        """One difference, one kind: the kind with the strongest evidence, `variant` only when both
        readings look deliberate."""
        ocr_words = reading.text[a:b].split()
        trans_words = self.transcript.reading.text[c:d].split()
        t_start, t_end = self.transcript.reading.source_span(c, d)
        if any(br.word_start < t_end and br.word_end > t_start for br in self._brackets_near(t_start, t_end)):
            return None  # reported with its bracket (see brackets_in)
        o_start, o_end = reading.source_span(a, b)
        located = self._ocr_words(spans, page, o_start, max(o_end, o_start + 1))
        words = [w for _, _, w in located]

        def record(kind: str, reason: str, subkind: str = "") -> Discrepancy:
            found = self._record(page, spans, reading, kind, a, b, c, d, reason)
            return dataclasses.replace(found, subkind=subkind) if subkind else found

        ocr, trans = " ".join(ocr_words), " ".join(trans_words)
        low = [w for w in words if 0 <= w.conf < 85]
        unknown = [
            w for w in ocr_words if re.search(r"\w", w) and not self.is_word(re.sub(r"^\W+|\W+$", "", w))
        ]
        if not trans_words:  # only on the scan
            furniture = furniture_kind(ocr, page, {li for _, _, li, _ in _spans_in(spans, o_start, o_end)})
            if furniture:
                return record("extra", furniture[1], furniture[0])
            if (
                _looks_like_noise(words)
                or not re.search(r"\w", ocr)
                or (len(ocr_words) <= 2 and (unknown or low))
            ):
                evidence = "specks, stains or handwriting read as letters" if words else "punctuation only"
                return record("ocr_error", f"{evidence} (scan only: {ocr[:40]})")
            return record(
                "extra", f"{len(ocr_words)} word(s) on the scan have no counterpart in the transcript"
            )
        if not ocr_words:  # only in the transcript
            letters = re.sub(r"[\W_]+", "", trans)
            if not letters:
                return record("ocr_error", "punctuation the OCR did not read")
            if len(trans_words) == 1:  # OCR drops single words (faint ink, a stamp over them) far more
                return record("ocr_error", f"{ONE_WORD_LOST}: '{trans[:30]}'")  # often than editors add them
            return record("missing", f"{len(trans_words)} word(s) of the transcript are not on the scan")
        if _typography(ocr) == _typography(trans):
            return record("normalisation", "same text once ellipses and spacing of punctuation are folded")
        if _unhyphenated(ocr) == _unhyphenated(trans):
            return record("normalisation", "differs only in hyphenation or word division")
        if ocr.lower() == trans.lower():
            if _case_convention(ocr, trans) and not low:
                return record("normalisation", "differs only in letter case (the edition's convention)")
            return record("ocr_error", "differs in the case of single letters")
        evidence = []
        if _letters(ocr) == _letters(trans):
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
        if evidence:
            return record("ocr_error", "; ".join(evidence))
        misread = self._misreading(ocr_words, trans_words)
        if misread:
            return record("ocr_error", misread)
        return record("variant", "both readings are words of their own, read with confidence")

    def _misreading(self, ocr_words: list[str], trans_words: list[str]) -> str:
        """Why a difference between two words is a misreading even though the scan's form is a word;
        empty when it looks deliberate (another form of the same word, or another word altogether)."""
        if len(ocr_words) != len(trans_words):
            joined_seen = "".join(_core(w) for w in ocr_words)
            joined_meant = "".join(_core(w) for w in trans_words)
            distance = Levenshtein.distance(joined_seen, joined_meant)
            if distance <= max(2, 0.4 * len(joined_meant)):
                return (
                    f"'{' '.join(ocr_words)}' is '{' '.join(trans_words)}' split or joined by misread letters"
                )
            return ""
        for seen, meant in zip(ocr_words, trans_words, strict=True):
            seen, meant = _core(seen), _core(meant)
            if seen == meant:
                continue
            if max(len(seen), len(meant)) <= 2 or min(len(seen), len(meant)) == 1:
                return f"'{seen}' for '{meant}': one- and two-letter words are easily misread or misplaced"
            shorter, longer = sorted((seen, meant), key=len)
            if len(longer) - len(shorter) >= 2 and len(shorter) >= 3 and shorter in longer:
                return f"only part of '{longer}' is read ('{shorter}'): cut off, covered or faded"
            if self.lemmas(seen) & self.lemmas(meant):
                return ""  # another form of the same word: an edition's reading, not a glyph misread
            distance = Levenshtein.distance(seen, meant)
            if distance <= 2 and distance <= 0.4 * max(len(seen), len(meant)):
                return (
                    f"'{seen}' is a misreading of '{meant}' that happens to make a word ({distance} letters)"
                )
        return ""

    def split_words(self, page_text: str, a: int, b: int, c: int, d: int) -> list[tuple[int, int, int, int]]:
        """One difference may hold a misread word beside a whole passage only one side has: match the
        words inside it (difflib, on a handful of words) and report each unmatched run on its own."""
        t_text = self.transcript.reading.text
        p_words = [(a + m.start(), a + m.end()) for m in re.finditer(r"\S+", page_text[a:b])]
        t_words = [(c + m.start(), c + m.end()) for m in re.finditer(r"\S+", t_text[c:d])]
        if len(p_words) == len(t_words) > 1 and all(
            Levenshtein.normalized_similarity(page_text[p0:p1].lower(), t_text[t0:t1].lower()) >= 0.5
            for (p0, p1), (t0, t1) in zip(p_words, t_words, strict=True)
        ):  # word for word: each pair on its own (one may be a misreading, the next a variant)
            return [(p0, p1, t0, t1) for (p0, p1), (t0, t1) in zip(p_words, t_words, strict=True)]
        if len(p_words) + len(t_words) <= 3:
            return [(a, b, c, d)]
        p_keys = [_key(page_text[s:e]) for s, e in p_words]
        t_keys = [_key(t_text[s:e]) for s, e in t_words]
        out: list[tuple[int, int, int, int]] = []
        run_p: list[tuple[int, int]] = []
        run_t: list[tuple[int, int]] = []

        def flush(p_at: int, t_at: int) -> None:
            if run_p or run_t:
                sa, sb = (run_p[0][0], run_p[-1][1]) if run_p else (p_at, p_at)
                sc, sd = (run_t[0][0], run_t[-1][1]) if run_t else (t_at, t_at)
                out.append((sa, sb, sc, sd))
                run_p.clear()
                run_t.clear()

        for i, j in _pair_words(p_keys, t_keys):
            if i is not None and j is not None:
                flush(p_words[i][0], t_words[j][0])
                if p_keys[i] != t_keys[j] or page_text[slice(*p_words[i])] != t_text[slice(*t_words[j])]:
                    out.append((*p_words[i], *t_words[j]))
            elif i is not None:
                run_p.append(p_words[i])
            else:
                run_t.append(t_words[j])  # type: ignore[index]
        flush(b, d)
        # Pairs equal but for their outer punctuation are no difference of their own.
        out = [
            o
            for o in out
            if not (o[1] > o[0] and o[3] > o[2] and page_text[o[0] : o[1]] == t_text[o[2] : o[3]])
        ]
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

    def brackets_in(self, page: Page, spans, reading: Reading, ops: list[Op], r_first: int, r_last: int):  # type: ignore[no-untyped-def]
        out = []
        t_reading = self.transcript.reading
        lo, hi = t_reading.source_span(r_first, r_last)
        for br in self.brackets:
            if br.word_end <= lo or br.word_start >= hi:
                continue
            c, d = t_reading.index_of(br.word_start), t_reading.index_of(br.word_end)
            a, b = self._map_region(ops, c, d)
            a, b = extend_to_words(reading.text, a, b) if b > a else (a, b)
            seen = re.sub(r"^\W+|\W+$", "", reading.text[a:b]).lower()
            meant = fold_word(br.word)
            without = fold_word(br.word.replace(br.inner, "", 1))
            if seen == meant:
                status, reason = "confirmed", "the scan shows the letters the editor supplied"
            elif seen in (without, without.rstrip(".")) or seen.rstrip(".") == without:
                status, reason = "absent", "the scan lacks what the editor supplied"
            else:
                status, reason = "conflict", "the scan shows other letters than the editor supplied"
            kind = br.kind
            if br.kind == "broken_fragment":
                reason = f"{br.problem}: {br.message}; {reason}"
            elif status == "conflict" and Levenshtein.normalized_similarity(seen, meant) < FAR:
                # Not an abbreviation written out nor letters supplied: the word is not the scan's.
                kind = "broken_fragment"
                reason = f"the bracketed word '{br.word}' does not match the scan's '{seen}'"
            record = self._record(
                page, spans, reading, kind, a, b, c, d, reason, status, (br.word_start, br.word_end)
            )
            out.append(record)
        return out

    def normalisation(self, page: Page, spans, reading: Reading, ops: list[Op]) -> list[Discrepancy]:  # type: ignore[no-untyped-def]
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
                raw_ocr = self._page(page)[0][o_start:o_end]
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


ONE_WORD_LOST = "one word the OCR did not read"


def _one_sided(d: Discrepancy) -> str:
    """'transcript' or 'scan' for a record of text only one side has, else ''."""
    if not d.ocr_text.strip() and (d.kind == "missing" or d.reason.startswith(ONE_WORD_LOST)):
        return "transcript"
    if not d.transcript_text.strip() and d.kind in ("extra", "ocr_error") and not d.subkind:
        return "scan"
    return ""


def absorb_passage_edges(
    found: list[Discrepancy], page_text: str, transcript_text: str, touching: bool = False
) -> list[Discrepancy]:
    """The pieces of one difference that only one side has (matching words inside it cut a passage
    into runs, a speck or a lost word beside it) are one passage: one `missing` or `extra` record.
    With `touching`, over a whole page: only pieces with nothing but spaces between them."""
    result: list[Discrepancy] = []
    for d in found:
        host = result[-1] if result else None
        side = _one_sided(d)
        if touching and host is not None:
            gap = (
                page_text[host.ocr_end : d.ocr_start]
                if side == "scan"
                else transcript_text[host.transcript_end : d.transcript_start]
            )
            if gap.strip() or d.ocr_start < host.ocr_end:
                side = ""
        passage = ("missing",) if side == "transcript" else ("missing", "extra")
        if host is not None and side and side == _one_sided(host) and {host.kind, d.kind} & set(passage):
            kind = "missing" if side == "transcript" else "extra"
            main = host if host.kind == kind else d
            o_start, o_end = min(host.ocr_start, d.ocr_start), max(host.ocr_end, d.ocr_end)
            t_start = min(host.transcript_start, d.transcript_start)
            t_end = max(host.transcript_end, d.transcript_end)
            boxes = host.word_boxes + d.word_boxes
            result[-1] = dataclasses.replace(
                main,
                ocr_start=o_start,
                ocr_end=o_end,
                transcript_start=t_start,
                transcript_end=t_end,
                ocr_text=page_text[o_start:o_end],
                transcript_text=transcript_text[t_start:t_end],
                word_boxes=boxes,
                bbox=BBox.enclosing(list(boxes)) if boxes else None,
            )
        else:
            result.append(d)
    return result


DAMAGE_REACH = 25  # characters of the scan around a variant in which a misreading makes it doubtful


def in_damaged_stretch(found: list[Discrepancy]) -> list[Discrepancy]:
    """A `variant` right beside misreadings stands in a damaged stretch of the scan (a stamp over the
    text, a fold, faded ink): its reading is not confident, so it is an `ocr_error`."""
    errors = [(d.ocr_start, d.ocr_end) for d in found if d.kind == "ocr_error" and d.ocr_end > d.ocr_start]
    out = []
    for d in found:
        near = d.kind == "variant" and any(
            s < d.ocr_end + DAMAGE_REACH and e > d.ocr_start - DAMAGE_REACH for s, e in errors
        )
        out.append(
            dataclasses.replace(
                d, kind="ocr_error", reason="beside misreadings (a damaged stretch): " + d.reason
            )
            if near
            else d
        )
    return out


def read_out_of_order(found: list[Discrepancy]) -> list[Discrepancy]:
    """A passage reported `extra` in one place and `missing` in another with the same words is the
    OCR's reading order, not the transcript's: both become `ocr_error`."""
    extras = [d for d in found if d.kind == "extra" and not d.subkind]
    missings = [d for d in found if d.kind == "missing"]
    moved: set[int] = set()
    for e in extras:
        seen = _letters(e.ocr_text).lower()
        for m in missings:
            meant = _letters(m.transcript_text).lower()
            if min(len(seen), len(meant)) >= 8 and fuzz.partial_ratio(seen, meant) >= 80:
                moved.update((id(e), id(m)))
    return [
        dataclasses.replace(d, kind="ocr_error", reason="the same text read in another order: " + d.reason)
        if id(d) in moved
        else d
        for d in found
    ]


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


def _core(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word).lower()


def _unhyphenated(text: str) -> str:
    """Letters only, hyphens and word division dropped: `во-вторых`, `вовторых`, `во вторых`."""
    return re.sub(r"[\s\-\u00ad‐‑–—]+", "", text)


def _case_convention(ocr: str, transcript: str) -> bool:
    """Whole words in capitals, capitalised or in small letters on one side: an edition's convention
    (a heading set in capitals), not a letter misread inside a word."""
    for seen, meant in zip(ocr.split(), transcript.split(), strict=False):
        if seen == meant:
            continue
        forms = {meant.lower(), meant.upper(), meant.capitalize(), meant.title()}
        if seen not in forms:
            return False
    return True


def _spans_in(spans, start: int, end: int):  # type: ignore[no-untyped-def]
    return [s for s in spans if s[0] < max(end, start + 1) and s[1] > start]


# What archival furniture looks like when OCR read it into the page text (no zones to say so).
FURNITURE_PATTERNS = (
    ("page_number", re.compile(r"[-–—]\s*\d{1,4}\s*[-–—]")),
    ("folio", re.compile(r"(?:л\.\s*)?\d{1,4}\s*(?:об\.?|об\b)?|л\.", re.IGNORECASE)),
    (
        "secrecy",
        re.compile(
            r"(?:совершенно\s+|строго\s+|сов\.\s*)?секретно\.?|не\s+для\s+печати\.?|лично\.?|срочно\.?"
            r"|только\s+для\s+членов\s+\S+|конфиденциально\.?",
            re.IGNORECASE,
        ),
    ),
    (
        "registration",
        re.compile(
            r"(?:вх|исх|входящ\w*|исходящ\w*)\.?\s*(?:№\s*)?[\d/\-сc]+(?:\s+от)?|№\s*\d[\d/\-]*"
            r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}\s*(?:г\.?)?|получено\.?|поступило\.?",
            re.IGNORECASE,
        ),
    ),
    (
        "resolution",
        re.compile(
            r"(?:не\s+)?(?:согласен|согласна|согласны|возражаю)\.?|в\s+дело\.?|в\s+архив\.?|за\.?|против\.?"
            r"|ознакомить(?:ся)?\.?|доложить\.?|к\s+докладу\.?|разослать\.?|утвердить\.?|отклонить\.?",
            re.IGNORECASE,
        ),
    ),
)
EDGE_LINES = 3  # furniture without zones: in the first or last lines of the page, or on a short line


def furniture_place(page: Page, line_indices: set[int], lines: tuple | None = None) -> str:  # type: ignore[type-arg]
    """Where furniture sits without zones to say so: the first or last lines of the page, or a short
    line of its own (as a note in a margin reads); empty elsewhere."""
    lines = page.lines if lines is None else lines
    if not line_indices:
        return ""
    if min(line_indices) < EDGE_LINES:
        return "at the top of the page"
    if max(line_indices) >= len(lines) - EDGE_LINES:
        return "at the bottom of the page"
    if all(len(lines[i].words) <= 4 for i in line_indices if i < len(lines)):
        return "on a short line of its own"
    return ""


def furniture_items(text: str) -> list[tuple[int, int, str]] | None:
    """(start, end, subkind) of each furniture item when `text` is nothing but furniture (OCR may read
    several onto one line: `Вх. № 512 Совершенно секретно`); None when anything else is in it."""
    items, at = [], 0
    while True:
        while at < len(text) and (text[at].isspace() or text[at] in ";|"):
            at += 1
        if at >= len(text):
            return items or None
        for kind, pattern in FURNITURE_PATTERNS:
            m = pattern.match(text, at)
            if m and m.end() > at and (m.end() == len(text) or not text[m.end()].isalnum()):
                items.append((at, m.end(), kind))
                at = m.end()
                break
        else:
            return None


def furniture_kind(text: str, page: Page, line_indices: set[int]) -> tuple[str, str] | None:
    """(subkind, evidence) when scan-only text is archival furniture by its look (a folio, page number,
    secrecy mark, registry stamp, short resolution) and its place. Pages with zones are decided by
    their zones (furniture_spans), not by look."""
    text = text.strip()
    if not text or page.zones or len(text.split()) > 6:
        return None
    place = furniture_place(page, line_indices)
    items = furniture_items(text) if place else None
    if not items:
        return None
    kind = items[0][2]
    return kind, f"looks like a {kind.replace('_', ' ')} ('{text[:30]}') {place}"


def furniture_spans(page: Page, spans) -> list[tuple[int, int, str, str]]:  # type: ignore[no-untyped-def]
    """(start, end, subkind, evidence) in `page.text` of what may be archival furniture rather than
    the document's body: with zones, the secrecy, registration, letterhead, addressee and heading
    zones; without, items on lines at the page's edges or on their own that look like furniture."""
    if not page.zones:
        lines: dict[int, tuple[int, int]] = {}
        for start, end, li, _ in spans:
            first, last = lines.get(li, (start, end))
            lines[li] = (min(first, start), max(last, end))
        found = []
        text, page_lines = page.text, page.lines
        for li, (start, end) in sorted(lines.items()):
            line = text[start:end]
            place = furniture_place(page, {li}, page_lines) if len(line.split()) <= 6 else ""
            for a, b, kind in (furniture_items(line) or []) if place else []:
                evidence = f"looks like a {kind.replace('_', ' ')} ('{line[a:b][:30]}') {place}"
                found.append((start + a, start + b, kind, evidence))
        return found
    paragraph_spans = page.paragraph_spans()
    out = []
    for zone in page.zones:
        if zone.type not in FURNITURE_TEXT_ZONES:
            continue
        for index in zone.paragraphs:
            if index < len(paragraph_spans) and paragraph_spans[index][1] > paragraph_spans[index][0]:
                start, end = paragraph_spans[index]
                out.append((start, end, zone.type, f"in a {zone.type} zone of the page"))
    return out


FURNITURE_TEXT_ZONES = ("secrecy", "registration", "letterhead", "addressee", "heading")


def _key(word: str) -> str:
    """A word for pairing: letters and digits only, lower case (hyphens and punctuation dropped)."""
    return re.sub(r"[\W_]+", "", word).lower()


def _pair_words(p_keys: list[str], t_keys: list[str]) -> list[tuple[int | None, int | None]]:
    """Align two short word lists, pairing words at least half alike (most letters in common) and
    leaving the rest unpaired: the path as (page index or None, transcript index or None)."""
    n, m = len(p_keys), len(t_keys)
    if n * m > 6000:  # a long difference: pair only exact words
        matcher = difflib.SequenceMatcher(None, p_keys, t_keys, autojunk=False)
        path: list[tuple[int | None, int | None]] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                path += [(i1 + k, j1 + k) for k in range(i2 - i1)]
            else:
                path += [(i, None) for i in range(i1, i2)] + [(None, j) for j in range(j1, j2)]
        return path
    sim = [[Levenshtein.normalized_similarity(p, t) if p and t else 0.0 for t in t_keys] for p in p_keys]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] >= 0.5:
                best = max(best, sim[i][j] + score[i + 1][j + 1])
            score[i][j] = best
    path, i, j = [], 0, 0
    while i < n or j < m:
        if i < n and j < m and sim[i][j] >= 0.5 and score[i][j] == sim[i][j] + score[i + 1][j + 1]:
            path.append((i, j))
            i, j = i + 1, j + 1
        elif i < n and (j == m or score[i][j] == score[i + 1][j]):
            path.append((i, None))
            i += 1
        else:
            path.append((None, j))
            j += 1
    return path
