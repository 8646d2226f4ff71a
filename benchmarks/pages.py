"""Benchmark pages for the cleaning stage, kept apart from archocr's own synth where it matters.

- `synth_pages`: archocr's own generator (pipeline/synth.py), restricted to a chosen set of its fonts.
- `typed_page` / `carbon_page`: a small generator of its own (not pipeline/synth.py): plain typed pages,
  and the look of a faint carbon copy: a thin typewriter face (strokes eroded to 1-2 px, or a light
  weight), blur, low contrast between ink and paper, noise, specks and a slightly doubled impression.

Fonts, seeds and text are split between the TUNE set (what the cleaning's rules were chosen on) and
the HELD-OUT set (never looked at while tuning): see bench_clean.py.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline import synth

FONT_ROOT = Path("/usr/share/fonts/truetype")


@dataclass(frozen=True)
class BenchPage:
    name: str
    kind: str  # plain / carbon / augraphy / real
    image: np.ndarray  # grey uint8
    text: str  # ground truth
    dpi: int = 300


def font_path(name: str) -> Path:
    found = sorted(FONT_ROOT.rglob(name))
    if not found:
        raise FileNotFoundError(f"font {name} not installed (make setup installs the project's fonts)")
    return found[0]


@contextlib.contextmanager
def synth_fonts(names: tuple[str, ...]) -> Iterator[None]:
    """Make archocr's synth draw only from these font files."""
    fonts = tuple((name, "typewriter" if "Mono" in name or "PTM" in name else "book") for name in names)
    with mock.patch.object(synth, "FONTS", fonts):
        yield


def synth_pages(
    text: str, count: int, seed: int, fonts: tuple[str, ...], kind: str = "plain"
) -> list[BenchPage]:
    with synth_fonts(fonts):
        pages = synth.render_pages(text, count, seed, max_skew=3.0)
    return [
        BenchPage(
            f"synth-{seed}-{i}-{p.params['font'].split('.')[0]}-{'+'.join(p.params['degradations'])}",
            kind,
            p.image,
            p.text,
        )
        for i, p in enumerate(pages)
    ]


def _layout(words: list[str], start: int, font: ImageFont.FreeTypeFont, width: int, lines: int) -> list[str]:
    out, cursor = [], start
    for _ in range(lines):
        line: list[str] = []
        while True:
            word = words[cursor % len(words)]
            if line and font.getlength(" ".join([*line, word])) > width:
                break
            line.append(word)
            cursor += 1
        out.append(" ".join(line))
    return out


def render_ink(
    words: list[str], start: int, font_file: str, rng: np.random.Generator, *, size_pt: float, lines: int
) -> tuple[np.ndarray, list[str]]:
    """Ink coverage (float32, 1 = full ink) of a page of typed lines at 300 dpi, and the lines' text.

    Letters are struck one by one with uneven pressure, as on a typewriter."""
    size = round(size_pt * 300 / 72)
    font = ImageFont.truetype(str(font_path(font_file)), size)
    w, h = 2480, 3508 // 2  # half an A4 page: enough lines to measure, half the Tesseract time
    margin, top = int(rng.integers(180, 260)), int(rng.integers(120, 200))
    spacing = round(size * rng.uniform(1.5, 1.8))
    lines = min(lines, (h - top - 80) // spacing)
    text_lines = _layout(words, start, font, w - 2 * margin, lines)
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for row, line in enumerate(text_lines):
        x, y = float(margin), top + row * spacing
        for char in line:
            draw.text((x, y + float(rng.normal(0, 0.6))), char, font=font, fill=int(rng.uniform(170, 255)))
            x += font.getlength(char)
    return np.asarray(canvas, np.float32) / 255.0, text_lines


def typed_page(
    name: str, words: list[str], start: int, font_file: str, seed: int, kind: str = "plain"
) -> BenchPage:
    """A plain typed page: dark ink on light paper, mild blur and noise."""
    rng = np.random.default_rng(seed)
    ink, lines = render_ink(words, start, font_file, rng, size_pt=float(rng.uniform(10.5, 12.5)), lines=22)
    paper = float(rng.uniform(215, 245))
    image = paper * (1 - ink) + float(rng.uniform(15, 50)) * ink
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.4, 0.9)))
    image += rng.normal(0, float(rng.uniform(2, 7)), image.shape)
    return BenchPage(name, kind, np.clip(image, 0, 255).astype(np.uint8), "\n".join(lines))


def carbon_page(
    name: str, words: list[str], start: int, font_file: str, seed: int, *, thin: bool = True
) -> BenchPage:
    """A faint carbon copy: thin strokes, blur, ink close to the paper's tone, noise, a doubled strike."""
    rng = np.random.default_rng(seed)
    ink, lines = render_ink(words, start, font_file, rng, size_pt=float(rng.uniform(10.5, 12)), lines=22)
    if thin:  # a light, worn impression: strokes eroded towards 1-2 px
        ink = cv2.erode(ink, np.ones((2, 2), np.uint8), iterations=int(rng.integers(1, 3)))
    dx, dy = int(rng.integers(1, 4)), int(rng.integers(0, 2))
    ghost = np.roll(np.roll(ink, dx, axis=1), dy, axis=0)
    ink = np.maximum(ink, ghost * float(rng.uniform(0.25, 0.5)))
    ink = cv2.GaussianBlur(ink, (0, 0), float(rng.uniform(0.6, 1.1)))
    paper_level = float(rng.uniform(195, 235))
    contrast = float(rng.uniform(0.4, 0.75))  # how far the darkest ink gets towards black
    h, w = ink.shape
    fibres = cv2.resize(
        rng.random((h // 60, w // 60)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    paper = paper_level + (fibres - 0.5) * 16
    image = paper * (1 - contrast * ink)
    image += rng.normal(0, float(rng.uniform(5, 12)), image.shape)
    specks = rng.random(image.shape) < float(rng.uniform(0.0002, 0.001))
    image[specks] -= float(rng.uniform(60, 120))
    return BenchPage(name, "carbon", np.clip(image, 0, 255).astype(np.uint8), "\n".join(lines))


def load_folder(folder: Path, kind: str) -> list[BenchPage]:
    """Pages written by another generator: `<stem>.png` (or .jpg/.jpeg) beside `<stem>.gt.txt`."""
    pages = []
    for truth in sorted(folder.glob("*.gt.txt")):
        stem = truth.name[: -len(".gt.txt")]
        candidates = [truth.with_name(stem + ext) for ext in (".png", ".jpg", ".jpeg", ".tif")]
        image = next((p for p in candidates if p.exists()), None)
        if image is None:
            continue
        grey = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        params = truth.with_name(stem + ".json")
        carbon = params.exists() and json.loads(params.read_text(encoding="utf-8")).get("carbon_copy") is True
        pages.append(
            BenchPage(stem, f"{kind}-carbon" if carbon else kind, grey, truth.read_text(encoding="utf-8"))
        )
    return pages
