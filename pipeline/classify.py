"""Each difference between a page and its transcript becomes one Discrepancy of one kind, with the
evidence that decided it; editorial brackets are checked against what the scan shows."""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import re
from collections.abc import Callable

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
    ) -> None:
        self.transcript = transcript
        self.is_word = is_word
        self.confusions = confusion_pairs or set()
        self.brackets = [
            a for a in transcript.apparatus if a.kind in ("restoration", "expansion", "broken_fragment")
        ]
        self._bracket_starts = [a.word_start for a in self.brackets]

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

    def classify(self, page: Page, spans, reading: Reading, a: int, b: int, c: int, d: int):  # type: ignore[no-untyped-def]
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

    def split_words(self, page_text: str, a: int, b: int, c: int, d: int) -> list[tuple[int, int, int, int]]:
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


def absorb_passage_edges(found: list[Discrepancy], page_text: str, transcript_text: str) -> list[Discrepancy]:
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
