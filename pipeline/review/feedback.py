"""Feedback into correction: what reviewers confirmed goes into the collection's lexicon, so the next
run neither flags nor miscorrects it again.

- words of a confirmed reading (`o`: the scan's, `b`: both, `e`: the typed one, `t`: the transcript's)
  into words.tsv; capitalised ones also into names.txt (names are never changed by the corrector);
- confirmed misreadings (`t` and `e`: the OCR read X where the page says Y) into the collection's
  confusions.txt, as the smallest differing letters (`кн` → `ки`), cheaper the more often confirmed.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .. import lexicon as lexicon_mod
from .export import effective
from .run import Run, run_lexicon
from .store import Store

_WORD = re.compile(r"[А-Яа-яЁёѢѣІіЇїѲѳѴѵA-Za-z]+(?:-[А-Яа-яЁёѢѣІіЇїѲѳѴѵA-Za-z]+)*")
MAX_CONFUSION = 3  # letters on either side: longer differences are rewrites, not misreadings


def words_of(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if len(w) > 1]


def letter_confusion(seen: str, meant: str) -> tuple[str, str] | None:
    """The smallest differing stretch of two readings of one word, or None when it is no misreading."""
    if seen == meant or not seen or not meant:
        return None
    start = 0
    while start < min(len(seen), len(meant)) and seen[start] == meant[start]:
        start += 1
    end = 0
    while end < min(len(seen), len(meant)) - start and seen[-1 - end] == meant[-1 - end]:
        end += 1
    a, b = seen[start : len(seen) - end], meant[start : len(meant) - end]
    if not a or not b or len(a) > MAX_CONFUSION or len(b) > MAX_CONFUSION:
        return None
    return a, b


def collect(run: Run, store: Store) -> tuple[Counter[str], set[str], Counter[tuple[str, str]]]:
    words: Counter[str] = Counter()
    names: set[str] = set()
    confusions: Counter[tuple[str, str]] = Counter()
    for did, dec in effective(store).items():
        d = run.discrepancies.get(did)
        if d is None:  # orphaned: the readings may be out of date
            continue
        confirmed = {
            "o": [d["ocr_text"]],
            "b": [d["ocr_text"], d["transcript_text"]],
            "e": [dec.reading],
            "t": [d["transcript_text"]],
        }.get(dec.action, [])
        for reading in confirmed:
            for w in words_of(reading):
                words[w.lower()] += 1
                if w[0].isupper() and not w.isupper():
                    names.add(w)
        if dec.action in ("t", "e"):
            right = d["transcript_text"] if dec.action == "t" else dec.reading
            seen_words, meant_words = words_of(d["ocr_text"]), words_of(right)
            if len(seen_words) == len(meant_words):
                for seen, meant in zip(seen_words, meant_words, strict=True):
                    pair = letter_confusion(seen, meant)
                    if pair:
                        confusions[pair] += 1
    return words, names, confusions


def feed(run: Run, store: Store, lexicon_name: str, base: str | None = None) -> dict[str, Any]:
    """Merge the confirmed words, names and misreadings into `lexicon_name`; returns what was added."""
    words, names, confusions = collect(run, store)
    if base is None:
        base = run_lexicon(run.folder)
    folder = lexicon_mod.add_reviewed(lexicon_name, words, names, confusions, base=base)
    return {
        "lexicon": str(folder),
        "words": len(words),
        "names": len(names),
        "confusions": len(confusions),
    }
