"""Synthetic scans: real text rendered into degraded page images with exact ground truth.

A page is typeset line by line in a typewriter or book face with Cyrillic, then aged the way the
archive's scans are: paper texture and tint, uneven lighting, stains, faded and bleeding ink, blur,
noise, page curl, skew, dark scanner borders and JPEG artefacts. Everything is drawn from one
`numpy.random.Generator` seeded per page, so the same seed gives the same pixels.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .files import atomic_write

FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype")
# (file name, style): typewriter faces for typed papers, book faces for printed editions.
FONTS = (
    ("PTM55F.ttf", "typewriter"),
    ("LiberationMono-Regular.ttf", "typewriter"),
    ("DejaVuSansMono.ttf", "typewriter"),
    ("PTF55F.ttf", "book"),
    ("OldStandard-Regular.ttf", "book"),
    ("LiberationSerif-Regular.ttf", "book"),
    ("DejaVuSerif.ttf", "book"),
)
DEGRADATIONS = ("texture", "lighting", "stains", "fade", "bleed", "blur", "noise", "curl", "borders", "jpeg")
PAGE_W, PAGE_H = 2480, 3508  # A4 at 300 dpi
DPI = 300


@dataclass(frozen=True)
class SynthPage:
    image: np.ndarray  # grey uint8
    lines: tuple[str, ...]  # ground truth, one entry per printed line
    params: dict[str, Any] = field(default_factory=dict)
    # Every printed word with the corners of its ink box in this image's pixels (after skew and turn;
    # page curl, when chosen, bends lines away from them by up to 30 px near one edge).
    words: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def available_fonts() -> list[tuple[Path, str]]:
    found: dict[str, Path] = {}
    for root in FONT_DIRS:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                found.setdefault(name, Path(dirpath) / name)
    fonts = [(found[name], style) for name, style in FONTS if name in found]
    if not fonts:
        raise RuntimeError("no Cyrillic fonts found: run `make setup` (fonts-paratype, fonts-dejavu-core)")
    return fonts


def render_pages(
    text: str,
    pages: int,
    seed: int,
    *,
    max_skew: float = 4.0,
    degradations: tuple[str, ...] | None = None,
    style: str | None = None,
    wrap: bool = True,
    turn: int = 0,
) -> list[SynthPage]:
    """Typeset `text` onto up to `pages` pages and degrade them.

    With `wrap`, text that runs out starts again from the beginning so every page is full; without,
    rendering stops at the end of the text. `degradations=None` picks a random mix per page; an
    explicit tuple applies exactly those. `turn` (90, 180, 270) lays the page on its side or upside
    down, clockwise, as a page fed into the scanner the wrong way round.
    """
    words = text.split()
    if not words:
        raise ValueError("no text to render")
    fonts = available_fonts()
    result: list[SynthPage] = []
    cursor = 0
    for index in range(pages):
        if not wrap and cursor >= len(words):
            break
        rng = np.random.default_rng([seed, index])
        candidates = [f for f in fonts if style is None or f[1] == style] or fonts
        font_path, font_style = candidates[int(rng.integers(len(candidates)))]
        page, cursor = _typeset(words, cursor, rng, font_path, font_style, wrap)
        chosen = degradations if degradations is not None else _random_mix(rng)
        angle = float(rng.uniform(-max_skew, max_skew)) if max_skew > 0 else 0.0
        image = _degrade(page["image"], rng, chosen, angle)
        if turn % 360:
            image = np.ascontiguousarray(np.rot90(image, k=-(turn % 360) // 90))
        words_on_page = _place_words(page["words"], angle, turn % 360)
        params = {
            "seed": seed,
            "index": index,
            "font": font_path.name,
            "style": font_style,
            "skew": angle,
            "degradations": list(chosen),
            "turn": turn % 360,
        }
        result.append(SynthPage(image=image, lines=tuple(page["lines"]), params=params, words=words_on_page))
    return result


def _place_words(
    words: list[tuple[str, tuple[float, float, float, float]]], angle: float, turn: int
) -> tuple[tuple[str, tuple[tuple[float, float], ...]], ...]:
    """Word boxes of the upright page carried through the page's skew (`_rotate`) and turn."""
    skew = cv2.getRotationMatrix2D((PAGE_W / 2, PAGE_H / 2), angle, 1.0) if abs(angle) >= 1e-3 else None
    placed = []
    for text, (x0, y0, x1, y1) in words:
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
        if skew is not None:
            corners = corners @ skew[:, :2].T + skew[:, 2]
        xs, ys = corners[:, 0], corners[:, 1]
        if turn == 90:
            xs, ys = PAGE_H - 1 - ys, xs
        elif turn == 180:
            xs, ys = PAGE_W - 1 - xs, PAGE_H - 1 - ys
        elif turn == 270:
            xs, ys = ys, PAGE_W - 1 - xs
        placed.append((text, tuple((float(x), float(y)) for x, y in zip(xs, ys, strict=True))))
    return tuple(placed)


def _random_mix(rng: np.random.Generator) -> tuple[str, ...]:
    count = int(rng.integers(2, 6))
    picked = rng.choice(len(DEGRADATIONS), size=count, replace=False)
    return tuple(DEGRADATIONS[i] for i in sorted(picked))


def _typeset(
    words: list[str], cursor: int, rng: np.random.Generator, font_path: Path, font_style: str, wrap: bool
) -> tuple[dict[str, Any], int]:
    points = float(rng.uniform(11, 13) if font_style == "typewriter" else rng.uniform(10, 12))
    size_px = round(points * DPI / 72)
    font = ImageFont.truetype(str(font_path), size_px)
    spacing = rng.uniform(1.45, 1.9) if font_style == "typewriter" else rng.uniform(1.25, 1.5)
    line_height = round(size_px * spacing)
    margin_x = int(rng.integers(220, 320))
    top = int(rng.integers(240, 340))
    width = PAGE_W - 2 * margin_x
    max_lines = (PAGE_H - top - 260) // line_height

    page = Image.new("L", (PAGE_W, PAGE_H), 255)
    draw = ImageDraw.Draw(page)
    lines: list[str] = []
    boxes: list[tuple[str, tuple[float, float, float, float]]] = []
    y = top
    while len(lines) < max_lines and (wrap or cursor < len(words)):
        indent = size_px * 2 if (not lines or lines[-1].endswith(".")) and rng.random() < 0.5 else 0
        line_words: list[str] = []
        while wrap or cursor < len(words):
            word = words[cursor % len(words)]
            candidate = " ".join([*line_words, word])
            if line_words and font.getlength(candidate) > width - indent:
                break
            line_words.append(word)
            cursor += 1
            if font.getlength(candidate) > width - indent:  # one over-long word on its own line
                break
        line = " ".join(line_words)
        _draw_line(draw, line, margin_x + indent, y, font, font_style, rng)
        start = 0
        for word in line_words:
            start = line.index(word, start)
            left = margin_x + indent + font.getlength(line[:start])
            bl, bt, br, bb = font.getbbox(word)
            boxes.append((word, (left + bl, y + bt, left + br, y + bb)))
            start += len(word)
        lines.append(line)
        y += line_height
    return {"image": np.asarray(page), "lines": lines, "words": boxes}, cursor


def _draw_line(
    draw: ImageDraw.ImageDraw,
    line: str,
    x: int,
    y: int,
    font: ImageFont.FreeTypeFont,
    font_style: str,
    rng: np.random.Generator,
) -> None:
    if font_style != "typewriter":
        draw.text((x, y), line, font=font, fill=int(rng.integers(0, 40)))
        return
    # A typewriter strikes each letter on its own: uneven pressure and a little vertical play.
    pos = float(x)
    for char in line:
        ink = int(np.clip(rng.normal(35, 25), 0, 120))
        draw.text((pos, y + float(rng.normal(0, 0.8))), char, font=font, fill=ink)
        pos += font.getlength(char)


def _degrade(page: np.ndarray, rng: np.random.Generator, chosen: tuple[str, ...], angle: float) -> np.ndarray:
    h, w = page.shape
    ink = (255.0 - page.astype(np.float32)) / 255.0  # 1 where fully inked

    if "bleed" in chosen:
        spread = cv2.GaussianBlur(ink, (0, 0), float(rng.uniform(1.0, 2.0)))
        ink = np.maximum(ink, np.clip(spread * rng.uniform(1.2, 1.6), 0, 1))
    if "fade" in chosen:
        ink *= _low_freq(rng, h, w, lo=float(rng.uniform(0.35, 0.6)), hi=1.0)

    paper = np.full((h, w), float(rng.uniform(225, 250)), np.float32)
    if "texture" in chosen:
        paper += _low_freq(rng, h, w, lo=-18, hi=8) + rng.normal(0, 4, (h, w)).astype(np.float32)
    if "stains" in chosen:
        for _ in range(int(rng.integers(1, 4))):
            paper -= _blob(rng, h, w) * float(rng.uniform(30, 70))
    image = paper * (1.0 - ink) + 20.0 * ink
    if "lighting" in chosen:
        image *= _gradient(rng, h, w, float(rng.uniform(0.55, 0.8)))
    if "blur" in chosen:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.6, 1.3)))
    if "curl" in chosen:
        image = _curl(image, rng)
    image = _rotate(image, angle, fill=float(np.median(paper)))
    if "borders" in chosen:
        image = _borders(image, rng)
    if "noise" in chosen:
        image += rng.normal(0, float(rng.uniform(6, 16)), image.shape).astype(np.float32)
        specks = rng.random(image.shape) < 0.0004
        image[specks] = 30
    out = np.clip(image, 0, 255).astype(np.uint8)
    if "jpeg" in chosen:
        quality = int(rng.integers(25, 60))
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else out
    return out


def _low_freq(rng: np.random.Generator, h: int, w: int, lo: float, hi: float) -> np.ndarray:
    small = rng.random((8, 6)).astype(np.float32)
    field_ = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    field_ = (field_ - field_.min()) / max(float(np.ptp(field_)), 1e-6)
    return lo + (hi - lo) * field_


def _blob(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ry, rx = rng.uniform(80, 400), rng.uniform(80, 400)
    ys, xs = np.ogrid[:h, :w]
    return np.exp(-(((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2)).astype(np.float32)


def _gradient(rng: np.random.Generator, h: int, w: int, darkest: float) -> np.ndarray:
    theta = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xs / w - 0.5) * math.cos(theta) + (ys / h - 0.5) * math.sin(theta)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    return darkest + (1.0 - darkest) * t


def _curl(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lines bend down towards the binding, as on a book pressed onto the glass."""
    h, w = image.shape
    amplitude = float(rng.uniform(10, 30))
    left = bool(rng.random() < 0.5)
    xs = np.arange(w, dtype=np.float32) / w
    edge = (1.0 - xs) if left else xs
    shift = amplitude * np.clip(edge - 0.6, 0, None) ** 2 / 0.16
    map_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    map_y = np.arange(h, dtype=np.float32)[:, None] - shift[None, :]
    return cv2.remap(
        image, map_x, map_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _rotate(image: np.ndarray, angle: float, fill: float) -> np.ndarray:
    if abs(angle) < 1e-3:
        return image
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def _borders(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape
    out = image.copy()
    chosen = rng.random(4) < 0.6
    chosen[int(rng.integers(4))] = True  # at least one edge
    for side, on in zip(("top", "bottom", "left", "right"), chosen, strict=True):
        if on:
            depth = int(rng.integers(20, 90))
            shade = float(rng.uniform(10, 60))
            if side == "top":
                out[:depth] = shade
            elif side == "bottom":
                out[h - depth :] = shade
            elif side == "left":
                out[:, :depth] = shade
            else:
                out[:, w - depth :] = shade
    return out


def write_pages(pages: list[SynthPage], out_dir: Path, stem: str, fmt: str = "png") -> list[Path]:
    """Write page images with their ground truth (`<name>.gt.txt`) and parameters (`<name>.json`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if fmt in ("pdf", "tiff"):
        images = [Image.fromarray(p.image) for p in pages]
        target = out_dir / f"{stem}.{'pdf' if fmt == 'pdf' else 'tif'}"
        extra = {"resolution": DPI} if fmt == "pdf" else {"compression": "tiff_lzw", "dpi": (DPI, DPI)}
        buf = io.BytesIO()
        images[0].save(
            buf, format="PDF" if fmt == "pdf" else "TIFF", save_all=True, append_images=images[1:], **extra
        )
        atomic_write(target, buf.getvalue())
        written.append(target)
        for number, page in enumerate(pages, 1):
            _write_truth(out_dir / f"{stem}.{number:04d}", page)
        return written
    for number, page in enumerate(pages, 1):
        base = out_dir / f"{stem}-{number:04d}"
        ext = "jpg" if fmt == "jpeg" else "png"
        buf = io.BytesIO()
        Image.fromarray(page.image).save(
            buf, format="JPEG" if ext == "jpg" else "PNG", dpi=(DPI, DPI), quality=70, optimize=True
        )
        atomic_write(base.with_suffix(f".{ext}"), buf.getvalue())
        _write_truth(base, page)
        written.append(base.with_suffix(f".{ext}"))
    return written


def _write_truth(base: Path, page: SynthPage) -> None:
    atomic_write(base.with_name(base.name + ".gt.txt"), page.text + "\n")
    atomic_write(base.with_name(base.name + ".json"), json.dumps(page.params, ensure_ascii=False))


# --- transcripts with known discrepancies ------------------------------------------------------------


@dataclass(frozen=True)
class Injection:
    kind: str  # the discrepancy kind the aligner should report
    start: int  # span in the changed transcript (for `extra`: where the removed words were)
    end: int
    note: str
    flavour: str = ""  # which way of making that kind (e.g. `hyphenation` for a normalisation)


# The ways each kind is injected, one entry each: (flavour, expected kind).
INJECTIONS = (
    ("restoration", "restoration"),
    ("expansion", "expansion"),
    ("broken_fragment", "broken_fragment"),  # letters dropped inside brackets: no word
    ("broken_restoration", "broken_fragment"),  # bracketed letters of another word: `п[удержать]`
    ("variant", "variant"),  # another form of the same word
    ("missing", "missing"),
    ("extra", "extra"),
    ("normalisation", "normalisation"),  # ё where the scan has е
    ("hyphenation", "normalisation"),  # `во-вторых` / `вовторых`
    ("case", "normalisation"),  # a word in capitals in the edition
)


def inject_discrepancies(
    text: str,
    rng: np.random.Generator,
    is_word,
    per_kind: int = 1,
    filler: str = "",  # type: ignore[no-untyped-def]
    kinds: tuple[str, ...] | None = None,  # flavours of INJECTIONS to inject (default: all)
) -> tuple[str, list[Injection]]:
    """A transcript of `text` (what the scan shows) with editorial and textual differences injected at
    known places (INJECTIONS, `per_kind` of each): restorations `[ком]иссии`, expansions `тов[арищ]`,
    broken fragments (letters lost inside the brackets, or the bracketed letters of another word),
    substituted word forms, added passages (the scan lacks them: `missing`), removed passages (`extra`
    on the scan), ё where the scan has е, hyphens dropped or added, and words set in capitals
    (`normalisation`). Returns the new text and where each one is."""
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", text)]
    plain = [i for i, (_, _, w) in enumerate(words) if w.isalpha() and w.islower() and len(w) >= 7]
    plain = [i for i in plain if is_word(words[i][2])]
    hyphenated = [i for i, (_, _, w) in enumerate(words) if re.fullmatch(r"[а-яё]+-[а-яё]+", w)]
    order = list(rng.permutation(len(plain)))
    chosen = kinds or [flavour for flavour, _ in INJECTIONS]
    expected = dict(INJECTIONS)
    edits: list[tuple[int, int, str, str, str, str]] = []  # (start, end, replacement, kind, note, flavour)
    used: set[int] = set()

    def take() -> int | None:
        while order:
            i = plain[order.pop()]
            if not any(abs(i - j) < 12 for j in used):
                used.add(i)
                return i
        return None

    filler_words = filler.split() or [w for _, _, w in words]
    others = [w for w in filler_words if w.isalpha() and w.islower() and len(w) >= 7]
    for flavour in list(chosen) * per_kind:
        kind = expected[flavour]
        if flavour == "hyphenation" and hyphenated:
            i = hyphenated.pop(int(rng.integers(len(hyphenated))))
            if any(abs(i - j) < 12 for j in used):
                continue
            used.add(i)
            s, e, w = words[i]
            edits.append((s, e, w.replace("-", ""), kind, w, flavour))
            continue
        i = take()
        if i is None:
            break
        s, e, w = words[i]
        if flavour == "restoration":
            edits.append((s, e, f"[{w[:3]}]{w[3:]}", kind, w, flavour))
        elif flavour == "expansion":
            edits.append((s, e, f"{w[:3]}[{w[3:]}]", kind, w, flavour))
        elif flavour == "broken_fragment":
            if is_word(w[:2] + w[3:5] + w[5:]):
                continue  # the damaged word happens to be a word: no fragment to find
            edits.append((s, e, f"{w[:2]}[{w[3:5]}]{w[5:]}", kind, w, flavour))
        elif flavour == "broken_restoration":
            other = next((o for o in others[int(rng.integers(max(1, len(others)))) :] if o[0] != w[0]), "")
            if not other:
                continue
            edits.append((s, e, f"{w[0]}[{other[1:]}]", kind, f"{w} / {other}", flavour))
        elif flavour == "variant":
            swapped = next((w[:-1] + c for c in "аиуеоы" if c != w[-1] and is_word(w[:-1] + c)), None)
            if swapped is None:
                continue
            edits.append((s, e, swapped, kind, w, flavour))
        elif flavour == "missing":
            start = int(rng.integers(0, max(1, len(filler_words) - 8)))
            passage = " ".join(filler_words[start : start + 6])
            edits.append((e, e, " " + passage, kind, passage, flavour))
        elif flavour == "extra":
            last = min(i + 6, len(words) - 1)
            edits.append((s, words[last][0], "", kind, text[s : words[last][0]], flavour))
        elif flavour == "normalisation":
            if "е" not in w:
                continue
            edits.append((s, e, w.replace("е", "ё", 1), kind, w, flavour))  # the edition marks ё
        elif flavour == "hyphenation":  # no hyphenated word on the page: the edition adds one
            edits.append((s, e, f"{w[:4]}-{w[4:]}", kind, w, flavour))
        elif flavour == "case":
            edits.append((s, e, w.upper(), kind, w, flavour))
    edits.sort()
    out, injections, at, shift = [], [], 0, 0
    for start, end, replacement, kind, note, flavour in edits:
        out.append(text[at:start])
        new_start = start + shift
        out.append(replacement)
        injections.append(Injection(kind, new_start, new_start + len(replacement), note, flavour))
        shift += len(replacement) - (end - start)
        at = end
    out.append(text[at:])
    return "".join(out), injections
