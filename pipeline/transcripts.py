"""Reading text files users give us (transcripts, lexicon sources): encodings checked, never guessed."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from .errors import TranscriptError

# The encodings Russian texts of this kind actually come in, tried in this order after UTF-8.
LEGACY_ENCODINGS = ("cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic")


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used). UTF-8 (with or without BOM) first; then a detected legacy Cyrillic encoding."""
    if not data.strip():
        raise TranscriptError("file is empty", path=str(path))
    if b"\x00" in data[:4096]:
        raise TranscriptError("file is binary, not text (it contains NUL bytes)", path=str(path))
    if encoding:
        try:
            return unicodedata.normalize("NFC", data.decode(encoding)), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise TranscriptError(f"cannot be decoded as {encoding}: {exc}", path=str(path)) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return unicodedata.normalize("NFC", data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        raise TranscriptError(
            "is not UTF-8 and matches no Cyrillic encoding (cp1251, KOI8-R, cp866); give --encoding",
            path=str(path),
        )
    return unicodedata.normalize("NFC", str(best)), best.encoding


def read_text(path: Path, encoding: str | None = None) -> str:
    return read_text_with_encoding(path, encoding)[0]


def read_text_with_encoding(path: Path, encoding: str | None = None) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"cannot be read: {exc.strerror}", path=str(path)) from exc
    return decode(data, path, encoding)


# Markdown as the transcripts of this corpus use it: headings, emphasis, escapes, rules, and Word's
# footnote links ([[1]](#_ftn1) in the text, [[1]](#_ftnref1) before the note).
MD_FOOTNOTE_LINK = re.compile(r"\[(?:\*\*)?\[\d+\](?:\*\*)?\]\(#_ftn(?:ref)?\d+\)")
MD_FOOTNOTE_BLOCK = re.compile(r"^\[\[\d+\]\]\(#_ftnref\d+\).*?(?=\n\s*\n|\Z)", re.MULTILINE | re.DOTALL)
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*", re.MULTILINE)
_MD_RULE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(?<![\w*_\\])(\*\*|__|\*|_)(?=\S)")
_MD_EMPHASIS_END = re.compile(r"(?<=\S)(\*\*|__|\*|_)(?![\w*_])")
_MD_ESCAPE = re.compile(r"\\(?=[\\`*_{}\[\]()#+\-.!])")


def markdown_spans(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of the Markdown in a transcript: `markup` (headings, emphasis, escapes,
    rules) and `footnote_marker` (footnote links). Everything else is the transcript's text."""
    spans = [("footnote_marker", m.start(), m.end()) for m in MD_FOOTNOTE_LINK.finditer(text)]
    for pattern in (_MD_HEADING, _MD_RULE, _MD_ESCAPE):
        spans += [("markup", m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()]
    for pattern in (_MD_EMPHASIS, _MD_EMPHASIS_END):
        spans += [("markup", m.start(1), m.end(1)) for m in pattern.finditer(text)]
    return spans


def markdown_to_plain(text: str) -> str:
    """The words of a Markdown transcript without its markup and footnote markers."""
    drop = bytearray(len(text))
    for _, start, end in markdown_spans(text):
        drop[start:end] = b"\x01" * (end - start)
    return "".join(ch for ch, gone in zip(text, drop, strict=True) if not gone)
