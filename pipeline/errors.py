"""archocr's exception family. Each class carries the process exit status the CLI turns it into."""

from __future__ import annotations

import errno


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


class SetupError(ArchocrError):
    """The run cannot start or go on: the output folder cannot be written, the scheduler cannot be reached."""

    exit_code = 4


_OS_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error (a failing disk or a lost network share?)",
}


def failure_reason(exc: BaseException) -> str:
    """What a user reads about one input or page that failed: the one place any exception becomes a reason.

    archocr's own errors already say what is wrong; the environment's (a full disk, a read-only folder) are
    named plainly; anything else is an internal error, with its type so that it can be reported."""
    if isinstance(exc, ArchocrError):
        return exc.reason
    if isinstance(exc, MemoryError):
        return "ran out of memory"
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"could not write or read a file: {_OS_REASONS[exc.errno]}{where}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"file system error: {exc.strerror}{where}"
    return f"internal error: {type(exc).__name__}: {exc}"
