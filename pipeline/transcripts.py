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


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_MD_FOOTNOTE_LINK = re.compile(r"\[(?:\*\*)?\[\d+\](?:\*\*)?\]\(#_ftn(?:ref)?\d+\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$", re.MULTILINE)


def markdown_to_plain(text: str) -> str:
    """The words of a Markdown transcript without its markup (headings, emphasis, escapes)."""
    text = _MD_FOOTNOTE_LINK.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_RULE.sub("", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return _MD_ESCAPE.sub(r"\1", text)
