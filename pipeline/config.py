"""One Settings object for a run. The CLI's options are read from these fields (see cli.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    lang: str = _opt("rus", "Tesseract language model(s), e.g. 'rus' or 'rus+eng'.")
    dpi: int = _opt(300, "Resolution for rasterising PDF pages.")
    psm: int = _opt(3, "Tesseract page segmentation mode.")
    deskew: bool = _opt(True, "Estimate and correct page skew (up to 15 degrees).")
    orient: bool = _opt(True, "Detect pages turned by 90, 180 or 270 degrees.")
    binarise: str = _opt(
        "auto",
        "Binarisation after flattening the background: 'auto' (smoothing and enlargement chosen from the"
        " page's measured noise, contrast, stroke width and glyph size), 'otsu', 'sauvola' or 'none' (grey).",
    )
    crop_borders: bool = _opt(True, "Crop dark scanner borders.")
    despeckle: bool = _opt(True, "Remove isolated specks after binarisation.")
    correct: bool = _opt(True, "Spell-correct the OCR text against the period lexicon.")
    lexicon: str = _opt("default", "Name of the period lexicon to correct against (see `archocr lexicon`).")
    modernise: bool = _opt(False, "Also modernise pre-1918 spelling (recorded as corrections).")
    page_timeout: float = _opt(300.0, "Seconds one page may take in Tesseract before it is marked failed.")
    max_megapixels: float = _opt(150.0, "Largest image accepted, in megapixels (guards against bombs).")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


MIN_IMAGE_SIDE = 32  # pixels; anything smaller cannot hold a line of text
