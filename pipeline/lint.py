"""A transcript checked on its own (`archocr lint-transcript`): unbalanced brackets, footnote markers
without footnotes, and editorial brackets that went wrong, each with its class:

- `stray_ending`: an ending or letter left alone in brackets (`within 7 [th] days`, `rubles [l]`);
- `duplicate`: the restored letters repeat their neighbour (`social [social]-d[emocrats]`,
  `S[social]`, `national[ional]`);
- `transliterated`: Russian left in Latin letters inside the brackets of an English text (`t[ovar]`,
  `rubles [lei]`), or Latin letters inside a Russian word;
- `case_ending`: a Russian case ending glued to a name (`Andrei[she]`, `K[alini]nu`);
- `half_translated`: a Russian initial with an English word glued to it (`V[military]-G[ruzin]`);
- `translated_initial`: a Russian one-letter preposition translated as a word between two restorations
  (`the [armed] in [the uprising]`, where the editor of the Russian had `в[осстания]`);
- `nonword`: the word the bracket makes is no word of the language (`[omi]siya`).

The joined word is checked against the language of its script (English word list, the period lexicon,
the names the transcript itself uses), and the neighbouring words are looked at. The same checks decide
which brackets the alignment reports as `broken_fragment`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .apparatus import Transcript

BRACKET_CLASSES = (
    "stray_ending",
    "duplicate",
    "transliterated",
    "case_ending",
    "half_translated",
    "translated_initial",
    "nonword",
)

# Short words an editor legitimately supplies in brackets (`tease [with] the answer`, `[в] Москве`).
_SHORT_WORDS = {
    "latin": frozenset(
        "a i an in on at to of by or is as we he it me us my no so if up be do go am and the for not "  # noqa: SIM905
        "but nor was are has had his her its our who she they them that with from".split()
    ),
    "cyrillic": frozenset(
        "и в во к ко с со о об у а но не ни же ли бы за на по до из от я он мы вы их ее её то да уж ж б "  # noqa: SIM905
        "что как его она оно они был".split()
    ),
}
# Ordinal and adjective endings that belong glued to a number or word (`7th`, `5-го`).
_ENDINGS = {
    "latin": {"th", "st", "nd", "rd"},
    "cyrillic": frozenset("го й я е ми х м ю ый ой ая ое ые ых ым ом ей ов ам ами ах".split()),  # noqa: SIM905
}
# Russian endings and syllables as English translations transliterate them (`rub[lei]`, `[ov]`).
_RUSSIAN_IN_LATIN = re.compile(
    r"(?:[lnmvk]?(?:ei|ey|ov|ev|ami|yami|akh|yakh|ykh|ikh|ogo|ego|omu|emu|oi|oy|yi|iy|yy|aya|uyu|yu))"
)
# One-letter Russian prepositions and conjunctions as a translation renders them.
_TRANSLATED_INITIALS = {"in", "into", "with", "to", "about", "and", "at", "on"}
_TRANSLIT = (
    ("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("ya", "я"),
    ("yu", "ю"), ("yo", "ё"), ("ye", "е"), ("iy", "ий"), ("yy", "ый"), ("ei", "ей"), ("ey", "ей"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"),
    ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"),
    ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "ц"), ("j", "й"), ("w", "в"),
    ("x", "кс"), ("q", "к"),
)  # fmt: skip
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_LATIN = re.compile(r"[A-Za-z]")
_NAME = re.compile(r"(?<![\w\[\]])([A-ZА-ЯЁ][a-zа-яё]{2,})(?![\w\[\]])")


def to_cyrillic(latin: str) -> str:
    """A Latin transliteration of Russian back in Cyrillic (BGN/PCGN-like; good enough to look up)."""
    out, i, word = [], 0, latin.lower()
    while i < len(word):
        for lat, cyr in _TRANSLIT:
            if word.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def names_in(text: str) -> set[str]:
    """Capitalised words the transcript writes out in full (outside brackets): its names."""
    return {m.group(1) for m in _NAME.finditer(text)}


@dataclass(frozen=True)
class BracketProblem:
    cls: str  # one of BRACKET_CLASSES
    message: str


def _neighbour_before(text: str, at: int) -> tuple[int, str]:
    """(start, token) of the whitespace-separated token before offset `at` (brackets kept)."""
    end = at
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return start, text[start:end]


def _plain(token: str) -> str:
    return re.sub(r"[\W_]+", "", token.replace("[", "").replace("]", "")).lower()


def bracket_problem(
    text: str,
    start: int,
    end: int,
    word_start: int,
    word_end: int,
    is_word: Callable[[str], bool],
    names: set[str],
) -> BracketProblem | None:
    """What is wrong with the bracket text[start:end] inside its word text[word_start:word_end], or
    None when it is a sound restoration, expansion or insertion."""
    inner = text[start + 1 : end - 1]
    before, after = text[word_start:start], text[end:word_end]
    word = text[word_start:word_end].replace("[", "").replace("]", "")
    letters = re.sub(r"[^\w]", "", inner)
    if not letters or not any(ch.isalpha() for ch in letters):
        return None  # [19]23, [...]: digits and ellipses
    script = "cyrillic" if _CYRILLIC.search(word) else "latin"
    prev_start, prev = _neighbour_before(text, word_start)
    if not before and not after:  # a whole word or phrase supplied by the editor
        if _plain(prev) and _plain(prev) == inner.lower():
            return BracketProblem("duplicate", f"'[{inner}]' repeats the word before it")
        if inner.islower() and " " not in inner and len(inner) <= 3:
            if inner in _ENDINGS[script]:
                return BracketProblem("stray_ending", f"the ending '{inner}' stands alone in brackets")
            if script == "latin" and _RUSSIAN_IN_LATIN.fullmatch(inner):
                return BracketProblem(
                    "transliterated", f"'{inner}' is a Russian ending left in Latin letters"
                )
            if inner not in _SHORT_WORDS[script] and (len(inner) <= 2 or not is_word(inner)):
                return BracketProblem("stray_ending", f"'{inner}' is a stray piece of a word in brackets")
        if script == "latin" and prev.lower() in _TRANSLATED_INITIALS:
            _, before_prev = _neighbour_before(text, prev_start)
            if before_prev.startswith("[") and before_prev.endswith("]"):
                return BracketProblem(
                    "translated_initial",
                    f"'{prev}' between two restorations is a Russian initial translated as a word",
                )
        return None
    head = re.sub(r"[^\w]", "", before)
    if head and len(inner) >= 2:
        repeats_head = inner.lower().startswith(head.lower()) and len(inner) > len(head)
        if repeats_head and head.isalpha() and not is_word(word):
            return BracketProblem("duplicate", f"'[{inner}]' repeats the letters '{head}' before it")
        if head.lower().endswith(inner.lower()):
            return BracketProblem("duplicate", f"'[{inner}]' repeats the end of '{head}'")
    if script == "cyrillic" and _LATIN.search(inner):
        return BracketProblem("transliterated", f"Latin letters '{inner}' inside a Russian word")
    if is_word(word) or word in names:
        return None
    name_like = word[:1].isupper()
    if name_like:
        for cut in range(max(3, len(word) - 3), len(word)):
            if word[:cut] in names:
                return BracketProblem(
                    "case_ending", f"'{word[cut:]}' glued to the name '{word[:cut]}' makes '{word}'"
                )
        if (
            script == "latin"
            and inner.islower()
            and len(inner) >= 3
            and not after
            and len(head) <= 2
            and is_word(inner)
        ):
            return BracketProblem(
                "half_translated", f"the English word '{inner}' glued to the initial '{head}'"
            )
        return None  # an abbreviated name written out: K[alinin], Sots[ialist]
    if script == "latin" and is_russian_word(word, is_word):
        return BracketProblem(
            "transliterated", f"'{word}' is Russian ('{to_cyrillic(word)}') in Latin letters"
        )
    return BracketProblem("nonword", f"'{word}' is no word of the language")


def is_russian_word(latin: str, is_word: Callable[[str], bool]) -> bool:
    return len(latin) >= 3 and is_word(to_cyrillic(latin))


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
            problem = _problem(text, a.word_start, a.word_end, "broken_fragment", f"{a.problem}: {a.message}")
            problem.update({"class": a.problem, "bracket_start": a.start, "bracket_end": a.end})
            problems.append(problem)
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
