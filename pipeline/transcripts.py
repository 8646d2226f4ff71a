"""Reading text files users give us (transcripts, lexicon sources): encodings checked, never guessed
blindly: a byte-order mark first, then the encoding the user named, then UTF-8, then legacy Cyrillic."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from .errors import TranscriptError

# The encodings Russian texts of this kind actually come in, tried in this order after UTF-8.
LEGACY_ENCODINGS = ("cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic")


# Byte-order marks, longest first: a UTF-32-LE mark begins with the UTF-16-LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_bom(data: bytes) -> tuple[str, int] | None:
    """(encoding, length of the mark) when the bytes start with a Unicode byte-order mark."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; raises LookupError for an encoding Python does not know."""
    return codecs.lookup(encoding).name


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used). A byte-order mark (UTF-8, UTF-16, UTF-32) decides first, whatever was
    given (it cannot be anything else); then the encoding the user gave; then UTF-8; then a detected
    legacy Cyrillic encoding."""
    bom = sniff_bom(data)
    if bom:
        name, length = bom
        text, used = _decode_as(data[length:], path, name, "it starts with a byte-order mark for")
    elif encoding:
        text, used = _decode_as(data, path, encoding, "read as the given encoding")
    else:
        if b"\x00" in data[:4096]:
            raise TranscriptError(
                "file is binary, not text (it contains NUL bytes; if it is UTF-16 or UTF-32 without a "
                "byte-order mark, give --encoding utf-16-le or the like)",
                path=str(path),
            )
        text, used = _decode_guess(data, path)
    if not text.strip():
        raise TranscriptError("file is empty", path=str(path))
    if "\x00" in text:
        raise TranscriptError(f"file is binary, not text (NUL characters read as {used})", path=str(path))
    return unicodedata.normalize("NFC", text), used


def _decode_as(data: bytes, path: Path, encoding: str, why: str) -> tuple[str, str]:
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise TranscriptError(f"unknown encoding {encoding!r}", path=str(path)) from exc
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            f"cannot be decoded ({why} {encoding}): bytes {data[exc.start : exc.start + 4]!r} at "
            f"offset {exc.start} are not {encoding}",
            path=str(path),
        ) from exc
    return text.removeprefix("\ufeff"), encoding


def _decode_guess(data: bytes, path: Path) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc
    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        line = data.count(b"\n", 0, first_bad.start) + 1
        raise TranscriptError(
            f"is not UTF-8 (byte {data[first_bad.start]:#04x} at offset {first_bad.start}, line {line}: "
            f"{first_bad.reason}) and matches no Cyrillic encoding (cp1251, KOI8-R, cp866); "
            "fix that byte, or give --encoding",
            path=str(path),
        )
    return str(best), best.encoding


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
