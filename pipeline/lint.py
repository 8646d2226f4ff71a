"""A transcript checked on its own: unbalanced brackets, bracketed fragments that make no word,
footnote markers without footnotes (`archocr lint-transcript`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .apparatus import Transcript


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
