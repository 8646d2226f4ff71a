"""archocr's exception family. Each class carries the process exit status the CLI turns it into."""

from __future__ import annotations


class ArchocrError(Exception):
    """Base of every error archocr reports to a user. The message names the file and the problem."""

    exit_code = 1

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
        self.reason = message


class UsageError(ArchocrError):
    exit_code = 2


class ScanError(ArchocrError):
    """An input scan cannot be read: corrupt, encrypted, empty, not an image, absurd size."""


class OcrError(ArchocrError):
    """Tesseract failed, crashed or timed out on a page."""


class LexiconError(ArchocrError):
    """A lexicon is missing, empty or malformed."""


class TranscriptError(ArchocrError):
    """A transcript is empty, binary or cannot be decoded."""


class LockedError(ArchocrError):
    """Another run holds the output folder."""

    exit_code = 3
