"""Stable discrepancy ids: the same page and the same two readings at the same place keep their id
across a re-alignment or an OCR rerun, so stored decisions stay attached to what they decided."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def page_identity(document: str, page: int, input_sha256: str = "") -> str:
    """A page: its document, its number and (when the manifest knows it) the SHA-256 of its input."""
    return f"{document}\x1f{page}\x1f{input_sha256}"


def discrepancy_id(page_key: str, d: dict[str, Any]) -> str:
    """Hash of the page identity, the OCR offsets and both readings.

    The kind is left out on purpose: a new lexicon may classify the same difference otherwise, and the
    reviewer's decision is about the readings. Transcript offsets are left out too: correcting one page
    of an edition shifts every later offset of the transcript file, not what this page says."""
    key = json.dumps(
        [page_key, d["ocr_start"], d["ocr_end"], d["ocr_text"], d["transcript_text"]], ensure_ascii=False
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
