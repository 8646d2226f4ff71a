"""Post-OCR correction against the period lexicon, word by word, with every change recorded.

The corrector's first duty is to do no harm: numbers, dates, citations, abbreviations and names are
never touched, and a capitalised word it does not know is changed only on strong evidence. Among the
words it does change, candidates come from the known confusions of Cyrillic OCR (ш/щ, и/н/п, б/6, ...)
and from SymSpell over the period vocabulary; they are ranked by an OCR-aware cost, by frequency and
by how often they follow the previous word in the period's texts. Punctuation, case and spacing are
kept: only the letters of a word are ever replaced.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from symspellpy import Verbosity

from . import __version__
from .config import Settings
from .lexicon import Lexicon, fold, load, modernise_spelling
from .lexicon import identity as lexicon_identity_of
from .model import Correction, Line, Page, Paragraph, Step, Word

_TOKEN = re.compile(r"^([«\"“„'‘(\[{</\\]*)(.*?)([»\"”'’)\]}>.,;:!?…/\\]*)$", re.DOTALL)
_CYRILLIC = re.compile(r"[А-Яа-яЁёѢѣІіѲѳѴѵ]")
_LATIN = re.compile(r"[A-Za-z]")
_NUMBERISH = re.compile(r"^[\d.,:/\-–—№%+()IVXLC]+(?:-[а-я]{1,3})?$")
_ROMAN = re.compile(r"^(?=[MDCLXVI])M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_HYPHENS = "-‐‑¬\u00ad"
_ROMAN_DATE = re.compile(r"^([^\W_]{1,5})(\.\d{2,4})$")
# ... and with its day before it in one word (`22.ТТТ.35`, `28.Х.31`, `21.1Х.38`)
_DAY_ROMAN_DATE = re.compile(r"^(\d{1,2}\.)([^\s.]{1,5})(\.\d{2,4})$")
_PARTY_6 = re.compile(r"^([А-Я]{0,6})\(6\)[.,;:)»”\"]*$")
_ORDINAL_CAPS = re.compile(r"^(\d+-)([А-ЯЁ]{1,3})$")
LETTER_MARKERS = ("а)", "в)", "г)", "д)", "е)")
# Share of a page's words ending in a hard sign that marks it as pre-1918 (modern Russian: almost none).
PREREFORM_HARD_SIGN_SHARE = 0.08
_OLD_LETTERS = re.compile("[ѣѢіІїЇѳѲѵѴ]")
_FINAL_HARD_SIGN = re.compile("[бвгджзклмнпрстфхцчшщ](ъ|Ъ|Ь)$")
# A known but unused word is taken for a misreading only of a word this frequent in the period's texts.
REAL_WORD_MIN_FREQUENCY = 20
REAL_WORD_MAX_COST = 0.5
# A reading with a candidate this cheap is a misread word; with none, a jumble (a word typed over).
NEAR_WORD_COST = 1.0
# A known word with a capital inside it (`коТорой`) is lowered when the period's texts use it this often.
RAISED_LETTER_MIN_FREQUENCY = 1
_MIXED_CASE = re.compile(r"^[А-ЯЁа-яё][а-яё]*[А-ЯЁ][А-ЯЁа-яё]*$")
_PROPER_TAGS = ("Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr", "Init")
# `ит.д.`, `ут.`: a one-letter word run into the dotted abbreviation after it.
_GLUED_SHORT = re.compile(r"^([иуваксо])((?:[а-я]{1,2}\.)+)([,;:]?)$")
# `Оп. 171.Д. 45`: an archival citation whose number ran into the next citation token.
_GLUED_CITATION = re.compile(r"^(\d{1,5}\.)(Ф|Оп|Д|Л|Лл)\.([,;]?)$")
_INITIALS = re.compile(r"^[А-ЯЁ][а-яё]?\.[А-ЯЁ]")
# A dash standing alone between words, as Tesseract reads it (a printed en dash mostly as `-`) ...
LONE_DASHES = frozenset("-‐‑‒—―")
# ... is the en dash of the period's edited texts: 1105 of the 1137 dashes between spaces in the
# corpus's lexicon split (28 `-`, 1 `—`); pre-1918 pages are left as read.
EDITED_DASH = "–"
# A range of two numbers, `15-16`, `(225-227),`: an en dash in 150 of the lexicon split's 182 (the
# rest `1909-10`-like years); numbers with more dashes (telephones, `4-78-85`) are left alone.
_NUMBER_RANGE = re.compile(r"^([(«]?\d{1,4})[-‐‑‒—―](\d{1,4}[),.;:»]*)$")

# Latin letters that look like Cyrillic ones, and the other way round for Roman numerals.
LATIN_TO_CYRILLIC = str.maketrans("AaBCcEeHKMOoPpTXxYy", "АаВСсЕеНКМОоРрТХхУу")
ROMAN_LOOKALIKES = str.maketrans(
    {
        "І": "I",
        "Т": "I",
        "1": "I",
        "l": "I",
        "Х": "X",
        "У": "V",
        "С": "C",
        "М": "M",
        "П": "II",
        "И": "II",
        "Ш": "III",
    }
)
# A word of the period's texts seen fewer times than this (`уп`, `хх`, `ху`: Roman numerals misread in
# the corpus's own text layer) and unknown to pymorphy3 is no evidence against a Roman numeral.
ROMAN_WORD_MIN_FREQUENCY = 10
ROMAN_CONTEXT = re.compile(
    r"^(съезд|конференц|пленум|интернационал|век|конгресс|том|глав|част|кн|т$|ч$|гл$|созыв|сесси)", re.I
)


@dataclass(frozen=True)
class Decision:
    corrected: str
    reason: str
    confidence: float
    candidates: tuple[str, ...] = ()


def split_token(text: str) -> tuple[str, str, str]:
    """(leading punctuation, the word, trailing punctuation)."""
    match = _TOKEN.match(text)
    return (match.group(1), match.group(2), match.group(3)) if match else ("", text, "")


def restore_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


class Corrector:
    def __init__(
        self, lexicon: Lexicon, *, modernise: bool = False, document_text: Iterable[str] = ()
    ) -> None:
        """`document_text`: the words of the whole document, when known (`archocr correct`). A name
        the document spells the same way twice is taken as right, and is evidence for its misreadings."""
        self.lexicon = lexicon
        self.modernise = modernise
        counts = Counter(fold(split_token(w)[1]) for w in document_text if split_token(w)[1][:1].isupper())
        self.document_names = {w: c for w, c in counts.items() if c >= 2 and len(w) > 2}
        # Names the document spells elsewhere, as evidence for their misreadings (СМЕРНОВ / Смирнов).
        self._document_choices = [
            w for w, c in counts.items() if len(w) > 2 and (c >= 2 or lexicon.is_word(w))
        ]
        self.confusion_cost: dict[tuple[str, str], float] = {}
        for c in lexicon.confusions:
            key = (c.seen, c.meant)
            self.confusion_cost[key] = min(c.cost, self.confusion_cost.get(key, 9.0))
        # By first letter of what Tesseract saw: a word is scanned once, not once per confusion. The
        # pre-1918 table adds what only pages in the old orthography need (ѣ read as Б or $).
        self._modern_confusions: dict[str, list[tuple[str, str, float]]] = {}
        self._prereform_confusions: dict[str, list[tuple[str, str, float]]] = {}
        for c in lexicon.confusions:
            entry = (c.seen, c.meant, self.confusion_cost[(c.seen, c.meant)])
            tables = [self._prereform_confusions]
            if not c.prereform:
                tables.append(self._modern_confusions)
            for table in tables:
                if entry not in table.setdefault(c.seen[0], []):
                    table[c.seen[0]].append(entry)
        self.prereform = False  # set per page by correct_page: the page is in the old orthography
        self._sorted_words = sorted(lexicon.words)
        self._list_letters = False  # the page has lettered lists (а) в) г)): a `6)` there is a `б)`
        self._cache: dict[tuple[str, bool], dict[str, float]] = {}

    # --- knowing words ---------------------------------------------------------------------------

    def known(self, word: str) -> bool:
        if not word:
            return True
        if fold(word) in self.document_names or self.lexicon.is_word(word):
            return True
        return "-" in word and all(self.lexicon.is_word(p) for p in word.split("-") if p)

    def near_word(self, word: str) -> bool:
        """A known word, or one misreading from one (a candidate costing NEAR_WORD_COST or less): what
        Tesseract makes of a typed word, not of a word typed over with `х` (see layout._overtyped_unknown)."""
        if self.known(word):
            return True
        return min(self.candidates(fold(word)).values(), default=9.0) <= NEAR_WORD_COST

    def _abbreviation_prefix(self, core: str) -> bool:
        """`недоразум.`, `предприн.`: a word cut short with a full stop, the start of a known word."""
        key = fold(core)
        if len(key) < 2:
            return True
        i = bisect.bisect_left(self._sorted_words, key)
        return i < len(self._sorted_words) and self._sorted_words[i].startswith(key)

    # --- candidates ------------------------------------------------------------------------------

    def _confusion_variants(self, key: str) -> dict[str, float]:
        """Words reachable by one or two known confusions, with their cost."""
        found: dict[str, float] = {}
        frontier = {key: 0.0}
        for _depth in range(2):
            nxt: dict[str, float] = {}
            for word, cost in frontier.items():
                for variant, c in self._one_confusion(word):
                    if cost + c < nxt.get(variant, 9.0):
                        nxt[variant] = cost + c
            for word, cost in nxt.items():
                # One confusion: any word pymorphy3 knows. Two: only words of the period vocabulary,
                # a dictionary look-up, since two-step variants are many and mostly nonsense.
                valid = self.lexicon.is_word(word) if _depth == 0 else fold(word) in self.lexicon.words
                if word != key and cost < found.get(word, 9.0) and valid:
                    found[word] = cost
            if any(self.lexicon.frequency(w) >= 20 for w in found):
                break  # one confusion already reaches a common word: a second step would only add noise
            frontier = nxt if len(nxt) < 400 else {}
        return found

    def _one_confusion(self, word: str) -> Iterator[tuple[str, float]]:
        """Every string one known confusion away from `word`, with its cost."""
        table = self._prereform_confusions if self.prereform else self._modern_confusions
        for start, ch in enumerate(word):
            for seen, meant, cost in table.get(ch, ()):
                if word.startswith(seen, start):
                    yield word[:start] + meant + word[start + len(seen) :], cost

    def weighted_cost(self, seen: str, meant: str) -> float:
        cost = 0.0
        for op in Levenshtein.editops(seen, meant):
            if op.tag == "replace":
                cost += self.confusion_cost.get((seen[op.src_pos], meant[op.dest_pos]), 1.0)
            else:
                cost += 1.0
        return cost

    def _spurious_letter(self, key: str) -> dict[str, float]:
        """Words that pymorphy3 knows, one spurious letter away (`подтвержденэное`): reaches general
        Russian forms that the period vocabulary, and so SymSpell, lacks. Deletions only: inserting or
        replacing any letter would cost hundreds of dictionary look-ups per word."""
        variants = {key[:i] + key[i + 1 :] for i in range(len(key))}
        return {v: 1.0 for v in variants if len(v) > 2 and self.lexicon.morph.word_is_known(v)}

    def candidates(self, key: str) -> dict[str, float]:
        """Candidate corrections of a folded word with their OCR-aware cost (cached: misreads repeat)."""
        cache_key = (key, self.prereform)
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = self._cache[cache_key] = self._candidates(key)
            if len(self._cache) > 50_000:
                self._cache.clear()
        return cached

    def _candidates(self, key: str) -> dict[str, float]:
        found = self._confusion_variants(key)
        if any(c <= 0.5 and self.lexicon.frequency(w) >= 20 for w, c in found.items()):
            return found  # one known confusion onto a common word: SymSpell would only add noise
        if len(key) > 2:
            for s in self.lexicon.symspell.lookup(
                key, Verbosity.ALL, max_edit_distance=2, transfer_casing=False
            ):
                cost = self.weighted_cost(key, s.term)
                if cost < found.get(s.term, 9.0):
                    found[s.term] = cost
        if len(key) > 4 and min(found.values(), default=9.0) > 1.0:
            found.update({w: c for w, c in self._spurious_letter(key).items() if w not in found})
        return found

    def _rank(self, key: str, found: dict[str, float], prev: str | None) -> list[tuple[float, str]]:
        ranked = []
        for cand, cost in found.items():
            freq = self.lexicon.frequency(cand)
            score = cost - 0.15 * math.log10(freq + 1)
            if prev and self.lexicon.bigram(split_token(prev)[1], cand):
                score -= 0.15
            ranked.append((score, cand))
        ranked.sort()
        return ranked

    # --- one word --------------------------------------------------------------------------------

    def correct_word(
        self, text: str, conf: float = -1.0, prev: str | None = None, nxt: str | None = None
    ) -> Decision | None:
        lead, core, trail = split_token(text)
        if core.islower() and fold(core) in self.lexicon.words and not trail.startswith(("}", "]")):
            return None  # the common case, answered before any other test
        if not core or not re.search(r"\w", core):
            return None
        marked = self._markers(text, prev, nxt)
        if marked:
            return marked
        has_cyr, has_lat = bool(_CYRILLIC.search(core)), bool(_LATIN.search(core))

        if trail.startswith("\\") and core == core.upper():  # `Х\/`, `Х\`: the V of XV read as strokes
            rest = trail[2:] if trail.startswith("\\/") else trail[1:]
            roman = self._roman(core + "V", False, prev, nxt)
            if roman:
                return Decision(lead + roman + rest, "roman_numeral", 0.85, (roman,))
        dated = _ROMAN_DATE.match(core)  # 7. ТТТ.23 (a month in Roman numerals, read as letters)
        day = _DAY_ROMAN_DATE.match(core) if not dated else None
        if day:
            roman = self._roman(day.group(2), True, prev, nxt)
            if roman:
                fixed = day.group(1) + roman + day.group(3)
                return Decision(lead + fixed + trail, "roman_numeral", 0.9, (fixed,))
        roman = self._roman(dated.group(1), True, prev, nxt) if dated else self._roman(core, False, prev, nxt)
        if roman:
            fixed = roman + dated.group(2) if dated else roman
            return Decision(lead + fixed + trail, "roman_numeral", 0.9, (fixed,))
        if has_lat and not has_cyr:
            return None  # Latin script (foreign words, Roman numerals): passes through untouched
        if has_lat and has_cyr:
            mapped = core.translate(LATIN_TO_CYRILLIC)
            if not _LATIN.search(mapped) and self.known(mapped):
                return Decision(lead + mapped + trail, "latin_lookalike", 0.95, (mapped,))
            return None
        if not has_cyr:
            return None
        if any(ch.isdigit() for ch in core):
            return self._digits_in_word(lead, core, trail)
        hard = self._capital_hard_sign(lead, core, trail)
        if hard:
            return hard
        if (
            self.lexicon.is_protected(core)
            or self.lexicon.is_protected(core + trail[:1])
            or _INITIALS.match(core)
        ):
            return None
        if self.known(core):
            return self._raised_letter(lead, core, trail) or self._real_word_misread(lead, core, trail)
        if trail.startswith(".") and self._abbreviation_prefix(core):
            return None
        glued = self._glued_abbreviation(lead, core, trail)
        if glued:
            return glued
        return self._by_candidates(lead, core, trail, conf, prev)

    def _real_word_misread(self, lead: str, core: str, trail: str) -> Decision | None:
        """`моту` for `могу`, `пас` for `нас`: a form the morphological dictionary knows but the period's
        texts never use, one known confusion away from a word they use often. Lower case only."""
        if not core.islower() or len(core) < 3 or self.lexicon.frequency(core) > 0:
            return None
        near = {
            w: c
            for w, c in self._one_confusion(fold(core))
            if c <= REAL_WORD_MAX_COST and self.lexicon.frequency(w) >= REAL_WORD_MIN_FREQUENCY
        }
        if len(near) != 1:
            return None
        ((word, cost),) = near.items()
        return Decision(lead + word + trail, "real_word_misread", round(1.0 - cost, 3), (word,))

    def _raised_letter(self, lead: str, core: str, trail: str) -> Decision | None:
        """`коТорой`, `заданиЯм`: a typewriter letter struck above the line (common on carbon copies)
        reads as its capital, which has the same shape. A capital inside a word of small letters is
        lowered when the word is a common one of the period that pymorphy3 takes for no name or
        abbreviation (on the corpus and the tune pages' truth it changed no word)."""
        capitals = sum(c.isupper() for c in core)
        if not _MIXED_CASE.match(core) or 2 * capitals > len(core):
            return None  # a word in capitals with a letter or two read small (`ПОлиТБЮРО`)
        fixed = core[0] + core[1:].lower()
        if self.lexicon.frequency(fixed) < RAISED_LETTER_MIN_FREQUENCY:
            return None
        parses = self.lexicon.morph.parse(fixed.lower())
        if not parses or not parses[0].is_known or any(t in parses[0].tag for t in _PROPER_TAGS):
            return None
        return Decision(lead + fixed + trail, "raised_letter", 0.9, (fixed,))

    def _glued_abbreviation(self, lead: str, core: str, trail: str) -> Decision | None:
        """`письмут.` → `письму т.`: a dotted abbreviation (т., тт., г.) run into the word before it
        when the space between them is narrow, as in typescript. Only when the rest is a common word."""
        if not trail.startswith(".") or not core.islower() or len(core) < 5:
            return None
        for cut in (3, 2, 1):
            head, tail = core[:-cut], core[-cut:]
            if fold(tail) + "." in self.lexicon.dotted and self.lexicon.frequency(head) >= 5:
                fixed = f"{lead}{head} {tail}{trail}"
                return Decision(fixed, "glued_words", 0.75, (f"{head} {tail}.",))
        return None

    def _markers(self, text: str, prev: str | None, nxt: str | None) -> Decision | None:
        """Digits read for letters in the small fixed forms of these papers: `ВКП(6)` and `б)` in lists,
        `о` between words read as `0`, ordinal endings read in capitals (`26-Й`); citation tokens run
        into the number before them (`171.Д.`)."""
        lead, core, trail = split_token(text)
        prev_core = split_token(prev)[1] if prev else ""
        glued = _GLUED_SHORT.match(text)
        if glued and fold(glued.group(2)) in self.lexicon.dotted and fold(text) not in self.lexicon.dotted:
            fixed = f"{glued.group(1)} {glued.group(2)}{glued.group(3)}"  # `ит.д.` → `и т.д.`
            return Decision(fixed, "glued_words", 0.85, (fixed,))
        citation = _GLUED_CITATION.match(text)
        if citation:
            fixed = f"{citation.group(1)} {citation.group(2)}.{citation.group(3)}"
            return Decision(fixed, "glued_words", 0.9, (fixed,))
        party = _PARTY_6.match(text)
        parties = ("ВКП", "РКП", "КП", "РСДРП")
        if party and (party.group(1) in parties or (not party.group(1) and prev_core in parties)):
            fixed = text.replace("(6)", "(б)")
            return Decision(fixed, "digit_for_letter", 0.95, (fixed,))
        if core == "6" and trail.startswith((")", "}")) and self._list_letters:
            return Decision(lead + "б)" + trail[1:], "list_marker", 0.9, ("б)",))
        if len(core) == 1 and core.isalpha() and core.islower() and trail.startswith(("}", "]")) and not lead:
            return Decision(core + ")" + trail[1:], "list_marker", 0.9, (core + ")",))
        if text == "0" and prev_core and nxt and _CYRILLIC.search(prev_core) and _CYRILLIC.search(nxt):
            return Decision("о", "digit_for_letter", 0.85, ("о",))
        ordinal = _ORDINAL_CAPS.match(core)
        if ordinal and not (prev_core.isupper() and len(prev_core) > 2):
            fixed = lead + ordinal.group(1) + ordinal.group(2).lower() + trail
            return Decision(fixed, "ordinal_ending", 0.9, (fixed,))
        return None

    def _capital_hard_sign(self, lead: str, core: str, trail: str) -> Decision | None:
        """`городЪ`, `нашелЬ`: a capital Ъ or Ь inside a lower-case word is how Tesseract's modern model
        reads the pre-1918 final ъ (and, mid-word, often ѣ). Lower-cased, then corrected as usual."""
        if len(core) < 3 or not core[0].islower() or not any(ch in "ЪЬ" for ch in core[1:]):
            return None
        rest = [ch for ch in core if ch not in "ЪЬ"]
        if not all(ch.islower() for ch in rest if ch.isalpha()):
            return None
        fixed = core[:-1].replace("Ъ", "ъ").replace("Ь", "ь") + ("ъ" if core[-1] in "ЪЬ" else core[-1])
        if core[-1] in "ЪЬ" and fixed[-2:-1] in "аеёиоуыэюяѣіь":
            fixed = fixed[:-1] + ("ь" if core[-1] == "Ь" else "ъ")
        if not self.known(fixed):
            further = self._by_candidates(lead, fixed, trail, -1.0, None)
            if further is not None:
                reason = "pre1918_hard_sign"
                return Decision(further.corrected, reason, further.confidence, further.candidates)
        return Decision(lead + fixed + trail, "pre1918_hard_sign", 0.8, (fixed,))

    def _roman(self, core: str, dated: bool, prev: str | None, nxt: str | None) -> str | None:
        """`ХV`, `Х1У`, `ТТТ` read where the page has the Roman numerals XV, XIV, III."""
        in_context = any(w and ROMAN_CONTEXT.match(split_token(w)[1]) for w in (prev, nxt))
        if len(core) == 1 and core in "ПШ" and in_context and not dated:
            return core.translate(ROMAN_LOOKALIKES)  # `П съезд`, `Ш Интернационал`
        if (
            not (1 if dated else 2) <= len(core) <= 7
            or core != core.upper()
            or not any(ch.isalpha() for ch in core)
        ):
            return None  # a lone letter is more often a word or an initial; digits alone are a number
        mapped = core.replace("\\/", "V").replace("\\У", "V").translate(ROMAN_LOOKALIKES)
        if mapped == core or not _ROMAN.match(mapped) or self.lexicon.is_protected(core):
            return None
        if dated or _LATIN.search(core) or any(ch.isdigit() for ch in core):
            return mapped  # no Russian word mixes scripts or digits like this
        if in_context:
            return mapped
        return (
            None
            if self.lexicon.morph.word_is_known(core.lower())
            or self.lexicon.frequency(core) >= ROMAN_WORD_MIN_FREQUENCY
            else mapped
        )

    def _digits_in_word(self, lead: str, core: str, trail: str) -> Decision | None:
        if (
            _NUMBERISH.match(core)
            or sum(ch.isalpha() for ch in core) < 2
            or sum(ch.isdigit() for ch in core) > 1
        ):
            return None
        found = {
            w: c for w, c in self._confusion_variants(fold(core)).items() if not any(ch.isdigit() for ch in w)
        }
        if not found:
            return None
        ranked = self._rank(fold(core), found, None)
        if len(ranked) > 1 and ranked[1][0] - ranked[0][0] < 0.1:
            return None
        word = ranked[0][1]
        return Decision(
            lead + restore_case(core, word) + trail, "digit_for_letter", 0.8, tuple(c for _, c in ranked[:5])
        )

    def _by_candidates(
        self, lead: str, core: str, trail: str, conf: float, prev: str | None
    ) -> Decision | None:
        key = fold(core)
        if len(key) < 3:
            return None  # `Х`, `ш`: too many neighbours to guess from
        sentence_start = (
            prev is None or prev[-1:] in ".!?:" or not prev[-1:].isalnum() and prev[-1:] not in ",;"
        )
        if "-" in key and self.known(key.rsplit("-", 1)[-1]):
            return None  # a compound whose head is a word (`лже-теоретических`): prefixes vary too much
        found = dict(self.candidates(key))
        from_document = self._document_candidates(key) if core[:1].isupper() else set()
        for cand in from_document:
            found[cand] = min(found.get(cand, 9.0), self.weighted_cost(key, cand))
        if not found:
            return self._split_glued(lead, core, trail)
        ranked = self._rank(key, found, prev)
        best_score, best = ranked[0]
        cost = found[best]
        if self._plausible_form(key, best):
            return None
        margin = ranked[1][0] - best_score if len(ranked) > 1 else 1.0
        if len(key) == 3 and (cost > 0.6 or self.lexicon.frequency(best) < 30 or margin < 0.2):
            return None  # a three-letter word: only a known confusion onto a common word
        if core.isupper() and len(core) > 1:
            # Capitals: abbreviations and lists of surnames. Needs Tesseract's own doubt as well.
            frequent = self.lexicon.frequency(best) >= 5
            supported = best in from_document and cost <= 1.0
            if not (supported or (0 <= conf < 80 and frequent and cost <= 1.0 and margin >= 0.3)):
                return None
        elif core[:1].isupper() and not (sentence_start and fold(best) not in self.lexicon.names):
            # A capitalised word mid-sentence is a name or a title: only one known confusion onto a
            # frequent word or name, or Tesseract's own doubt, counts as strong evidence.
            frequent = self.lexicon.frequency(best) >= 10
            doubt = 0 <= conf < 60 or (conf < 0 and margin >= 0.5)
            strong = frequent and (cost <= 0.6 or (doubt and cost <= 1.0))
            if not (best in from_document and cost <= 1.0) and (not strong or margin < 0.3):
                return None
        # Tesseract sure of a word we do not know: only a known confusion may overrule it. Without a
        # confidence (text from other engines) an arbitrary edit needs a frequent candidate.
        if best in from_document and cost <= 1.0:
            limit = 1.0  # the document's own spelling of the name outweighs Tesseract's certainty
        elif conf >= 93:
            limit = 0.45
        elif conf < 0:
            limit = 1.0 if self.lexicon.frequency(best) >= 3 or len(found) == 1 else 0.8
        else:
            limit = 1.0
        if cost > limit or margin < 0.1:
            return self._split_glued(lead, core, trail) if cost > limit else None
        corrected = restore_case(core, best)
        certainty = max(0.0, min(1.0, 1.0 - cost / 2 + min(margin, 0.5) / 2))
        return Decision(
            lead + corrected + trail, "lexicon", round(certainty, 3), tuple(c for _, c in ranked[:5])
        )

    def _plausible_form(self, word: str, candidate: str) -> bool:
        """Whether an unknown word is more likely a real word the dictionaries lack than a misreading:
        a known prefix on a dictionary word (`анти|партийность`, `не|выступление`), or, by pymorphy3's
        guess from its ending, another form of the candidate's own word (`антипартийности`)."""
        morph = self.lexicon.morph
        guess = morph.parse(word)[0]
        methods = guess.methods_stack
        if len(methods) == 2 and type(methods[1][0]).__name__ == "KnownPrefixAnalyzer":
            return True
        return guess.normal_form == morph.parse(candidate)[0].normal_form

    def _document_candidates(self, key: str) -> set[str]:
        if not self._document_choices:
            return set()
        near = process.extract(
            key, self._document_choices, scorer=Levenshtein.distance, score_cutoff=1, limit=3
        )
        return {cand for cand, _dist, _ in near if cand != key}

    def _split_glued(self, lead: str, core: str, trail: str) -> Decision | None:
        """`партиякоторая` → `партия которая`, only when exactly one split gives two real words."""
        if len(core) < 7 or not core.isalpha() or not core.islower():
            return None
        splits = []
        for i in range(5, len(core) - 3):
            left, right = core[:i], core[i:]
            if self.lexicon.frequency(left) >= 5 and self.lexicon.frequency(right) >= 5:
                splits.append((left, right))
        if len(splits) != 1:
            return None
        left, right = splits[0]
        return Decision(f"{lead}{left} {right}{trail}", "glued_words", 0.7, (f"{left} {right}",))

    # --- a page ----------------------------------------------------------------------------------

    def correct_page(self, page: Page) -> Page:
        started = time.perf_counter()
        lines = [list(line.words) for line in page.lines]
        corrections: list[Correction] = []

        def change(li: int, wi: int, new: str, reason: str, confidence: float, candidates=()) -> None:  # type: ignore[no-untyped-def]
            old = lines[li][wi]
            corrections.append(Correction(li, wi, old.text, new, reason, confidence, tuple(candidates)))
            lines[li][wi] = dataclasses.replace(old, text=new)

        self._join_line_end_hyphens(lines, change)
        markers = {w.text for words in lines for w in words if len(w.text) == 2 and w.text[1] == ")"}
        # Lettered lists (а) в) г)) make a `6)` a misread `б)`, unless 5) or 7) show a numbered list.
        self._list_letters = bool(markers & set(LETTER_MARKERS)) and not markers & {"5)", "7)"}
        self.prereform = is_prereform_page([w.text for words in lines for w in words])
        if not self.prereform:
            self._lone_dashes(lines, change)
        joined = {(c.line, c.word) for c in corrections}
        flat = [(li, wi) for li, words in enumerate(lines) for wi in range(len(words))]
        prev: str | None = None
        for position, (li, wi) in enumerate(flat):
            word = lines[li][wi]
            if not word.text or (li, wi) in joined:
                prev = word.text or prev
                continue
            after = flat[position + 1] if position + 1 < len(flat) else None
            nxt = lines[after[0]][after[1]].text if after else None
            decision = self.correct_word(word.text, word.conf, prev, nxt)
            if decision is not None and decision.corrected != word.text:
                change(li, wi, decision.corrected, decision.reason, decision.confidence, decision.candidates)
            if self.modernise:
                current = lines[li][wi].text
                modern = self.modernised(current)
                if modern != current:
                    change(li, wi, modern, "modernised", 1.0, (modern,))
            prev = lines[li][wi].text or prev
        paragraphs, index = [], 0
        for par in page.paragraphs:
            new_lines = []
            for line in par.lines:
                new_lines.append(Line(tuple(lines[index]), line.bbox, line.baseline))
                index += 1
            paragraphs.append(Paragraph(tuple(new_lines), par.bbox, par.block))
        step = Step(
            "correct",
            __version__,
            {"lexicon": self.lexicon.identity, "modernise": self.modernise, "changes": len(corrections)},
            round(time.perf_counter() - started, 4),
        )
        return dataclasses.replace(
            page,
            paragraphs=tuple(paragraphs),
            corrections=page.corrections + tuple(corrections),
            raw_text=page.raw_text if page.raw_text is not None else page.text,
            lexicon=self.lexicon.identity,
            steps=(*page.steps, step),
        )

    def _lone_dashes(self, lines: list[list[Word]], change) -> None:  # type: ignore[no-untyped-def]
        """A dash read as a word of its own (a space either side), or between the two numbers of a
        range, written as the edited texts write it (`EDITED_DASH`): printed pages set it as an en dash,
        which Tesseract reads `-` or `—`."""
        for li, words in enumerate(lines):
            for wi, word in enumerate(words):
                text = word.text
                if text in LONE_DASHES:
                    text = EDITED_DASH
                elif match := _NUMBER_RANGE.match(text):
                    text = match.group(1) + EDITED_DASH + match.group(2)
                if text != word.text:
                    change(li, wi, text, "dash", 0.9, (text,))

    def _join_line_end_hyphens(self, lines: list[list[Word]], change) -> None:  # type: ignore[no-untyped-def]
        """`руко-` / `водством` → `руководством` on the first line; the second part is folded into it.
        Kept hyphenated when both halves are words and the joined form is not (`российско-американского`)."""
        for li in range(len(lines) - 1):
            if not lines[li] or not lines[li + 1]:
                continue
            first, second = lines[li][-1], lines[li + 1][0]
            lead, left, _ = split_token(first.text)
            if not first.text or first.text[-1] not in _HYPHENS or len(first.text) < 3:
                continue
            left = first.text[len(lead) : -1]
            _, right, right_trail = split_token(second.text)
            if not left or not right or not right[:1].islower() or not left[-1:].isalpha():
                continue
            joined = left + right
            if not self.known(joined) and self.known(right):
                joined = f"{left}-{right}"  # a compound broken at its own hyphen (российско-американского)
            change(li, len(lines[li]) - 1, lead + joined + right_trail, "line_end_hyphen", 0.9, (joined,))
            change(li + 1, 0, "", "line_end_hyphen", 0.9, (joined,))

    def __call__(self, page: Page) -> Page:
        return self.correct_page(page)

    def modernised(self, text: str) -> str:
        """Pre-1918 spelling to modern: ѣ→е, і→и, ѳ→ф, ѵ→и, final ъ dropped, -аго/-яго → -ого/-его
        (only when the result is a word and the old form is not a modern word: Чикаго stays)."""
        lead, core, trail = split_token(text)
        if not core or not _CYRILLIC.search(core):
            return text
        modern = modernise_spelling(core)
        lower = modern.lower()
        for old, new in (("аго", "ого"), ("яго", "его")):
            if lower.endswith(old) and len(lower) > 4 and not self.lexicon.morph.word_is_known(lower):
                candidate = modern[:-3] + restore_case(modern[-3:], new)
                if self.lexicon.morph.word_is_known(candidate.lower()):
                    modern = candidate
        return lead + modern + trail if modern != core else text


# --- the stage as the pipeline sees it --------------------------------------------------------------


def is_prereform_page(words: list[str]) -> bool:
    """Whether a page is in the pre-1918 orthography: it shows ѣ or і, or many of its words end in a
    hard sign after a consonant (which Tesseract's modern model prints as ъ, Ъ or Ь)."""
    cores = [split_token(w)[1] for w in words]
    cores = [c for c in cores if len(c) >= 3 and c[:-1].isalpha()]
    if not cores:
        return False
    if sum(1 for c in cores if _OLD_LETTERS.search(c)) >= 2:
        return True
    hard = sum(1 for c in cores if _FINAL_HARD_SIGN.search(c))
    return hard >= 3 and hard / len(cores) >= PREREFORM_HARD_SIGN_SHARE


def lexicon_identity(settings: Settings) -> str:
    return lexicon_identity_of(settings.lexicon)


def page_corrector(settings: Settings) -> Corrector:
    """Load the run's lexicon once (per process) and return the page-correcting callable."""
    return Corrector(load(settings.lexicon), modernise=settings.modernise)
