"""One Settings object for a run. The CLI's options are read from these fields (see cli.py).

Each field declares the values it allows (`choices`, or a `min`/`max` range) beside its help; the
CLI builds its option types from the same declarations and Settings checks them on creation, so the
two cannot drift apart and a bad value is refused before any work starts. Values that depend on the
machine (Tesseract's installed languages, the lexicons present) are checked by the CLI when parsing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

# Tesseract's page segmentation modes that produce text: 0 is orientation detection only, 2 is not
# implemented (see `tesseract --help-psm`).
PSM_MODES = (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
BINARISE_METHODS = ("auto", "otsu", "sauvola", "none")


def _opt(
    default: Any,
    help: str,
    *,
    choices: tuple[Any, ...] | None = None,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
) -> Any:
    limits = {"choices": choices, "min": min, "max": max, "min_open": min_open or None}
    declared = {k: v for k, v in limits.items() if v is not None}
    return field(default=default, metadata={"help": help, **declared})


@dataclass(frozen=True)
class Settings:
    lang: str = _opt("rus", "Tesseract language model(s), e.g. 'rus' or 'rus+eng'.")
    dpi: int = _opt(300, "Resolution for rasterising PDF pages.", min=70, max=1200)
    psm: int = _opt(3, "Tesseract page segmentation mode.", choices=PSM_MODES)
    deskew: bool = _opt(True, "Estimate and correct page skew (up to 15 degrees).")
    orient: bool = _opt(True, "Detect pages turned by 90, 180 or 270 degrees.")
    binarise: str = _opt(
        "auto",
        "Binarisation after flattening the background: 'auto' (smoothing and enlargement chosen from the"
        " page's measured noise, contrast, stroke width and glyph size), 'otsu', 'sauvola' or 'none' (grey).",
        choices=BINARISE_METHODS,
    )
    crop_borders: bool = _opt(True, "Crop dark scanner borders.")
    despeckle: bool = _opt(True, "Remove isolated specks after binarisation.")
    layout: bool = _opt(
        True,
        "Find stamps, handwriting, folio and page numbers; keep them out of the text (zones in NNNN.json).",
    )
    correct: bool = _opt(True, "Spell-correct the OCR text against the period lexicon.")
    lexicon: str = _opt("default", "Name of the period lexicon to correct against (see `archocr lexicon`).")
    modernise: bool = _opt(False, "Also modernise pre-1918 spelling (recorded as corrections).")
    page_timeout: float = _opt(
        300.0, "Seconds one page may take in Tesseract before it is marked failed.", min=0, min_open=True
    )
    cleaned_frame: bool = _opt(
        False, "Also write hOCR, ALTO and PAGE-XML with boxes on the cleaned image (NNNN.cleaned.*)."
    )
    pdf_image: str = _opt(
        "original",
        "Image under the PDF's text layer: 'original' (the scan, grey or colour) or 'cleaned' (bilevel).",
        choices=("original", "cleaned"),
    )
    max_megapixels: float = _opt(
        150.0, "Largest image accepted, in megapixels (guards against bombs).", min=0, min_open=True
    )
    max_pages: int = _opt(2000, "Most pages accepted in one input file; a longer one is refused.", min=1)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            problem = value_problem(f, getattr(self, f.name))
            if problem:
                raise ValueError(f"{f.name}: {problem}")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def value_problem(f: dataclasses.Field, value: Any) -> str | None:
    """What is wrong with `value` for the setting `f`, by its declared type and limits; None if nothing."""
    kind = {"bool": bool, "int": int, "float": float, "str": str}[str(f.type)]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return f"{value!r} is not a {kind.__name__}"
    meta = f.metadata
    if "choices" in meta and value not in meta["choices"]:
        return f"{value!r} is not one of {', '.join(str(c) for c in meta['choices'])}"
    if kind in (int, float):
        if kind is float and not math.isfinite(value):
            return f"{value!r} is not a finite number"
        low, high = meta.get("min"), meta.get("max")
        if low is not None and (value <= low if meta.get("min_open") else value < low):
            return f"{value!r} is {'not above' if meta.get('min_open') else 'below'} {low}"
        if high is not None and value > high:
            return f"{value!r} is above {high}"
    if kind is str and not value.strip():
        return "must not be empty"
    return None


MIN_IMAGE_SIDE = 32  # pixels; anything smaller cannot hold a line of text
