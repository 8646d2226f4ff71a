"""Post-OCR correction against the period lexicon (placeholder until the corrector lands)."""

from __future__ import annotations

from typing import Any

from .config import Settings


def lexicon_identity(settings: Settings) -> str:
    return "none"


def page_corrector(settings: Settings) -> Any:
    return None
