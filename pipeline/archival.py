"""Synthetic archival pages: a party document of 1920-30s as the archive's scans show it, with exact truth.

A page is composed in layers of ink on paper, each with its own colour: a printed letterhead, the typed
document (an original, or a faint carbon copy), round and rectangular stamps in violet or blue over the
text, handwritten resolutions, signatures and margin notes, the archive's folio number and a page
number. The layers are mixed like inks (subtractively), skewed by one affine transform and aged; every
zone's polygon goes through the same transform, so boxes are in the final image's pixels.

Ground truth: `lines` is the document's text in reading order (letterhead, secrecy mark, registration,
addressee, headings, body, table rows, typed signature; columns one after another); stamps, handwriting,
folio and page numbers and typed-over (struck) words are zones outside the text. Disjoint font sets
(`tune`, `dev`, `heldout`) and degradation sets keep what the pipeline is tuned on apart from what it is
measured on: the held-out set has degradations of its own, and so has the dev set, drawn another way.
Everything is drawn from generators seeded by the page's seed.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from .errors import SetupError
from .files import atomic_write
from .model import TEXT_ZONE_TYPES
from .synth import DPI, PAGE_H, PAGE_W, _blob, _gradient, _low_freq

FONT_ROOT = "/usr/share/fonts"
PAGE_TYPES = ("letter", "carbon", "stamped", "handwritten", "protocol", "table", "two_columns")
# Made only when asked for by name: the pages of PAGE_TYPES' cycle (the benchmark's) stay as they were.
# `list`: a typed list of names numbered on from an earlier sheet, no rules (`463. КАРМАНОВ И.`).
EXTRA_PAGE_TYPES = ("list",)
ALL_PAGE_TYPES = PAGE_TYPES + EXTRA_PAGE_TYPES
FONTSETS: dict[str, dict[str, tuple[str, ...]]] = {
    # What the pipeline may be tuned on: the faces of the plain generator and of the shared samples.
    "tune": {
        "typewriter": ("PTM55F.ttf", "LiberationMono-Regular.ttf", "DejaVuSansMono.ttf", "FreeMono.ttf"),
        "print": ("PTF55F.ttf", "LiberationSerif-Regular.ttf", "DejaVuSerif.ttf"),
        "heading": ("PTS75F.ttf", "LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
        "stamp": ("PTS75F.ttf", "LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf", "PTN77F.ttf"),
        "hand": ("SteveHand.ttf", "PTF56F.ttf", "LiberationSerif-Italic.ttf"),
    },
    # A second set to develop on, with the tune set's degradations: faces the tune set does not have,
    # to find what it does not show and to check that a change made on it carries over, before the
    # held-out pages are read. Looked at like the tune set; never the held-out benchmark's figure.
    "dev": {
        "typewriter": ("cmuntt.ttf", "JetBrainsMono-Regular.ttf", "Hack-Regular.ttf"),
        "print": ("cmunrm.ttf", "cmunorm.ttf"),
        "heading": ("cmunbx.ttf", "cmunsx.ttf"),
        "stamp": ("cmunsx.ttf", "cmunssdc.ttf", "cmunbbx.ttf"),
        "hand": ("cmunti.ttf", "cmunci.ttf"),
    },
    # Only for measuring: faces no tuned stage has seen.
    "heldout": {
        "typewriter": ("NimbusMonoPS-Regular.otf", "GNUTypewriter.ttf", "Anonymous Pro.ttf"),
        "print": ("NimbusRoman-Regular.otf", "C059-Roman.otf", "P052-Roman.otf", "CharisSIL-Regular.ttf"),
        "heading": ("NimbusSans-Bold.otf", "FreeSansBold.ttf", "URWGothic-Demi.otf"),
        "stamp": (
            "NimbusSans-Bold.otf",
            "NimbusSansNarrow-Bold.otf",
            "FreeSansBold.ttf",
            "URWGothic-Demi.otf",
        ),
        "hand": (
            "Z003-MediumItalic.otf",
            "URWBookman-LightItalic.otf",
            "CharisSIL-Italic.ttf",
            "FreeSerifItalic.ttf",
        ),
    },
}
# The Debian package of each face, for the error message when one is missing.
FONT_PACKAGES = {
    "PTM55F.ttf": "fonts-paratype",
    "PTF55F.ttf": "fonts-paratype",
    "PTF56F.ttf": "fonts-paratype",
    "PTS75F.ttf": "fonts-paratype",
    "PTN77F.ttf": "fonts-paratype",
    "FreeMono.ttf": "fonts-freefont-ttf",
    "FreeSansBold.ttf": "fonts-freefont-ttf",
    "FreeSerifItalic.ttf": "fonts-freefont-ttf",
    "SteveHand.ttf": "fonts-sjfonts",
    "cmuntt.ttf": "fonts-cmu",
    "cmunrm.ttf": "fonts-cmu",
    "cmunorm.ttf": "fonts-cmu",
    "cmunbx.ttf": "fonts-cmu",
    "cmunsx.ttf": "fonts-cmu",
    "cmunssdc.ttf": "fonts-cmu",
    "cmunbbx.ttf": "fonts-cmu",
    "cmunti.ttf": "fonts-cmu",
    "cmunci.ttf": "fonts-cmu",
    "JetBrainsMono-Regular.ttf": "fonts-jetbrains-mono",
    "Hack-Regular.ttf": "fonts-hack",
    "GNUTypewriter.ttf": "fonts-gnutypewriter",
    "Anonymous Pro.ttf": "fonts-anonymous-pro",
    "CharisSIL-Regular.ttf": "fonts-sil-charis",
    "CharisSIL-Italic.ttf": "fonts-sil-charis",
}
# Every set draws from these ...
COMMON_DEGRADATIONS = ("texture", "lighting", "stains", "fade", "bleed", "blur", "noise", "borders", "jpeg")
# ... and the held-out set also from these, never in the tune or dev sets ...
HELDOUT_ONLY = ("show_through", "fold", "holes", "low_res")
# ... and the dev set from these: what a sheet meets that the tune set does not draw, each drawn our
# own way (not the held-out generator's): the sheet's back, shifted between the front's lines and
# stronger; soft creases; worn, unevenly inked type; a coarser scan brought back up. Half the dev
# pages get one, drawn from a generator of their own so that the rest of a dev page is as it was
# without them.
DEV_ONLY = ("verso", "crease", "worn_type", "coarse_scan")
DEGRADATION_SETS = {
    "tune": COMMON_DEGRADATIONS,
    "dev": COMMON_DEGRADATIONS + DEV_ONLY,
    "heldout": COMMON_DEGRADATIONS + HELDOUT_ONLY,
}

# Inks as the colour they leave at full strength on white paper (RGB).
INKS = {
    "black": (28, 26, 30),
    "typed": (35, 33, 40),
    "carbon_violet": (78, 58, 130),
    "carbon_blue": (52, 60, 120),
    "stamp_violet": (110, 62, 165),
    "stamp_blue": (48, 82, 178),
    "pen_blue": (40, 60, 150),
    "pen_black": (30, 30, 40),
    "pen_violet": (90, 50, 140),
    "pencil": (105, 105, 110),
    "pencil_red": (175, 55, 50),
    "pencil_blue": (70, 95, 170),
}
# Characters a face lacks are typed the way a typist without that key would.
SUBSTITUTES = {
    "«": '"',
    "»": '"',
    "„": '"',
    "“": '"',
    "”": '"',
    "Ё": "Е",
    "ё": "е",
    "№": "N",
    "—": "-",
    "–": "-",
}

LETTERHEADS = (
    (
        "Пролетарии всех стран, соединяйтесь!",
        "ВСЕСОЮЗНАЯ КОММУНИСТИЧЕСКАЯ ПАРТИЯ (большевиков)",
        "ЦЕНТРАЛЬНЫЙ КОМИТЕТ",
    ),
    ("Пролетарии всех стран, соединяйтесь!", "ЦЕНТРАЛЬНАЯ КОНТРОЛЬНАЯ КОМИССИЯ ВКП(б)"),
    ("НАРОДНЫЙ КОМИССАРИАТ ИНОСТРАННЫХ ДЕЛ", "С. С. С. Р.", "Москва, Кузнецкий мост, 21"),
    ("ОБЪЕДИНЕННОЕ ГОСУДАРСТВЕННОЕ", "ПОЛИТИЧЕСКОЕ УПРАВЛЕНИЕ", "при СНК СССР"),
    ("Р. С. Ф. С. Р.", "НАРОДНЫЙ КОМИССАРИАТ ПО ВОЕННЫМ И МОРСКИМ ДЕЛАМ", "Секретариат"),
    ("МОСКОВСКИЙ КОМИТЕТ ВКП(б)", "Организационный отдел", "Москва, Старая площадь, 6"),
)
SECRECY = ("Совершенно секретно", "СЕКРЕТНО", "Строго секретно", "Секретно. Лично", "Не для печати")
ADDRESSEES = (
    ("Членам и кандидатам Политбюро",),
    ("Секретарю ЦК ВКП(б)", "тов. Сталину"),
    ("В Секретариат ЦК ВКП(б)",),
    ("Председателю СНК СССР", "тов. Рыкову"),
    ("В Оргбюро ЦК",),
    ("Всем членам ЦК и ЦКК ВКП(б)",),
)
POSTS = ("Зав. Секретным отделом ЦК", "Секретарь ЦК", "Нач. СО ОГПУ", "Управделами СНК", "Пом. секретаря")
SURNAMES = (
    "Молотов",
    "Каганович",
    "Куйбышев",
    "Рудзутак",
    "Ворошилов",
    "Калинин",
    "Томский",
    "Бухарин",
    "Рыков",
    "Киров",
    "Орджоникидзе",
    "Микоян",
    "Андреев",
    "Косиор",
    "Чубарь",
    "Петровский",
    "Ярославский",
    "Шкирятов",
    "Мехлис",
    "Товстуха",
    "Бажанов",
    "Назаретян",
    "Ягода",
    "Менжинский",
    "Литвинов",
    "Чичерин",
    "Карахан",
    "Сокольников",
    "Пятаков",
    "Смилга",
    "Угланов",
    "Сырцов",
)
INITIALS = "АБВГДЕИКЛМНОПРСТФЯ"
RESOLUTIONS = (
    "Согласен",
    "В дело",
    "Лично",
    "Ознакомился",
    "Разослать членам ПБ",
    "В архив",
    "Срочно",
    "Возражаю",
    "За",
    "Не возражаю",
    "Переговорить",
    "К докладу",
    "Вернуть",
    "Ускорить",
)
MARGIN_NOTES = ("?", "NB", "верно", "!", "так", "проверить", "см.", "уточнить", "да", "нет")
ROUND_STAMPS = (
    ("ЦЕНТРАЛЬНЫЙ КОМИТЕТ ВКП(б) * СЕКРЕТНЫЙ ОТДЕЛ *", "№ 3"),
    ("МОСКОВСКИЙ КОМИТЕТ ВКП(б) * ОРГОТДЕЛ *", "*"),
    ("НАРОДНЫЙ КОМИССАРИАТ ИНОСТРАННЫХ ДЕЛ * СССР *", "ДЛЯ ПАКЕТОВ"),
    ("ОБЪЕДИНЕННОЕ ГОСУДАРСТВЕННОЕ ПОЛИТИЧЕСКОЕ УПРАВЛЕНИЕ *", "СЕКРЕТАРИАТ"),
    ("ЦЕНТРАЛЬНАЯ КОНТРОЛЬНАЯ КОМИССИЯ * ВКП(б) *", "ПАРТКОЛЛЕГИЯ"),
)
RECT_STAMPS = (
    ("ЦК ВКП(б)", "СЕКРЕТНЫЙ ОТДЕЛ", "Вх. №", "«   »        193  г."),
    ("ОГПУ", "ОСОБЫЙ СЕКТОР", "Вх. №"),
    ("ПОДЛЕЖИТ ВОЗВРАТУ", "в Особый сектор ЦК"),
    ("КОПИЯ",),
    ("СЕКРЕТАРИАТ ЦКК", "Получено", "Вх. №"),
    ("ПРОВЕРЕНО",),
)
MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


# --- fonts ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _font_index() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for dirpath, _dirs, files in os.walk(FONT_ROOT):
        for name in files:
            found.setdefault(name, Path(dirpath) / name)
    return found


def font_path(name: str) -> Path:
    path = _font_index().get(name)
    if path is None:
        package = FONT_PACKAGES.get(name, "fonts-urw-base35" if name.endswith(".otf") else "fonts-*")
        raise SetupError(f"font {name} not found under {FONT_ROOT}: install {package} (`make setup`)")
    return path


@functools.lru_cache(maxsize=64)
def charset(name: str) -> frozenset[str]:
    """Every character the face has a glyph for (its cmap)."""
    cmap = TTFont(str(font_path(name)), fontNumber=0, lazy=True).getBestCmap() or {}
    return frozenset(chr(code) for code in cmap)


def fit_text(text: str, face: str) -> str:
    """`text` as this face can render it: a missing character is replaced as a typist would (« by ",
    № by N, ё by е) or left out, so the ground truth is what the page shows."""
    have = charset(face)
    out = []
    for char in text:
        if char in have or char == " ":
            out.append(char)
        elif SUBSTITUTES.get(char, "") and all(c in have for c in SUBSTITUTES[char]):
            out.append(SUBSTITUTES[char])
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size)


# --- the page being composed ------------------------------------------------------------------------


@dataclass
class _Zone:
    type: str
    text: str
    points: list[tuple[float, float]]  # polygon in page-frame pixels
    role: str = ""
    lines: list[dict[str, Any]] = field(default_factory=list)  # text zones: {"text", "points"} per line
    info: dict[str, Any] = field(default_factory=dict)


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


class _Canvas:
    """Coverage layers (0..255 uint8, full page) by ink, and the zones drawn so far."""

    def __init__(self) -> None:
        self.layers: dict[str, Image.Image] = {}
        self.zones: list[_Zone] = []

    def layer(self, ink: str) -> Image.Image:
        if ink not in self.layers:
            self.layers[ink] = Image.new("L", (PAGE_W, PAGE_H), 0)
        return self.layers[ink]

    def paste(self, ink: str, patch: np.ndarray, x: int, y: int) -> None:
        """Add a coverage patch at (x, y), clipped to the page; coverages combine by maximum."""
        target = np.asarray(self.layer(ink)).copy()
        h, w = patch.shape
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, PAGE_W), min(y + h, PAGE_H)
        if x1 <= x0 or y1 <= y0:
            return
        sub = patch[y0 - y : y1 - y, x0 - x : x1 - x]
        target[y0:y1, x0:x1] = np.maximum(target[y0:y1, x0:x1], sub)
        self.layers[ink] = Image.fromarray(target)


@dataclass(frozen=True)
class _Typewriter:
    """How one machine types: play of the type bars, keys that strike off their line, ribbon wear."""

    face: str
    size: int
    jitter: float
    p_misaligned: float
    p_double: float
    ink_mean: float
    ink_sd: float
    bad_keys: dict[str, tuple[float, float]]
    slope: float


def _new_typewriter(rng: np.random.Generator, face: str, size: int) -> _Typewriter:
    keys = "аеиорстнлвкмдпуяыгзбчйхжшюцщэфъьё"
    bad = {
        str(keys[int(i)]): (float(rng.normal(0, 1.5)), float(rng.choice([-1, 1]) * rng.uniform(1.5, 3.2)))
        for i in rng.choice(len(keys), size=int(rng.integers(1, 4)), replace=False)
    }
    return _Typewriter(
        face=face,
        size=size,
        jitter=float(rng.uniform(0.4, 1.1)),
        p_misaligned=float(rng.uniform(0.01, 0.04)),
        p_double=float(rng.uniform(0.005, 0.03)),
        ink_mean=float(rng.uniform(190, 240)),
        ink_sd=float(rng.uniform(15, 40)),
        bad_keys=bad,
        slope=float(rng.normal(0, 0.0012)),
    )


def _type_text(
    draw: ImageDraw.ImageDraw, tw: _Typewriter, x: float, y: float, text: str, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Type `text` one key at a time from (x, y); returns its box (left, top, right, bottom)."""
    font = _font(tw.face, tw.size)
    pos = float(x)
    for char in text:
        advance = font.getlength(char)
        if char != " ":
            dx, dy = tw.bad_keys.get(char.lower(), (0.0, 0.0))
            dy += float(rng.normal(0, tw.jitter)) + (pos - x) * tw.slope
            dx += float(rng.normal(0, tw.jitter * 0.6))
            if rng.random() < tw.p_misaligned:
                dy += float(rng.choice([-1, 1]) * rng.uniform(3, 7))
            ink = int(np.clip(rng.normal(tw.ink_mean, tw.ink_sd), 80, 255))
            draw.text((pos + dx, y + dy), char, font=font, fill=ink)
            if rng.random() < tw.p_double:  # the key struck twice, the second a little off
                draw.text(
                    (pos + dx + rng.uniform(1, 3), y + dy + rng.uniform(-2, 2)),
                    char,
                    font=font,
                    fill=ink // 2,
                )
        pos += advance
    left, top, right, bottom = font.getbbox(text or " ")
    pad = 8 + abs(tw.slope) * (pos - x)
    return x + left - 4, y + top - pad, x + max(right, pos - x) + 4, y + bottom + pad


def _print_text(
    draw: ImageDraw.ImageDraw, face: str, size: int, x: float, y: float, text: str, fill: int = 245
) -> tuple[float, float, float, float]:
    font = _font(face, size)
    draw.text((x, y), text, font=font, fill=fill)
    left, top, right, bottom = font.getbbox(text)
    return x + left - 2, y + top - 2, x + right + 2, y + bottom + 2


# --- composing a page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivalPage:
    image: np.ndarray  # RGB uint8, or grey uint8 when converted
    lines: tuple[str, ...]  # the document's text, one printed/typed line per entry, in reading order
    zones: tuple[dict[str, Any], ...]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class _Composer:
    def __init__(
        self, seed: int, fontset: str, words: list[str], page_type: str, furniture: bool = True
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.furniture = furniture
        self.seed = seed
        self.fontset = fontset
        self.fonts = FONTSETS[fontset]
        self.words = words
        self.cursor = int(self.rng.integers(0, max(1, len(words) - 2000)))
        self.page_type = page_type
        self.canvas = _Canvas()
        self.used_fonts: dict[str, str] = {}
        self.carbon = page_type == "carbon"
        self.text_ink = "typed"
        if self.carbon:
            self.text_ink = str(self.rng.choice(["carbon_violet", "carbon_blue"]))
        face = self._pick("typewriter")
        self.tw = _new_typewriter(self.rng, face, int(self.rng.integers(44, 52)))
        self.line_height = int(self.tw.size * self.rng.uniform(1.45, 1.85))
        self.margin_left = int(self.rng.integers(250, 340))
        self.margin_right = int(self.rng.integers(170, 260))
        self.y = int(self.rng.integers(200, 300))
        self.p_struck = float(self.rng.choice([0.0, 0.0, 0.006, 0.015])) if furniture else 0.0
        self.p_underline = float(self.rng.choice([0.0, 0.004, 0.01]))
        self.body_boxes: list[tuple[float, float, float, float]] = []
        self.signature_at: tuple[float, float] | None = None  # where a hand signs above the typed name

    # -- helpers
    def _pick(self, role: str) -> str:
        names = self.fonts[role]
        name = names[int(self.rng.integers(len(names)))]
        self.used_fonts.setdefault(role, name)
        return name

    def _draw(self, ink: str) -> ImageDraw.ImageDraw:
        return ImageDraw.Draw(self.canvas.layer(ink))

    def _take_words(self, count: int) -> list[str]:
        """The next `count` words of the text; fewer where a short text ends."""
        out = self.words[self.cursor : self.cursor + count]
        self.cursor += len(out)
        return out

    def _date(self) -> str:
        day, month, year = (
            int(self.rng.integers(1, 29)),
            int(self.rng.integers(0, 12)),
            int(self.rng.integers(1922, 1939)),
        )
        if self.rng.random() < 0.5:
            return f"«{day}» {MONTHS[month]} {year} г."
        return f"{day}.{ROMAN_MONTHS[month]}.{year % 100} г."

    def _surname_first(self) -> str:
        a, b = self.rng.choice(list(INITIALS), size=2)
        return f"{SURNAMES[int(self.rng.integers(len(SURNAMES)))]} {a}. {b}."

    def _person(self) -> str:
        a, b = self.rng.choice(list(INITIALS), size=2)
        return f"{a}. {b}. {SURNAMES[int(self.rng.integers(len(SURNAMES)))]}"

    def text_zone(
        self, type_: str, lines: list[tuple[str, tuple[float, float, float, float]]], role: str = ""
    ) -> None:
        lines = [(t, b) for t, b in lines if t.strip()]
        if not lines:
            return
        x0 = min(b[0] for _, b in lines)
        y0 = min(b[1] for _, b in lines)
        x1 = max(b[2] for _, b in lines)
        y1 = max(b[3] for _, b in lines)
        self.canvas.zones.append(
            _Zone(
                type_,
                "\n".join(t for t, _ in lines),
                _rect(x0, y0, x1, y1),
                role=role,
                lines=[{"text": t, "points": _rect(*b)} for t, b in lines],
            )
        )

    @property
    def right_edge(self) -> int:
        return PAGE_W - self.margin_right

    # -- typed blocks
    def typed_line(self, text: str, x: float | None = None, align: str = "left") -> tuple[str, tuple]:
        text = fit_text(text, self.tw.face)
        font = _font(self.tw.face, self.tw.size)
        width = font.getlength(text)
        if x is None:
            x = {"left": self.margin_left, "right": self.right_edge - width}.get(
                align, (self.margin_left + self.right_edge - width) / 2
            )
        box = _type_text(self._draw(self.text_ink), self.tw, x, self.y, text, self.rng)
        return text, box

    def secrecy(self) -> None:
        text = SECRECY[int(self.rng.integers(len(SECRECY)))]
        y_keep = self.y
        self.y = int(self.rng.integers(130, 190))
        line, box = self.typed_line(text, align="right")
        if self.rng.random() < 0.5:  # typed in a ruled box
            d = self._draw(self.text_ink)
            d.rectangle([box[0] - 12, box[1] - 6, box[2] + 12, box[3] + 6], outline=200, width=3)
            box = (box[0] - 14, box[1] - 8, box[2] + 14, box[3] + 8)
        self.text_zone("secrecy", [(line, box)])
        self.y = max(y_keep, int(box[3]) + 30)

    def letterhead(self) -> None:
        lines = LETTERHEADS[int(self.rng.integers(len(LETTERHEADS)))]
        face = self._pick("heading")
        result = []
        for text in lines:
            size = int(self.rng.integers(44, 62)) if text.isupper() else int(self.rng.integers(34, 44))
            text = fit_text(text, face)
            font = _font(face, size)
            width = font.getlength(text)
            while width > self.right_edge - self.margin_left:
                size -= 2
                font = _font(face, size)
                width = font.getlength(text)
            x = (self.margin_left + self.right_edge - width) / 2
            box = _print_text(self._draw("black"), face, size, x, self.y, text)
            result.append((text, box))
            self.y += int(size * 1.35)
        self.text_zone("letterhead", result)
        d = self._draw("black")
        d.line([self.margin_left - 40, self.y + 10, self.right_edge + 40, self.y + 10], fill=235, width=4)
        self.y += 60

    def registration(self) -> None:
        number = f"№ {int(self.rng.integers(10, 99999))}{self.rng.choice(['/с', '/ос', '', '/сс'])}"
        if self.rng.random() < 0.5:
            prefix = str(self.rng.choice(["Исх. ", "", "Вх. "]))
            a = self.typed_line(prefix + number)
            b = self.typed_line(self._date(), align="right")
            self.text_zone(
                "registration",
                [(a[0] + " " + b[0], (a[1][0], min(a[1][1], b[1][1]), b[1][2], max(a[1][3], b[1][3])))],
            )
            self.y += self.line_height
        else:
            a = self.typed_line(number)
            self.y += self.line_height
            b = self.typed_line(self._date())
            self.y += self.line_height
            self.text_zone("registration", [a, b])
        self.y += self.line_height // 2

    def addressee(self) -> None:
        lines = ADDRESSEES[int(self.rng.integers(len(ADDRESSEES)))]
        upper = self.rng.random() < 0.4
        x = self.margin_left + (self.right_edge - self.margin_left) * 0.5
        out = []
        for text in lines:
            out.append(self.typed_line(text.upper() if upper else text, x=x))
            self.y += self.line_height
        self.text_zone("addressee", out)
        self.y += self.line_height // 2

    def heading(self, lines: list[str]) -> None:
        out = []
        for text in lines:
            out.append(self.typed_line(text, align="centre"))
            self.y += self.line_height
        self.text_zone("heading", out)
        self.y += self.line_height // 3

    def body(self, words: int, bottom: int, given: list[str] | None = None) -> None:
        """Typed paragraphs of `words` words of corpus text (or the `given` words) down to `bottom`."""
        left, right = self.margin_left, self.right_edge
        font = _font(self.tw.face, self.tw.size)
        space = font.getlength(" ")
        source = [fit_text(w, self.tw.face) for w in (given or self._take_words(words))]
        source = [w for w in source if w]
        lines: list[tuple[str, tuple]] = []
        i = 0
        indent = self.tw.size * 2.5
        while i < len(source) and self.y + self.line_height < bottom:
            x = left + indent
            start_x, parts, struck_here = x, [], []
            while i < len(source):
                word = source[i]
                need = font.getlength(word)
                if parts and x + need > right:
                    break
                struck = self.rng.random() < self.p_struck and len(word) > 2
                box = _type_text(self._draw(self.text_ink), self.tw, x, self.y, word, self.rng)
                if struck:  # typed over with х, as a typist cancelled a word
                    _type_text(self._draw(self.text_ink), self.tw, x, self.y, "х" * len(word), self.rng)
                    struck_here.append((word, box))
                else:
                    parts.append(word)
                    if self.rng.random() < self.p_underline:
                        d = self._draw(self.text_ink)
                        base = box[3] - 4
                        d.line(
                            [box[0] + 4, base, box[2] - 4, base + self.rng.normal(0, 2)], fill=210, width=3
                        )
                x += need + space
                i += 1
                sentence_end = word.endswith((".", "!", "?")) and word[:-1].isalpha() and len(word) > 4
                if sentence_end and self.rng.random() < 0.12:
                    break  # a paragraph ends with a sentence (not with a list's "297.")
            if parts or struck_here:
                box = (
                    start_x - 4,
                    self.y + font.getbbox("Ay")[1] - 8,
                    x - space + 4,
                    self.y + font.getbbox("Айу")[3] + 8,
                )
                if parts:
                    lines.append((" ".join(parts), box))
                for word, wbox in struck_here:
                    self.canvas.zones.append(
                        _Zone("struck", word, _rect(*wbox), info={"overtyped": "х" * len(word)})
                    )
                self.body_boxes.append(box)
            ended = bool(parts) and parts[-1].endswith((".", "!", "?")) and parts[-1][:-1].isalpha()
            ended = ended and x < right - 3 * space
            indent = self.tw.size * 2.5 if ended else 0
            self.y += self.line_height + (self.line_height // 3 if ended else 0)
        self.text_zone("body", lines)

    def typed_signature(self) -> None:
        self.y += self.line_height
        post = POSTS[int(self.rng.integers(len(POSTS)))]
        a = self.typed_line(post)
        b = self.typed_line(self._person(), align="right")
        self.text_zone(
            "body",
            [(a[0] + " " + b[0], (a[1][0], min(a[1][1], b[1][1]), b[1][2], max(a[1][3], b[1][3])))],
            role="typed_signature",
        )
        self.signature_at = (b[1][0] - 500, b[1][1] - 90)
        self.y += self.line_height

    def typed_list(self, bottom: int) -> None:
        """Names numbered on from an earlier sheet, one a row down to `bottom`, indented, without rules:
        a space between the number and the name, as a typist sets them (`463. КАРМАНОВ И.`)."""
        first = int(self.rng.integers(1, 700))
        x = self.margin_left + int(self.rng.integers(0, 300))
        capitals = self.rng.random() < 0.7
        rows = []
        while self.y < bottom:
            name = str(SURNAMES[int(self.rng.integers(len(SURNAMES)))])
            initials = " ".join(
                f"{i}." for i in self.rng.choice(list(INITIALS), size=int(self.rng.integers(0, 3)))
            )
            text = f"{first + len(rows)}. {name.upper() if capitals else name} {initials}".strip()
            rows.append(self.typed_line(text, x=x))
            self.y += self.line_height
        self.text_zone("table", rows)
        self.y += self.line_height // 2

    def table(self, rows: int) -> None:
        cols = [self.margin_left, self.margin_left + 150, self.margin_left + 1050, self.margin_left + 1450]
        d = self._draw(self.text_ink)
        top = self.y - 12
        header = ["№", "Фамилия, имя, отчество", "№ билета", "Стаж"]
        out = []
        for r in range(rows + 1):
            cells = (
                header
                if r == 0
                else [
                    f"{r}.",
                    self._surname_first(),
                    str(int(self.rng.integers(1000, 999999))),
                    f"{int(self.rng.integers(1, 30))},{int(self.rng.integers(0, 10))}",
                ]
            )
            cells = [fit_text(c, self.tw.face) for c in cells]
            boxes = [
                _type_text(d, self.tw, x + 10, self.y, c, self.rng) for x, c in zip(cols, cells, strict=True)
            ]
            out.append(
                (
                    " ".join(cells),
                    (boxes[0][0], min(b[1] for b in boxes), boxes[-1][2], max(b[3] for b in boxes)),
                )
            )
            self.y += self.line_height
            d.line([cols[0], self.y - 16, self.right_edge, self.y - 16], fill=190, width=2)
        for x in [*cols, self.right_edge]:
            d.line([x, top, x, self.y - 16], fill=190, width=2)
        d.line([cols[0], top, self.right_edge, top], fill=190, width=2)
        self.text_zone("table", [(t, b) for t, b in out])
        self.y += self.line_height // 2

    def two_columns(self, bottom: int) -> None:
        face = self.tw.face
        size = int(self.rng.integers(38, 46))
        font = _font(face, size)
        gap = int(self.rng.integers(60, 110))
        mid = (self.margin_left + self.right_edge) // 2
        spans = [(self.margin_left, mid - gap // 2), (mid + gap // 2, self.right_edge)]
        line_h = int(size * self.rng.uniform(1.2, 1.4))
        top = self.y
        source = [w for w in (fit_text(w, face) for w in self._take_words(900)) if w]
        i = 0
        d = self._draw("black")
        for left, right in spans:
            y = top
            out = []
            while y + line_h < bottom and i < len(source):
                parts, x = [], left
                while i < len(source):
                    need = font.getlength(source[i])
                    if parts and x + need > right:
                        break
                    parts.append(source[i])
                    x += need + font.getlength(" ")
                    i += 1
                text = " ".join(parts)
                box = _print_text(d, face, size, left, y, text, fill=int(self.rng.integers(220, 252)))
                out.append((text, box))
                y += line_h
            self.text_zone("column", out)
        self.y = bottom

    # -- furniture
    def folio(self) -> None:
        if not self.furniture:
            return
        number = str(int(self.rng.integers(1, 400)))
        if self.rng.random() < 0.2:
            number += " об."
        x, y = int(self.rng.integers(2020, 2200)), int(self.rng.integers(20, 60))
        if self.rng.random() < 0.5:
            self.handwriting(number, x, y, "folio", role="", size=int(self.rng.integers(60, 80)), tilt=3)
        else:  # a numbering machine's stamp
            face = self._pick("stamp")
            patch = _text_patch(face, 52, number)
            ink = str(self.rng.choice(["stamp_violet", "black"]))
            self.canvas.paste(ink, _stamp_texture(patch, self.rng), x, y)
            self.canvas.zones.append(
                _Zone("folio", number, _rect(x, y, x + patch.shape[1], y + patch.shape[0]), info={"ink": ink})
            )

    def page_number(self, bottom: bool) -> None:
        if not self.furniture:
            return
        number = int(self.rng.integers(2, 400))
        text = f"– {number} –" if self.rng.random() < 0.6 else f"- {number} -"
        y_keep = self.y
        self.y = PAGE_H - int(self.rng.integers(150, 220)) if bottom else int(self.rng.integers(60, 120))
        text, box = self.typed_line(text, align="centre")
        self.canvas.zones.append(_Zone("page_number", text, _rect(*box)))
        self.y = y_keep

    def handwriting(
        self,
        text: str,
        x: int,
        y: int,
        type_: str = "handwriting",
        role: str = "",
        size: int = 64,
        tilt: float = 8,
        right_limit: int | None = None,
    ) -> None:
        if not self.furniture:
            return
        face = self._pick("hand")
        text = fit_text(text, face)
        if not text.strip():
            return
        patch = _hand_patch(face, size, text, self.rng)
        if role == "signature":  # the flourish that runs on from the initials
            patch = _flourish(patch, self.rng)
        patch, poly = _handwritten(patch, self.rng, tilt)
        if right_limit is not None:  # a margin note stays in the margin
            x = max(0, min(x, right_limit - patch.shape[1]))
        ink = str(
            self.rng.choice(["pen_blue", "pen_black", "pen_violet", "pencil", "pencil_red", "pencil_blue"])
        )
        if type_ == "folio":
            ink = str(self.rng.choice(["pencil", "pen_black", "pen_blue"]))
        self.canvas.paste(ink, patch, x, y)
        points = [(x + px, y + py) for px, py in poly]
        self.canvas.zones.append(_Zone(type_, text, points, role=role, info={"ink": ink, "font": face}))

    def stamp(self, x: int, y: int, shape: str | None = None) -> None:
        if not self.furniture:
            return
        shape = shape or str(self.rng.choice(["round", "rect"]))
        face = self._pick("stamp")
        ink = str(self.rng.choice(["stamp_violet", "stamp_blue"]))
        if shape == "round":
            ring, centre = ROUND_STAMPS[int(self.rng.integers(len(ROUND_STAMPS)))]
            ring, centre = fit_text(ring, face), fit_text(centre, face)
            radius = int(self.rng.integers(180, 250))
            patch = _round_stamp(face, ring, centre, radius)
            text = f"{ring}\n{centre}".strip()
        else:
            lines = RECT_STAMPS[int(self.rng.integers(len(RECT_STAMPS)))]
            lines = tuple(fit_text(t, face) for t in lines)
            patch = _rect_stamp(face, lines, int(self.rng.integers(40, 56)))
            text = "\n".join(t for t in lines)
        angle = float(self.rng.uniform(-25, 25) if shape == "round" else self.rng.uniform(-9, 9))
        patch, poly = _rotate_patch(patch, angle, circle=shape == "round")
        self.canvas.paste(ink, _stamp_texture(patch, self.rng), x, y)
        self.canvas.zones.append(
            _Zone(
                "stamp",
                " ".join(text.replace("*", " ").split()),
                [(x + px, y + py) for px, py in poly],
                role=shape,
                info={"ink": ink, "font": face, "angle": round(angle, 2)},
            )
        )
        if shape == "rect" and "Вх. №" in text and self.rng.random() < 0.7:  # the number written into it
            self.handwriting(
                str(int(self.rng.integers(100, 9999))),
                x + patch.shape[1] // 2,
                y + patch.shape[0] // 3,
                role="stamp_fill",
                size=56,
                tilt=4,
            )

    def over_body(self) -> tuple[int, int]:
        """A place for a stamp that covers typed lines."""
        if not self.body_boxes:
            return int(self.rng.integers(300, 1800)), int(self.rng.integers(600, 2800))
        box = self.body_boxes[int(self.rng.integers(len(self.body_boxes)))]
        return int(self.rng.uniform(box[0], max(box[0] + 1, box[2] - 400))), int(
            box[1] - self.rng.uniform(50, 200)
        )


def _text_patch(face: str, size: int, text: str, pad: int = 10) -> np.ndarray:
    font = _font(face, size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=255)
    return np.asarray(img)


def _hand_patch(face: str, size: int, text: str, rng: np.random.Generator) -> np.ndarray:
    """Written letter by letter: each a little bigger or smaller, turned, off the line, the line itself
    drifting, the way a hand writes and a font does not."""
    scale = [float(rng.uniform(0.88, 1.12)) for _ in text]
    advance = [
        _font(face, max(8, round(size * k))).getlength(ch) * rng.uniform(0.9, 1.05)
        for ch, k in zip(text, scale, strict=True)
    ]
    pad = size
    width, height = int(sum(advance)) + 2 * pad, int(size * 1.6) + 2 * pad
    img = Image.new("L", (width, height), 0)
    x, drift = float(pad), 0.0
    for ch, k, adv in zip(text, scale, advance, strict=True):
        drift += float(rng.normal(0, size * 0.025))
        if ch != " ":
            font = _font(face, max(8, round(size * k)))
            glyph = Image.new("L", (size * 3, size * 3), 0)
            ImageDraw.Draw(glyph).text((size * 1.5, size * 1.5), ch, font=font, fill=255, anchor="ls")
            glyph = glyph.rotate(
                float(rng.normal(0, 4)), resample=Image.BILINEAR, center=(size * 1.5, size * 1.5)
            )
            img.paste(255, (int(x - size * 1.5), int(pad + size * 1.1 + drift - size * 1.5)), glyph)
        x += adv
    return np.asarray(img)


def _flourish(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = patch.shape
    extra = int(rng.integers(150, 320))
    out = np.zeros((h, w + extra), np.uint8)
    out[:, :w] = patch
    xs = np.linspace(w * 0.8, w + extra - 10, 40)
    ys = h * 0.6 + np.sin(np.linspace(0, rng.uniform(3, 9), 40)) * h * 0.2 + np.linspace(0, -h * 0.2, 40)
    pts = np.column_stack([xs, ys]).astype(np.int32)
    cv2.polylines(out, [pts], False, 255, int(rng.integers(3, 6)), cv2.LINE_AA)
    return out


def _handwritten(patch: np.ndarray, rng: np.random.Generator, tilt: float) -> tuple[np.ndarray, list]:
    """Pen on paper: a slant, a wobble of the hand, an uneven stroke, a line that climbs or falls."""
    h, w = patch.shape
    pad = h // 2
    img = cv2.copyMakeBorder(patch, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    hh, ww = img.shape
    shear = float(rng.uniform(-0.3, 0.1))
    matrix = np.float32([[1, shear, -shear * hh / 2], [0, 1, 0]])
    img = cv2.warpAffine(img, matrix, (ww, hh))
    amp = float(rng.uniform(1.5, 4.0))
    dx = (
        cv2.resize(rng.normal(0, 1, (4, 8)).astype(np.float32), (ww, hh), interpolation=cv2.INTER_CUBIC) * amp
    )
    dy = (
        cv2.resize(rng.normal(0, 1, (4, 8)).astype(np.float32), (ww, hh), interpolation=cv2.INTER_CUBIC) * amp
    )
    gx, gy = np.meshgrid(np.arange(ww, dtype=np.float32), np.arange(hh, dtype=np.float32))
    img = cv2.remap(img, gx + dx, gy + dy, cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        img = cv2.dilate(img, np.ones((2, 2), np.uint8))
    img, poly = _rotate_patch(img, float(rng.uniform(-tilt, tilt / 2)))
    return img, _ink_hull(img) or poly


def _ink_hull(patch: np.ndarray) -> list[tuple[float, float]]:
    ys, xs = np.nonzero(patch > 40)
    if len(xs) < 3:
        return []
    hull = cv2.convexHull(np.column_stack([xs, ys]).astype(np.int32))
    return [(float(px), float(py)) for px, py in hull[:, 0, :]]


def _rotate_patch(patch: np.ndarray, angle: float, circle: bool = False) -> tuple[np.ndarray, list]:
    h, w = patch.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(patch, matrix, (nw, nh))
    if circle:
        r = min(h, w) / 2
        poly = [
            (nw / 2 + r * math.cos(t), nh / 2 + r * math.sin(t))
            for t in np.linspace(0, 2 * math.pi, 24, endpoint=False)
        ]
    else:
        corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], np.float64)
        poly = [(float(px), float(py)) for px, py in corners @ matrix.T]
    return out, poly


def _round_stamp(face: str, ring: str, centre: str, radius: int) -> np.ndarray:
    size = 2 * radius + 20
    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    c = size / 2
    d.ellipse([c - radius, c - radius, c + radius, c + radius], outline=255, width=6)
    inner = radius * 0.66
    d.ellipse([c - inner, c - inner, c + inner, c + inner], outline=255, width=4)
    text_r = (radius + inner) / 2
    letter = max(int(radius * 0.2), 20)
    while (
        letter > 14 and sum(_font(face, letter).getlength(ch) for ch in ring) * 1.05 > 1.9 * math.pi * text_r
    ):
        letter -= 1  # the ring's text goes once round, not over itself
    font = _font(face, letter)
    # spread the letters evenly round most of the ring, centred on its top
    spacing = min(2.0, 0.93 * 2 * math.pi * text_r / max(sum(font.getlength(ch) for ch in ring), 1.0))
    angle = -math.pi / 2 - sum(font.getlength(ch) for ch in ring) * spacing / text_r / 2
    for ch in ring:
        adv = font.getlength(ch) * spacing
        theta = angle + adv / 2 / text_r
        if ch != " ":
            glyph = Image.new("L", (letter * 2, letter * 2), 0)
            ImageDraw.Draw(glyph).text((letter, letter), ch, font=font, fill=255, anchor="mm")
            glyph = glyph.rotate(-math.degrees(theta) - 90, resample=Image.BILINEAR)
            gx, gy = c + text_r * math.cos(theta) - letter, c + text_r * math.sin(theta) - letter
            img.paste(255, (int(gx), int(gy)), glyph)
        angle += adv / text_r
    if centre:
        fsize = max(int(inner * 0.28), 18)
        while _font(face, fsize).getlength(centre) > inner * 1.7 and fsize > 12:
            fsize -= 2
        d.text((c, c), centre, font=_font(face, fsize), fill=255, anchor="mm")
    return np.asarray(img)


def _rect_stamp(face: str, lines: tuple[str, ...], size: int) -> np.ndarray:
    font = _font(face, size)
    width = int(max(font.getlength(t) for t in lines)) + 60
    line_h = int(size * 1.35)
    height = line_h * len(lines) + 40
    img = Image.new("L", (width + 12, height + 12), 0)
    d = ImageDraw.Draw(img)
    d.rectangle([6, 6, width + 6, height + 6], outline=255, width=6)
    for i, t in enumerate(lines):
        d.text((6 + width / 2, 26 + line_h * i + line_h / 2), t, font=font, fill=255, anchor="mm")
    return np.asarray(img)


def _stamp_texture(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven inking of a rubber stamp: a pressure gradient, worn spots and a little spread."""
    h, w = patch.shape
    pressure = _low_freq(rng, h, w, lo=float(rng.uniform(0.5, 0.8)), hi=1.0)
    worn = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 2.0)
    worn = np.clip((worn - 0.42) * 6, 0, 1)
    spread = cv2.GaussianBlur(patch.astype(np.float32), (0, 0), float(rng.uniform(0.6, 1.4)))
    strength = float(rng.uniform(0.75, 1.0))
    return np.clip(spread * pressure * (0.55 + 0.45 * worn) * strength, 0, 255).astype(np.uint8)


# --- page types ---------------------------------------------------------------------------------------


def _compose(c: _Composer) -> None:
    rng = c.rng
    kind = c.page_type
    bottom = PAGE_H - int(rng.integers(330, 480))
    if kind == "two_columns":  # a printed page: headings and page number in the book's face, no typing
        c.tw = _Typewriter(c._pick("print"), int(rng.integers(40, 48)), 0.0, 0.0, 0.0, 235.0, 5.0, {}, 0.0)
        c.page_number(bottom=bool(rng.random() < 0.5))
        c.y = int(rng.integers(230, 300))
        if rng.random() < 0.5:
            c.heading([f"№ {int(rng.integers(1, 400))}"])
        c.two_columns(bottom)
        if rng.random() < 0.5:
            c.stamp(int(rng.integers(300, 1800)), int(rng.integers(600, 2600)), shape="round")
        if rng.random() < 0.5:
            c.folio()
        return
    if rng.random() < 0.85:
        c.folio()
    if kind != "carbon" or rng.random() < 0.3:
        c.secrecy()
    if kind in ("letter", "stamped", "handwritten") or (kind in ("table", "list") and rng.random() < 0.5):
        c.letterhead()
    elif rng.random() < 0.6:  # a later sheet of a longer document
        c.page_number(bottom=False)
    c.registration()
    if kind in ("letter", "carbon", "stamped", "handwritten"):
        c.addressee()
    if kind == "protocol":
        c.heading(
            [f"ПРОТОКОЛ № {int(rng.integers(1, 120))}", f"заседания Политбюро ЦК ВКП(б) от {c._date()}"]
        )
        members = ", ".join(str(s) for s in rng.choice(SURNAMES, size=int(rng.integers(4, 7)), replace=False))
        c.body(0, bottom, given=f"Присутствовали: тт. {members}.".split())
        for item in range(1, 4):
            if c.y > bottom - 600:
                break
            text, box = c.typed_line(f"{item}. Слушали:")
            c.text_zone("body", [(text, box)])
            c.y += c.line_height
            c.body(int(rng.integers(25, 60)), bottom - 700)
            text, box = c.typed_line("Постановили:")
            c.text_zone("body", [(text, box)])
            c.y += c.line_height
            c.body(int(rng.integers(30, 90)), bottom - 300)
    elif kind == "table":
        c.heading([str(rng.choice(["СПИСОК", "СВЕДЕНИЯ", "ВЕДОМОСТЬ"]))])
        c.body(int(rng.integers(40, 90)), bottom - 1100)
        c.table(int(rng.integers(5, 12)))
        c.body(int(rng.integers(80, 200)), bottom - 250)
    elif kind == "list":
        c.heading([str(rng.choice(["СПИСОК", "СПИСОК ЛИЦ", "ПРИЛОЖЕНИЕ"]))])
        c.body(int(rng.integers(15, 50)), bottom - 1200)
        c.typed_list(bottom - 250)
    else:
        c.body(int(rng.integers(240, 420)), bottom - 250)
    c.typed_signature()
    # furniture over and around the text
    stamps = {"stamped": int(rng.integers(3, 5)), "carbon": int(rng.integers(0, 2))}.get(
        kind, int(rng.integers(1, 3))
    )
    if kind == "carbon" and rng.random() < 0.7:
        c.stamp(int(rng.integers(1300, 1900)), int(rng.integers(150, 500)), shape="rect")
    for _ in range(stamps):
        c.stamp(*c.over_body())
    notes = {"handwritten": int(rng.integers(3, 6))}.get(kind, int(rng.integers(0, 2)))
    if rng.random() < 0.8 or kind == "handwritten":
        text = str(rng.choice(RESOLUTIONS))
        if rng.random() < 0.6:
            text += f". {rng.choice(list(INITIALS))}. {str(rng.choice(SURNAMES))[:2]}."
        c.handwriting(text, int(rng.integers(150, 900)), int(rng.integers(40, 260)), role="resolution")
    for _ in range(notes):
        box = c.body_boxes[int(rng.integers(len(c.body_boxes)))] if c.body_boxes else (300, 1500, 0, 1600)
        note = str(rng.choice(MARGIN_NOTES))
        if kind == "handwritten" and rng.random() < 0.4:
            note = f"т. {rng.choice(SURNAMES)}у"
            c.handwriting(note, int(rng.integers(1000, 1700)), int(box[1]) - 90, role="resolution", size=58)
        else:
            c.handwriting(
                note,
                int(rng.integers(10, max(20, c.margin_left - 200))),
                int(box[1]) - 20,
                role="margin_note",
                size=56,
                right_limit=c.margin_left - 10,
            )
    if c.signature_at is not None and (rng.random() < 0.8 or kind == "handwritten"):
        initials = f"{rng.choice(list(INITIALS))}. {rng.choice(list(INITIALS))}."
        x, y = c.signature_at
        c.handwriting(initials, int(x), int(y), role="signature", size=70, tilt=10)


# --- ageing and the final image -----------------------------------------------------------------------


def _carbon(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A carbon copy: thinner, fuzzier, fainter strokes, a faint second impression beside the first."""
    cov = coverage.astype(np.float32) / 255.0
    if rng.random() < 0.6:
        cov = cv2.erode(cov, np.ones((2, 2), np.uint8))
    shift = (float(rng.uniform(1, 3)), float(rng.uniform(-1.5, 1.5)))
    ghost = cv2.warpAffine(
        cov, np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), (cov.shape[1], cov.shape[0])
    )
    cov = np.maximum(cov, ghost * float(rng.uniform(0.3, 0.55)))
    cov = cv2.GaussianBlur(cov, (0, 0), float(rng.uniform(0.9, 1.6)))
    grain = np.clip(rng.normal(1.0, 0.25, cov.shape), 0.3, 1.3).astype(np.float32)
    cov *= grain * float(rng.uniform(0.45, 0.75))
    return np.clip(cov * 255, 0, 255).astype(np.uint8)


def _age_and_scan(
    c: _Composer, degradations: tuple[str, ...], angle: float, shift: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    rng = c.rng
    own = np.random.default_rng([c.seed, 18])  # the dev set's own degradations draw from this alone
    h, w = PAGE_H, PAGE_W
    info: dict[str, Any] = {}
    base = float(rng.uniform(228, 248))  # white to yellowed paper: blue falls most, green a little
    tint = np.array([base, base - rng.uniform(2, 10), base - rng.uniform(8, 32)], np.float32)
    paper = np.ones((h, w, 3), np.float32) * tint
    if "texture" in degradations:
        paper += (_low_freq(rng, h, w, lo=-16, hi=6) + rng.normal(0, 3.5, (h, w)).astype(np.float32))[
            ..., None
        ]
    if "stains" in degradations:
        for _ in range(int(rng.integers(1, 4))):
            paper -= (
                _blob(rng, h, w)[..., None]
                * np.array([25, 40, 70], np.float32)
                * float(rng.uniform(0.6, 1.2))
            )
    image = paper
    if "show_through" in degradations and c.text_ink in c.canvas.layers:
        back = np.asarray(c.canvas.layers[c.text_ink])[:, ::-1].astype(np.float32) / 255.0
        back = cv2.GaussianBlur(back, (0, 0), 2.5) * float(rng.uniform(0.12, 0.25))
        image = image * (1.0 - back[..., None] * 0.8)
    if "verso" in degradations and c.text_ink in c.canvas.layers:
        image = image * _verso(np.asarray(c.canvas.layers[c.text_ink]), own)
    for ink, layer in c.canvas.layers.items():
        cov = np.asarray(layer)
        if ink == c.text_ink and c.carbon:
            cov = _carbon(cov, rng)
        cov = cov.astype(np.float32) / 255.0
        if ink == c.text_ink and "worn_type" in degradations:
            cov *= _worn(own, h, w)
        if ink in ("typed", "carbon_violet", "carbon_blue", "black"):
            if "bleed" in degradations:
                spread = cv2.GaussianBlur(cov, (0, 0), float(rng.uniform(0.8, 1.6)))
                cov = np.maximum(cov, np.clip(spread * 1.3, 0, 1))
            if "fade" in degradations:
                cov *= _low_freq(rng, h, w, lo=float(rng.uniform(0.45, 0.7)), hi=1.0)
        colour = np.array(INKS[ink], np.float32) / 255.0
        image = image * (1.0 - cov[..., None] * (1.0 - colour))
    if "lighting" in degradations:
        image *= _gradient(rng, h, w, float(rng.uniform(0.65, 0.85)))[..., None]
    if "fold" in degradations:  # a crease across the sheet: a dark line and a lighter band
        pos = int(rng.uniform(0.3, 0.7) * h)
        band = np.ones(h, np.float32)
        band[pos - 3 : pos + 3] = float(rng.uniform(0.72, 0.88))
        band[pos + 3 : pos + 40] = float(rng.uniform(1.02, 1.05))
        image *= band[:, None, None]
    if "crease" in degradations:
        image *= _creases(own, h, w)[..., None]
    if "blur" in degradations:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.6, 1.2)))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[0, 2] += shift[0]
    matrix[1, 2] += shift[1]
    bed = float(rng.uniform(15, 60))
    # The scanner's dark bed shows round a skewed sheet only with `borders`; otherwise the scan was
    # cropped to the paper, as most archives deliver their pages.
    fill = (
        (bed, bed, bed)
        if "borders" in degradations
        else tuple(float(v) for v in np.median(paper[::50, ::50], axis=(0, 1)))
    )
    image = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)
    if "borders" in degradations:
        for side in np.nonzero(rng.random(4) < 0.5)[0]:
            depth = int(rng.integers(20, 80))
            if side == 0:
                image[:depth] = bed
            elif side == 1:
                image[h - depth :] = bed
            elif side == 2:
                image[:, :depth] = bed
            else:
                image[:, w - depth :] = bed
    if "holes" in degradations:  # binder holes punched in the left margin show the scanner lid
        x = int(rng.integers(70, 130))
        for yy in (h // 2 - 420, h // 2 + 420):
            cv2.circle(image, (x, int(yy + rng.normal(0, 20))), 38, (bed, bed, bed), -1)
    if "noise" in degradations:
        image += rng.normal(0, float(rng.uniform(5, 12)), (h, w, 1)).astype(np.float32)
    out = np.clip(image, 0, 255).astype(np.uint8)
    if "low_res" in degradations:
        factor = float(rng.uniform(0.45, 0.65))
        out = _scanned_coarser(out, factor, cv2.INTER_LINEAR)
        info["low_res_factor"] = round(factor, 3)
    if "coarse_scan" in degradations:  # scanned coarser, brought back up by the scanner's software
        factor = float(own.uniform(0.4, 0.7))
        out = _scanned_coarser(out, factor, cv2.INTER_CUBIC)
        info["coarse_scan_factor"] = round(factor, 3)
    if "jpeg" in degradations:
        quality = int(rng.integers(35, 70))
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1] if ok else out
        info["jpeg_quality"] = quality
    return np.ascontiguousarray(out), matrix, info


def _scanned_coarser(image: np.ndarray, factor: float, enlarge: int) -> np.ndarray:
    """`image` as a scan at `factor` of its resolution (area averaging), brought back to its size with
    the `enlarge` interpolation."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=enlarge)


def _verso(typed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The light the sheet's back lets through (multiply the paper by it): the typed layer mirrored,
    shifted so that its lines fall between the front's, blurred by the paper, 25-50 % of its ink and a
    little brown."""
    ink = cv2.flip(typed, 1).astype(np.float32) / 255.0
    shift = np.float32([[1, 0, rng.uniform(-40, 40)], [0, 1, rng.uniform(15, 45) * rng.choice([-1, 1])]])
    ink = cv2.warpAffine(ink, shift, (ink.shape[1], ink.shape[0]))
    ink = cv2.GaussianBlur(ink, (0, 0), float(rng.uniform(1.2, 2.5)))
    tint = np.array([1.0, 0.97, 0.93], np.float32)
    return 1.0 - float(rng.uniform(0.25, 0.5)) * ink[..., None] * tint


def _worn(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """What of the typed ink is left (multiply the coverage by it): an uneven ribbon (35-100 % of the
    ink, in letter-sized patches) and worn or clogged type (gaps 2-4 px across in 3-12 % of it)."""
    field = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), float(rng.uniform(8, 20)))
    field = (field - field.min()) / max(float(field.max() - field.min()), 1e-6)
    low = float(rng.uniform(0.35, 0.7))
    inking = low + (1 - low) * np.clip(field * 1.6 - 0.3, 0, 1)
    spots = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), float(rng.uniform(1.0, 2.0)))
    gaps = spots > np.quantile(spots[::4, ::4], 1 - float(rng.uniform(0.03, 0.12)))
    keep = cv2.GaussianBlur(np.where(gaps, 0.15, 1.0).astype(np.float32), (0, 0), 0.7)
    return inking * keep


def _creases(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """The light of a folded sheet (multiply by it): one or two creases, each a soft shade 4-14 px wide
    taking 15-45 % of the light at its middle with a lighter rim on one side, within 4 degrees of the
    sheet's axes, between a quarter and three quarters of it."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = np.ones((h, w), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        across = rng.random() < 0.6
        slope = math.tan(math.radians(float(rng.uniform(-4, 4))))
        at = float(rng.uniform(0.25, 0.75)) * (h if across else w)
        d = (yy - at - (xx - w / 2) * slope) if across else (xx - at - (yy - h / 2) * slope)
        width, depth = float(rng.uniform(4, 14)), float(rng.uniform(0.15, 0.45))
        rim = (
            float(rng.uniform(0.02, 0.06)) * np.exp(-np.maximum(d, 0) / float(rng.uniform(20, 60))) * (d > 0)
        )
        light *= (1 - depth * np.exp(-((d / width) ** 2))) * (1 + rim)
    return light


def _pick_degradations(rng: np.random.Generator, fontset: str, seed: int) -> tuple[str, ...]:
    pool = DEGRADATION_SETS[fontset]
    common = tuple(d for d in pool if d not in DEV_ONLY)
    count = int(rng.integers(2, 6))
    chosen = {common[int(i)] for i in rng.choice(len(common), size=count, replace=False)}
    if fontset == "heldout" and rng.random() < 0.5:
        chosen.add(HELDOUT_ONLY[int(rng.integers(len(HELDOUT_ONLY)))])
    if fontset == "dev" and (own := np.random.default_rng([seed, 17])).random() < 0.5:
        chosen.add(DEV_ONLY[int(own.integers(len(DEV_ONLY)))])
    return tuple(d for d in pool if d in chosen)


def unknown_page_types(kinds: tuple[str, ...]) -> str | None:
    """What is wrong with a list of page types asked for (the CLI's, the benchmark's), or None."""
    unknown = set(kinds) - set(ALL_PAGE_TYPES)
    return f"unknown page type(s) {sorted(unknown)}; known: {', '.join(ALL_PAGE_TYPES)}" if unknown else None


def render_page(
    words: list[str],
    seed: int,
    *,
    fontset: str = "tune",
    page_type: str | None = None,
    degradations: tuple[str, ...] | None = None,
    grey: bool = False,
    max_skew: float = 3.0,
    furniture: bool = True,
) -> ArchivalPage:
    """One archival page from the running text `words`, entirely determined by `seed`. Without
    `furniture` the page has only the document's text (no stamps, handwriting, folio or page numbers)."""
    if fontset not in FONTSETS:
        raise ValueError(f"unknown font set {fontset!r}; one of {sorted(FONTSETS)}")
    rng0 = np.random.default_rng([seed, 7])
    kind = page_type or PAGE_TYPES[int(rng0.integers(len(PAGE_TYPES)))]
    if kind not in ALL_PAGE_TYPES:
        raise ValueError(f"unknown page type {kind!r}; one of {ALL_PAGE_TYPES}")
    c = _Composer(seed, fontset, words, kind, furniture)
    _compose(c)
    chosen = degradations if degradations is not None else _pick_degradations(c.rng, fontset, seed)
    angle = float(c.rng.uniform(-max_skew, max_skew)) if max_skew > 0 else 0.0
    shift = (float(c.rng.normal(0, 12)), float(c.rng.normal(0, 12)))
    image, matrix, info = _age_and_scan(c, chosen, angle, shift)
    if grey:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    zones = [_zone_out(i, z, matrix) for i, z in enumerate(c.canvas.zones)]
    lines = tuple(line["text"] for z in c.canvas.zones if z.type in TEXT_ZONE_TYPES for line in z.lines)
    params = {
        "seed": seed,
        "fontset": fontset,
        "page_type": kind,
        "carbon_copy": c.carbon,
        "furniture": furniture,
        "fonts": {**c.used_fonts, "typewriter": c.tw.face},
        "typewriter": {
            "size_px": c.tw.size,
            "jitter": round(c.tw.jitter, 3),
            "p_misaligned": round(c.tw.p_misaligned, 4),
            "p_double": round(c.tw.p_double, 4),
            "bad_keys": {k: [round(v[0], 2), round(v[1], 2)] for k, v in c.tw.bad_keys.items()},
        },
        "text_ink": c.text_ink,
        "p_struck": c.p_struck,
        "p_underline": c.p_underline,
        "degradations": list(chosen),
        "heldout_only_degradations": [d for d in chosen if d in HELDOUT_ONLY],
        "dev_only_degradations": [d for d in chosen if d in DEV_ONLY],
        "skew": round(angle, 4),
        "skew_convention": "positive = counter-clockwise (cv2.getRotationMatrix2D)",
        "affine_page_to_image": [[round(float(v), 6) for v in row] for row in matrix],
        "colour": "grey" if grey else "rgb",
        "size": [PAGE_W, PAGE_H],
        "dpi": DPI,
        **info,
    }
    return ArchivalPage(image=image, lines=lines, zones=tuple(zones), params=params)


def _zone_out(index: int, zone: _Zone, matrix: np.ndarray) -> dict[str, Any]:
    def transform(points: list[tuple[float, float]]) -> tuple[list[list[int]], list[int]]:
        pts = np.column_stack([np.array(points, np.float64), np.ones(len(points))]) @ matrix.T
        poly = [[int(round(x)), int(round(y))] for x, y in pts]
        box = [
            max(0, int(math.floor(pts[:, 0].min()))),
            max(0, int(math.floor(pts[:, 1].min()))),
            min(PAGE_W, int(math.ceil(pts[:, 0].max()))),
            min(PAGE_H, int(math.ceil(pts[:, 1].max()))),
        ]
        return poly, box

    poly, box = transform(zone.points)
    out: dict[str, Any] = {
        "id": f"z{index:02d}",
        "type": zone.type,
        "role": zone.role,
        "text": zone.text,
        "box": box,
        "polygon": poly,
        "in_text": zone.type in TEXT_ZONE_TYPES,
    }
    if zone.lines:
        out["lines"] = [{"text": ln["text"], "box": transform(ln["points"])[1]} for ln in zone.lines]
    out.update(zone.info)
    return out


def render_pages(
    words: list[str],
    seeds: list[int],
    *,
    fontset: str = "tune",
    page_types: tuple[str, ...] | None = None,
    degradations: tuple[str, ...] | None = None,
    colour: str = "colour",
    max_skew: float = 3.0,
) -> list[ArchivalPage]:
    """One page per seed; `page_types` cycle over the seeds (None: each seed picks one); `colour` is
    `colour`, `grey` or `mixed` (each page grey or not by its seed)."""
    if colour not in ("colour", "grey", "mixed"):
        raise ValueError(f"unknown colour mode {colour!r}; one of colour, grey, mixed")
    pages = []
    for i, seed in enumerate(seeds):
        kind = page_types[i % len(page_types)] if page_types else None
        grey = colour == "grey" or (colour == "mixed" and np.random.default_rng([seed, 11]).random() < 0.5)
        pages.append(
            render_page(
                words,
                seed,
                fontset=fontset,
                page_type=kind,
                degradations=degradations,
                grey=grey,
                max_skew=max_skew,
            )
        )
    return pages


def write_pages(
    pages: list[ArchivalPage], out_dir: Path, stem: str, fmt: str = "jpeg", quality: int = 88
) -> list[Path]:
    """`<stem>-<seed>.<jpg|png>`, `.gt.txt` (the document's text), `.zones.json`, `.json` per page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        base = out_dir / f"{stem}-{page.params['seed']:04d}"
        ext = "png" if fmt == "png" else "jpg"
        buf = io.BytesIO()
        Image.fromarray(page.image).save(
            buf, format="PNG" if ext == "png" else "JPEG", dpi=(DPI, DPI), quality=quality
        )
        image_path = base.with_name(base.name + f".{ext}")
        # Truth first, image last: a folder watcher never sees an image without its truth.
        atomic_write(base.with_name(base.name + ".gt.txt"), page.text + "\n")
        atomic_write(
            base.with_name(base.name + ".zones.json"),
            json.dumps(list(page.zones), ensure_ascii=False, indent=1),
        )
        atomic_write(
            base.with_name(base.name + ".json"), json.dumps(page.params, ensure_ascii=False, indent=1)
        )
        atomic_write(image_path, buf.getvalue())
        written.append(image_path)
    return written


def corpus_words(split: str) -> list[str]:
    """Running text of a corpus split (`tests` or `bench`; never the lexicon's) as words."""
    from . import corpus

    if split not in ("tests", "bench"):
        raise ValueError(f"archival pages take text from the tests or bench split, not {split!r}")
    return corpus.split_text(split).split()
