"""The layout stage: find the zones of an archival page and give each a type.

Two halves, around the body OCR (see process.py):

- before: `colour_ink` finds coloured ink on a colour scan (violet and blue stamps and pens, red
  pencil) by its chroma and hue, in patches where it is most of the ink or stamp-sized, and
  `grey_without_colour_ink` divides a blue or violet patch's ink out of each pixel (inks multiply on
  paper), or lifts other inks to the paper's value, so the cleaned page keeps only the black type
  (the pieces of letters a stamp's strokes cross stay whole).
- after: `find_regions` looks at copies of the cleaned page about a thousand pixels long: coloured
  ink grouped into stamps (a ring or a frame round their text) and handwriting; on any scan, round
  stamps by their circle (cv2.HoughCircles, checked along the rim) and rectangular ones by the long
  straight sides of their frame (cv2.ximgproc's fast line detector), since a grey stamp's grainy rim is
  broken and touches the type; ink too tall for a line of type (a handwritten word) and
  writing-sized ink that no confidently read word covers (a note in the margin, a signature).
  `apply` then sorts Tesseract's words into the document's text and furniture (words whose ink is
  handwriting's, low-confidence words on a stamp, the archive's folio number in the top corner, a
  page number centred at the top or bottom, typed-over `ххххх`), reads
  every piece of furniture with one more Tesseract call over a montage of their crops (a round
  stamp's rim unrolled), types the remaining paragraphs (letterhead, secrecy mark, registration,
  addressee, heading, table, column, body) and returns the page with its zones. Furniture words are
  simply not in `Page.paragraphs`.

Every estimate runs on reduced copies; the only large-image work is the chroma at half size.
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from rapidfuzz import fuzz

from . import __version__, ocr, preprocess
from .config import Settings
from .model import BBox, Line, Page, Paragraph, Step, Word, Zone

ANALYSIS_SIDE = 1000  # long side of the copies the layout is estimated on
CHROMA_INK = 60  # max - min channel (0..255) of flattened pixels above which ink counts as coloured
TYPE_UNDER_PIXELS = 500  # dark pixels of type a patch of coloured ink needs beside its strokes ...
COLOURED_TYPE_SHARE = 0.35  # ... of which at most this share may look like the stamp's ink
UNMIX_MIN_DEGREES = 5.0  # coloured type is parted from a stamp when their inks' densities are this far apart
UNMIX_MIN_SIDE = 0.6  # inches: ... in a patch of a stamp's size (a note's one line hides few letters)
UNMIX_STAMP_MIN = 0.1  # ... where the stamp's optical density is at least this (its soft edge included)
# A violet or blue carbon's back showing through (`grey_without_uncoloured_ink`):
UNCOLOURED_MIN_DENSITY = 0.3  # summed optical density of a pixel that counts as ink ...
UNCOLOURED_MAX_DENSITY = 3.0  # ... at most this when the type's hue is judged (denser: a scanner's bed)
TYPED_COLOUR_SHARE = 0.002  # share of the page's pixels that must be such ink for its hue to be judged
TYPED_BLUE_DENSITY = 0.9  # the ink's blue density over its red, on its most coloured third: blue or violet
UNCOLOURED_FAINT = 1.0  # ... and its summed density (median) at most this: a carbon's faint type
UNCOLOURED_TYPE_SHARE = 0.25  # a piece with this share of a typical typed piece's hue, or less, has none
UNCOLOURED_PIECE = (9e-4, 0.13)  # square inches: a piece of ink of a letter's size, a comma's to a word's
UNCOLOURED_BACK_SHARE = 0.06  # ... of whose ink this share in pieces without the hue is a back ...
UNCOLOURED_BACK_MANY = 0.15  # ... when under this share, only if those pieces are lighter than the type's:
UNCOLOURED_BACK_LIGHTER = 0.85  # their median density at most this share of the type's pieces' (median)
UNCOLOURED_BACK_COVERS = 0.32  # ... or a back whose letters touch the type's: this share of the ink's pixels
UNCOLOURED_PIXEL_SHARE = 0.5  # ... each with at most this share of a typical typed piece's hue
TYPE_NEAR = 0.3  # the type's strength, against its typical strength, of a pixel the back is not lifted at
UNCOLOURED_BLACK = 2.0  # a neutral layer this many times the type's density is black print, not lifted
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)  # RGB to grey, as cv2.cvtColor
FAINT_STAMP = 0.15  # a stamp's strength (0..1) under which a pixel of a patch counts as no stamp ink
CHROMA_BLUE_INK = 25  # ... and for blue and violet ink (stamps, pens), faint as it may be
MIN_COLOUR_FRACTION = 2e-4  # less coloured ink than this on a page is JPEG noise or a tinted edge
COLOUR_PATCH_CLOSE = 0.1  # inches: gaps in coloured ink closed to make one patch of a stamp or a word
COLOUR_PATCH_MIN = 0.06  # inches: a patch holds at least a square of coloured ink this wide
COLOUR_PATCH_SHARE = 0.5  # a patch of coloured ink counts when it is at least this share of the ink there
MAX_COLOUR_SHARE = 0.3  # more of the ink coloured than this: the type itself is coloured
TYPED_PATCH_HEIGHT = 0.3  # inches: a patch of coloured ink no taller than this may be a line of type
TYPED_PATCHES = 30  # this many such patches, holding most of the coloured ink: the type is coloured
TYPED_BLOCK_WIDTH = 4.5  # inches: a patch of coloured ink this wide (and taller than a line) is typed lines
STAMP_KEEP_CONF = 75.0  # a word on a stamp is kept only when Tesseract is this sure (type under the stamp),
# or 20 below the page's median confidence if that is lower
LEFTOVER_CONF = 30.0  # below this, a word where coloured ink was lifted is read from its remains
LEFTOVER_WORD = 6  # ... unless it is a word in small letters this long: type read through the lift
FOREIGN_INK_LEVEL = 200  # flattened grey (paper 255) below which a pixel counts when looking for foreign ink
FOREIGN_MIN_HEIGHT = 0.3  # inches: a connected piece of ink this tall is no typed letter
RIM_COVER = 0.6  # share of a ring's outline (in 10-degree steps) that must be inked
ROUND_STAMP_RADIUS = (0.5, 1.1)  # inches: the radii of round stamps looked for by their circle
CIRCLE_RIM_COVER = 0.7  # share of a circle (in 5-degree steps) a stamp's rim inks, though its grain breaks it
CIRCLE_INSIDE_COVER = 0.75  # ... while a circle over dense type finds ink nearly everywhere inside
CIRCLE_WHOLE_RIM = 0.85  # ... which a stamp over dense print may too, if its rim is inked this much
CIRCLE_SHIFT = 0.35  # share of its radius a circle's rough centre may be off its rim's
CIRCLE_RIM_CONTRAST = 0.1  # ... and the rim is more inked than a band just outside it
UNCOLOURED_RIM_CONTRAST = 0.38  # ... by this much over dense type when the rim's ink is not coloured
RIM_BAND = (-1.5, -0.5, 0.5, 1.5)  # pixels off a circle's radius that count as its rim
BROKEN_RIM_OUTSIDE = 0.3  # ... and a rim inked less than CIRCLE_RIM_COVER has at most this share outside
OUTER_RING = 1.3  # a round stamp's outer ring, 1.1-1.5 times the radius of its inner ring
RECT_SIDE_MIN = 0.4  # inches: the shortest straight side of a rectangular stamp's frame looked at
RECT_SIDE_LONG = 1.0  # ... unless the other side is this long: then a piece of this one will do
RECT_SIDE_PIECE = 0.25  # inches: the shortest such piece (type along a side breaks it up)
RECT_TILT = 15.0  # degrees a stamp's frame may be turned
RECT_HEIGHT = (0.35, 1.6)  # inches: a rectangular stamp's height ...
RECT_WIDTH = (0.8, 2.6)  # ... and width
RECT_SIDE_COVER = 0.6  # share of a side that its ink covers (3 sides of 4; type may hide one)
RECT_CONTRAST = 0.2  # ... more than a line just outside the frame, on average
FRAME_CORNER_SIDE = 0.22  # inches: each side of a stamp's frame's corner found in a piece of foreign ink
FRAME_CORNER_TURN = 8.0  # degrees from a right angle those sides may make
STAMP_MIN_SIDE = 0.33  # inches: a rectangular stamp is at least this high
WRITTEN_ACROSS_CONF = 20.0  # a word taller than the type read with less confidence is writing across a line
UNREAD_CONF = 20.0  # a word read with less confidence leaves its ink unread (its words stay in the text)
TYPED_LINE_CONF = 60.0  # ... unless it is on a line read with at least this median confidence
FOREIGN_SHARE = 0.5  # a word whose ink is this much a stamp's or handwriting's is theirs ...
SURE_TYPE_CONF = 85.0  # ... unless writing's, read this surely among sure type (`_sure_type_in_writing`)
MISSED_ROW_INK = 0.03  # share of the text's width inked outside every word read, in a row read again
RECOVERED_CONF = 80.0  # a line read again is type when two of its words are read at least this surely
RECOVERED_KEEP_CONF = 40.0  # ... and its words read less surely than this are left out
MARGIN_GAP = 0.1  # inches: a note in the left margin begins this far left of where the lines of type
# begin, and ends before them (give or take a fifth of this)
SMALL_WRITING = 0.08  # inches: a note in the margin or a number in the top corner is this high (`нет`)
FRAMED_READ_SHARE = 0.4  # unread ink whose box is this much read words is a frame round type
TALL_WORD = 1.5  # times the height of a well-read typed word: larger writing than the type
LARGER_ON_LINE = 1.3  # ... and, above RESOLUTION_TOP, this many times the words beside it on its line
RESOLUTION_TOP = 0.15  # share of the page's height above which resolutions are written over the letterhead
WRITTEN_LARGER = 1.2  # times the type's height (median): each word of a resolution written at the top ...
WRITTEN_LINE = 1.4  # ... and a line of them alone (median), `Согласен. А. Ка.` over the registration
RULE_LENGTH = 0.8  # inches: a straight line of ink this long is a rule, no stroke of a pen
RULED_SHARE = 0.9  # a row or column of a piece of ink this much inked is a rule
WRITING_BESIDE = 0.5  # inches: a larger word this near a piece of handwriting on its rows is of that writing
WRITING_MARKS = 4  # ... when it has no more letters and digits than this (initials, `Д.Б.`, a number)
STAMP_FILL_REACH = 0.3  # inches: a number written into a stamp's blank (`Вх. № 3494`) runs out of it so far
STAMP_FILL_DIGITS = 3  # ... and holds this many digits or more, and few letters (`5286/ос`)
STAMP_FILL_OFF_ROW = 0.5  # ... and its middle is this many type heights off the middle of its line's type
# On a typewritten page every typed word is as wide as its letters (`ocr.typed_letter_width`): at the top
# of tune carbons 6200-6239 typed words of five letters or more took 0.94-1.04 letter widths a letter
# (370 of 371), resolutions read surely into the registration's or addressee's line (`Не возражаю.`,
# `Ускорить.`, `Ознакомился.`) 1.05-1.21. Wider than this, such a word is handwriting ...
WRITTEN_WIDTH = 1.045
# ... and so are the initials written after it (`Б. Чу.`, `ЧИ.`)
WRITTEN_INITIALS = re.compile(r"^[А-ЯЁ][А-ЯЁа-яё]?\.$")
PRINT_CONF = 85.0  # unread ink that Tesseract reads this surely as words is type the body OCR missed
# Where between the type's and the stamp's ink levels a grey stamp's line is cut: each line is cut at each
# (faded type is as light as the stamp).
UNDER_STAMP_LEVELS = (0.4, 0.55)
UNDER_STAMP_READ = 85.0  # a line through a grey stamp whose every word is read this surely is not read again
UNDER_STAMP_SURE = 70.0  # a line read again under a grey stamp replaces the first reading when it has more
UNDER_STAMP_GAIN = 3  # ... letters read at least this surely, by this many, and a higher mean confidence
UNDER_STAMP_KEPT = 0.8  # ... or holds this share of the words it read surely, in order, and more letters
UNDER_STAMP_MATCH = 80.0  # a word is held when its letters match some of the new reading's this well (0-100)
STAMP_BESIDE_INK = 230  # grey (paper 255) under which a pixel beside the stamps is the type's ink ...
STAMP_TYPE_DARK = 3.0  # ... whose percentile a stamp's stroke is darker than, inside the stamp's box
STAMP_LEVEL_SIGMA = 3.0  # pixels: the stroke's own level is its mean over about this reach
PARTED_INK = 0.5  # summed optical density (3 channels) over which a pixel of a colour crop is ink ...
PARTED_DARK = 3.0  # ... and under which it is type, not a scan's dark border
HUE_PIXELS = 20000  # pixels of each ink the inks' directions are measured on, at most
PARTED_PAPER = 15  # pixels of the crops' quarter-size copy: the max filter that finds their paper
STAMP_MIN_PIXELS = 50  # fewer pixels of type beside the stamp, or of its strokes: the crop is left as it is
ROW_HALF = 0.85  # half a crop read again, in the type's word heights
ROW_SHARE = 0.5  # two pieces of a line cut at a stamp share this much of the lower one's height
ROW_WIDE = 3.0  # the page's lines are this many times as wide as high (median) when they run across it
GAP_SLACK = 4  # pixels a piece put into a gap of its row's line may overlap the words beside it
ROW_TALL = 3.0  # a piece of a line is at most this many times as high as the page's lines (median)
SPLIT_ROW_GAP = 2.0  # typed letters: two pieces of a row this close are one line Tesseract cut at a space
SLIVER_TALL = 2.0  # a line read at the page's edge this many times as high as the type's is its edge
SLIVER_EDGE = 0.05  # share of the page's width from either side that is its edge
EDGE_ROWS = 0.05  # share of the page's height at its top and bottom where its edge's shadow is read ...
EDGE_ROW_CONF = 30.0  # ... as a line whose words' median confidence is under this (no type reads so)
BACK_LINE_CONF = 50.0  # a typed page's line read under this median and mean confidence ...
BACK_LINE_LETTERS = 10  # ... with this many letters or more ...
BACK_LINE_WORDS = 0.5  # ... fewer than this share of them in (near) words is its sheet's back
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# Small letters whose capital has the same shape: a typewriter key struck above the line reads as the
# capital. Such a first letter is lowered when its glyph is no taller than RAISED_HEIGHT times the small
# letters around it (capitals on the tune carbon pages: 1.26 or more, 19 in 20; 1.32 or more, 95 in 100
# of 353 on tune carbons 4300-4339) and its foot stands on or above their baseline (RAISED_FOOT: a
# small letter typed on the line and read as its capital takes the small letters' height as well).
SAME_SHAPE_CAPITALS = set("ВГЖЗИЙКЛМНОПСТХЧШЬЫЪЭЮЯ")
RAISED_HEIGHT = (0.85, 1.2)
RAISED_FOOT = -0.06
RAISED_AROUND = 8  # letters each side of it whose ink gives the small letters' height and baseline

SECRECY = re.compile(
    r"(?i)\b(совершенно\s+секретно|строго\s+секретно|секретно|лично|сов\.\s*секретно|не\s+для\s+печати)\b"
)
REGISTRATION = re.compile(
    # A month in Roman numerals as Tesseract misreads it (`XII` as `ХТТ`, `VIII` as `УТТТ`, `IX` as `1х`),
    # a day's 3 as `З`, a day in quotes (`«4» декабря 1928 г.`).
    r"(?i)(№\s*\S+|\bисх\.|\bвх\.|\b[\dЗ]{1,2}[./]\s?[IVXivx\dХхУуТтПпІі\\|]{1,5}[./]\s?\d{2,4}\b|"
    r"\b\d{1,2}»?\s+(января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
    r"\s+\d{4})"
)
LETTERHEAD = re.compile(
    r"(?i)(пролетарии\s+всех\s+стран|коммунистическ\w*\s+парти|центральн\w*\s+комитет|"
    r"народн\w*\s+комиссариат|комиссариат\w*\s+по\b|управлени\w*\s+при\b)"
)
CENTRED = 0.04  # share of the text's width a centred line's middle may lie off the text's middle ...
CENTRED_INDENT = 0.04  # ... while leaving at least this share of the width free on either side
HEADING_LETTERS = 4  # a heading in capitals holds at least this many letters (`Е.Г.` is typed initials)
LINE_LETTERS = 10  # a line of the text holds at least this many letters
INDENT_MAX = 0.12  # share of the text's width a paragraph's first line is indented by at most
LETTERHEAD_ROWS = 1.5  # line heights below the letterhead within which a piece of text may be part of it
REGISTRATION_WORDS = 6  # a registration line (`№ 5286/ос «26» февраля 1935 г.`) has at most this many words
# `83`, `83 об.` (`83 о5.`, `83 0б.`), `8305.` misread
FOLIO = re.compile(r"^(\d{1,4}(\s*[о0][б65]?\.?)?|\d{1,6}\.?)$")
FOLIO_TOP = 0.12  # share of the page's height above which the archive's sheet number is written
UNSURE_FOLIO_CONF = 65.0  # ... or a short line there read with less confidence than this (or with a digit)
FOLIO_GAP = 0.5  # inches: a sheet number on the line of a page number or a date stands this far apart
FOLIO_PIECE_GAP = 0.06  # inches: pieces of one written number read as words are no further apart
# `- 71 -`, its dash read `_`, `=` or as two or three marks (`—-— 327`)
PAGE_NUMBER = re.compile(r"^[-–—_=]{0,3}\s*\d{1,4}\s*[-–—_=]{0,3}$")
STRUCK_LETTERS = set("хxХX")  # typed over a word: `ххххх`, or the word's letters showing through the x's
OVERTYPE_LETTERS = set("хxжкяХXЖКЯ")  # what Tesseract makes of letters typed over with х
# ... read less surely than this (on a faint carbon the crosses are thin and a jumble may read 80-89:
# `кязываякя` 83, `явяяехкя` 87 on tune carbons 4300-4339, taking 1.2-1.4 times its neighbours' ink)
OVERTYPE_CONF = 90.0
OVERTYPE_DENSITY = 1.2  # ... with this many times the ink of the line's typical word
OVERTYPE_FEW_SHARE = 0.25  # ... or only this share of its letters read as crosses (two or more) ...
OVERTYPE_FEW_DENSITY = 1.35  # ... and this many times the ink
# On a typed page a word typed over may read as small letters with one cross or none left (`вабамеке`,
# `мнакиникленных`): with a lexicon at hand, a word of small letters holding an х, ж, к or я, read
# under OVERTYPE_CONF with this many times its line's typical ink and no word within one misreading of
# it, is struck too (type words that heavy are capitals, names and misreadings of known words).
OVERTYPE_UNKNOWN_DENSITY = 1.15
ROMAN_LOOKALIKES = set("XХIІVУТLCСМMП1l")
TABLE_ROW = re.compile(r"^\s*\d{1,4}[.)]\s*\S")


@dataclass(frozen=True)
class Region:
    """A piece of furniture found in the image, before OCR, in cleaned-image pixels."""

    type: str  # stamp / handwriting
    role: str  # round / rect for stamps; filled in after OCR for handwriting
    bbox: BBox
    angle: float = 0.0  # degrees its writing is turned (counter-clockwise), for reading it
    centre: tuple[float, float] | None = None  # round stamps: centre and radius
    radius: float = 0.0
    ink_removed: bool = False  # its ink was lifted off the page before the body OCR
    unread: bool = False  # found as ink the body OCR left unread (it takes no words out of the text)


# ---------------------------------------------------------------- before the body OCR


def colour_ink(pixels: np.ndarray, dpi: int = 300) -> np.ndarray | None:
    """Mask (255) of coloured ink in source pixels, or None for a grey scan (or no coloured ink).

    Each channel is divided by its own paper estimate first, so a yellowed sheet is neutral and only
    ink with a hue of its own (violet, blue, red) stands out by its chroma. Only patches where the
    coloured ink is most of the ink count: a scanner's colour fringes along black type are not a stamp."""
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        return None
    # Half size is enough to see a stamp's or a pen's stroke, and a quarter of the work.
    factor = 0.5 if max(pixels.shape[:2]) > 2000 else 1.0
    small = (
        cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else pixels
    )
    flat = preprocess.flatten_background(np.ascontiguousarray(small[:, :, :3]))
    channels = cv2.split(flat)
    high = cv2.max(cv2.max(channels[0], channels[1]), channels[2])
    low = cv2.min(cv2.min(channels[0], channels[1]), channels[2])
    chroma = cv2.subtract(high, low)
    # Stamp and pen inks are blue to violet; faded, they keep their hue but lose chroma. Other hues
    # (red pencil) count only when strong: an old page's brown ink and foxing are weakly red-yellow.
    # The hue (0..180) only of the pixels with the chroma of faint ink, a few in a hundred.
    faint = np.flatnonzero(chroma >= CHROMA_BLUE_INK)
    blue_violet = np.zeros(chroma.size, np.uint8)
    if faint.size:
        hue = cv2.cvtColor(flat.reshape(-1, 3)[faint][:, None, :], cv2.COLOR_RGB2HSV)[:, 0, 0]
        blue_violet[faint[(hue >= 95) & (hue <= 160)]] = 255
    mask = cv2.bitwise_or(blue_violet.reshape(chroma.shape), cv2.inRange(chroma, CHROMA_INK, 255))
    # JPEG fringes at black strokes are thin: an opening removes them.
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    if cv2.countNonZero(mask) < MIN_COLOUR_FRACTION * mask.size:
        return None
    ink = cv2.inRange(preprocess.flatten_background(preprocess.to_grey(small)), 0, 199)
    side = max(3, int(round(dpi * factor * COLOUR_PATCH_CLOSE)) | 1)  # a grainy stamp closes into one patch
    patches = _around_ink(
        mask,
        side + 1,
        lambda part: cv2.morphologyEx(
            part, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
        ),
    )
    count, labels, stats, _ = preprocess.components(patches)
    # The patches' pixels are counted in the box round them (outside it every label is 0, whose counts
    # nothing uses).
    px, py, pw, ph = cv2.boundingRect(patches)
    box = (slice(py, py + ph), slice(px, px + pw))
    coloured = np.bincount(labels[box][mask[box] > 0], minlength=count)
    inked = np.bincount(labels[box][(ink[box] > 0) | (mask[box] > 0)], minlength=count)
    x, y, w, h = (stats[:, i] for i in range(4))
    inch = dpi * factor
    # A stamp over dense type is less than half the ink where it lies, but it is big.
    big = (np.minimum(w, h) >= inch * 0.5) & (coloured >= (inch * 0.15) ** 2)
    keep = ((coloured >= COLOUR_PATCH_SHARE * np.maximum(inked, 1)) | big) & (
        coloured >= (inch * COLOUR_PATCH_MIN) ** 2
    )
    # What touches the image's edge is the scanner's background or the book's binding, not ink.
    keep &= (x > 0) & (y > 0) & (x + w < mask.shape[1]) & (y + h < mask.shape[0])
    # Nor is a thin line along the edge of a page or its binding.
    keep &= (np.minimum(w, h) >= inch * 0.05) & (np.maximum(w, h) <= 15 * np.minimum(w, h))
    keep[0] = False
    # A carbon copy typed in violet or blue is many patches of line height (words and lines of type);
    # stamps and notes are a few. The share of all ink alone misses a faint carbon on a grainy sheet.
    kept = np.flatnonzero(keep)
    typed = kept[h[kept] <= inch * TYPED_PATCH_HEIGHT]
    if len(typed) >= TYPED_PATCHES and coloured[typed].sum() >= 0.5 * coloured[kept].sum():
        return None
    # Lines of coloured type closed into one patch make a block wider than any stamp or note.
    blocks = kept[(w[kept] >= inch * TYPED_BLOCK_WIDTH) & (h[kept] > inch * TYPED_PATCH_HEIGHT)]
    if coloured[blocks].sum() >= 0.5 * coloured[kept].sum():
        return None
    # The mask within the kept patches only (mask is 0 or 255), each patch looked at in its own box.
    kept_mask = np.zeros(mask.shape, mask.dtype)
    for label in kept:
        x0, y0, x1, y1 = int(x[label]), int(y[label]), int(x[label] + w[label]), int(y[label] + h[label])
        own = labels[y0:y1, x0:x1] == label
        kept_mask[y0:y1, x0:x1][own] = mask[y0:y1, x0:x1][own]
    mask = kept_mask
    total = cv2.countNonZero(mask)
    if total < MIN_COLOUR_FRACTION * mask.size:
        return None
    # A page typed in colour (a violet or blue carbon copy) keeps its ink: its stamps are then found
    # like those on a grey scan. A faint carbon's thin type may be less ink than its stamps and notes,
    # so the share of coloured ink counts only where the coloured patches look like type.
    if total > MAX_COLOUR_SHARE * max(cv2.countNonZero(ink), 1) and coloured[typed].sum() >= 0.5 * total:
        return None
    box = None
    if factor < 1:
        mask, box = _enlarged_nearest(mask, pixels.shape[:2])
    # The stroke's soft edge is less saturated than its middle: take it too.
    return _around_ink(mask, 2, lambda part: cv2.dilate(part, np.ones((3, 3), np.uint8)), box)


def grey_without_uncoloured_ink(
    pixels: np.ndarray, grey: np.ndarray, found: np.ndarray | None, dpi: int = 300, *, always: bool = False
) -> np.ndarray:
    """On a colour scan typed in violet or blue (a carbon copy) with the sheet's back showing through,
    `grey` with the back taken out by its lack of hue; any other page: `grey` itself.

    In optical density (minus the log of each channel's share of the paper's light) inks on paper add:
    a pixel is the type's density, a fixed direction of its hue, times its strength, plus a neutral
    layer (the back, which the paper greys). Least squares parts the two (the colour deconvolution of
    stained slides). The type is blue or violet when the most coloured third of the ink beyond `found`
    (`colour_ink`'s stamps and notes) lets the blue through; a back shows when pieces of ink of a
    letter's size with little of the type's hue are much of such ink, or pixels with little of it
    are, where the back's letters run into the type's. Then the neutral layer's share of each pixel's
    ink is taken out of the grey, except near the type's strokes and where it is far denser than the
    type (black print, a letterhead, the scanner's bed). `always`: on a carbon typed in violet or blue,
    the neutral layer is taken out whether or not a back was seen (a back as light as the type's soft
    edges is not seen; `process` then keeps the better reading)."""
    if pixels.ndim != 3 or pixels.shape[2] < 3 or pixels.shape[:2] != grey.shape:
        return grey
    # The hue is judged on a quarter-size copy (a few hundred thousand pixels), on the ink that is
    # neither `colour_ink`'s stamps and notes nor as dense as the scanner's bed.
    small = preprocess.shrink(pixels[:, :, :3], (pixels.shape[1] // 4, pixels.shape[0] // 4))
    density = _page_density(small)
    total = density.sum(axis=2)
    ink = (total >= UNCOLOURED_MIN_DENSITY) & (total <= UNCOLOURED_MAX_DENSITY)
    if found is not None:
        ink &= cv2.resize(found, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA) == 0
    inked = density[ink]
    if len(inked) < TYPED_COLOUR_SHARE * ink.size:
        return grey
    # Blue and violet ink lets the blue through: its density in blue is well under its density in red.
    # Counted on the ink's most coloured third (a back can be half the ink): on carbons of ours 0.73-0.87,
    # on pages typed in black, whose stains take more of the blue, 0.94-1.05.
    blue_to_red = inked[:, 2] / np.maximum(inked[:, 0], 1e-3)
    most_coloured_level = float(np.percentile(blue_to_red, 33))
    if most_coloured_level > TYPED_BLUE_DENSITY:
        return grey
    # ... and a carbon's type is faint: an old book's blue-black print is far denser (summed density,
    # median of the ink: 0.38-0.76 on carbons of ours, 1.17 on a real 18th-century page whose
    # print lets the blue through, read 12.1 -> 16.5 % CER with its "back" lifted).
    if float(np.median(inked.sum(axis=1))) > UNCOLOURED_FAINT:
        return grey
    # The type's hue is that of its most coloured third (the rest is blurred, or mixed with the back).
    most_coloured = inked[blue_to_red <= most_coloured_level]
    typed = _unit(np.median(most_coloured, axis=0))
    unmix = _unmixing(typed, np.full(3, 1 / np.sqrt(3), np.float32))
    if unmix is None:
        return grey
    type_level = float(np.median(most_coloured @ unmix[0]))
    if not always and not _back_shows(density, total, ink, unmix, type_level, dpi):
        return grey
    # Then the neutral layer is taken out of the grey: not near the type's strokes (their soft edges
    # have less of its hue than their middles, and lightening them cost tune carbons 1-5 points of
    # CER) nor where it is far denser than the type. Its share of each pixel's ink is judged at half
    # size (the colour is coarser than the grey) and taken from the grey's own density at full size:
    # a gain from the half-size layer itself, blurred, left a back's letters half as dark as they were.
    half = preprocess.shrink(pixels[:, :, :3], (pixels.shape[1] // 2, pixels.shape[0] // 2))
    strength = np.clip(cv2.transform(_page_density(half), unmix), 0.0, None)
    typed_layer, neutral_layer = cv2.blur(strength[..., 0], (3, 3)), cv2.blur(strength[..., 1], (3, 3))
    neutral_share = neutral_layer / np.maximum(typed_layer + neutral_layer, 1e-3)
    neutral_share *= np.clip((UNCOLOURED_BLACK * type_level - neutral_layer) / (0.5 * type_level), 0.0, 1.0)
    near_type = cv2.dilate(
        (strength[..., 0] >= TYPE_NEAR * type_level).astype(np.uint8), np.ones((3, 3), np.uint8)
    )
    neutral_share[near_type > 0] = 0
    neutral_share = cv2.resize(neutral_share, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    gain = np.exp(neutral_share * cv2.LUT(preprocess.flatten_background(grey), _LEVEL_DENSITY))
    return np.clip(grey * gain, 0, 255).astype(np.uint8)


def _back_shows(
    density: np.ndarray, total: np.ndarray, ink: np.ndarray, unmix: np.ndarray, type_level: float, dpi: int
) -> bool:
    """Whether the sheet's back shows through a colour carbon (`grey_without_uncoloured_ink`), judged on
    the quarter-size copy's `density` (its sum `total`, the ink the type's hue was judged on `ink`),
    parted by `unmix` into the type and a neutral layer."""
    # Judged piece by piece: a scan's colour is coarser than its grey (JPEG keeps it at half size), so
    # a pixel's hue is uncertain at a stroke's edge, but a piece of ink's is not.
    any_ink = (total >= UNCOLOURED_MIN_DENSITY).astype(np.uint8)  # the stamps' and the bed's too
    count, labels, stats, _ = cv2.connectedComponentsWithStats(any_ink, connectivity=8)
    strength = np.clip(cv2.transform(density, unmix), 0.0, None)
    ys, xs = np.nonzero(any_ink)
    piece = labels[ys, xs]
    of_type = np.bincount(piece, weights=strength[ys, xs, 0], minlength=count)
    of_neutral = np.bincount(piece, weights=strength[ys, xs, 1], minlength=count)
    area = np.bincount(piece, minlength=count)
    # The back: pieces with little of the hue the type's pieces have (their share of the type's density
    # is a fraction of the typical piece's: on a noisy JPEG a letter's colour is half lost, the back
    # has none), and no denser than the type (black print, a letterhead, the scanner's bed stays).
    share = of_type / np.maximum(of_type + of_neutral, 1e-6)
    typical = float(np.quantile(share[1:], 0.75, weights=area[1:], method="inverted_cdf"))
    back = (share < UNCOLOURED_TYPE_SHARE * typical) & (
        of_neutral <= UNCOLOURED_BLACK * type_level * np.maximum(area, 1)
    )
    back[0] = False
    # A back showing through is much of the page's ink in letter-sized pieces; without one, such
    # pieces are grain, and letters whose colour a stain or a JPEG's blocks took away: at most 2.4 %
    # of that ink on 16 colour carbons of ours without a back (dev 7508: 5.9 %); 6.2-38 % on 10 of 12
    # dev carbons with one (7908: 17 %).
    letters = (area >= UNCOLOURED_PIECE[0] * (dpi / 4) ** 2) & (area <= UNCOLOURED_PIECE[1] * (dpi / 4) ** 2)
    letters[0] = False
    back_share = area[back & letters].sum() / max(int(area[letters].sum()), 1)
    # A back so dense that its letters run into the type's makes pieces of lines, which the count above
    # leaves out: then it is told pixel by pixel (dev 8310 and 8330, dark backs: 5.5 and 0.7 % of the
    # letters' ink in hue-less pieces; read at 81 % CER with the back left in). Not needed, and not
    # counted, when the pieces alone already make it a back.
    covers = (
        back_share < UNCOLOURED_BACK_MANY
        and _neutral_pixel_share(strength, typical, ink, labels, stats, dpi) >= UNCOLOURED_BACK_COVERS
    )
    if back_share < UNCOLOURED_BACK_SHARE and not covers:
        return False
    # A few hue-less letters as dense as the type are the type's own, their hue taken by a JPEG's
    # blocks, blur and the paper's grain (dev colour carbons 8200-8211 with texture, stains, blur and
    # JPEG: 6.7-10.3 % of the letters' ink, 0.91-1.12 of the type's density, and lifted they lost
    # letters: 8204 0.97 -> 13.2 % CER); a back seen through the paper is lighter (0.55-0.82 on dev
    # carbons with a back under 15 %), unless it is much of the page's ink (7908: 17 %, 0.88).
    if back_share < UNCOLOURED_BACK_MANY and not covers:
        piece_density = (of_type + of_neutral) / np.maximum(area, 1)
        lighter = float(np.median(piece_density[back & letters]))
        return not lighter > UNCOLOURED_BACK_LIGHTER * float(np.median(piece_density[letters & ~back]))
    return True


def _neutral_pixel_share(
    strength: np.ndarray, typical: float, ink: np.ndarray, labels: np.ndarray, stats: np.ndarray, dpi: int
) -> float:
    """The share of the ink's pixels (`ink`, on the quarter-size copy) with at most half the share of
    the type's hue that a typical typed piece has (`typical`), both layers averaged over 3 x 3 pixels,
    in pieces of a letter's size or more that do not touch the page's edge (grain, and a scanner's
    dark border, are no back). Where a back's letters touch the type's, the pieces run into lines and
    the count of hue-less pieces misses the back (dev colour carbons with one: 0.36-0.62; without:
    0.27 at most). Judged against the typical piece, not against a fixed share: a faded carbon whose
    type has kept little hue (tune 3620, typical 0.18) is no back."""
    height, width = labels.shape
    x0, y0, w, h, area = (stats[:, i] for i in range(5))
    counted = (area >= UNCOLOURED_PIECE[0] * (dpi / 4) ** 2) & (x0 > 0) & (y0 > 0)
    counted &= (x0 + w < width) & (y0 + h < height)
    counted[0] = False
    pixels = counted[labels] & ink
    typed, neutral = cv2.blur(strength[..., 0], (3, 3)), cv2.blur(strength[..., 1], (3, 3))
    hue_less = typed < UNCOLOURED_PIXEL_SHARE * typical * (typed + neutral)
    return float(np.count_nonzero(pixels & hue_less) / max(int(np.count_nonzero(pixels)), 1))


# Optical density of each level of a flattened channel (paper 255): minus the log of its share of the light.
_LEVEL_DENSITY = -np.log(np.maximum(np.arange(256, dtype=np.float32), 1.0) / 255.0)


def _page_density(rgb: np.ndarray) -> np.ndarray:
    """Optical density in each channel of a colour page (unsmoothed, unlike `_density`'s of a crop),
    each channel's paper found as `preprocess.flatten_background` finds it."""
    return cv2.LUT(preprocess.flatten_background(np.ascontiguousarray(rgb[:, :, :3])), _LEVEL_DENSITY)


def _enlarged_nearest(
    mask: np.ndarray, shape: tuple[int, ...]
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST), and the box round its
    ink (x, y, w, h as cv2.boundingRect): only the box is filled, each pixel from the small pixel
    OpenCV takes (floor of its place times the inverse scale), instead of writing a whole page of zeros
    round a stamp."""
    out = np.zeros(shape[:2], mask.dtype)  # untouched pages of zeros cost nothing until read
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return out, (0, 0, 0, 0)
    rows, columns = (
        np.minimum(np.floor(np.arange(big) * (1.0 / (big / small))).astype(np.intp), small - 1)
        for big, small in ((shape[0], mask.shape[0]), (shape[1], mask.shape[1]))
    )
    # The rows and columns whose small pixel lies in the small box (the maps rise, never fall).
    y0, y1 = int(np.searchsorted(rows, y, "left")), int(np.searchsorted(rows, y + h - 1, "right"))
    x0, x1 = int(np.searchsorted(columns, x, "left")), int(np.searchsorted(columns, x + w - 1, "right"))
    out[y0:y1, x0:x1] = mask[np.ix_(rows[y0:y1], columns[x0:x1])]
    return out, (x0, y0, x1 - x0, y1 - y0)


def _around_ink(
    mask: np.ndarray,
    margin: int,
    operation: Callable[[np.ndarray], np.ndarray],
    box: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """`operation` (a dilation or closing no wider than `margin` pixels) of a mask, done only on the box
    round its ink with that margin: the same result as on the whole mask, where a stamp or a note is a
    small part of the page. `box`: cv2.boundingRect(mask), when known."""
    x, y, w, h = cv2.boundingRect(mask) if box is None else box
    out = np.zeros(mask.shape, mask.dtype)  # calloc's zeros: only the pages written are touched
    if w == 0 or h == 0:
        return operation(mask)
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(mask.shape[1], x + w + margin), min(mask.shape[0], y + h + margin)
    out[y0:y1, x0:x1] = operation(mask[y0:y1, x0:x1])
    return out


def grey_without_colour_ink(
    pixels: np.ndarray, mask: np.ndarray | None, rgb: np.ndarray | None = None, dpi: int = 300
) -> np.ndarray:
    """The scan in grey with the coloured ink lifted to the paper around it.

    Given the scan's colour (`rgb`), each patch of coloured ink (a stamp's or a word's strokes, with all
    they enclose: a thin inner ring or a faint stroke the mask missed) keeps only the black type's share
    of each pixel's darkness (`_type_share`): a stamp's stroke across a letter takes nothing of the
    letter with it, and type and paper, which have no colour, come through as they are. Without the
    colour, the mask's pixels take the paper's value."""
    grey = preprocess.to_grey(pixels)
    if mask is None:
        return grey
    # Shrunk by area exactly, as flatten_background's copy: the paper here is what the cleaned page holds.
    small, factor = preprocess.downscale(grey, 600, exact=True)
    kernel = max(15, int(round(min(small.shape) / 40)) | 1)  # wider than any stroke on the small copy
    paper_small = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (kernel, kernel)))
    if rgb is None or rgb.ndim != 3 or rgb.shape[:2] != grey.shape:
        paper = cv2.resize(paper_small, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
        return cv2.copyTo(paper, mask, grey.copy())  # the paper's value where the mask is set
    out = grey.copy()
    paper_full = None  # made once, if a patch is lifted the plain way
    patches = cv2.dilate(
        cv2.resize(mask, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA),
        np.ones((9, 9), np.uint8),
    )
    contours, _ = cv2.findContours((patches > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    height, width = grey.shape
    for contour in contours:
        hull = cv2.convexHull(contour)
        x, y, w, h = cv2.boundingRect(hull)
        x0, y0 = int(x / factor), int(y / factor)
        x1, y1 = min(width, int(np.ceil((x + w) / factor))), min(height, int(np.ceil((y + h) / factor)))
        size = (x1 - x0, y1 - y0)
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [hull - np.array([x, y])], 255)
        inside = cv2.bitwise_or(cv2.resize(inside, size, interpolation=cv2.INTER_NEAREST), mask[y0:y1, x0:x1])
        paper = cv2.resize(paper_small[y : y + h, x : x + w], size, interpolation=cv2.INTER_LINEAR)
        share = _type_share(
            rgb[y0:y1, x0:x1, :3],
            grey[y0:y1, x0:x1],
            paper,
            mask[y0:y1, x0:x1],
            part_hues=min(size) >= UNMIX_MIN_SIDE * dpi,
        )
        if share is not None:
            lifted = np.clip(paper * share, 0, 255).astype(np.uint8)
            cv2.copyTo(lifted, inside, out[y0:y1, x0:x1])
            continue
        if paper_full is None:
            paper_full = cv2.resize(paper_small, (width, height), interpolation=cv2.INTER_LINEAR)
        cv2.copyTo(paper_full[y0:y1, x0:x1], mask[y0:y1, x0:x1], out[y0:y1, x0:x1])
    return out


def _type_share(
    rgb: np.ndarray, grey: np.ndarray, paper: np.ndarray, coloured: np.ndarray, part_hues: bool = True
) -> np.ndarray | None:
    """How much light the black type alone lets through at each pixel of a patch of blue or violet ink
    (1: no type there), or None when the patch shows no paper, no coloured ink to measure, ink of
    another hue (a red pencil, a brown stain or binding, which may be the paper's own), or no type
    beside its strokes, or type of the stamp's own hue: the patch is then lifted as it was. Type coloured
    itself is parted from the patch's ink by their hues only when `part_hues` (a stamp-sized patch).

    `paper` is the paper's grey round each pixel, `coloured` the coloured-ink mask. Inks on paper
    multiply: a pixel is type x stamp, the type grey (the same share in every channel), the stamp its
    own colour c laid on with a strength k (1 - k (1 - c) in each channel). The ratio of the stamp's
    darkest channel to its lightest is the stamp's alone, so it gives k, and the lightest channel
    divided by the stamp's share in it leaves the type. The paper's tint is that of the patch's
    paper-light pixels; the ink's colour that of its most coloured pixels in the mask (the stamp at full
    strength, nothing under it)."""
    # The tint from every fourth pixel each way: it changes slowly, and the paper is most of a patch.
    blank = grey[::4, ::4] >= 0.92 * paper[::4, ::4]
    if not blank.any() or not coloured.any():
        return None
    tint = rgb[::4, ::4][blank].mean(axis=0) / max(float(grey[::4, ::4][blank].mean()), 1.0)
    paper = np.maximum(paper, 1).astype(np.float32)
    inked = coloured[::2, ::2] > 0  # the ink's colour from every other pixel each way
    own = np.clip(
        rgb[::2, ::2][inked].astype(np.float32) / (paper[::2, ::2][inked][:, None] * tint), 0.0, 1.0
    )
    chroma = own.max(axis=1) - own.min(axis=1)
    colour = np.median(own[chroma >= np.percentile(chroma, 80)], axis=0)
    light, dark = int(np.argmax(colour)), int(np.argmin(colour))
    if light != 2:  # RGB: stamp and pen inks let most of the blue through
        return None
    a, b = 1.0 - colour[dark], 1.0 - colour[light]
    # Only the two channels that tell the inks apart, as shares of the paper's.
    lit = np.clip(rgb[..., light] / (paper * tint[light]), 0.0, 1.0)
    # The stamp's strength from the two channels averaged over 3 x 3 pixels (a scan's colour is coarser
    # than its grey, and its grain would otherwise read as a little colour on every pixel), with a
    # little colour taken for none: on faint type, lightening each grainy pixel wipes its letters out.
    dark_lit = cv2.blur(rgb[..., dark], (3, 3)) / (paper * tint[dark])
    ratio = np.clip(dark_lit / np.maximum(cv2.blur(lit, (3, 3)), 1e-3), 0.0, 1.0)
    strength = np.clip((1.0 - ratio) / np.maximum(a - ratio * b, 1e-3), 0.0, 1.0)
    strength = np.clip((strength - FAINT_STAMP) / (1.0 - FAINT_STAMP), 0.0, 1.0)
    # The model holds when the type is black: the dark ink away from the coloured strokes then shows
    # no stamp's colour. Too little of it to tell (a faint carbon): the patch is lifted as it was; too
    # much of it coloured like the stamp (a carbon copy typed in violet or blue): the inks are parted
    # by their hues.
    away = (lit < 0.8) & (cv2.dilate(coloured, np.ones((9, 9), np.uint8)) == 0)
    if np.count_nonzero(away) < TYPE_UNDER_PIXELS:
        return None
    if np.mean(strength[away] > 0) > COLOURED_TYPE_SHARE:
        return _coloured_type_share(rgb, grey, paper, tint, colour, away) if part_hues else None
    return np.clip(lit / (1.0 - strength * b), 0.0, 1.0)


def _coloured_type_share(
    rgb: np.ndarray,
    grey: np.ndarray,
    paper: np.ndarray,
    tint: np.ndarray,
    colour: np.ndarray,
    away: np.ndarray,
) -> np.ndarray | None:
    """`_type_share` for type coloured itself (a violet or blue carbon copy), or None when its hue and
    the stamp's are too alike to part.

    Inks multiply on paper, so in optical density (minus the log of each channel's share of the paper's
    light) a pixel is the sum of each ink's own density, a fixed direction per ink, times its strength.
    The stamp's direction is its colour's; the type's that of the ink beside the stamp's strokes (`away`).
    Three channels, two inks: least squares gives each pixel's type strength, and the type's share of
    the light in grey follows, where the stamp's strength is at least UNMIX_STAMP_MIN; elsewhere the grey
    is left as it is (parting the inks also sharpens the scan's grain). Lifted whole, the stamp took
    the pieces of letters its strokes cross with it (tune carbon 2118: `секр?тарский аппара?`, words
    under the ring lost)."""
    shares = np.clip(rgb.astype(np.float32) / (paper[..., None] * tint.astype(np.float32)), 1e-3, 1.0)
    density = -np.log(shares)
    stamp = -np.log(np.clip(colour.astype(np.float32), 1e-3, 1.0))
    typed = np.median(density[away], axis=0)
    if np.linalg.norm(stamp) == 0 or np.linalg.norm(typed) == 0:
        return None
    stamp, typed = stamp / np.linalg.norm(stamp), typed / np.linalg.norm(typed)
    unmix = _unmixing(typed, stamp)
    if unmix is None:
        return None
    strength = np.clip(density @ unmix[0], 0.0, None)
    parted = np.exp(-strength * float(GREY_WEIGHTS @ typed))
    return np.where(density @ unmix[1] >= UNMIX_STAMP_MIN, parted, np.clip(grey / paper, 0.0, 1.0))


def _unmixing(typed: np.ndarray, other: np.ndarray) -> np.ndarray | None:
    """The least-squares rows (2 x 3) that part a pixel's optical density into the strengths of two
    inks (their densities' unit directions: the type's, then the other's), or None when the two are
    within UNMIX_MIN_DEGREES of each other and cannot be told apart."""
    if float(typed @ other) > np.cos(np.radians(UNMIX_MIN_DEGREES)):
        return None
    return np.linalg.pinv(np.stack([typed, other], axis=1)).astype(np.float32)


def to_clean_frame(
    source: np.ndarray,
    transform: tuple[tuple[float, float, float], tuple[float, float, float]],
    clean_shape: tuple[int, int],
    scale: float,
    fill: int = 0,
) -> np.ndarray:
    """`source` (source-image pixels) resampled into the cleaned page's frame, `scale` times its size.

    `transform` maps cleaned pixels to source pixels (preprocess.Cleaned.transform). The source is
    shrunk by area first, so thin strokes survive on a small copy."""
    to_source = np.vstack([np.array(transform, float), [0, 0, 1]])
    per_clean = float(np.sqrt(abs(np.linalg.det(to_source[:2, :2])))) or 1.0  # source px per cleaned px
    shrink = min(1.0, scale / per_clean)
    if shrink < 0.9:
        source = cv2.resize(source, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    else:
        shrink = 1.0
    matrix = (np.diag([shrink, shrink, 1.0]) @ to_source @ np.diag([1 / scale, 1 / scale, 1.0]))[:2]
    size = (max(1, round(clean_shape[1] * scale)), max(1, round(clean_shape[0] * scale)))
    return cv2.warpAffine(
        source, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=fill
    )


def analysis_scale(shape: tuple[int, ...]) -> float:
    return min(1.0, ANALYSIS_SIDE / max(shape[:2]))


def analysis_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) of the cleaned page's copies at `analysis_scale`."""
    scale = analysis_scale(shape)
    return max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale))


def analysis_copy(image: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The cleaned page (or its ink and paper) at `analysis_scale` (`preprocess.shrink`): made once per page
    for the search for missed bands and for `find_regions`. `image` may be a reduced copy of a page of
    `shape` (ocr.reduced_copy): a quarter of the pixels to shrink."""
    return preprocess.shrink(image, analysis_size(shape or image.shape))


def source_crop(
    source: np.ndarray,
    transform: tuple[tuple[float, float, float], tuple[float, float, float]],
    box: BBox,
    fill: int = 255,
) -> np.ndarray:
    """The part of `source` (source pixels) under `box` of the cleaned frame, at full size."""
    to_source = np.vstack([np.array(transform, float), [0, 0, 1]])
    matrix = (to_source @ np.array([[1, 0, box.x0], [0, 1, box.y0], [0, 0, 1]], float))[:2]
    return cv2.warpAffine(
        source,
        matrix,
        (max(1, box.width), max(1, box.height)),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=(fill, fill, fill) if source.ndim == 3 else fill,
    )


@dataclass(frozen=True)
class Found:
    """What the image shows before the words are sorted: furniture regions and, at analysis scale,
    which ink belongs to which of them (0: the document's own ink)."""

    regions: list[Region]
    labels: np.ndarray  # int32, analysis scale: 1 + index of the region owning that ink pixel
    ink: np.ndarray  # bool, analysis scale: ink of the page as the body OCR saw it
    scale: float
    stamp_keep_conf: float = STAMP_KEEP_CONF  # words on a stamp read with less confidence are the stamp's
    tall_word: float = float("inf")  # cleaned pixels: a word this high is larger writing than the type


def find_regions(
    cleaned: np.ndarray,
    grey_small: np.ndarray,
    colour_small: np.ndarray | None,
    dpi: int,
    lines: tuple[Line, ...] = (),
    cleaned_small: np.ndarray | None = None,
) -> Found:
    """Stamps and handwriting on the page, in cleaned-image pixels.

    `grey_small` is the grey page the cleaning stage got (coloured ink already lifted), resampled into
    the cleaned frame at `analysis_scale`; `colour_small` likewise the coloured-ink mask, or None;
    `lines` what the body OCR read (ink it left unread is looked at as handwriting); `cleaned_small`
    the cleaned page's `analysis_copy`, when it is made already."""
    scale = analysis_scale(cleaned.shape)
    small_dpi = dpi * scale
    regions: list[Region] = []
    if colour_small is not None and cv2.countNonZero(colour_small):
        regions += _colour_regions(colour_small, small_dpi, scale)
    paper = preprocess.flatten_background(grey_small)  # once, for the stamps and the foreign ink
    flat = _stamp_ink(paper, colour_small)
    for region in _round_stamps(flat, colour_small, small_dpi, scale) + _rect_stamps(
        flat, colour_small, small_dpi, scale
    ):
        if not any(r.type == "stamp" and _overlap(region.bbox, r.bbox) > 0.5 for r in regions):
            regions.append(region)
    if colour_small is not None:
        regions = _apart_from_rings(regions, colour_small, small_dpi, scale)
    if cleaned_small is None:
        cleaned_small = analysis_copy(cleaned)
    ink = cleaned_small < 160
    labels = np.zeros(ink.shape, np.int32)
    for region, member in _rim_across_pieces(_foreign_ink(paper, small_dpi, scale), paper, small_dpi, scale):
        if _part_of_stamp(region.bbox, regions, dpi):
            continue
        regions.append(region)
        if region.type == "handwriting":
            # Type that a stamp's ring or frame touches joins its piece of ink: words on a stamp are
            # judged by their confidence instead (see _furniture_of).
            labels[member] = len(regions)
    if lines:
        stamps = [r.bbox for r in regions if r.type == "stamp"]
        for region in _unread_ink(ink, lines, small_dpi, scale, stamps):
            if not any(_overlap(region.bbox, r.bbox) > 0.3 for r in regions):
                regions.append(region)
    return Found(regions, labels, ink, scale, tall_word=_tall_word(lines))


def _tall_word(lines: tuple[Line, ...]) -> float:
    """Height (cleaned pixels) from which a word is larger writing than the page's well-read type."""
    heights = [
        w.bbox.height for ln in lines for w in ln.words if w.conf >= TYPED_LINE_CONF and len(w.text) >= 3
    ]
    return TALL_WORD * float(np.median(heights)) if heights else float("inf")


def _median(values: list[float] | list[int]) -> float:
    """np.median of a short list (a line's words), without NumPy's overhead per call: the middle value,
    or the mean of the two middle ones ((a + b) / 2, as NumPy's mean of two)."""
    return float(statistics.median(values))


def _unread_ink(
    ink: np.ndarray, lines: tuple[Line, ...], dpi: float, scale: float, stamps: list[BBox] | None = None
) -> list[Region]:
    """Writing the body OCR did not read: Tesseract's model of print passes over most handwriting, so
    pieces of ink of a written word's size that no confidently read word covers are handwriting (a
    signature, a resolution in pencil, a note in the margin). Rules, underlines and specks are not.
    These zones mostly only describe the page: they take no words out of the text (an old print's
    words are read with low confidence too), except a note in the left margin and what Tesseract read
    of writing larger than the type (see _furniture_of)."""
    read = np.zeros(ink.shape, np.uint8)
    text_left, gap = _text_left(lines), dpi / scale * MARGIN_GAP  # cleaned pixels
    margin = text_left - gap / 5  # left of it is the margin
    tall = _tall_word(lines)
    top, corner = ink.shape[0] / scale * RESOLUTION_TOP, ink.shape[1] / scale * 0.7  # cleaned pixels
    for line in lines:
        # Tesseract's guesses at handwriting come with almost no confidence; a poor word on a line of
        # well-read type is type.
        confs = [w.conf for w in line.words if w.conf >= 0]
        typed_line = bool(confs) and _median(confs) >= TYPED_LINE_CONF
        heights = [w.bbox.height for w in line.words]
        typed = [w.bbox for w in line.words if w.conf >= TYPED_LINE_CONF and w.bbox.height < tall]
        band = (_median([b.y0 for b in typed]), _median([b.y1 for b in typed])) if typed else None
        for k, w in enumerate(line.words):
            if w.bbox.x1 < margin:
                continue  # a note in the left margin, whatever Tesseract made of it
            if w.bbox.height >= tall and w.conf < STAMP_KEEP_CONF and len(line.words) <= 4:
                continue  # writing larger than the type, on a line of its own, read unsurely
            if w.bbox.height >= tall and w.conf < WRITTEN_ACROSS_CONF and band is not None:
                # Writing larger than the type across a line of it (Tesseract makes nothing of the two):
                # only its ink above and below the type's band is unread (and a note in the margin
                # run into it, below).
                y0, y1 = int(band[0] * scale), int(np.ceil(band[1] * scale)) + 1
                left = max(w.bbox.x0, text_left)
                read[y0:y1, int(left * scale) : int(np.ceil(w.bbox.x1 * scale)) + 1] = 1
                continue
            others = heights[:k] + heights[k + 1 :]
            if (
                w.bbox.y1 < top
                and w.bbox.x0 < corner
                and w.bbox.height >= tall
                and others
                and w.bbox.height >= LARGER_ON_LINE * _median(others)
            ):
                continue  # a resolution over the letterhead: larger than the type and the line it joins
            if w.bbox.y1 < top and w.conf < UNREAD_CONF and w.bbox.height >= SMALL_WRITING * dpi / scale:
                # A resolution written into a letterhead's or registration's line: their print reads surely.
                continue
            if w.conf >= UNREAD_CONF or typed_line:
                left = w.bbox.x0
                if left < text_left - gap and (w.bbox.height >= tall or w.conf < TYPED_LINE_CONF):
                    # A note in the margin written into the line's first word: Tesseract reads the two
                    # as one word, taller than the type or unsurely; its part in the margin is not type.
                    left = text_left
                x0, y0 = int(left * scale), int(w.bbox.y0 * scale)
                read[y0 : int(np.ceil(w.bbox.y1 * scale)) + 1, x0 : int(np.ceil(w.bbox.x1 * scale)) + 1] = 1
    unread = (ink & (read == 0)).astype(np.uint8)
    # A stamp found already is no writing; what runs out of it (the number written into its blank,
    # across its frame) is looked at on its own.
    rim = int(round(dpi * 0.05))
    for box in stamps or ():
        x0, y0 = max(0, int(box.x0 * scale) - rim), max(0, int(box.y0 * scale) - rim)
        unread[y0 : int(np.ceil(box.y1 * scale)) + rim + 1, x0 : int(np.ceil(box.x1 * scale)) + rim + 1] = 0
    # Long straight rules (under a letterhead, a form's or a table's lines) are no writing, and a
    # resolution written across one would be joined to it. The shadow of the page's edge is left
    # whole: it is told apart below by where it lies.
    reach = max(5, int(round(dpi * RULE_LENGTH)))
    edge = int(0.015 * max(ink.shape))  # the shadow of the page's edge lies this near it
    for kernel in (np.ones((1, reach), np.uint8), np.ones((reach, 1), np.uint8)):
        rules = cv2.morphologyEx(unread, cv2.MORPH_OPEN, kernel)
        count, labels, stats, _ = preprocess.components(rules)
        x, y, w, h = (stats[:, i] for i in range(4))
        inner = (x > edge) & (y > edge) & (x + w < ink.shape[1] - edge) & (y + h < ink.shape[0] - edge)
        inner[0] = False
        for label in np.flatnonzero(inner):  # a few rules a page: each cleared in its own box
            rx, ry, rw, rh = (int(v) for v in stats[label, :4])
            unread[ry : ry + rh, rx : rx + rw][labels[ry : ry + rh, rx : rx + rw] == label] = 0
    close = max(3, int(round(dpi * 0.15)))  # analysis pixels; `gap` stays the margin's, in cleaned pixels
    joined = cv2.morphologyEx(
        unread, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close, close))
    )
    count, labels, stats, _ = preprocess.components(joined)
    h_img, w_img = ink.shape
    regions = []
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        # In the left margin a short note (`!`, `да`) is writing too: nothing typed stands there.
        in_margin = (x + w) / scale < text_left + gap / 5 and x / scale < text_left - gap
        # A sheet number in the top right corner may be one or two small digits, and run to the edge
        # of a tightly cropped scan.
        folio = y + h < h_img * FOLIO_TOP and x > w_img * 0.7 and w < dpi * 0.8
        # Least width, height and ink (inches): a note in the margin or a number in the corner is small.
        least, lowest, fewest = (
            (0.03, SMALL_WRITING, 0.03)
            if in_margin
            else (0.03, SMALL_WRITING, 0.08)
            if folio
            else (0.15, 0.12, 0.15)
        )
        if h < dpi * lowest or w < dpi * least or w > w_img * 0.5 or h > h_img * 0.15:
            continue
        if (x <= edge or y <= edge or x + w >= w_img - edge or y + h >= h_img - edge) and not folio:
            continue  # the scanner's border, the shadow of the page's edge
        patch = (labels[y : y + h, x : x + w] == label) & (unread[y : y + h, x : x + w] > 0)
        pixels = int(patch.sum())
        # At this scale a short word is a dense patch: only in the margin is no type to mistake it for.
        densest = 0.75 if in_margin else 0.45
        if pixels < (dpi * fewest * 0.66) ** 2 or max(w, h) > 12 * min(w, h) or pixels > densest * w * h:
            continue  # a rule or an underline, or a blot
        if folio and not in_margin and w >= dpi * 0.25 and patch.mean(axis=1).max() >= RULED_SHARE:
            continue  # a rule or a frame's side in the corner (round a typed mark), no written number
        if not in_margin and w < dpi * 0.1 and h >= 2 * w and _ruled(patch):
            continue  # a short straight bar: the side of a frame whose long sides are taken as rules
        if read[y : y + h, x : x + w].mean() > FRAMED_READ_SHARE:
            continue  # a frame round typed words (a boxed secrecy mark), or a table's rules
        points = cv2.findNonZero(patch.astype(np.uint8))
        (_, _), (rw, rh), rect_angle = cv2.minAreaRect(points)
        regions.append(
            Region(
                "handwriting",
                "margin_note" if in_margin else "",
                _unscale(x, y, w, h, scale),
                angle=_text_angle(rect_angle, rw, rh),
                unread=True,
            )
        )
    return regions


def _text_left(lines: tuple[Line, ...]) -> float:
    """Where the page's lines of type begin (cleaned pixels): the left edge most long lines share."""
    starts = [ln.bbox.x0 for ln in lines if len(ln.words) >= 4]
    return float(np.percentile(starts, 10)) if len(starts) >= 5 else -1.0


def _foreign_ink(flat: np.ndarray, dpi: float, scale: float) -> list[tuple[Region, np.ndarray]]:
    """Ink that is not type: connected pieces too tall for a line of type (a stamp's ring or frame
    with what touches it, a handwritten word), with the mask of their pixels. `flat`: the grey page at
    analysis scale flattened to white paper."""
    ink = (flat < FOREIGN_INK_LEVEL).astype(np.uint8)
    count, labels, stats, _ = preprocess.components(ink)
    h_img, w_img = ink.shape
    found = []
    # Pieces too short or too big for writing or a stamp, and the scanner's border (what touches the
    # image's edge), are passed over for all pieces at once: most of a page's pieces are letters.
    xs, ys, ws, hs = (stats[:, i] for i in range(4))
    candidates = (
        (hs >= dpi * FOREIGN_MIN_HEIGHT)
        & (ws <= w_img * 0.6)
        & (hs <= h_img * 0.3)
        & (xs != 0)
        & (ys != 0)
        & (xs + ws < w_img)
        & (ys + hs < h_img)
    )
    candidates[0] = False
    for label in np.flatnonzero(candidates):
        x, y, w, h, area = stats[label]
        patch = labels[y : y + h, x : x + w] == label
        member = np.zeros(labels.shape, bool)  # the piece's pixels on the page: only its box to look at
        member[y : y + h, x : x + w] = patch
        box = _unscale(x, y, w, h, scale)
        circle = _ring(patch, dpi)
        # A frame with the type it stamps is sparse ink; a dense piece (bold print run into writing) is none.
        solid = area / float(w * h) > 0.35
        angle = _frame(patch, dpi) if circle is None and not solid else None
        rim = _rim_in_piece(ink, x, y, w, h, dpi) if circle is None and angle is None else None
        if circle is not None:
            cx, cy, r = circle
            region = Region(
                "stamp", "round", box, centre=((x + cx) / scale, (y + cy) / scale), radius=r / scale
            )
        elif rim is not None:
            cx, cy, r = rim
            region = Region(
                "stamp",
                "round",
                _unscale(int(cx - r - 2), int(cy - r - 2), int(2 * r + 4), int(2 * r + 4), scale),
                centre=(cx / scale, cy / scale),
                radius=r / scale,
            )
        elif angle is not None:
            region = Region("stamp", "rect", box, angle=angle)
        elif solid or max(w, h) > 10 * min(w, h) or _ruled(patch):
            continue  # a blot, a hole, a photograph, a rule, a table's cell or the page's edge: not writing
        elif (corner := _frame_corner(patch, dpi)) is not None:
            # A grainy frame broken in pieces (or joined to the type it stamps) keeps a corner.
            region = Region("stamp", "rect", box, angle=corner)
        else:
            points = cv2.findNonZero(patch.astype(np.uint8))
            (_, _), (rw, rh), rect_angle = cv2.minAreaRect(points)
            region = Region("handwriting", "", box, angle=_text_angle(rect_angle, rw, rh))
        found.append((region, member))
    return found


def _rim_across_pieces(
    found: list[tuple[Region, np.ndarray]], flat: np.ndarray, dpi: float, scale: float
) -> list[tuple[Region, np.ndarray]]:
    """`_foreign_ink`'s pieces, with pieces taken for writing that together hold a round stamp's rim
    made that stamp: a grey stamp over dense print breaks into pieces joined to the lines each crosses,
    none of a stamp's size (its rim is found in the box of them all, see _rim_in_piece), and
    HoughCircles' circles there are pulled off by the print. Pieces lying within a smallest stamp's
    radius of each other are looked at together; those whose middles fall inside the rim go with it."""
    writing = [k for k, (r, _) in enumerate(found) if r.type == "handwriting"]
    if len(writing) < 2:
        return found
    reach = dpi * ROUND_STAMP_RADIUS[0] / scale  # cleaned pixels
    boxes = {k: found[k][0].bbox for k in writing}
    groups: list[set[int]] = []
    for k in writing:  # pieces within reach of a piece of a group join it (and groups they join merge)
        near = [g for g in groups if any(_box_gap(boxes[k], boxes[m]) <= reach for m in g)]
        groups = [g for g in groups if g not in near] + [set().union({k}, *near)]
    ink = flat < FOREIGN_INK_LEVEL
    out = list(found)
    taken: set[int] = set()
    for group in (g for g in groups if len(g) >= 2):
        union = BBox.enclosing([boxes[k] for k in group])
        x, y = int(union.x0 * scale), int(union.y0 * scale)
        w, h = max(1, int(union.width * scale)), max(1, int(union.height * scale))
        rim = _rim_in_piece(ink, x, y, w, h, dpi)
        if rim is None:
            continue
        cx, cy, r = rim
        inside = {
            k
            for k in group
            if np.hypot(
                (boxes[k].x0 + boxes[k].x1) / 2 * scale - cx, (boxes[k].y0 + boxes[k].y1) / 2 * scale - cy
            )
            < r
        }
        if len(inside) < 2:
            continue
        box = _unscale(int(cx - r - 2), int(cy - r - 2), int(2 * r + 4), int(2 * r + 4), scale)
        stamp = Region("stamp", "round", box, centre=(cx / scale, cy / scale), radius=r / scale)
        member = np.logical_or.reduce([found[k][1] for k in inside])
        out.append((stamp, member))
        taken |= inside
    return [f for k, f in enumerate(out) if k not in taken]


def _box_gap(a: BBox, b: BBox) -> float:
    """Paper between two boxes: the larger of their gaps across and down (0 when they overlap)."""
    return float(max(0, max(a.x0, b.x0) - min(a.x1, b.x1), max(a.y0, b.y0) - min(a.y1, b.y1)))


def _rim_in_piece(
    ink: np.ndarray, x: int, y: int, w: int, h: int, dpi: float
) -> tuple[float, float, float] | None:
    """(cx, cy, r) in page pixels of a round stamp's rim inside a piece of ink of a stamp's size whose
    outline is no circle: a grey stamp over dense print joins the lines it crosses, which widen the
    piece, and the accumulator's circles there are pulled off by the print (see _stamp_rim)."""
    low, high = (dpi * r for r in ROUND_STAMP_RADIUS)
    if not (2 * low <= min(w, h) and max(w, h) <= 3 * high and 0.6 < w / h < 1.67):
        return None
    rough_r = min((w + h) / 4, high)
    rim = _stamp_rim(ink > 0, x + w / 2, y + h / 2, rough_r)
    return None if rim is None else rim[:3]


def _stamp_ink(flat: np.ndarray, colour_small: np.ndarray | None) -> np.ndarray:
    """The page flattened to white paper (`flat`), with the coloured ink lifted before the OCR put back."""
    if colour_small is not None and cv2.countNonZero(colour_small):
        flat = np.minimum(flat, 255 - colour_small)
    return flat


def _removed(ink: np.ndarray, colour_small: np.ndarray | None) -> bool:
    """Most of this ink is coloured ink lifted off the page before the OCR."""
    if colour_small is None:
        return False
    return np.count_nonzero(colour_small[ink]) > 0.5 * max(np.count_nonzero(ink), 1)


def _round_stamps(
    flat: np.ndarray, colour_small: np.ndarray | None, dpi: float, scale: float
) -> list[Region]:
    """Round stamps found by their circle (cv2.HoughCircles), on any scan: a grey or grainy stamp's ring
    is broken and touches the type, so it is no connected piece of its own. A circle counts when ink
    lies on it nearly all the way round, the band just outside it is less inked, and inside it is not
    the solid ink of dense type."""
    ink = flat < FOREIGN_INK_LEVEL
    low, high = (int(dpi * r) for r in ROUND_STAMP_RADIUS)
    circles = cv2.HoughCircles(
        cv2.GaussianBlur(flat, (5, 5), 1.5),
        cv2.HOUGH_GRADIENT,
        dp=1,
        minDist=dpi * 0.8,
        param1=100,
        param2=40,
        minRadius=low,
        maxRadius=high,
    )
    regions: list[Region] = []
    # Largest first: a stamp's inner ring is part of the stamp its outer ring makes.
    for rough_x, rough_y, rough_r in [] if circles is None else sorted(circles[0], key=lambda c: -c[2]):
        # Its circle may be a stamp's inner ring (the two share a centre, and the accumulator gives a
        # centre one radius): the outer ring is looked for first.
        for guess in (rough_r * OUTER_RING, rough_r):
            if guess > high * 1.15:
                continue
            rim_circle = _stamp_rim(ink, float(rough_x), float(rough_y), float(guess))
            if rim_circle is None:
                continue
            cx, cy, radius, contrast, inside = rim_circle
            removed = colour_small is not None and _removed(*_ring_ink(ink, colour_small, cx, cy, radius))
            # Lines of dense type ink some circle through them nearly all round, a little less the band
            # outside it: over dense type, a rim not of coloured ink must stand out from that band by more.
            if removed or inside <= CIRCLE_INSIDE_COVER or contrast >= UNCOLOURED_RIM_CONTRAST:
                break
        else:
            continue
        x0, y0 = max(0.0, cx - radius - 2), max(0.0, cy - radius - 2)
        box = _unscale(int(x0), int(y0), int(cx + radius + 2 - x0), int(cy + radius + 2 - y0), scale)
        if any(_overlap(box, other.bbox) > 0.5 for other in regions):
            continue
        regions.append(
            Region(
                "stamp",
                "round",
                box,
                centre=(float(cx) / scale, float(cy) / scale),
                radius=float(radius) / scale,
                ink_removed=bool(removed),
            )
        )
    return regions


def _stamp_rim(
    ink: np.ndarray, rough_x: float, rough_y: float, rough_r: float
) -> tuple[float, float, float, float, float] | None:
    """(cx, cy, r, contrast, inside) of a round stamp's rim near a rough circle, or None; `contrast` is
    the share of directions in which the rim is inked minus that of the band just outside it, `inside`
    that of a band halfway to the centre. A rough centre and radius are off (type inside a grey stamp
    pulls the accumulator's off): the rim is the best-inked circle near them. It counts when ink lies
    on it nearly all the way round, the band just outside it is less inked, and inside it is not the
    solid ink of dense type."""
    cx, cy, rim, radius = _best_rim(ink, rough_x, rough_y, rough_r)
    outside = _circle_cover(ink, cx, cy, radius + 4, radius + 7)
    inside = _circle_cover(ink, cx, cy, radius * 0.3, radius * 0.5)
    # A more broken rim must stand out more from the band outside it.
    contrast = CIRCLE_RIM_CONTRAST if rim >= CIRCLE_RIM_COVER else 2 * CIRCLE_RIM_CONTRAST
    # Dense type inside is no stamp, unless the rim is inked nearly all round (a stamp over print).
    crowded = inside > CIRCLE_INSIDE_COVER and rim < CIRCLE_WHOLE_RIM
    # A broken rim over print: the print inks part of any circle, so the band outside must be mostly paper.
    clear = rim >= CIRCLE_RIM_COVER or outside <= BROKEN_RIM_OUTSIDE
    if rim >= CIRCLE_RIM_COVER - 0.05 and not crowded and rim - outside >= contrast and clear:
        return cx, cy, radius, rim - outside, inside
    return None


def _rect_stamps(flat: np.ndarray, colour_small: np.ndarray | None, dpi: float, scale: float) -> list[Region]:
    """Rectangular stamps found by their frame's straight sides (a fast line detector), on any
    scan: two long parallel lines, a stamp's height apart, closed by inked ends. A grey stamp's frame
    is broken by its grain and touches the type, so it is no connected piece of its own."""
    ink = flat < FOREIGN_INK_LEVEL
    segments = _line_detector(dpi).detect(flat)
    if segments is None:
        return []
    segments = segments.reshape(-1, 4).astype(float)
    length = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    angle = np.degrees(np.arctan2(segments[:, 3] - segments[:, 1], segments[:, 2] - segments[:, 0]))
    angle = (angle + 90) % 180 - 90  # a segment's direction, either way along it
    keep = (np.abs(angle) <= RECT_TILT) & (length >= dpi * RECT_SIDE_PIECE)
    flat_ones, length = segments[keep], length[keep]
    regions: list[Region] = []
    for i, j in _parallel_pairs(flat_ones, dpi):
        # Both sides long, or one long and the other in pieces where type runs along it.
        short, long = sorted((length[i], length[j]))
        if short < dpi * RECT_SIDE_MIN and long < dpi * RECT_SIDE_LONG:
            continue
        rect = _rect_between(flat_ones[i], flat_ones[j], flat_ones, dpi)
        if rect is None:
            continue
        rect = _fit_ends(ink, rect, dpi)
        if not _framed(ink, rect, dpi):
            continue
        (cx, cy), (w, h), turn = rect = _outer_sides(ink, rect)
        x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        box = _unscale(int(x0), int(y0), int(x1 - x0), int(y1 - y0), scale)
        if any(_overlap(box, other.bbox) > 0.5 for other in regions):
            continue
        removed = False
        if colour_small is not None:  # without coloured ink lifted, none of the frame's was
            corners = cv2.boxPoints(rect).astype(np.int32)
            inside = np.zeros(ink.shape, np.uint8)
            cv2.polylines(inside, [corners], True, 1, 3)
            removed = _removed(ink & (inside > 0), colour_small)
        regions.append(Region("stamp", "rect", box, angle=-turn, ink_removed=removed))
    return regions


def _line_detector(dpi: float) -> cv2.ximgproc.FastLineDetector:
    """Straight lines along the edges of ink, at least a frame's shortest piece long: cv2.ximgproc's fast
    line detector fits them to Canny's edges, in a quarter of the time of the line segment detector on a
    page, which also took the blurred edges of lines of plain type for a frame's sides."""
    return cv2.ximgproc.createFastLineDetector(
        length_threshold=max(5, int(dpi * RECT_SIDE_PIECE)),
        distance_threshold=1.414,
        canny_th1=50,
        canny_th2=50,
        canny_aperture_size=3,
        do_merge=False,
    )


def _parallel_pairs(segments: np.ndarray, dpi: float) -> list[tuple[int, int]]:
    """Index pairs (i < j) of segments parallel within 3 degrees, a stamp's height apart, overlapping
    along their length and spanning a stamp's width: the pairs _rect_between may make a rectangle of,
    found for all pairs at once (a pixel's leeway; _rect_between decides)."""
    theta = np.degrees(np.arctan2(segments[:, 3] - segments[:, 1], segments[:, 2] - segments[:, 0]))
    theta = (theta + 90) % 180 - 90
    turn = np.radians((theta[:, None] + theta[None, :]) / 2)
    cos, sin = np.cos(turn), np.sin(turn)
    mid_x, mid_y = (segments[:, 0] + segments[:, 2]) / 2, (segments[:, 1] + segments[:, 3]) / 2
    height = np.abs(-sin * (mid_x[None, :] - mid_x[:, None]) + cos * (mid_y[None, :] - mid_y[:, None]))
    # Each segment's ends along the pair's common direction (rows: the first of the pair, columns: the
    # second).
    along_i = [cos * segments[:, k][:, None] + sin * segments[:, k + 1][:, None] for k in (0, 2)]
    along_j = [cos * segments[:, k][None, :] + sin * segments[:, k + 1][None, :] for k in (0, 2)]
    lo_i, hi_i = np.minimum(*along_i), np.maximum(*along_i)
    lo_j, hi_j = np.minimum(*along_j), np.maximum(*along_j)
    overlap = np.minimum(hi_i, hi_j) - np.maximum(lo_i, lo_j)
    width = np.maximum(hi_i, hi_j) - np.minimum(lo_i, lo_j)
    ok = (
        (np.abs(theta[:, None] - theta[None, :]) <= 3)
        & (height >= dpi * RECT_HEIGHT[0] - 1)
        & (height <= dpi * RECT_HEIGHT[1] + 1)
        & (overlap >= 0.5 * np.minimum(hi_i - lo_i, hi_j - lo_j) - 1)
        & (width >= dpi * RECT_WIDTH[0] - 1)
        & (width <= dpi * RECT_WIDTH[1] + 1)
    )
    i, j = np.nonzero(np.triu(ok, 1))
    return list(zip(i.tolist(), j.tolist(), strict=True))


def _rect_between(
    a: np.ndarray, b: np.ndarray, flat_ones: np.ndarray, dpi: float
) -> tuple[tuple[float, float], tuple[float, float], float] | None:
    """The rectangle (cv2 rotated rect: centre, size, degrees) whose top and bottom are the lines of
    segments `a` and `b`, if they are parallel, a stamp's height apart, overlap along their length and
    no long line runs between them (a table's rows). Its short sides are looked at by _framed: a grey
    stamp's grain breaks them into pieces too short for a segment."""
    ta = np.degrees(np.arctan2(a[3] - a[1], a[2] - a[0]))
    tb = np.degrees(np.arctan2(b[3] - b[1], b[2] - b[0]))
    ta, tb = (ta + 90) % 180 - 90, (tb + 90) % 180 - 90
    if abs(ta - tb) > 3:
        return None
    turn = np.radians((ta + tb) / 2)
    along, across = np.array([np.cos(turn), np.sin(turn)]), np.array([-np.sin(turn), np.cos(turn)])
    pa, pb = a.reshape(2, 2), b.reshape(2, 2)
    height = abs(float((pb.mean(axis=0) - pa.mean(axis=0)) @ across))
    if not dpi * RECT_HEIGHT[0] <= height <= dpi * RECT_HEIGHT[1]:
        return None
    ua, ub = np.sort(pa @ along), np.sort(pb @ along)
    overlap = min(ua[1], ub[1]) - max(ua[0], ub[0])
    if overlap < 0.5 * min(ua[1] - ua[0], ub[1] - ub[0]):
        return None
    start, end = min(ua[0], ub[0]), max(ua[1], ub[1])
    va, vb = sorted([float(pa.mean(axis=0) @ across), float(pb.mean(axis=0) @ across)])
    width = end - start
    if not dpi * RECT_WIDTH[0] <= width <= dpi * RECT_WIDTH[1]:
        return None
    ends = flat_ones.reshape(-1, 2, 2)
    u, v = np.sort(ends @ along, axis=1), ends.mean(axis=1) @ across
    between = (va + dpi * 0.1 < v) & (v < vb - dpi * 0.1)
    if np.any(between & (np.minimum(u[:, 1], end) - np.maximum(u[:, 0], start) >= 0.6 * width)):
        return None
    centre = along * (start + end) / 2 + across * (va + vb) / 2
    return (float(centre[0]), float(centre[1])), (float(width), float(vb - va)), float(np.degrees(turn))


def _fit_ends(ink: np.ndarray, rect: tuple, dpi: float) -> tuple:
    """The rectangle with each short side moved out (up to 0.15 inch) onto the best-inked line across: the
    segments of a grainy frame's top and bottom stop short of its corners."""
    (cx, cy), (width, height), turn = rect
    t = np.radians(turn)
    along, across = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
    centre = np.array([cx, cy])
    reach = int(round(dpi * 0.15))
    ends = []
    for sign in (-1.0, 1.0):
        best, best_cover = 0, -1.0
        mids = [centre + along * sign * (width / 2 + shift) for shift in range(reach + 1)]
        sides = [(mid - across * height / 2, mid + across * height / 2) for mid in mids]
        # Outwards only, and no further than a clearly better-inked line.
        for shift, cover in enumerate(_side_covers(ink, sides, (cx, cy))[:, 0]):
            if cover > best_cover + 0.05:
                best, best_cover = shift, cover
        ends.append(sign * (width / 2 + best))
    start, end = ends
    if not dpi * RECT_WIDTH[0] <= end - start <= dpi * RECT_WIDTH[1]:
        return rect
    middle = centre + along * (start + end) / 2
    return (float(middle[0]), float(middle[1])), (float(end - start), float(height)), float(turn)


def _outer_sides(ink: np.ndarray, rect: tuple, reach: int = 3) -> tuple:
    """The rectangle with its top and bottom moved out (up to `reach` pixels) to the outer edge of their
    ink: the line detector follows one edge of a stroke, the outer or the inner one of a frame's side."""
    (cx, cy), (width, height), turn = rect
    t = np.radians(turn)
    along, across = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
    steps = (SIDE_STEPS - 0.5) * width  # 40 points along the side
    edges = []
    for sign in (-1.0, 1.0):
        shifts = np.arange(reach + 1)
        mids = np.array([cx, cy]) + across * sign * (height / 2 + shifts[:, None])
        points = mids[:, None, :] + along * steps[None, :, :]
        xs = np.clip(np.round(points[..., 0]).astype(int), 0, ink.shape[1] - 1)
        ys = np.clip(np.round(points[..., 1]).astype(int), 0, ink.shape[0] - 1)
        cover = ink[ys, xs].mean(axis=1)
        inked = np.flatnonzero(cover >= 0.8 * cover.max()) if cover.max() > 0 else [0]
        edges.append(sign * (height / 2 + int(inked[-1])))
    low, high = edges
    middle = np.array([cx, cy]) + across * (low + high) / 2
    return (float(middle[0]), float(middle[1])), (float(width), float(high - low)), float(turn)


def _framed(ink: np.ndarray, rect: tuple, dpi: float) -> bool:
    """Ink along the rectangle's top and bottom and at least one of its ends, and not as much just outside
    them (type, unlike a frame, is as dense a little further out)."""
    corners = cv2.boxPoints(rect)
    cover = [_side_cover(ink, corners[k], corners[(k + 1) % 4], rect[0]) for k in range(4)]
    inked = [c for c, _ in cover]
    contrast = [c - o for c, o in cover]
    if sum(c >= RECT_SIDE_COVER for c in inked) < 3 or float(np.mean(contrast)) < RECT_CONTRAST:
        return False
    # A table's cell: its rules run on past the corners, top and bottom alike.
    reach = dpi * 0.15
    for k in range(4):
        p, q = corners[k], corners[(k + 1) % 4]
        step = (q - p) / (np.linalg.norm(q - p) or 1.0) * reach
        opposite_p, opposite_q = corners[(k + 3) % 4], corners[(k + 2) % 4]
        if (
            min(
                _side_cover(ink, p - step, p, rect[0])[0],
                _side_cover(ink, opposite_p - step, opposite_p, rect[0])[0],
            )
            >= 0.8
            or min(
                _side_cover(ink, q, q + step, rect[0])[0],
                _side_cover(ink, opposite_q, opposite_q + step, rect[0])[0],
            )
            >= 0.8
        ):
            return False
    return True


def _side_cover(ink: np.ndarray, p: np.ndarray, q: np.ndarray, centre: tuple) -> tuple[float, float]:
    """Share of 40 steps along the side p-q with ink within 2 pixels of it, and the same for a line
    5 pixels further out from the rectangle's centre."""
    on, out = _side_covers(ink, [(p, q)], centre)[0]
    return float(on), float(out)


SIDE_STEPS = np.linspace(0.05, 0.95, 40)[:, None]
# All ten offsets at once: on the side (-2..2 pixels), and 5 pixels further out (3..7).
SIDE_OFFSETS = np.array([shift + d for shift in (0.0, 5.0) for d in (-2.0, -1.0, 0.0, 1.0, 2.0)])


def _side_covers(ink: np.ndarray, sides: list[tuple[np.ndarray, np.ndarray]], centre: tuple) -> np.ndarray:
    """_side_cover of each side (p, q), a row each: the ink looked up for all of them at once."""
    ps, qs = np.array([p for p, _ in sides]), np.array([q for _, q in sides])  # float32 corners stay so
    outs = (ps + qs) / 2 - np.array(centre)
    outs = np.array([out / (np.linalg.norm(out) or 1.0) for out in outs])
    points = ps[:, None, :] + (qs - ps)[:, None, :] * SIDE_STEPS
    shifted = outs[:, None, None, :] * SIDE_OFFSETS[None, :, None, None]
    xy = np.round(points[:, None, :, :] + shifted).astype(int)
    xs, ys = np.clip(xy[..., 0], 0, ink.shape[1] - 1), np.clip(xy[..., 1], 0, ink.shape[0] - 1)
    hit = ink[ys, xs].reshape(len(sides), 2, 5, -1).any(axis=2)
    return hit.mean(axis=2)


def _best_rim(ink: np.ndarray, cx: float, cy: float, r: float) -> tuple[float, float, float, float]:
    """(cx, cy, rim cover, radius) of the best-inked circle within CIRCLE_SHIFT of a rough one's centre
    and 15 % of its radius (the outer of equals; the rough centre when no other is better)."""
    radii = np.arange(r * 0.85, r * 1.15)
    bands = radii[:, None] + np.array(RIM_BAND)  # each radius's rim
    best = (-1.0, 0.0, 0.0, cx, cy)  # (score, rim cover, radius, x, y)
    reach = int(r * CIRCLE_SHIFT)
    # Every fourth pixel of the square round the rough centre, then every pixel round the best of them.
    for step, centre, span in ((4, (cx, cy), reach), (1, None, 3)):
        x0, y0 = centre if centre is not None else best[3:]
        shifts = range(-span, span + 1, step)
        centres = [(x0 + dx, y0 + dy) for dy in shifts for dx in shifts]
        for (x, y), covers in zip(centres, _rim_covers_at(ink, centres, bands), strict=True):
            k = len(covers) - 1 - int(np.argmax(covers[::-1]))
            # A moved centre must ink the rim better by a step round, not by the grain's chance.
            rough = x == cx and y == cy
            better = covers[k] - (0.0 if rough else 1 / 36)
            if better > best[0] + 1e-9 or (rough and better >= best[0] - 1e-9):
                best = (better, float(covers[k]), float(radii[k]), x, y)
    _, rim, radius, x, y = best
    return x, y, rim, radius


def _rim_covers_at(
    ink: np.ndarray, centres: list[tuple[float, float]], bands: np.ndarray, steps: int = 72
) -> np.ndarray:
    """Share of the directions round each of `centres` (a row each) in which ink lies on any of each
    band's radii (`bands`: a row of radii a band; a column each in the result). The circles' offsets
    are worked out once, and the ink is looked up for a few centres at a time."""
    angles = np.arange(steps) * 2 * np.pi / steps
    rs = bands[:, :, None]
    along_x, along_y = rs * np.cos(angles), rs * np.sin(angles)
    height, width = ink.shape
    flat = ink.ravel()
    covers = np.empty((len(centres), len(bands)))
    cx, cy = np.array(centres, float).reshape(-1, 2).T
    # Sums and rounding are monotone: when the extreme sums round inside the image, every point does
    # and clipping is a no-op (the common case: a stamp inside the page).
    inside = (
        np.rint(cx.min() + along_x.min()) >= 0
        and np.rint(cx.max() + along_x.max()) <= width - 1
        and np.rint(cy.min() + along_y.min()) >= 0
        and np.rint(cy.max() + along_y.max()) <= height - 1
    )
    for start in range(0, len(centres), 8):  # big enough to share the work, small enough to stay in cache
        # Rounded in place, in floats: whole numbers far below 2**53, so the flat index is exact.
        columns = np.add(cx[start : start + 8, None, None, None], along_x)
        rows = np.add(cy[start : start + 8, None, None, None], along_y)
        np.rint(columns, out=columns)
        np.rint(rows, out=rows)
        if not inside:
            np.clip(columns, 0, width - 1, out=columns)
            np.clip(rows, 0, height - 1, out=rows)
        rows *= width
        rows += columns
        inked = np.take(flat, rows.astype(np.intp)).any(axis=2)
        covers[start : start + 8] = np.count_nonzero(inked, axis=2) / steps
    return covers


def _circle_cover(ink: np.ndarray, cx: float, cy: float, r0: float, r1: float) -> float:
    """Share of the directions round (cx, cy) in which ink lies between radii r0 and r1."""
    radii = np.arange(max(r0, 0.0), r1 + 0.01, 1.0)  # every pixel's radius
    return float(_rim_covers_at(ink, [(cx, cy)], radii[None, :])[0, 0])


def _ring_ink(
    ink: np.ndarray, colour: np.ndarray, cx: float, cy: float, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """The ink on a circle's rim (radius ± 2) and the coloured-ink mask, both in the box round the
    circle: the same pixels as _circle_mask over the whole page, which holds no rim pixel outside it."""
    reach = radius + 2
    x0, y0 = max(0, int(np.floor(cx - reach)) - 1), max(0, int(np.floor(cy - reach)) - 1)
    x1, y1 = max(x0, int(np.ceil(cx + reach)) + 2), max(y0, int(np.ceil(cy + reach)) + 2)
    box = (slice(y0, y1), slice(x0, x1))
    ring = _circle_mask(ink[box].shape, cx - x0, cy - y0, radius - 2, radius + 2) & ink[box]
    return ring, colour[box]


def _circle_mask(shape: tuple[int, ...], cx: float, cy: float, r0: float, r1: float) -> np.ndarray:
    ys, xs = np.ogrid[: shape[0], : shape[1]]
    dist = (xs - cx) ** 2 + (ys - cy) ** 2
    return (dist >= r0**2) & (dist <= r1**2)


def _ruled(patch: np.ndarray) -> bool:
    """The ink holds a straight rule across nearly all its height or width (a table's, a form's): one
    column or row of pixels inked almost end to end, as no handwritten stroke is."""
    return bool(patch.mean(axis=0).max() >= RULED_SHARE or patch.mean(axis=1).max() >= RULED_SHARE)


def _ring(patch: np.ndarray, dpi: float) -> tuple[float, float, float] | None:
    """(cx, cy, r) in patch pixels when the ink has a circle's outline: ink near the rim of its
    enclosing circle all the way round (a round stamp; its grain may break the ring in places)."""
    h, w = patch.shape
    if min(w, h) < dpi * 0.7 or not 0.75 < w / h < 1.33:
        return None
    ys, xs = np.nonzero(patch)
    (cx, cy), r = cv2.minEnclosingCircle(np.column_stack([xs, ys]).astype(np.float32))
    dist = np.hypot(xs - cx, ys - cy)
    rim = dist > r * 0.88
    bins = np.unique((np.arctan2(ys[rim] - cy, xs[rim] - cx) + np.pi) / (2 * np.pi) * 36 // 1 % 36)
    return (float(cx), float(cy), float(r)) if len(bins) >= RIM_COVER * 36 else None


def _frame(patch: np.ndarray, dpi: float) -> float | None:
    """Angle (degrees) of a rectangular stamp when the ink has a frame: ink along all four sides of its
    minimum-area rectangle."""
    h, w = patch.shape
    if min(w, h) < dpi * STAMP_MIN_SIDE:
        return None
    ys, xs = np.nonzero(patch)
    points = np.column_stack([xs, ys]).astype(np.float32)
    rect = cv2.minAreaRect(points)
    (rw, rh), angle = rect[1], rect[2]
    if min(rw, rh) < dpi * STAMP_MIN_SIDE:
        return None
    # Points in the rectangle's own frame, 0..1 along each side.
    corners = cv2.boxPoints(rect)
    origin, ex, ey = corners[0], corners[1] - corners[0], corners[3] - corners[0]
    basis = np.linalg.inv(np.column_stack([ex, ey]))
    u, v = (basis @ (points - origin).T).clip(0, 0.9999)
    margin_u = max(0.03, 3 / np.linalg.norm(ex))  # a few pixels in from each side
    margin_v = max(0.03, 3 / np.linalg.norm(ey))
    cover = []
    for along, across, margin in (
        (u, v, margin_v),
        (u, 1 - v, margin_v),
        (v, u, margin_u),
        (v, 1 - u, margin_u),
    ):
        near = across < margin
        cover.append(len(np.unique((along[near] * 20).astype(int))) / 20)
    # The frame's grain, or writing that runs out over it, may hide a side or two.
    framed = sum(c >= 0.6 for c in cover) >= 2 and np.mean(cover) >= 0.5
    return _text_angle(angle, rw, rh) if framed else None


def _frame_corner(patch: np.ndarray, dpi: float) -> float | None:
    """Angle (degrees) of a stamp's frame when the ink holds one of its corners: two straight strokes,
    each at least FRAME_CORNER_SIDE long, at right angles and meeting at their ends. A pen draws no
    such corner; a frame broken by its grain, or joined to the type under it, keeps one."""
    side = dpi * FRAME_CORNER_SIDE
    if min(patch.shape) < side:
        return None
    found = cv2.HoughLinesP(
        patch.astype(np.uint8), 1, np.pi / 180, int(side * 0.8), minLineLength=side, maxLineGap=2
    )
    if found is None:
        return None
    segments = found.reshape(-1, 4).astype(float)
    theta = np.degrees(np.arctan2(segments[:, 3] - segments[:, 1], segments[:, 2] - segments[:, 0])) % 180
    ends = [segments[:, :2], segments[:, 2:]]
    reach = max(2.0, dpi * 0.05)
    for i in range(len(segments)):
        turn = np.abs((theta - theta[i]) % 180 - 90)
        for a in ends:
            for b in ends:
                meet = np.hypot(*(b - a[i]).T) <= reach
                if np.any(meet & (turn <= FRAME_CORNER_TURN)):
                    tilt = (theta[i] + 45) % 90 - 45  # the frame's tilt, whichever side this is
                    return float(-tilt) if abs(tilt) <= RECT_TILT else None
    return None


def _colour_regions(mask: np.ndarray, dpi: float, scale: float) -> list[Region]:
    """Group coloured ink into stamps (a ring or a frame round their text) and pieces of writing."""
    # Stamp ink is grainy: close its gaps before looking for a ring or a frame.
    grain = max(3, int(round(dpi * 0.06)) | 1)
    # Each closing is done in the box round the ink alone (a stamp or a note is a small part of the page).
    solid = _around_ink(
        mask,
        grain + 1,
        lambda part: cv2.morphologyEx(
            part, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grain, grain))
        ),
    )
    gap = max(3, int(round(dpi * 0.3)))
    regions: list[Region] = []
    rest = mask.copy()
    taken = np.zeros_like(mask)  # the closed pixels of the stamps found so far
    # A stamp's ring or frame is one piece of ink once its grain is closed: looked for first, so that
    # stamps that touch each other, or a note beside one, are not merged into one blob; then the gaps
    # of a broken rim are closed.
    for closing in (0, gap):
        source = cv2.bitwise_and(solid, cv2.bitwise_not(taken))
        if closing:
            source = _around_ink(
                source,
                gap + 1,
                lambda part: cv2.morphologyEx(
                    part, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (gap, gap))
                ),
            )
        count, labels, stats, _ = preprocess.components(source)
        # Largest first: a stamp's inner ring is part of the stamp its outer ring makes.
        for label in sorted(range(1, count), key=lambda i: -int(stats[i, 2]) * int(stats[i, 3])):
            x, y, w, h, _ = stats[label]
            if min(w, h) < dpi * 0.3:
                continue
            patch = (labels[y : y + h, x : x + w] == label) & (solid[y : y + h, x : x + w] > 0)
            # A pixel of margin: the rim's outer edge is not cut off when the stamp is read.
            box = _unscale(x - 1, y - 1, w + 2, h + 2, scale)
            if _part_of_stamp(box, regions, dpi / scale):
                rest[y : y + h, x : x + w][patch] = 0
                taken[y : y + h, x : x + w][patch] = 255
                continue
            circle = _ring(patch, dpi)
            if circle is not None:
                cx, cy, r = circle
                regions.append(
                    Region(
                        "stamp",
                        "round",
                        box,
                        centre=((x + cx) / scale, (y + cy) / scale),
                        radius=r / scale,
                        ink_removed=True,
                    )
                )
            else:
                angle = _frame(patch, dpi)
                if angle is None:
                    continue
                regions.append(Region("stamp", "rect", box, angle=angle, ink_removed=True))
            rest[y : y + h, x : x + w][patch] = 0
            taken[y : y + h, x : x + w][patch] = 255
    # What is left is writing: join the letters of a word or a line.
    letter = max(3, int(round(dpi * 0.12)))
    joined = cv2.morphologyEx(
        rest, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (letter, letter))
    )
    joined = cv2.dilate(joined, cv2.getStructuringElement(cv2.MORPH_RECT, (letter, max(1, letter // 2))))
    count, labels, stats, _ = preprocess.components(joined)
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        patch = (labels[y : y + h, x : x + w] == label) & (rest[y : y + h, x : x + w] > 0)
        points = cv2.findNonZero(patch.astype(np.uint8))
        if points is None or len(points) < 8:
            continue
        px, py, w, h = cv2.boundingRect(points)  # the ink itself, not the joined blob
        if max(w, h) < dpi * 0.08 or max(w, h) > 10 * min(w, h):
            continue  # a speck, or a sliver of a stamp's rim
        box = _unscale(x + px, y + py, w, h, scale)
        if _part_of_stamp(box, regions, dpi / scale):
            continue  # the number written into a stamp, or a loose piece of it
        (_, _), (rw, rh), rect_angle = cv2.minAreaRect(points)
        regions.append(
            Region("handwriting", "", box, angle=_text_angle(rect_angle, rw, rh), ink_removed=True)
        )
    return regions


def _apart_from_rings(regions: list[Region], mask: np.ndarray, dpi: float, scale: float) -> list[Region]:
    """A piece of coloured ink taken for writing that a round stamp found by its circle runs through is
    looked at again without the stamp's disc: a rectangular stamp stamped across a round one makes one
    piece of ink with it, neither ring nor frame, and the frame shows once the ring is gone."""
    rings = [r for r in regions if r.type == "stamp" and r.centre is not None]
    out: list[Region] = []
    for region in regions:
        b = region.bbox
        lifted_writing = region.type == "handwriting" and region.ink_removed
        ring = next((r for r in rings if _overlap(b, r.bbox) > 0.2), None) if lifted_writing else None
        if ring is None or min(b.width, b.height) * scale < dpi * STAMP_MIN_SIDE:
            out.append(region)
            continue
        x0, y0 = int(b.x0 * scale), int(b.y0 * scale)
        x1, y1 = int(np.ceil(b.x1 * scale)) + 1, int(np.ceil(b.y1 * scale)) + 1
        own = np.zeros_like(mask)
        own[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
        assert ring.centre is not None
        centre = (int(round(ring.centre[0] * scale)), int(round(ring.centre[1] * scale)))
        cv2.circle(own, centre, int(round(ring.radius * scale + dpi * 0.06)), 0, -1)
        others = [r for r in regions if r is not region]
        for part in _colour_regions(own, dpi, scale):
            # The ring's own pieces left outside its disc are the round stamp's.
            known = (
                any(_overlap(part.bbox, r.bbox) > 0.5 for r in rings)
                if part.type == "stamp"
                else _part_of_stamp(part.bbox, others, dpi / scale)
            )
            if not known:
                out.append(part)
    return out


def _part_of_stamp(box: BBox, regions: list[Region], dpi: float) -> bool:
    """The box lies mostly on a stamp found already (or just beside its edge, where its grain broke off)."""
    margin = int(dpi * 0.1)
    for r in regions:
        if r.type != "stamp":
            continue
        b = r.bbox
        grown = BBox(b.x0 - margin, b.y0 - margin, b.x1 + margin, b.y1 + margin)
        if _overlap(box, grown) > 0.5:
            return True
    return False


def _text_angle(rect_angle: float, w: float, h: float) -> float:
    """Angle (degrees, counter-clockwise) of the long side of a cv2.minAreaRect."""
    angle = rect_angle if w >= h else rect_angle - 90
    angle = (angle + 90) % 180 - 90
    return -angle


def _unscale(x: int, y: int, w: int, h: int, scale: float) -> BBox:
    return BBox(int(max(0, x) / scale), int(max(0, y) / scale), int((x + w) / scale), int((y + h) / scale))


def _overlap(a: BBox, b: BBox) -> float:
    """Intersection over the smaller box."""
    return float(_overlaps(a, np.array([(b.x0, b.y0, b.x1, b.y1)]))[0])


def _overlaps(a: BBox, boxes: np.ndarray) -> np.ndarray:
    """Intersection over the smaller box of `a` and each of `boxes` (rows x0, y0, x1, y1), all at once."""
    ix = np.maximum(0, np.minimum(a.x1, boxes[:, 2]) - np.maximum(a.x0, boxes[:, 0]))
    iy = np.maximum(0, np.minimum(a.y1, boxes[:, 3]) - np.maximum(a.y0, boxes[:, 1]))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    smaller = np.maximum(1, np.minimum(a.width * a.height, areas))
    return ix * iy / smaller


def _inside(word: BBox, region: Region) -> bool:
    cx, cy = (word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2
    if region.centre is not None:
        return (cx - region.centre[0]) ** 2 + (cy - region.centre[1]) ** 2 <= region.radius**2
    b = region.bbox
    return b.x0 <= cx < b.x1 and b.y0 <= cy < b.y1


# ---------------------------------------------------------------- after the body OCR


def recover_lines(
    page: Page,
    image: np.ndarray,
    settings: Settings,
    binary: np.ndarray | None = None,
    small: np.ndarray | None = None,
) -> tuple[Page, float]:
    """Type the body OCR passed over, read again and put back in its place.

    A stamp printed across the text, or a signature through a line, can make Tesseract's page
    segmentation take a band of lines, or the rest of a line, for a picture and read none of it.
    Bands across the text where much ink lies outside every word read are read again as one block of
    text; a line read there counts when at least two of its words are read surely at the body's letter
    size (a stamp's or a pen's words rarely are both), and its words that no word read before
    overlaps join the line they continue or come in as a line of their own. Returns the page and the
    seconds spent in Tesseract. `binary` is the page as ink and paper when `image` is left grey;
    `small` its `analysis_copy`, when it is made already."""
    bands = missed_bands(page, image if binary is None else binary, small)
    if not bands:
        return page, 0.0
    line_height = float(np.median([ln.bbox.height for ln in page.lines if len(ln.words) >= 3]))
    recovered: list[Line] = []
    seconds = 0.0
    for band in bands:
        crop = image[band.y0 : band.y1, band.x0 : band.x1]
        paragraphs, step = ocr.recognise(crop, settings.replace(psm=6), page.dpi)
        seconds += float(step.settings.get("tesseract_seconds", step.seconds))  # the process alone
        for paragraph in paragraphs:
            for line in paragraph.lines:
                sure = [w for w in line.words if w.conf >= RECOVERED_CONF and len(w.text) > 1]
                word_height = float(np.median([w.bbox.height for w in sure])) if sure else 0.0
                if len(sure) < 2 or not 0.5 * line_height <= word_height <= 1.2 * line_height:
                    continue
                kept = [w for w in line.words if w.conf >= RECOVERED_KEEP_CONF]
                recovered.append(Line(tuple(kept), line.bbox, line.baseline).shifted(band.x0, band.y0))
    return (_with_words(page, recovered), seconds) if recovered else (page, seconds)


def missed_bands(page: Page, image: np.ndarray, small: np.ndarray | None = None) -> list[BBox]:
    """Boxes (cleaned pixels) of bands across the text where much ink lies outside every word read.
    `small` is `image`'s `analysis_copy`, when it is made already."""
    full = [ln for ln in page.lines if len(ln.words) >= 3 and ln.bbox.width > page.width * 0.3]
    if len(full) < 3 or ocr.in_columns(list(page.lines), page.width):
        return []
    line_height = float(np.median([ln.bbox.height for ln in full]))
    x0, x1 = min(ln.bbox.x0 for ln in full), max(ln.bbox.x1 for ln in full)
    scale = analysis_scale(image.shape)
    if small is None:
        small = analysis_copy(image)
    sx0, sx1 = int(x0 * scale), int(np.ceil(x1 * scale))
    unread = small[:, sx0:sx1] < 160
    for word in page.words:
        b = word.bbox
        unread[
            int(b.y0 * scale) : int(np.ceil(b.y1 * scale)) + 1,
            max(0, int(b.x0 * scale) - sx0) : max(0, int(np.ceil(b.x1 * scale)) - sx0 + 1),
        ] = False
    # Ink of a missed stretch of type fills a good part of its rows; a rule, a stroke of a pen or a
    # speck does not.
    rows = unread.sum(axis=1) >= MISSED_ROW_INK * unread.shape[1]
    bands, start = [], None
    for y, missed in enumerate([*rows, False]):
        if missed and start is None:
            start = y
        elif not missed and start is not None:
            if (y - start) / scale >= 0.5 * line_height:
                bands.append([start / scale, y / scale])
            start = None
    merged: list[list[float]] = []
    for band in bands:  # lines of one lost paragraph are read together
        if merged and band[0] - merged[-1][1] <= line_height:
            merged[-1][1] = band[1]
        else:
            merged.append(band)
    margin = line_height * 0.5
    return [
        BBox(
            max(0, x0 - int(margin)),
            max(0, int(a - margin)),
            min(page.width, x1 + int(margin)),
            min(page.height, int(b + margin)),
        )
        for a, b in merged
    ]


def _word_boxes(words: Iterable[Word]) -> np.ndarray:
    """The words' boxes as rows x0, y0, x1, y1 (shape (0, 4) for none), for comparing against all at once."""
    return np.array([(w.bbox.x0, w.bbox.y0, w.bbox.x1, w.bbox.y1) for w in words], np.int64).reshape(-1, 4)


def _with_words(page: Page, lines: list[Line]) -> Page:
    """The page with the new words of `lines`: a word that a word read before overlaps is dropped; the
    rest join the line they continue (same height, beside it) or come in as a line of their own, put
    into the paragraph whose span it falls in or after the nearest paragraph above it."""
    paragraphs = [list(p.lines) for p in page.paragraphs]
    blocks = [p.block for p in page.paragraphs]
    known = _word_boxes(page.words)
    for line in sorted(lines, key=lambda ln: ln.bbox.y0):
        new = tuple(w for w in line.words if not np.any(_overlaps(w.bbox, known) > 0.3))
        if not new:
            continue
        box = BBox.enclosing([w.bbox for w in new])
        centre = (box.y0 + box.y1) / 2
        host = next(
            (
                (i, j)
                for i, p in enumerate(paragraphs)
                for j, ln in enumerate(p)
                if ln.bbox.y0 <= centre <= ln.bbox.y1
                and abs(ln.bbox.height - box.height) < 0.5 * ln.bbox.height
            ),
            None,
        )
        if host is not None:
            i, j = host
            old = paragraphs[i][j]
            words = tuple(sorted([*old.words, *new], key=lambda w: w.bbox.x0))
            paragraphs[i][j] = Line.of(words, old.baseline)
            continue
        added = Line(new, box, line.baseline)
        home = next(
            (
                i
                for i, p in enumerate(paragraphs)
                if p
                and BBox.enclosing([ln.bbox for ln in p]).y0
                <= centre
                <= BBox.enclosing([ln.bbox for ln in p]).y1
            ),
            None,
        )
        if home is not None:
            paragraphs[home] = sorted(
                [*paragraphs[home], added], key=lambda ln: (ln.bbox.y0 + ln.bbox.y1) / 2
            )
            continue
        # Tesseract's order of paragraphs is not always from the top (a note in the margin may come
        # first): a new one follows the nearest paragraph above it in the same column.
        spans = [BBox.enclosing([ln.bbox for ln in p]) for p in paragraphs]
        beside = [i for i, b in enumerate(spans) if min(b.x1, box.x1) > max(b.x0, box.x0)]
        above = [i for i in beside if spans[i].y1 <= centre]
        if above:
            at = max(above, key=lambda i: spans[i].y1) + 1
        elif beside:
            at = min(beside, key=lambda i: spans[i].y0)
        else:
            at = len(paragraphs)
        paragraphs.insert(at, [added])
        blocks.insert(at, blocks[min(at, len(blocks) - 1)] if blocks else 0)
    return dataclasses.replace(
        page,
        paragraphs=tuple(Paragraph.of(p, block) for p, block in zip(paragraphs, blocks, strict=True)),
    )


def apply(
    page: Page,
    found: Found,
    read_crop: Callable[[Region], np.ndarray],
    settings: Settings,
    image: np.ndarray,
    seconds: float = 0.0,
    reread_seconds: float = 0.0,
    read_colour: Callable[[BBox], np.ndarray] | None = None,
    near_word: Callable[[str], bool] | None = None,
) -> Page:
    """Sort the page's words into the document's text and furniture; return the page with its zones.

    `read_crop` gives a region's own ink (from the scan) in the cleaned frame, for reading it; `image`
    is the cleaned page (the glyphs of raised letters are measured on it); `seconds` the stage's time
    so far, of which `reread_seconds` Tesseract's (`recover_lines`); `read_colour` the scan's colour
    (RGB) under a box of the cleaned frame, on a colour scan; `near_word` tells a reading that is
    a word, or one misreading away from one (the corrector's lexicon), when the run corrects."""
    started = time.perf_counter()
    # A faint page (a carbon copy) reads its own type with less confidence: so may the type on a stamp.
    confs = [w.conf for w in page.words if w.conf >= 0]
    keep_conf = min(STAMP_KEEP_CONF, float(np.median(confs)) - 20) if confs else STAMP_KEEP_CONF
    found = dataclasses.replace(found, stamp_keep_conf=round(keep_conf, 1))
    furniture: list[dict] = [
        {"type": r.type, "role": r.role, "bbox": r.bbox, "region": r, "words": []} for r in found.regions
    ]
    page, reread = reread_under_stamps(page, found, read_crop, settings, image, read_colour)
    reread_seconds += reread
    kept_paragraphs: list[Paragraph] = []
    slivers = _edge_slivers(page)
    # Only on a typewritten page: a printed old page's spellings are unknown words too.
    letter = ocr.typed_letter_width(page.paragraphs)
    near = near_word if near_word is not None and letter else None
    stamp_boxes = [r.bbox for r in found.regions if r.type == "stamp"]
    for paragraph in page.paragraphs:
        lines = []
        for line in paragraph.lines:
            words = []
            if any(line is sliver for sliver in slivers):
                _shared_entry(furniture, "graphic", line)["words"].extend(line.words)
                continue
            written = _written_on_typed_page(line, letter, page.height, found) or _written_larger_at_top(
                line, letter, page.height, found
            )
            for word in line.words:
                target = _furniture_of(word, line, furniture, found, page.width, page.height, page.dpi, near)
                if target is None and any(word is w for w in written):
                    target = _resolution_entry(furniture, written, page.dpi)
                if target is None:
                    words.append(word)
                else:
                    target["words"].append(word)
            # Judged on the words left to the text: a line of the type crossed by handwriting reads
            # unsurely only where the writing is, and those words are the writing's (tune 6817). A line
            # through a stamp read as a jumble is the type under it (dev 7609), no sheet's back.
            if (
                words
                and near is not None
                and _read_from_back(Line.of(words), near)
                and not any(_overlap(line.bbox, box) > 0 for box in stamp_boxes)
            ):
                entry = _shared_entry(furniture, "graphic", line)
                entry["role"] = "show_through"
                entry["words"].extend(words)
            elif words:
                lines.append(Line.of(words))
        if lines:
            kept_paragraphs.append(Paragraph.of(lines, paragraph.block))
    # The furniture is read at the scan's own resolution: the cleaning may have enlarged the body's
    # image for Tesseract, but the crops come from the scan, and interpolating them blurs a stamp's rim.
    per_clean = float(np.sqrt(abs(np.linalg.det(np.array(page.transform, float)[:, :2])))) or 1.0
    ocr_seconds = _read_furniture(furniture, read_crop, settings, page.dpi, min(1.0, per_clean))
    if letter:
        # Only on a typewritten page: on a printed one a picture may be taken for a stamp, and its reading
        # holds the print under it (a real 18th-century page lost an `Еще`).
        kept_paragraphs = _stamp_wording_out(kept_paragraphs, furniture)
    # Lines read again under a stamp may have put a paragraph's box above the text it was read after;
    # round a stamp a paragraph may run over rows another one holds. On two columns, the columns are
    # put in order again now that the stamp's words are out: read across the gutter, they made a
    # heading of it for the OCR stage, and the lines read again round it went in Tesseract's order.
    paragraphs = ocr.reading_order(split_interleaved(kept_paragraphs), page.width)
    body = dataclasses.replace(page, paragraphs=paragraphs)
    furniture_boxes = [r.bbox for r in found.regions if r.type in ("stamp", "handwriting")]
    body = fill_row_gaps(join_cut_rows(join_split_rows(body, letter), furniture_boxes), furniture_boxes)
    # Before the zones are made, so that their text is the page's.
    body, lowered = lower_raised_capitals(body, image)
    body = split_leading_marks(body)
    zones = _text_zones(body) + _furniture_zones(furniture, body)
    step = Step(
        "layout",
        __version__,
        {
            "regions": len(found.regions),
            "zones": len(zones),
            "stamp_keep_conf": found.stamp_keep_conf,
            "foreign_share": FOREIGN_SHARE,
            "furniture_ocr_seconds": round(ocr_seconds, 4),
            "reread_ocr_seconds": round(reread_seconds, 4),
            "raised_letters_lowered": lowered,
        },
        round(seconds + time.perf_counter() - started, 4),
    )
    return dataclasses.replace(body, zones=tuple(zones), steps=(*page.steps, step))


def reread_under_stamps(
    page: Page,
    found: Found,
    read_crop: Callable[[Region], np.ndarray],
    settings: Settings,
    image: np.ndarray | None = None,
    read_colour: Callable[[BBox], np.ndarray] | None = None,
) -> tuple[Page, float]:
    """Lines of type through a grey stamp read again from the scan with the stamp's ink left out.

    A grey stamp's ink is lighter than the type's, yet dark enough for the cleaning's threshold to keep
    it: Tesseract reads the type under it as a jumble, or cuts the line short at the ring. Each such
    line is cut out of the scan across its paragraph's width and thresholded between the type's ink
    and the stamp's (the darkest of three levels: paper, stamp, type), all in one Tesseract call (psm 6);
    the new reading replaces the line when Tesseract reads more of it surely. On a page cleaned to grey
    (`image`, a faint carbon copy) each line is read from the cleaned grey instead. Coloured stamps were
    lifted off the page before the OCR and are left alone. On a colour scan (`read_colour`, the scan's
    colour under a box), a stamp left on the page whose hue differs from the type's is taken out of each
    line by its hue (a violet carbon under a stamp as dark as its type: no level parts them), and such
    a page's rows are looked at as a grey page's are. Returns the page and Tesseract's seconds."""
    # On a page cleaned to grey (a carbon copy) the type under a coloured stamp is read from the cleaned
    # grey too: lifting or dividing out the stamp's ink leaves its strokes' traces and thinned letters,
    # which the page's layout analysis reads as a jumble or drops with the stamp.
    # Every 8th pixel each way tells a grey page from ink and paper as well as all do, 60 times faster.
    grey_page = image is not None and _grey_crops([image[::8, ::8]]) is not None
    stamps = [r for r in found.regions if r.type == "stamp" and (grey_page or not r.ink_removed)]
    if not stamps:
        return page, 0.0
    # On a colour scan, a stamp left on the page whose hue differs from the type's (a blue or violet
    # stamp over a violet carbon, both as dark) is parted from the type by its hue in the lines read again.
    hues = (
        _stamp_hues(read_colour, [r.bbox for r in stamps if not r.ink_removed], page.width, page.height)
        if read_colour is not None
        else []
    )
    parted = bool(hues)
    targets: list[tuple[int, int, BBox]] = []  # paragraph, line, box read again
    # The type's height from well-read words: a piece of a ring read with a word makes its box taller.
    heights = [w.bbox.height for w in page.words if w.conf >= UNDER_STAMP_SURE and len(w.text) > 2]
    if not heights:
        return page, 0.0
    half = float(np.median(heights)) * ROW_HALF
    stamp_boxes = [r.bbox for r in stamps]
    frame = _column_frame(page, stamp_boxes)
    frames = _stamped_columns(page, stamp_boxes) if frame[0] >= frame[1] else None
    word_boxes = _word_boxes(page.words)
    for i, paragraph in enumerate(page.paragraphs):
        for j, line in enumerate(paragraph.lines):
            if len(line.words) < 2:
                continue
            # On a page in two columns, the line's own column's edges.
            edges = frame if frames is None else frames[(line.bbox.x0 + line.bbox.x1) / 2 >= frames[2]]
            # Read surely already; on two columns, unless it stops short of its column's edge at a stamp
            # (on one column a short line beside a stamp is as often a registration's or a signature's);
            # on a grey page, unless its row leaves a gap under a stamp between two words of type.
            if min(w.conf for w in line.words) >= UNDER_STAMP_READ and not (
                (frames is not None and _cut_at_stamp(line.bbox, edges, stamp_boxes, half))
                or ((grey_page or parted) and _gap_at_stamp(line, word_boxes, stamp_boxes, half))
            ):
                continue
            middles = [(w.bbox.y0 + w.bbox.y1) / 2 for w in line.words]
            if (grey_page or parted) and max(middles) - min(middles) > half:
                continue  # pieces of two rows read as one line: read again as those rows (below)
            # Across its paragraph's width, or the text's when it runs in one column: Tesseract may have
            # cut the line short at the ring, or read the pieces beside a stamp as paragraphs of their own.
            middle = ocr.line_middle(line)
            x0 = min(line.bbox.x0, paragraph.bbox.x0, edges[0]) - int(half)
            x1 = max(line.bbox.x1, paragraph.bbox.x1, edges[1]) + int(half)
            box = BBox(
                max(0, x0),
                max(0, int(middle - half)),
                min(page.width, x1),
                min(page.height, int(middle + half)),
            )
            if not any(_overlap(box, r.bbox) > 0 for r in stamps) or box.width < 2 or box.height < 2:
                continue
            targets.append((i, j, box))
    # Pieces of one row in two paragraphs (a line cut at the ring) are read once, with the fullest line.
    targets.sort(key=lambda t: -len(page.paragraphs[t[0]].lines[t[1]].words))
    # Rows a stamp crosses that no line was read on: the page's layout analysis took them with
    # the stamp for a picture, and a jumble read there (`мн е а`, `связи с в рбах`) holds no row.
    if (grey_page or parted) and frame[0] < frame[1]:
        rows = [
            (
                -1 - i,
                j,
                BBox(
                    max(0, frame[0] - int(half)),
                    max(0, int(m - half)),
                    min(page.width, frame[1] + int(half)),
                    min(page.height, int(m + half)),
                ),
            )
            for i, j, m in (
                (i, j, _ink_row(image, m, half, frame, stamp_boxes) if image is not None else m)
                for i, j, m in _missing_rows(page, stamp_boxes)
            )
        ]
        # A line with fewer than two words read surely (`е К`) gives way to a row there.
        sure = [t for t in targets if len(_sure_words(page.paragraphs[t[0]].lines[t[1]].words)) >= 2]
        targets = sure + rows + [t for t in targets if t not in sure]
    targets = [t for k, t in enumerate(targets) if not any(_overlap(t[2], u[2]) > 0.5 for u in targets[:k])]
    if not targets:
        return page, 0.0
    gap = max(20, page.dpi // 10)
    cleaned = [image[box.y0 : box.y1, box.x0 : box.x1] for _, _, box in targets] if image is not None else []
    counts = _grey_crops(cleaned)
    if cleaned and counts is not None:
        # A carbon copy read from its grey page: its stamp's ink is as dark as the type or darker, so no
        # cut between the two inks keeps the type alone; the line is read from the grey page on its own,
        # out of reach of the page's layout analysis, which took the stamp and the type for a picture.
        # A lifted coloured stamp's traces are lighter than its ink was: only stamps left on the page.
        # On such a page too, a line under a stamp parted by its hue is read from the scan's colour.
        dark_stamps = [r.bbox for r in stamps if not r.ink_removed]
        crops = []
        for c, n, (_, _, box) in zip(cleaned, counts, targets, strict=True):
            if read_colour is not None and (own := _hues_in(hues, box)):
                crops.append(_hue_parted(read_colour(box), own))
            else:
                shifted = [s.shifted(-box.x0, -box.y0) for s in dark_stamps if _overlap(box, s) > 0]
                crops.append(_stamp_divided(_white_paper(c, n), shifted))
    elif parted and read_colour is not None:
        # A line under a stamp parted by its hue is read from the scan's colour with the stamp taken out.
        crops = [_hue_parted(read_colour(box), _hues_in(hues, box)) for _, _, box in targets]
    else:
        greys = [read_crop(Region("stamp", "", box)) for _, _, box in targets]
        crops = [_type_only(g, level) for level in UNDER_STAMP_LEVELS for g in greys]
    montage, spans = ocr.stacked(crops, gap)
    paragraphs, step = ocr.recognise(montage, settings.replace(psm=6), page.dpi)
    seconds = float(step.settings.get("tesseract_seconds", step.seconds))
    lines_read = ocr.by_span([ln for p in paragraphs for ln in p.lines], ocr.line_middle, spans)
    new_lines = {}
    new_rows: dict[tuple[int, int], list[Line]] = {}  # the line above -> rows read where none was
    for k, (i, j, box) in enumerate(targets):
        # Of each cut, the line read nearest the crop's middle (a neighbour's letters reaching into the
        # crop read as a line of their own); of the cuts, the surest reading.
        readings = []
        for (top, bottom), own in zip(spans[k :: len(targets)], lines_read[k :: len(targets)], strict=True):
            if own:
                nearest = min(own, key=lambda ln: abs(ocr.line_middle(ln) - (top + bottom) / 2))
                readings.append((_sure_letters(nearest.words), top, list(nearest.words)))
        if not readings:
            continue
        _, top, words = max(readings, key=lambda r: r[0])
        moved = tuple(dataclasses.replace(w, bbox=w.bbox.shifted(box.x0 - gap, box.y0 - top)) for w in words)
        if i < 0:
            if _type_beside(moved, stamp_boxes):
                new_rows.setdefault((-1 - i, j), []).append(Line.of(moved))
            continue
        old = page.paragraphs[i].lines[j]
        # Under a lifted coloured stamp only a reading that keeps the old one's words may replace it: what
        # is left of the stamp there reads as surely as the type (`КОПИЯ`).
        grey_stamp = any(_overlap(box, r.bbox) > 0 and not r.ink_removed for r in stamps)
        if not words or not ((grey_stamp and _surer(words, old.words)) or _fills(words, old.words)):
            continue
        new_lines[(i, j)] = Line.of(moved, old.baseline)
    if not new_lines and not new_rows:
        return page, seconds
    # Words of other lines that a new line's words cover (the rest of a line cut short at the ring,
    # read as a line of its own) are read by the new line now.
    added = [*new_lines.values(), *(ln for rows in new_rows.values() for ln in rows)]
    new_boxes = _word_boxes(w for ln in added for w in ln.words)
    out = []
    for i, paragraph in enumerate(page.paragraphs):
        lines = []
        placed: list[int] = []  # each kept line's place in the paragraph
        for j, line in enumerate(paragraph.lines):
            if (i, j) in new_lines:
                lines.append(new_lines[(i, j)])
                placed.append(j)
                continue
            words = tuple(w for w in line.words if not _covered(w.bbox, new_boxes, half))
            if words:
                lines.append(Line.of(words, line.baseline))
                placed.append(j)
        for (k, j), rows in sorted(new_rows.items()):
            # A row read where none was goes in after the line above it and the lines after that above it.
            for row in sorted(rows, key=ocr.line_middle) if k == i else []:
                at = next(
                    (
                        n
                        for n, ln in enumerate(lines)
                        if placed[n] > j and ocr.line_middle(ln) > ocr.line_middle(row)
                    ),
                    len(lines),
                )
                lines.insert(at, row)
                placed.insert(at, j)
        if lines:
            out.append(Paragraph.of(lines, paragraph.block))
    return dataclasses.replace(page, paragraphs=tuple(out)), seconds


def split_interleaved(paragraphs: list[Paragraph]) -> tuple[Paragraph, ...]:
    """Paragraphs cut where a line of another paragraph lies between two of their lines, across both:
    round a stamp Tesseract may make one paragraph of rows it read above and below the stamp and
    another of the rows between them (or read them again), and the two would then be read one after
    the other. Cut so, `ocr.top_down` puts the pieces in the order of their rows. Lines in other
    columns (of a table, of two printed columns) do not lie across a paragraph's lines."""
    heights = [ln.bbox.height for par in paragraphs for ln in par.lines]
    if len(paragraphs) < 2 or not heights:
        return tuple(paragraphs)
    least = 0.5 * float(np.median(heights))  # specks read as lines (`<`, `$`) are no row
    rows = [(i, ln) for i, par in enumerate(paragraphs) for ln in par.lines if ln.bbox.height >= least]

    def across(line: Line, other: Line) -> bool:
        return min(line.bbox.x1, other.bbox.x1) - max(line.bbox.x0, other.bbox.x0) > 0

    def middle(line: Line) -> float:
        return (line.bbox.y0 + line.bbox.y1) / 2

    out: list[Paragraph] = []
    for i, par in enumerate(paragraphs):
        start = 0
        for k in range(1, len(par.lines)):
            above, below = par.lines[k - 1], par.lines[k]
            between = (ln for j, ln in rows if j != i and middle(above) < middle(ln) < middle(below))
            if any(across(ln, above) and across(ln, below) for ln in between):
                out.append(Paragraph.of(par.lines[start:k], par.block))
                start = k
        out.append(par if start == 0 else Paragraph.of(par.lines[start:], par.block))
    return tuple(out)


def join_cut_rows(page: Page, furniture: list[BBox]) -> Page:
    """A line of type cut in two at a stamp or a handwritten note, its pieces read into different
    paragraphs (the left pieces of the rows beside it first, then the right ones), is joined again: a
    piece whose row holds a piece of another paragraph to its left, with furniture in the gap between
    them, goes onto the end of that line (left to right), and out of its own paragraph. Text in columns
    is left as it is: its rows away from the furniture stand in columns too."""
    if not furniture or len(page.paragraphs) < 2:
        return page
    lines = _row_pieces(page, furniture)
    if not lines:
        return page
    # What was read on the furniture itself (a note in the margin read as a word) is no piece of a line
    # cut by it: a line joined to it would move up to where Tesseract read the note.
    on_furniture = {
        (i, j) for i, j, line in lines if any(_share_inside(line.bbox, f) > 0.5 for f in furniture)
    }

    def cut_at_furniture(
        left_key: tuple[int, int], left: Line, right_key: tuple[int, int], right: Line
    ) -> bool:
        if left_key[0] == right_key[0] or left_key in on_furniture or left.bbox.x1 > right.bbox.x0:
            return False
        top, bottom = max(left.bbox.y0, right.bbox.y0), min(left.bbox.y1, right.bbox.y1)
        if bottom - top < ROW_SHARE * min(left.bbox.height, right.bbox.height):
            return False
        # The paper between them, and past a stroke read as a letter beside it give or take a row's
        # height: Tesseract reads a stamp's stroke, or the letter beside it, as a word of its own
        # (`о утем` for `осуществить это путем`), and a grey stamp's box may fall short of its ring.
        reach = bottom - top
        last, first = left.words[-1], right.words[0]
        gap = BBox(
            last.bbox.x0 - reach if len(_letters(last.text)) <= 2 else left.bbox.x1,
            top,
            first.bbox.x1 + reach if len(_letters(first.text)) <= 2 else right.bbox.x0,
            bottom,
        )
        return any(
            min(gap.x1, f.x1) >= max(gap.x0, f.x0) and min(gap.y1, f.y1) > max(gap.y0, f.y0)
            for f in furniture
        )

    return _joined_to_the_left(page, lines, cut_at_furniture)


def join_split_rows(page: Page, letter: float) -> Page:
    """On a typewritten page (`letter`: its letters' width, see `ocr.typed_letter_width`; 0 leaves the
    page as it is), a row Tesseract cut in two at a space, its pieces read as lines of different
    blocks, is one line again: a piece whose row holds another piece to its left no more than
    SPLIT_ROW_GAP letters away goes onto the end of that line. A typed list's numbers were read as a
    column of their own beside its names (`471.`-`477.`, then `КАВЕЛАШВИЛИ В.`...: the archival
    sample's p001); a space and a number's point leave 1.4 letters between them. Printed columns are
    no typewriter's, and stand farther apart (1.8 rows and more on dev two-column pages)."""
    if not letter:
        return page
    pieces = [(i, j, line) for i, par in enumerate(page.paragraphs) for j, line in enumerate(par.lines)]

    def a_space_apart(left_key: tuple[int, int], left: Line, right_key: tuple[int, int], right: Line) -> bool:
        shared = min(left.bbox.y1, right.bbox.y1) - max(left.bbox.y0, right.bbox.y0)
        gap = right.bbox.x0 - left.bbox.x1
        return (
            shared >= ROW_SHARE * max(left.bbox.height, right.bbox.height)
            and -GAP_SLACK <= gap <= SPLIT_ROW_GAP * letter
        )

    return _joined_to_the_left(page, pieces, a_space_apart)


def _joined_to_the_left(
    page: Page,
    pieces: list[tuple[int, int, Line]],
    joins: Callable[[tuple[int, int], Line, tuple[int, int], Line], bool],
) -> Page:
    """Each piece (paragraph, line, line), the leftmost first, onto the end of the piece to its left that
    ends nearest it among those `joins(left key, left, right key, right)` allows; the pieces joined on
    leave their paragraphs (`_rows_rebuilt`). The page as it was when none is joined."""
    joined: dict[tuple[int, int], list[Word]] = {}
    taken: set[tuple[int, int]] = set()
    for i, j, right in sorted(pieces, key=lambda t: t[2].bbox.x0):
        best = None
        for k, m, left in pieces:
            if (k, m) == (i, j) or (k, m) in taken or not joins((k, m), left, (i, j), right):
                continue
            if best is None or left.bbox.x1 > best[2].bbox.x1:
                best = (k, m, left)
        if best is None:
            continue
        k, m, left = best
        joined.setdefault((k, m), list(left.words)).extend(joined.pop((i, j), list(right.words)))
        taken.add((i, j))
    if not taken:
        return page
    return _rows_rebuilt(
        page, taken, lambda i, j, line: Line.of(tuple(joined.get((i, j), line.words)), line.baseline)
    )


def _row_pieces(page: Page, furniture: list[BBox]) -> list[tuple[int, int, Line]]:
    """The page's lines as pieces of rows of type that may be joined (paragraph, line, line), or none
    when the page's text stands in columns or runs in no rows across it."""
    # Text in columns (a two-column page, a table) shows them in its rows away from the furniture too.
    if ocr.column_start(_rows_away(page, furniture), page.width) is not None:
        return []
    # Rows of type run across the page, each piece a row high and no narrower (a page read sideways, a
    # picture or a page's edge read as one tall line has no rows to join).
    heights = [ln.bbox.height for ln in page.lines]
    if not heights or float(np.median([ln.bbox.width for ln in page.lines])) < ROW_WIDE * np.median(heights):
        return []
    tallest = ROW_TALL * float(np.median(heights))
    return [
        (i, j, line)
        for i, par in enumerate(page.paragraphs)
        for j, line in enumerate(par.lines)
        if line.bbox.height <= min(tallest, line.bbox.width)
    ]


def fill_row_gaps(page: Page, furniture: list[BBox]) -> Page:
    """A piece of a line read on its own (Tesseract cut the line at a stamp's ring and read the piece in
    the ring as a line of its own, after the line or before it) goes back into the gap it fills in the
    line of its row, in its place from left to right."""
    if not furniture:
        return page
    lines = _row_pieces(page, furniture)
    if len(lines) < 2:
        return page
    filled: dict[tuple[int, int], list[Word]] = {}
    taken: set[tuple[int, int]] = set()
    for i, j, piece in sorted(lines, key=lambda t: t[2].bbox.width):
        if (i, j) in filled:
            continue
        box = piece.bbox
        best = None
        for k, m, host in lines:
            if (k, m) == (i, j) or (k, m) in taken or not host.bbox.x0 < box.x0 < box.x1 < host.bbox.x1:
                continue
            shared = min(host.bbox.y1, box.y1) - max(host.bbox.y0, box.y0)
            if shared < ROW_SHARE * min(host.bbox.height, box.height):
                continue
            words = filled.get((k, m), list(host.words))
            # The piece fits between two of the line's words, in a gap where furniture lies.
            left = [w for w in words if w.bbox.x1 <= box.x0 + GAP_SLACK]
            right = [w for w in words if w.bbox.x0 >= box.x1 - GAP_SLACK]
            if not left or not right or len(left) + len(right) != len(words):
                continue
            gap = BBox(
                max(w.bbox.x1 for w in left),
                min(box.y0, host.bbox.y0),
                min(w.bbox.x0 for w in right),
                max(box.y1, host.bbox.y1),
            )
            if not any(_overlap(gap, f) > 0 or _overlap(box, f) > 0 for f in furniture):
                continue
            if best is None or shared > best[0]:
                best = (shared, k, m, words)
        if best is None:
            continue
        _, k, m, words = best
        filled[(k, m)] = sorted(words + list(piece.words), key=lambda w: w.bbox.x0)
        taken.add((i, j))
    if not taken:
        return page
    return _rows_rebuilt(
        page,
        taken,
        lambda i, j, line: Line.of(tuple(filled[(i, j)]), line.baseline) if (i, j) in filled else line,
    )


def _rows_rebuilt(page: Page, taken: set[tuple[int, int]], rebuilt: Callable[[int, int, Line], Line]) -> Page:
    """The page without the lines `taken` (paragraph, line) into others, each line left made by
    `rebuilt`, and without the paragraphs left empty."""
    out = []
    for i, par in enumerate(page.paragraphs):
        kept = [rebuilt(i, j, line) for j, line in enumerate(par.lines) if (i, j) not in taken]
        if kept:
            out.append(Paragraph.of(kept, par.block))
    return dataclasses.replace(page, paragraphs=tuple(out))


def _share_inside(box: BBox, other: BBox) -> float:
    """Share of `box`'s area inside `other`."""
    width = max(0, min(box.x1, other.x1) - max(box.x0, other.x0))
    height = max(0, min(box.y1, other.y1) - max(box.y0, other.y0))
    return width * height / max(1, box.width * box.height)


def lower_raised_capitals(page: Page, image: np.ndarray) -> tuple[Page, int]:
    """A word's first letter read as a capital mid-sentence (after a word ending in a small letter or a
    comma) that is a small letter struck above the line, by its glyph (see RAISED_HEIGHT), lowered:
    `в Том` -> `в том`. The glyph is its share of the word's box (typescript is monospaced), the small
    letters' height and baseline the medians of the tops and feet of the ink columns around it, in the
    cleaned image thresholded along the line. Returns the page and how many letters were lowered."""
    changed = 0
    previous = ""
    paragraphs = []
    for par in page.paragraphs:
        lines = []
        for line in par.lines:
            words = list(line.words)
            ink = None
            for k, word in enumerate(words):
                text, before = word.text, previous
                previous = text or previous
                core = text.lstrip("«(\"'")
                lead = len(text) - len(core)
                if (
                    not core
                    or core[0] not in SAME_SHAPE_CAPITALS
                    or (len(core) > 1 and not core[1].islower())
                ):
                    continue
                if not before or not (before[-1].islower() or before[-1] == ","):
                    continue
                if ink is None:
                    ink = _line_ink(image, line.bbox)
                if _raised_small(ink, word, lead):
                    words[k] = dataclasses.replace(word, text=text[:lead] + core[0].lower() + core[1:])
                    changed += 1
            lines.append(dataclasses.replace(line, words=tuple(words)))
        paragraphs.append(dataclasses.replace(par, lines=tuple(lines)))
    return (dataclasses.replace(page, paragraphs=tuple(paragraphs)) if changed else page), changed


def _line_ink(image: np.ndarray, box: BBox) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A line's ink (with a third of its height above and below) thresholded by Otsu along the line, as
    its columns: which hold ink, the row of their top and foot; and the crop's left edge on the page."""
    pad = max(4, box.height // 3)
    y0, y1 = max(0, box.y0 - pad), min(image.shape[0], box.y1 + pad)
    x0 = max(0, box.x0)
    crop = image[y0:y1, x0 : max(x0, box.x1)]
    if crop.size == 0:
        empty = np.zeros(0, np.int64)
        return empty.astype(bool), empty, empty, x0
    level, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # At or under Otsu's level is ink, as cv2.threshold parts it: on a page cleaned to ink and paper the
    # level is the ink's own (0), and `crop < level` would find no ink on the line at all.
    ink = crop <= level
    tops = np.argmax(ink, axis=0)
    feet = ink.shape[0] - 1 - np.argmax(ink[::-1], axis=0)
    return ink.any(axis=0), tops, feet, x0


def _raised_small(line_ink: tuple[np.ndarray, np.ndarray, np.ndarray, int], word: Word, lead: int) -> bool:
    columns, tops, feet, x0 = line_ink
    pitch = word.bbox.width / max(1, len(word.text))
    g0 = int(word.bbox.x0 + pitch * (lead + 0.15)) - x0
    g1 = int(word.bbox.x0 + pitch * (lead + 0.85)) - x0
    if g0 < 0 or g1 <= g0 or g1 > columns.size:
        return False
    reach = int(RAISED_AROUND * pitch)
    around = np.zeros(columns.size, bool)
    around[max(0, g0 - reach) : g1 + reach] = True
    around[g0:g1] = False
    around &= columns
    glyph = np.zeros_like(around)
    glyph[g0:g1] = True
    glyph &= columns
    if around.sum() < 2 * pitch or not glyph.any():
        return False
    baseline, x_top = float(np.median(feet[around])), float(np.median(tops[around]))
    small = baseline - x_top + 1
    # Small letters taller than the word's own box were measured on other ink (a stamp on the row).
    if small < 8 or small > word.bbox.height:
        return False
    top, foot = int(tops[glyph].min()), int(feet[glyph].max())
    height = (foot - top + 1) / small
    return RAISED_HEIGHT[0] <= height <= RAISED_HEIGHT[1] and (baseline - foot) / small >= RAISED_FOOT


def _covered(box: BBox, boxes: np.ndarray, half: float) -> bool:
    """Whether a word's box is mostly under one of `boxes` on the same row (middles within `half`)."""
    rows = np.abs((boxes[:, 1] + boxes[:, 3]) / 2 - (box.y0 + box.y1) / 2) < half
    return bool(np.any((_overlaps(box, boxes) > 0.5) & rows))


def _type_only(crop: np.ndarray, share: float) -> np.ndarray:
    """A grey crop as ink and paper, cut between the type's ink and a lighter stamp's: Otsu splits paper
    from ink, then the ink into the two inks; the cut lies `share` of the way from the type's level to
    the paper's."""
    paper_level, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = crop[crop < paper_level]
    if ink.size < 2:
        return np.full_like(crop, 255)
    type_level, _ = cv2.threshold(ink.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = type_level + share * (paper_level - type_level)
    # Below `level` is ink (0), the rest paper (255): for 8-bit levels that is above ceil(level) - 1.
    _, cut = cv2.threshold(crop, math.ceil(level) - 1, 255, cv2.THRESH_BINARY)
    return cv2.medianBlur(cut, 3)


def _grey_crops(crops: list[np.ndarray]) -> list[np.ndarray] | None:
    """Each crop's histogram (np.bincount of its levels) when every crop is grey, not ink and paper;
    else None (at the first that is not). The paper's level of a grey crop comes from the same counts.
    Grey is judged by what is not white: the cleaning's flattening makes a carbon's paper 255, and on a
    page of wide margins most pixels are that paper (tune carbon 4923: 22 % of its pixels between the
    two ends, yet grey), while ink and paper hold no level between 0 and 255 at all."""
    counts = []
    for crop in crops:
        if crop.ndim != 2:
            return None
        counts.append(np.bincount(crop.ravel(), minlength=256))
        if not int(counts[-1][1:255].sum()) > 0.5 * int(counts[-1][:255].sum()):
            return None
    return counts


def _stamp_divided(crop: np.ndarray, stamps: list[BBox]) -> np.ndarray:
    """A grey crop (its paper white) with the ink of a stamp darker than the type divided out where the
    stamp's strokes lie (`stamps`: the stamps' boxes in the crop's frame). Inks mix as their
    transmittances multiply, so where a stroke crosses a letter the pixel is darker than the stroke alone
    and dividing by the stroke's own level leaves the letter (tune carbon 4939's first line under a
    registration stamp, read `как о. том уже 1` with the strokes in, reads whole), where painting the
    stroke with paper had taken the letter with it. The
    stroke is what lies inside a stamp's box darker than the type's darkest ink beside it (its
    STAMP_TYPE_DARK percentile, outside every stamp); its level, the stroke's own mean round each pixel
    (a normalised Gaussian of STAMP_LEVEL_SIGMA pixels), since a stamp's inking is uneven."""
    inside = np.zeros(crop.shape, bool)
    for s in stamps:
        inside[max(0, s.y0) : max(0, s.y1), max(0, s.x0) : max(0, s.x1)] = True
    beside = crop[~inside]
    ink = beside[beside < STAMP_BESIDE_INK]
    if ink.size < STAMP_MIN_PIXELS or not inside.any():
        return crop
    stroke = (crop < np.percentile(ink, STAMP_TYPE_DARK)) & inside
    if int(stroke.sum()) < STAMP_MIN_PIXELS:
        return crop  # a stamp no darker than the type (a lifted one's traces): nothing to divide
    weight = cv2.GaussianBlur(stroke.astype(np.float32), (0, 0), STAMP_LEVEL_SIGMA)
    level = cv2.GaussianBlur(np.where(stroke, crop, 0).astype(np.float32), (0, 0), STAMP_LEVEL_SIGMA)
    level /= np.maximum(weight, 1e-3)
    # The stroke's soft edge too, a pixel round it: left, it reads as a letter's stroke.
    zone = cv2.dilate(stroke.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    out = crop.copy()
    out[zone] = np.clip(crop[zone] * (255.0 / np.maximum(level[zone], 1.0)), 0, 255).astype(np.uint8)
    return out


def _colour_shares(rgb: np.ndarray) -> np.ndarray:
    """Each channel of a colour crop as its share of the paper's light (0..1), the paper a max filter's
    on a quarter-size copy."""
    rgb = rgb[..., :3].astype(np.float32)
    height, width = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((PARTED_PAPER, PARTED_PAPER), np.uint8))
    paper = np.maximum(cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR), 1.0)
    return np.clip(rgb / paper, 1e-3, 1.0)


def _density(shares: np.ndarray) -> np.ndarray:
    """Optical density (minus the log of the light's share) in each channel, smoothed over 3 x 3 pixels:
    a scan's colour is coarser than its grey."""
    return cv2.blur(-np.log(shares), (3, 3))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-6)


def _stamp_hue(density: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The type's and a stamp's inks as directions of optical density (unit vectors), from a colour crop
    round the stamp (`inside`: its box), or None when they cannot be told apart by their hues. The
    type's is the median direction of the ink beside the stamp; the stamp's that of the ink in its box
    further from the type's than the type's own spread (its 90th percentile) and UNMIX_MIN_DEGREES:
    where the stamp's ink has the type's hue, no more than the grain's."""
    total = density.sum(axis=-1)
    ink = total > PARTED_INK
    # At most HUE_PIXELS of each, evenly spread: a median needs no more.
    away, under = density[ink & ~inside & (total < PARTED_DARK)], density[ink & inside]
    away = _unit(away[:: max(1, len(away) // HUE_PIXELS)])
    under = _unit(under[:: max(1, len(under) // HUE_PIXELS)])
    if len(away) < STAMP_MIN_PIXELS or len(under) < STAMP_MIN_PIXELS:
        return None
    typed = _unit(np.median(away, axis=0))
    spread = np.degrees(np.arccos(np.clip(away @ typed, -1.0, 1.0)))
    angle = np.degrees(np.arccos(np.clip(under @ typed, -1.0, 1.0)))
    far = under[angle > max(float(np.percentile(spread, 90)), UNMIX_MIN_DEGREES)]
    if len(far) < STAMP_MIN_PIXELS:
        return None
    stamp = _unit(np.median(far, axis=0))
    if float(stamp @ typed) > np.cos(np.radians(UNMIX_MIN_DEGREES)):
        return None
    return typed, stamp


def _stamp_hues(
    read_colour: Callable[[BBox], np.ndarray], stamps: list[BBox], width: int, height: int
) -> list[tuple[BBox, np.ndarray, np.ndarray]]:
    """Each stamp whose ink's hue parts it from the type's, with the two inks' directions
    (`_stamp_hue`), measured on the scan's colour round it (half its size each way)."""
    hues = []
    for s in stamps:
        box = BBox(
            max(0, s.x0 - s.width // 2),
            max(0, s.y0 - s.height // 2),
            min(width, s.x1 + s.width // 2),
            min(height, s.y1 + s.height // 2),
        )
        if box.width < 2 or box.height < 2:
            continue
        density = _density(_colour_shares(read_colour(box)))
        inside = np.zeros(density.shape[:2], bool)
        inside[s.y0 - box.y0 : s.y1 - box.y0, s.x0 - box.x0 : s.x1 - box.x0] = True
        hue = _stamp_hue(density, inside)
        if hue is not None:
            hues.append((s, *hue))
    return hues


def _hues_in(
    hues: list[tuple[BBox, np.ndarray, np.ndarray]], box: BBox
) -> list[tuple[BBox, np.ndarray, np.ndarray]]:
    """The stamps parted by their hues (`_stamp_hues`) that a crop's box meets, in the crop's frame."""
    return [(s.shifted(-box.x0, -box.y0), t, h) for s, t, h in hues if _overlap(box, s) > 0]


def _hue_parted(rgb: np.ndarray, hues: list[tuple[BBox, np.ndarray, np.ndarray]]) -> np.ndarray:
    """A colour crop in grey (its paper white) with each stamp's ink taken out by its hue (`hues`: the
    stamps in the crop's frame and the type's and the stamp's ink directions). Inks multiply on paper,
    so in optical density a pixel is the sum of each ink's direction times its strength: least squares
    gives the type's strength, whose light in grey is kept where the stamp's strength is at least
    UNMIX_STAMP_MIN inside its box; elsewhere the crop's grey is left as it is."""
    shares = _colour_shares(rgb)
    share = shares @ GREY_WEIGHTS
    for s, typed, stamp in hues:
        y0, y1, x0, x1 = max(0, s.y0), max(0, s.y1), max(0, s.x0), max(0, s.x1)
        if shares[y0:y1, x0:x1].size == 0:
            continue
        part = _density(shares[y0:y1, x0:x1])
        unmix = np.linalg.pinv(np.stack([typed, stamp], axis=1)).astype(np.float32)
        strength = np.clip(part @ unmix[0], 0.0, None)
        parted = np.exp(-strength * float(GREY_WEIGHTS @ typed))
        share[y0:y1, x0:x1] = np.where(part @ unmix[1] >= UNMIX_STAMP_MIN, parted, share[y0:y1, x0:x1])
    return np.clip(share * 255.0, 0, 255).astype(np.uint8)


def _white_paper(crop: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """A grey crop with its paper (its 90th percentile) made white, as round it in a montage: an edge of
    grey paper there reads as a letter. `counts`: the crop's histogram, when counted already."""
    if counts is None:
        counts = np.bincount(crop.ravel(), minlength=256)
    paper = max(1, int(np.searchsorted(np.cumsum(counts), 0.9 * crop.size)))
    return cv2.LUT(crop, np.clip(np.arange(256) * (255.0 / paper), 0, 255).astype(np.uint8))


def _surer(new: list[Word] | tuple[Word, ...], old: tuple[Word, ...]) -> bool:
    """Whether the new reading of a line holds more letters read surely and a higher mean confidence."""

    def mean(words: list[Word] | tuple[Word, ...]) -> float:
        confs = [w.conf for w in words if w.conf >= 0]
        return float(np.mean(confs)) if confs else 0.0

    return _sure_letters(new) >= _sure_letters(old) + UNDER_STAMP_GAIN and mean(new) > mean(old)


def _missing_rows(page: Page, stamps: list[BBox]) -> list[tuple[int, int, float]]:
    """(paragraph, line) of the line above and the middle of each row of type a stamp crosses where no
    line was read: between two well-read lines (three words or more, median confidence UNDER_STAMP_SURE,
    one row high) further apart than one and a half times the page's line pitch, at that pitch, where
    the words read (a jumble: `мн е а`, `е К`) hold fewer than two read surely."""
    heights = [ln.bbox.height for ln in page.lines]
    if not heights:
        return []
    tall = 1.5 * float(np.median(heights))
    rows = sorted(
        (ocr.line_middle(ln), i, j)
        for i, par in enumerate(page.paragraphs)
        for j, ln in enumerate(par.lines)
        if len(ln.words) >= 3
        and ln.bbox.height <= tall
        and float(np.median([w.conf for w in ln.words])) >= UNDER_STAMP_SURE
    )
    steps = np.diff([m for m, _, _ in rows])
    steps = steps[(steps > 0.5 * tall) & (steps < 3 * tall)]
    if len(steps) < 3:
        return []
    pitch = float(np.median(steps))
    missing = []
    for (above, i, j), (below, _, _) in zip(rows, rows[1:], strict=False):
        n = int(round((below - above) / pitch))
        if n < 2 or below - above < 1.5 * pitch:
            continue
        for k in range(1, n):
            m = above + k * (below - above) / n
            on_row = [w for w in page.words if abs((w.bbox.y0 + w.bbox.y1) / 2 - m) < pitch / 2]
            if any(s.y0 <= m <= s.y1 for s in stamps) and len(_sure_words(on_row)) < 2:
                missing.append((i, j, m))
    return missing


def _ink_row(
    image: np.ndarray, middle: float, half: float, frame: tuple[int, int], stamps: list[BBox]
) -> float:
    """The middle of the row of ink nearest a row put at the line pitch (`middle`, within `half`): the
    most ink in a band of the type's height (`half` / ROW_HALF) across the text's width (`frame`) clear
    of the stamps. An addressee typed under a registration stamp above the body stands off the body's
    pitch, and a crop at the pitch cuts its letters in half (tune carbon 4928: `ЧЛЕНАМ И КАНДИДАТАМ
    ПОЛИТБЮРО` 26 pixels above the row put there)."""
    if image.ndim != 2:
        return middle
    y0, y1 = max(0, int(middle - 2 * half)), min(image.shape[0], int(middle + 2 * half))
    x0, x1 = max(0, frame[0]), min(image.shape[1], frame[1])
    if y1 - y0 < 3 or x1 - x0 < 3:
        return middle
    dark = 255 - image[y0:y1, x0:x1].astype(np.int32)
    for s in stamps:
        dark[:, max(0, s.x0 - x0) : max(0, s.x1 - x0)] = 0
    glyph = max(1, int(round(half / ROW_HALF)))
    profile = np.convolve(dark.sum(axis=1).astype(np.float64), np.ones(glyph), "same")
    near = np.arange(y0, y1)
    near_row = np.abs(near - middle) <= half
    if not profile[near_row].any():
        return middle
    return float(near[near_row][np.argmax(profile[near_row])])


def _type_beside(words: tuple[Word, ...], stamps: list[BBox]) -> bool:
    """Whether a row read where no line was (its words in the page's pixels) holds type: UNDER_STAMP_GAIN
    * 2 letters or more in words of three letters or more read surely clear of every stamp (a stamp's own
    lettering lies inside it)."""
    letters = 0
    for w in words:
        cx, cy = (w.bbox.x0 + w.bbox.x1) / 2, (w.bbox.y0 + w.bbox.y1) / 2
        n = len(_letters(w.text))
        if (
            w.conf >= UNDER_STAMP_SURE
            and n >= 3
            and not any(s.x0 <= cx <= s.x1 and s.y0 <= cy <= s.y1 for s in stamps)
        ):
            letters += n
    return letters >= 2 * UNDER_STAMP_GAIN


def _rows_away(page: Page, furniture: list[BBox]) -> list[Line]:
    """The page's lines on no row of the furniture: what tells whether the text stands in columns."""
    return [ln for ln in page.lines if not any(ln.bbox.y1 > f.y0 and ln.bbox.y0 < f.y1 for f in furniture)]


def _column_frame(page: Page, furniture: list[BBox]) -> tuple[int, int]:
    """The text's left and right edges (`_text_frame`) when it runs in one column across the page, judged
    by its rows away from the furniture; else an empty frame, (page width, 0)."""
    if len(page.lines) < 3 or ocr.column_start(_rows_away(page, furniture), page.width) is not None:
        return page.width, 0
    left, right = _text_frame(page.lines)
    return int(left), int(right)


def _stamped_columns(
    page: Page, furniture: list[BBox]
) -> tuple[tuple[int, int], tuple[int, int], int] | None:
    """On a page in two printed columns (`ocr.two_columns`, judged by its rows away from the furniture),
    each column's left and right edges (`_text_frame` of its lines) and where the right one starts;
    else None."""
    split = ocr.two_columns(_rows_away(page, furniture), page.width)
    if split is None:
        return None
    sides = []
    for right in (False, True):
        own = [ln for ln in page.lines if ((ln.bbox.x0 + ln.bbox.x1) / 2 >= split) == right]
        if not own:
            return None
        x0, x1 = _text_frame(own)
        sides.append((int(x0), int(x1)))
    return sides[0], sides[1], split


def _cut_at_stamp(line: BBox, edges: tuple[int, int], stamps: list[BBox], half: float) -> bool:
    """Whether a line stops short of its text's edge (`edges`, left and right) at a stamp: a stamp lies
    on its row in the paper between the line and that edge. Tesseract reads the type beside a stamp
    surely and leaves out the letters its ring crosses."""
    if edges[0] >= edges[1]:
        return False
    for gap in (BBox(edges[0], line.y0, line.x0, line.y1), BBox(line.x1, line.y0, edges[1], line.y1)):
        if gap.width > half and any(_overlap(gap, s) > 0 for s in stamps):
            return True
    return False


def _gap_at_stamp(line: Line, words: np.ndarray, stamps: list[BBox], half: float) -> bool:
    """Whether the row of a line leaves a gap under a stamp between two of its words (`words`: the page's
    word boxes, x0 y0 x1 y1): Tesseract reads the type either side of a stamp's strokes surely and
    leaves out, without a sign, the words the strokes cross (`властно решать хозяйственные, военные
    вопросы`: `и иные` under a frame), or reads the rest of the row past a ring as a line of its own.
    The row's words are the line's and those of other lines whose middles lie within `half` of its
    middle; a gap counts when it is wider than two `half`s (a word or more) and a stamp lies in it.
    A short line beside a stamp with nothing of its row past it (a registration) leaves no gap."""
    middle = ocr.line_middle(line)
    row = words[np.abs((words[:, 1] + words[:, 3]) / 2 - middle) < half]
    row = row[np.argsort(row[:, 0])]
    if len(row) < 2:
        return False
    reach = np.maximum.accumulate(row[:, 2])[:-1]  # right end of what lies left of each word
    for left, right in zip(reach, row[1:, 0], strict=True):
        if right - left > 2 * half:
            gap = BBox(int(left), int(middle - half), int(right), int(middle + half))
            if any(_overlap(gap, s) > 0 for s in stamps):
                return True
    return False


def _fills(new: list[Word] | tuple[Word, ...], old: tuple[Word, ...]) -> bool:
    """Whether the new reading of a line is the old one with letters it left out: it holds most of the
    old reading's surely read words, in order, and UNDER_STAMP_GAIN more letters. Letters read under a
    stamp's strokes come with low confidence, so the surer rule refuses a line whose old reading
    read only the type clear of the stamp, surely, and left out the rest."""
    sure = _sure_words(old)
    if len(sure) < 2:
        return False  # a line with less read surely may be the stamp's own lettering
    # Letter by letter, not word by word: under a stamp words run together or break apart.
    read = "".join(_letters(w.text) for w in new)
    k, found = 0, 0
    for word in sure:
        match = fuzz.partial_ratio_alignment(word, read[k:])
        if match is not None and match.score >= UNDER_STAMP_MATCH:
            found, k = found + 1, k + match.dest_end
    return (
        found >= UNDER_STAMP_KEPT * len(sure)
        and len(read) >= sum(len(_letters(w.text)) for w in old) + UNDER_STAMP_GAIN
    )


def _sure_words(words: list[Word] | tuple[Word, ...]) -> list[str]:
    """The letters of the words of two letters or more read surely (UNDER_STAMP_SURE)."""
    return [_letters(w.text) for w in words if w.conf >= UNDER_STAMP_SURE and len(_letters(w.text)) >= 2]


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _sure_letters(words: list[Word] | tuple[Word, ...]) -> int:
    return sum(sum(c.isalnum() for c in w.text) for w in words if w.conf >= UNDER_STAMP_SURE)


def _foreign_owner(word: BBox, found: Found) -> int:
    """1 + index of the region that owns most of the word's ink (0: the document's own)."""
    s = found.scale
    x0, y0 = int(word.x0 * s), int(word.y0 * s)
    x1, y1 = max(x0 + 1, int(np.ceil(word.x1 * s))), max(y0 + 1, int(np.ceil(word.y1 * s)))
    labels = found.labels[y0:y1, x0:x1]
    if not labels.any():  # most words: no region's ink under them
        return 0
    owners = labels[found.ink[y0:y1, x0:x1]]
    if owners.size == 0:
        return 0
    counts = np.bincount(owners)
    best = int(np.argmax(counts[1:])) + 1 if len(counts) > 1 else 0
    return best if best and counts[best] >= FOREIGN_SHARE * owners.size else 0


def _sure_type_in_writing(word: Word, line: Line, entry: dict) -> bool:
    """A word of type read surely, beside two more on its line, in a piece of ink taken for handwriting:
    a grey stamp's rim broken over dense print joins the letters it crosses into pieces of a written
    word's size, and the type's words went with them (dev two-column 8600: `антисоветские`,
    `Объединенного` read at 96). Tesseract's model of print reads handwriting with little confidence."""
    if entry["type"] != "handwriting" or word.conf < SURE_TYPE_CONF:
        return False
    sure_beside = sum(w is not word and w.conf >= STAMP_KEEP_CONF for w in line.words)
    return sum(c.isalpha() for c in word.text) >= 3 and sure_beside >= 2


def _furniture_of(
    word: Word,
    line: Line,
    furniture: list[dict],
    found: Found,
    width: int,
    height: int,
    dpi: int = 300,
    near_word: Callable[[str], bool] | None = None,
) -> dict | None:
    """The furniture a word belongs to (an entry is added for folio / page number / struck), or None."""
    owner = _foreign_owner(word.bbox, found)
    if owner and not _sure_type_in_writing(word, line, furniture[owner - 1]):
        return furniture[owner - 1]
    larger = None
    for entry in furniture:
        region = entry.get("region")
        if region is None or not _inside(word.bbox, region):
            continue
        if region.ink_removed:
            # Its ink was lifted before the OCR: what was read there is the type under it, unless
            # Tesseract made letters of what little ink was left. A word in small letters on a line of
            # type running on past the region is that type, however unsurely read (lifting the ink
            # leaves gaps in the letters under it); so is a long word in small letters on its own: what
            # Tesseract makes of the lifted ink's remains is short pieces.
            if (
                word.conf < LEFTOVER_CONF
                and not _type_under(word, line, region)
                and not (len(word.text) >= LEFTOVER_WORD and _body_word(word.text))
            ):
                return entry
        elif (
            region.type == "stamp"
            and word.conf < found.stamp_keep_conf
            and not _body_word(word.text)
            and not _type_under(word, line, region)
            # A secrecy mark typed in a ruled box: the frame may be taken for a stamp's.
            and not SECRECY.search(line.text)
        ):
            return entry
        elif region.role == "margin_note":
            return entry  # what Tesseract read of a note in the margin
        elif (
            region.unread
            and word.bbox.height >= found.tall_word
            and word.conf < STAMP_KEEP_CONF
            and not (word.conf < WRITTEN_ACROSS_CONF and _line_of_type(line))
        ):
            # What Tesseract made of larger writing than the type (see _unread_ink); across a line of
            # type its reading holds the type's letters too, and stays.
            larger = entry
    text = word.text.strip()
    line_text = line.text.strip()
    alone = line_text == text or bool(FOLIO.match(line_text) or PAGE_NUMBER.match(line_text))
    # Tesseract reads a handwritten number poorly: in the top right corner a short line alone, read with
    # little confidence or holding a digit, and no word of a mark, is the sheet number too.
    guessed = (
        len(line_text) <= 8
        and any(c.isalnum() for c in line_text)
        and (word.conf < UNSURE_FOLIO_CONF or any(c.isdigit() for c in line_text))
        and not SECRECY.search(line_text)
    )
    if alone and line.bbox.y1 < height * FOLIO_TOP:
        # The archive's sheet number: alone in the top right corner (or the top left of a verso).
        number = bool(FOLIO.match(line_text)) or text in ("об.", "об")
        if (line.bbox.x0 > width * 0.7 and (number or guessed)) or (line.bbox.x1 < width * 0.3 and number):
            return _shared_entry(furniture, "folio", line)
    folio = _folio_tail(line, width, height, dpi)
    if folio and any(w is word for w in folio):
        return _shared_entry(furniture, "folio", Line.of(folio), line)
    # A page number may share its row with the sheet number, read onto its end (`- 171 - 388`): the
    # rest of the line is tested.
    rest = Line.of(tuple(w for w in line.words if not any(w is f for f in folio))) if folio else line
    rest_text = rest.text.strip() if folio else line_text
    if PAGE_NUMBER.match(rest_text) and any(ch.isdigit() for ch in rest_text):
        centred = abs((rest.bbox.x0 + rest.bbox.x1) / 2 - width / 2) < width * 0.12
        edge = rest.bbox.y1 < height * 0.12 or rest.bbox.y0 > height * 0.88
        if centred and edge:
            return _shared_entry(furniture, "page_number", rest, line)
    if _written_into_stamp(word, line, found, dpi):
        return _stamp_fill_entry(furniture, word)
    if larger is not None:
        return larger  # unless it is the sheet or page number, written larger than the type
    below_top = word.bbox.y0 > height * RESOLUTION_TOP  # see _writing_beside
    beside = _writing_beside(word, line, furniture, found, dpi) if below_top else None
    if beside is not None:
        beside["bbox"] = beside["bbox"].union(word.bbox)
        return beside
    if _struck(text) or _overtyped(word, line, found) or _overtyped_unknown(word, line, found, near_word):
        entry = {"type": "struck", "role": "", "bbox": word.bbox, "region": None, "words": []}
        furniture.append(entry)
        return entry
    return None


def _writing_beside(word: Word, line: Line, furniture: list[dict], found: Found, dpi: int) -> dict | None:
    """The handwriting a short word larger than the type belongs to when it lies beside it on its rows,
    off any line of type: Tesseract reads a signature's initials surely (`Д.Б.`, `К.`), so their ink
    counts as read and the zone found in the unread ink is only the rest of the signature beside them.
    Not at the top of the page (the caller's test), where a letterhead's large print (`Р. С. Ф. С. Р.`)
    may stand beside a resolution written over it."""
    if word.bbox.height < found.tall_word or _line_of_type(line):
        return None
    if sum(c.isalnum() for c in word.text) > WRITING_MARKS:
        return None  # a letterhead's or heading's word in large print
    reach, box = WRITING_BESIDE * dpi, word.bbox
    for entry in furniture:
        region = entry.get("region")
        if region is None or region.type != "handwriting":
            continue
        other = region.bbox
        rows = min(box.y1, other.y1) - max(box.y0, other.y0)
        if rows >= 0.5 * box.height and box.x1 >= other.x0 - reach and box.x0 <= other.x1 + reach:
            return entry
    return None


def _written_into_stamp(word: Word, line: Line, found: Found, dpi: int) -> bool:
    """A number written into a stamp's blank (an incoming stamp's `Вх. №`, its date): a number, or
    unsure larger writing than the type (what Tesseract makes of a written number), beside a stamp
    and off the rows of the type, as the pen runs out of the blank and between the lines. Tesseract
    may read a number surely (`7869`, 96), so its confidence tells nothing then; a typed number stands
    on its line's row of type. Words on the stamp itself are left to it (see _furniture_of)."""
    text = word.text.strip(".,;:()")
    digits = sum(c.isdigit() for c in text)
    number = digits >= STAMP_FILL_DIGITS and digits >= 2 * sum(c.isalpha() for c in text)
    larger = word.bbox.height >= found.tall_word and word.conf < TYPED_LINE_CONF and not _body_word(text)
    if not (number or larger):
        return False
    reach = STAMP_FILL_REACH * dpi
    stamps = [r for r in found.regions if r.type == "stamp"]
    if any(_inside(word.bbox, r) for r in stamps):
        return False
    if not any(_box_gap(word.bbox, r.bbox) <= reach for r in stamps):
        return False
    typed = [
        w.bbox
        for w in line.words
        if w is not word and w.conf >= TYPED_LINE_CONF and w.bbox.height < found.tall_word
    ]
    if not typed:
        return True  # alone on its line
    middle = _median([(b.y0 + b.y1) / 2 for b in typed])
    height = _median([b.height for b in typed])
    return abs((word.bbox.y0 + word.bbox.y1) / 2 - middle) > STAMP_FILL_OFF_ROW * height


def _stamp_fill_entry(furniture: list[dict], word: Word) -> dict:
    """The handwriting entry of a number written into a stamp: the writing found in the unread ink
    there, or another piece of the number read beside it, or an entry of its own."""
    for entry in furniture:
        if entry["type"] == "handwriting" and _box_gap(entry["bbox"], word.bbox) <= word.bbox.height / 2:
            region = entry.get("region")
            if region is None or region.unread:
                entry["bbox"] = entry["bbox"].union(word.bbox)
                if not entry["role"]:
                    entry["role"] = "stamp_fill"
                return entry
    entry = {"type": "handwriting", "role": "stamp_fill", "bbox": word.bbox, "region": None, "words": []}
    furniture.append(entry)
    return entry


def _written_on_typed_page(line: Line, letter: float, height: int, found: Found) -> tuple[Word, ...]:
    """The words of a resolution that Tesseract read (surely, as it often does) on a line of a typed
    page's top: a word of five letters or more, not in capitals, wider a letter than the typewriter's
    letter width (WRITTEN_WIDTH), with the wide words before it and the initials after it. Printed
    lines are as wide (a letterhead in its own face, `Москва, Кузнецкий мост`): the writing is taken
    only when initials follow it or a typed word (as wide as its letters) shares its line, and never
    from a letterhead's or secrecy mark's line or from capitals. Words on a stamp are left to the
    stamp (its ink swells the boxes of the type under it). `letter` is 0 on a page not typewritten."""
    if not letter or line.bbox.y0 >= height * RESOLUTION_TOP:
        return ()
    if LETTERHEAD.search(line.text) or SECRECY.search(line.text):
        return ()
    words = line.words

    def width(w: Word) -> float:
        return w.bbox.width / (letter * max(1, len(w.text)))

    def wide(w: Word) -> bool:
        if (w.bbox.y0 + w.bbox.y1) / 2 >= height * RESOLUTION_TOP or width(w) < WRITTEN_WIDTH:
            return False
        letters = [c for c in w.text if c.isalpha()]
        if len(letters) >= 2 and all(c.isupper() for c in letters):
            return False
        return not any(r.type == "stamp" and _overlap(w.bbox, r.bbox) > 0 for r in found.regions)

    chosen: set[int] = set()
    for k, word in enumerate(words):
        if k in chosen or sum(c.isalpha() for c in word.text) < 5 or not wide(word):
            continue
        first = k
        while first > 0 and len(words[first - 1].text) >= 2 and wide(words[first - 1]):
            first -= 1
        last, initials = k, False
        while last + 1 < len(words):
            after = words[last + 1]
            if WRITTEN_INITIALS.match(after.text):
                initials = True
            elif not (len(after.text) >= 2 and wide(after)):
                break
            last += 1
        typed = any(
            not first <= i <= last
            and sum(c.isalnum() for c in w.text) >= 4
            and 1 / WRITTEN_WIDTH < width(w) < WRITTEN_WIDTH
            for i, w in enumerate(words)
        )
        if initials or typed:
            chosen.update(range(first, last + 1))
    return tuple(words[k] for k in sorted(chosen))


def _written_larger_at_top(line: Line, letter: float, height: int, found: Found) -> tuple[Word, ...]:
    """The words of a resolution written at the page's top larger than the type, which Tesseract read
    as a line of their own (`Согласен. А. Ка.`, `Возражаю`) or onto the end or start of a printed line
    (`За. В. Уг.` before `Москва, Кузнецкий мост`), in a hand as narrow as the typewriter's letters
    (which `_written_on_typed_page` passes over): a run of two words or more larger than the line's
    print, with a short word ending in a stop (its initials); or a whole line larger than the type,
    in small letters, read unsurely or ending in initials. Capitals (`ЦЕНТРАЛЬНЫЙ КОМИТЕТ`,
    `Р. С. Ф. С. Р.`) are a letterhead's print. Only on a typewritten page (`letter` not 0): an old
    printed page's running head is larger print too (a real 18th-century page lost its `(XII)`)."""
    if not letter or not np.isfinite(found.tall_word) or line.bbox.y0 >= height * RESOLUTION_TOP:
        return ()
    typed = found.tall_word / TALL_WORD

    def larger(w: Word) -> bool:
        letters = [c for c in w.text if c.isalpha()]
        capitals = len(letters) >= 3 and all(c.isupper() for c in letters)
        top = (w.bbox.y0 + w.bbox.y1) / 2 < height * RESOLUTION_TOP
        return top and not capitals and w.bbox.height >= WRITTEN_LARGER * typed

    def initials(w: Word) -> bool:
        return w.text.endswith((".", ":")) and sum(c.isalnum() for c in w.text) <= 3

    words = line.words
    marks = [larger(w) for w in words]
    if all(marks):
        if LETTERHEAD.search(line.text) or SECRECY.search(line.text):
            return ()
        small = any(sum(c.islower() for c in w.text) >= 2 for w in words)
        unsure = _median([w.conf for w in words]) < TYPED_LINE_CONF
        tall = _median([w.bbox.height for w in words]) >= WRITTEN_LINE * typed
        return words if small and tall and (unsure or initials(words[-1])) else ()
    # A run at either end of a printed line, larger than the rest of it.
    for run in (words[: marks.index(False)], words[len(marks) - marks[::-1].index(False) :]):
        rest = [w.bbox.height for w in words if not any(w is r for r in run)]
        if (
            len(run) >= 2
            and any(initials(w) for w in run)
            and _median([w.bbox.height for w in run]) >= LARGER_ON_LINE * _median(rest)
        ):
            return tuple(run)
    return ()


def _resolution_entry(furniture: list[dict], written: tuple[Word, ...], dpi: int) -> dict:
    """The handwriting entry of a resolution's words read in a line of type (`_written_on_typed_page`):
    a handwriting region found beside them on their rows (what Tesseract left unread of the writing),
    or an entry of their own."""
    box = BBox.enclosing([w.bbox for w in written])
    reach = WRITING_BESIDE * dpi
    for entry in furniture:
        region = entry.get("region")
        if entry.get("resolution_of") is written:
            return entry
        if region is None or region.type != "handwriting":
            continue
        other = region.bbox
        rows = min(box.y1, other.y1) - max(box.y0, other.y0)
        if rows >= 0.5 * box.height and box.x1 >= other.x0 - reach and box.x0 <= other.x1 + reach:
            entry["bbox"] = entry["bbox"].union(box)
            entry["resolution_of"] = written
            return entry
    entry = {"type": "handwriting", "role": "resolution", "bbox": box, "region": None, "words": []}
    entry["resolution_of"] = written
    furniture.append(entry)
    return entry


def _edge_slivers(page: Page) -> list[Line]:
    """Lines Tesseract read on the scan's dark edge left on the page: at its left or right edge, taller
    than SLIVER_TALL lines of type and less than half as wide as high, or wholly within the edge below
    the corner of the sheet number, read unsurely; along its top or bottom edge, read with almost no
    confidence. No typed line stands so."""
    heights = [ln.bbox.height for ln in page.lines if len(ln.words) >= 3]
    if not heights:
        return []
    tall = SLIVER_TALL * float(np.median(heights))
    edge = page.width * SLIVER_EDGE

    def within(box: BBox) -> bool:
        return box.x1 < edge or box.x0 > page.width - edge

    def edge_row(line: Line) -> bool:
        # The shadow along the sheet's top or bottom edge (a scan's border, its lighting) read as a
        # jumble; the top right corner is left to the sheet number, however poorly read.
        box, rows = line.bbox, page.height * EDGE_ROWS
        top = box.y1 < rows
        if not (top or box.y0 > page.height - rows) or (top and box.x0 > page.width * 0.7):
            return False
        last = line.words[-1]
        if top and last.bbox.x0 > page.width * 0.7 and FOLIO.match(last.text.strip()):
            return False  # a poorly read page number joined to the sheet number: the folio is kept
        confs = [w.conf for w in line.words if w.conf >= 0]
        return bool(confs) and _median(confs) < EDGE_ROW_CONF and not PAGE_NUMBER.match(line.text.strip())

    return [
        ln
        for ln in page.lines
        if (
            (ln.bbox.x0 < edge or ln.bbox.x1 > page.width - edge)
            and (
                (ln.bbox.height > tall and ln.bbox.width < ln.bbox.height / 2)
                or (
                    within(ln.bbox)
                    and ln.bbox.y0 > page.height * FOLIO_TOP
                    and all(w.conf < UNSURE_FOLIO_CONF for w in ln.words)
                )
            )
        )
        or edge_row(ln)
    ]


def _line_of_type(line: Line) -> bool:
    """A line of several words, read as type (a median confidence of TYPED_LINE_CONF)."""
    confs = [w.conf for w in line.words if w.conf >= 0]
    return len(line.words) > 4 and bool(confs) and float(np.median(confs)) >= TYPED_LINE_CONF


def _folio_tail(line: Line, width: int, height: int, dpi: int) -> tuple[Word, ...]:
    """The last words of a line in the top right corner that are a sheet number standing apart from the
    rest (Tesseract joins the folio to a page number, a date or a letterhead on the same row): half an
    inch to the right of it, or written larger than its type. A written number may come in pieces
    (`3` `7`) with no space between them."""
    words = line.words
    if len(words) < 2 or line.bbox.y1 >= height * FOLIO_TOP:
        return ()
    # Marks alone, the last of the row (`\ ) ( }`): what Tesseract makes of a written number.
    marks = 0
    while marks < min(6, len(words) - 1) and not any(c.isalnum() for c in words[-marks - 1].text):
        marks += 1
    if (
        marks >= 2
        and words[-marks].bbox.x0 >= width * 0.7
        and words[-marks].bbox.x0 - words[-marks - 1].bbox.x1 >= dpi * FOLIO_GAP
    ):
        return words[-marks:]
    tail = 2 if len(words) >= 3 and words[-1].text.strip(".") in ("об", "о", "o6", "о6", "о5") else 1
    while tail < min(3, len(words) - 1) and (
        words[-tail].bbox.x0 - words[-tail - 1].bbox.x1 < dpi * FOLIO_PIECE_GAP
    ):
        tail += 1
    number, rest = words[-tail:], words[:-tail]
    text = re.sub(r"(?<=\d)\s+(?=\d)", "", " ".join(w.text for w in number))
    if number[0].bbox.x0 < width * 0.7:
        return ()
    gap = number[0].bbox.x0 - rest[-1].bbox.x1
    if FOLIO.match(text) and gap >= dpi * FOLIO_GAP:
        return number
    # Written larger than the typed words beside it, and mostly digits however Tesseract misread them.
    larger = min(w.bbox.height for w in number) >= TALL_WORD * float(np.median([w.bbox.height for w in rest]))
    digits = sum(c.isdigit() for c in text)
    return number if larger and gap > 0 and digits and 2 * digits >= len(text.replace(" ", "")) else ()


def _body_word(text: str) -> bool:
    """A word in small letters, read through a stamp's ink that is still on the page: a stamp's own words
    are mostly capitals (`ОГПУ`, `СЕКРЕТНЫЙ ОТДЕЛ`), the type under it mostly small letters."""
    letters = text.strip(".,;:!?»«\"'()-")
    if len(letters) >= 3 and letters.isalpha() and letters.islower():
        return True
    # A long word in small letters misread with one capital inside (`провоЗгващения`) is type too.
    return (
        len(letters) >= 6
        and letters.isalpha()
        and letters[0].islower()
        and sum(map(str.isupper, letters)) == 1
    )


def _type_under(word: Word, line: Line, region: Region) -> bool:
    """A word in small letters after its first (a name, `Сахаровой`) on a line of type that runs on past
    the stamp, read surely there: the type under the stamp. A stamp's own words are mostly capitals."""
    letters = [c for c in word.text if c.isalpha()]
    if len(letters) < 3 or any(c.isupper() for c in letters[1:]):
        return False
    return sum(not _inside(w.bbox, region) and w.conf >= STAMP_KEEP_CONF for w in line.words) >= 2


def _struck(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    crosses = sum(c in STRUCK_LETTERS for c in letters)
    if all(c in ROMAN_LOOKALIKES for c in letters):
        return False  # `ХХIII` read as `ХХТТ` is a number
    # Two x's make real words too (`всѣхъ` misread as `всБхХЬ`): three or more, or nothing but x's.
    return len(letters) >= 3 and (crosses >= 3 or crosses == len(letters))


def _overtyped(word: Word, line: Line, found: Found) -> bool:
    """A word typed over with `х`: Tesseract reads the crosses and the letters under them as a jumble
    of х, ж, к, я (`кюряжкяхя`), unsurely, and the word holds more ink than its neighbours do."""
    letters = [c for c in word.text if c.isalpha()]
    crosses = sum(c in OVERTYPE_LETTERS for c in letters)
    jumbled = crosses >= 3 and crosses >= 0.35 * len(letters)
    # Fewer crosses read (`вявейк`, `мавкихда`: the letters under them read instead) take more ink.
    few = crosses >= 2 and crosses >= OVERTYPE_FEW_SHARE * len(letters)
    if len(letters) < 4 or not (jumbled or few) or word.conf >= OVERTYPE_CONF:
        return False
    density = [_ink_density(w.bbox, line.bbox, found) for w in line.words]
    if len(line.words) < 2:
        return False
    own = next(d for w, d in zip(line.words, density, strict=True) if w is word)
    ratio = own / max(float(np.median(density)), 1e-9)
    return ratio >= (OVERTYPE_DENSITY if jumbled else OVERTYPE_FEW_DENSITY)


def _overtyped_unknown(word: Word, line: Line, found: Found, near_word: Callable[[str], bool] | None) -> bool:
    """A word typed over with `х` that Tesseract read as small letters, the crosses mostly lost in
    them (`вабамеке`, `мнакиникленных`): no word is one misreading away from it, and it holds more ink
    than its line's typical word (OVERTYPE_UNKNOWN_DENSITY)."""
    core = word.text.strip(".,;:!?»«\"'()-")
    if near_word is None or len(core) < 3 or not core.isalpha() or word.conf >= OVERTYPE_CONF:
        return False
    if not core.islower() or not any(c in OVERTYPE_LETTERS for c in core):
        return False  # capitals (`ВКП`, `РГАСПИ`) and names are heavy type
    if len(line.words) < 2 or any(_overlap(word.bbox, r.bbox) > 0 for r in found.regions):
        return False  # a stamp's or pen's ink makes the type under or beside it heavy, its readings poor
    density = [_ink_density(w.bbox, line.bbox, found) for w in line.words]
    own = next(d for w, d in zip(line.words, density, strict=True) if w is word)
    if own < OVERTYPE_UNKNOWN_DENSITY * float(np.median(density)):
        return False
    return not near_word(core)


def _ink_density(box: BBox, line_box: BBox, found: Found) -> float:
    """Ink (analysis scale) in the word's box per unit of its width times the line's height."""
    s = found.scale
    x0, x1 = int(box.x0 * s), max(int(box.x0 * s) + 1, int(np.ceil(box.x1 * s)))
    y0, y1 = int(box.y0 * s), max(int(box.y0 * s) + 1, int(np.ceil(box.y1 * s)))
    return float(found.ink[y0:y1, x0:x1].sum()) / max(1.0, (x1 - x0) * line_box.height * s)


def _read_from_back(line: Line, near_word: Callable[[str], bool]) -> bool:
    """Whether a typed page's line is the sheet's back (or a stain) read as text: read unsurely (median
    and mean word confidence under BACK_LINE_CONF), with BACK_LINE_LETTERS letters or more, under
    BACK_LINE_WORDS of them in words of four letters or more (in any case), known or a misreading from a
    known word. A back that no cleaning lifted, lighter than the type but sharp, is read between the
    type's lines as a jumble of mirrored letters (dev protocol 7518: 24 such lines at mean confidence
    0-46 among the type's at 57-96; 89 % CER), whose short runs of capitals are often near an
    abbreviation of the lexicon. A line of the type read as poorly is still mostly words (of 2,114
    lines of 48 tune and dev pages, 39 went, all jumbles), and a short line (a number, a mark) is left."""
    confs = [w.conf for w in line.words if w.text.strip() and w.conf >= 0]
    # Its mean too: a line of the type garbled where handwriting crossed it keeps words read surely
    # (tune 6817: median 38, mean 52; the back's lines on dev 7518: means 0-46).
    if not confs or max(_median(confs), sum(confs) / len(confs)) >= BACK_LINE_CONF:
        return False
    runs = [run for w in line.words for run in _LETTER_RUN.findall(w.text)]
    letters = sum(map(len, runs))
    if letters < BACK_LINE_LETTERS:
        return False
    # In any case: a typewriter's raised letters read as capitals inside a word (`ПосТановили:`, tune 6804).
    worded = sum(len(r) for r in runs if len(r) >= 4 and near_word(r))
    return worded < BACK_LINE_WORDS * letters


def _shared_entry(furniture: list[dict], kind: str, line: Line, key: Line | None = None) -> dict:
    """The entry of `kind` for `line` (its words, or the part of `key`'s words that `line` holds)."""
    key = key or line
    for entry in furniture:
        if entry["type"] == kind and entry.get("line") is key:
            return entry
    entry = {"type": kind, "role": "", "bbox": line.bbox, "region": None, "words": [], "line": key}
    furniture.append(entry)
    return entry


def _wording(text: str) -> str:
    """A word as a stamp's wording is compared: its letters and digits, in capitals, ё as е."""
    return _letters(text).upper().replace("Ё", "Е")


def _stamp_wording_out(paragraphs: list[Paragraph], furniture: list[dict]) -> list[Paragraph]:
    """The paragraphs without the words a stamp's own reading holds, read surely inside that stamp: its
    wording (`СЕКРЕТНЫЙ ОТДЕЛ`, `ОГПУ ОСОБЫЙ СЕКТОР`) read into the body's lines, where a word read surely
    on a stamp is kept as the type under it. Each goes to its stamp's words. A word in small letters is
    type, and so is a short one (`_stamp_like`); so is a word the line's type runs on into, one word's
    gap from type outside the stamp (an addressee `Секретарю ЦК ВКП(б)` under a stamp `ЦК ВКП(б)`)."""
    # Every entry has its region once the furniture is read (`_read_furniture`).
    stamps = [
        (e, {_wording(t) for t in e["text"].split()} - {""})
        for e in furniture
        if e["type"] == "stamp" and e.get("text")
    ]
    if not stamps:
        return paragraphs
    out = []
    for paragraph in paragraphs:
        lines = []
        for line in paragraph.lines:
            kept: list[Word] = []
            previous: Word | None = None
            previous_runs = False  # the previous word is the line's type, outside a stamp or run on into it
            for word in line.words:
                owner = _wording_owner(word, stamps)
                runs = False
                if owner is not None and previous is not None and previous_runs:
                    gap = word.bbox.x0 - previous.bbox.x1
                    if gap < 1.5 * max(word.bbox.height, previous.bbox.height):
                        owner, runs = None, True  # the line's type running on under the stamp
                if owner is None:
                    kept.append(word)
                    inside = any(_inside(word.bbox, e["region"]) for e, _ in stamps)
                    runs = runs or (not inside and len(_letters(word.text)) >= 2)
                else:
                    owner["words"].append(word)
                previous, previous_runs = word, runs
            if kept:
                lines.append(Line.of(tuple(kept), line.baseline))
        if lines:
            out.append(Paragraph.of(lines, paragraph.block))
    return out


def _wording_owner(word: Word, stamps: list[tuple[dict, set[str]]]) -> dict | None:
    """The stamp (furniture entry) inside which `word` lies and whose reading (its `_wording`s) holds it,
    when the word may be a stamp's wording at all (`_stamp_like`)."""
    key = _wording(word.text)
    if len(key) < 2 or not _stamp_like(word.text):
        return None
    return next((e for e, wording in stamps if key in wording and _inside(word.bbox, e["region"])), None)


def _stamp_like(text: str) -> bool:
    """Whether a word may be a stamp's wording: not in small letters (`_body_word`), no figure in it, and
    of three letters or more unless in capitals (`ЦК`). The stamp's reading holds the type under it too:
    a short word in small letters there (`не`, `ни`) or a table's figures are as likely in it."""
    letters = _letters(text)
    if any(c.isdigit() for c in letters):
        return False
    return not _body_word(text) and (len(letters) >= 3 or letters.isupper())


def _read_furniture(
    entries: list[dict],
    read_crop: Callable[[Region], np.ndarray],
    settings: Settings,
    dpi: int,
    shrink: float = 1.0,
) -> float:
    """Each stamp's and handwriting's own reading, from one Tesseract call over a montage of their crops.

    Folio and page numbers and struck words keep the words the body OCR gave them. Returns the
    seconds spent in Tesseract."""
    for entry in entries:
        _words_as_reading(entry)
        if entry.get("region") is None:
            # Folio and page numbers are read again on their own, with a margin round them.
            b, pad = entry["bbox"], max(8, entry["bbox"].height // 2)
            entry["region"] = Region(
                entry["type"], "", BBox(max(0, b.x0 - pad), max(0, b.y0 - pad), b.x1 + pad, b.y1 + pad)
            )
    to_read = [e for e in entries if e["type"] not in ("struck", "graphic")]
    if not to_read:
        return 0.0
    pieces = []  # each entry's pieces, as read
    for entry in to_read:
        pieces.append([])
        for piece in _pieces(entry["region"], read_crop(entry["region"])):
            if shrink < 0.95:  # back to the scan's pixels (`shrink` of them per cleaned pixel)
                piece = cv2.resize(piece, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
            _, piece = cv2.threshold(piece, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            pieces[-1].append(piece)
    montage, spans = ocr.stacked([piece for group in pieces for piece in group], max(20, dpi // 10))
    # An entry's rows run from its first piece's top to its last's bottom (a word read between its
    # pieces is its own); an entry without pieces has none, yet keeps its place.
    entry_spans, k = [], 0
    for group in pieces:
        entry_spans.append((spans[k][0], spans[k + len(group) - 1][1]) if group else (0, 0))
        k += len(group)
    montage_dpi = round(dpi * shrink) if shrink < 0.95 else dpi
    paragraphs, step = ocr.recognise(montage, settings.replace(psm=6), montage_dpi)
    words_read = [w for p in paragraphs for ln in p.lines for w in ln.words]
    entry_words = ocr.by_span(words_read, lambda w: (w.bbox.y0 + w.bbox.y1) / 2, entry_spans)
    for entry, words in zip(to_read, entry_words, strict=True):
        confs = [w.conf for w in words if w.conf >= 0]
        conf = round(float(np.mean(confs)), 2) if confs else -1.0
        if words and (conf >= entry["conf"] or entry["type"] in ("stamp", "handwriting")):
            entry["text"] = " ".join(w.text for w in words)
            entry["conf"] = conf
    return float(step.settings.get("tesseract_seconds", step.seconds))


def _pieces(region: Region, crop: np.ndarray) -> list[np.ndarray]:
    """What Tesseract reads of a piece of furniture: the crop turned level; for a round stamp, the
    text round its rim unrolled into a straight strip (from the quietest angle, so no word is cut),
    then its middle."""
    if region.centre is None or region.radius < 20:
        if abs(region.angle) > 4:
            crop, _ = preprocess.deskew(crop, -region.angle, fill=255)
        return [crop]
    cx, cy, r = region.centre[0] - region.bbox.x0, region.centre[1] - region.bbox.y0, region.radius
    # What falls outside the crop stays as given (white paper): warpPolar leaves those pixels unwritten.
    size = (int(r), int(2 * np.pi * r * 0.85))
    polar = np.full((size[1], size[0]), 255, crop.dtype)
    polar = cv2.warpPolar(crop, size, (cx, cy), r, cv2.WARP_POLAR_LINEAR, dst=polar)
    strip = cv2.rotate(polar[:, int(r * 0.55) :], cv2.ROTATE_90_COUNTERCLOCKWISE)
    darkness = (255 - strip.astype(np.int32)).sum(axis=0)
    strip = np.roll(strip, -int(np.argmin(darkness)), axis=1)
    middle = crop.copy()
    ys, xs = np.ogrid[: crop.shape[0], : crop.shape[1]]
    middle[(xs - cx) ** 2 + (ys - cy) ** 2 > (r * 0.55) ** 2] = 255
    return [strip, middle]


def _words_as_reading(entry: dict) -> None:
    words = entry["words"]
    entry["text"] = " ".join(w.text for w in words)
    confs = [w.conf for w in words if w.conf >= 0]
    entry["conf"] = round(float(np.mean(confs)), 2) if confs else -1.0


def _furniture_zones(entries: list[dict], body: Page) -> list[Zone]:
    zones = []
    text_box = BBox.enclosing([p.bbox for p in body.paragraphs]) if body.paragraphs else None
    for i, entry in enumerate(entries):
        role, kind = entry["role"], entry["type"]
        region = entry.get("region")
        printed = _printed(entry.get("text", ""), entry.get("conf", -1.0))
        corner = kind == "handwriting" and _in_folio_corner(entry["bbox"], body)
        sheet_number = corner and bool(FOLIO.match(entry.get("text", "").strip()))
        if (
            region is not None
            and region.unread
            and region.role != "margin_note"
            and role != "stamp_fill"
            and printed
            and not sheet_number
        ):
            # Type the body OCR passed over (beside a stamp), not handwriting. No type stands in the
            # left margin, and a short note there (`нет`) may well be read surely; a number stamped in
            # the top corner is the sheet number.
            continue
        if corner:
            kind = "folio"  # the archive's sheet number, written or stamped in the top corner
        elif kind == "handwriting" and not role:
            role = _handwriting_role(entry["bbox"], text_box, body.height)
        zones.append(
            Zone(
                id=f"f{i + 1}",
                type=kind,
                bbox=entry["bbox"],
                text=entry.get("text", ""),
                conf=entry.get("conf", -1.0),
                role=role,
            )
        )
    return zones


def _printed(text: str, conf: float) -> bool:
    """Read as print: surely, and as a word or a number rather than a stray mark."""
    return conf >= PRINT_CONF and sum(c.isalnum() for c in text) >= 2


def _in_folio_corner(box: BBox, page: Page) -> bool:
    small = box.width < page.dpi * 0.8 and box.height < page.dpi * 0.4  # a number, not a framed mark
    return small and box.x0 > page.width * 0.7 and box.y1 < page.height * FOLIO_TOP


def _handwriting_role(box: BBox, text_box: BBox | None, height: int) -> str:
    if text_box is not None and (box.x1 <= text_box.x0 + 10 or box.x0 >= text_box.x1 - 10):
        return "margin_note"
    if box.y0 > height * 0.6:
        return "signature"
    return "resolution"


def split_leading_marks(body: Page) -> Page:
    """Tesseract may read a secrecy mark, a registration line or a centred heading line into one paragraph
    with the lines under it (`СЕКРЕТНО` with the letterhead, the date with the addressee, the heading
    with `Присутствовали: ...`): near the top of the page such a first line becomes a paragraph of its
    own when the line after it is of another kind, so each gets its zone. The text stays as it was."""
    if not body.paragraphs:
        return body
    frame = _text_frame(body.lines)
    starts = _line_starts(body, frame)
    out: list[Paragraph] = []
    for index, paragraph in enumerate(body.paragraphs):
        lines = list(paragraph.lines)
        while len(lines) >= 2 and lines[0].bbox.y1 < body.height * 0.3:
            first, second = (_line_kind(ln, index, frame, starts) for ln in lines[:2])
            if first == "text" or first == second:
                break
            out.append(Paragraph((lines[0],), lines[0].bbox, block=paragraph.block))
            lines = lines[1:]
        out.append(paragraph if len(lines) == len(paragraph.lines) else Paragraph.of(lines, paragraph.block))
    return dataclasses.replace(body, paragraphs=tuple(out)) if len(out) > len(body.paragraphs) else body


def _line_kind(line: Line, index: int, frame: tuple[float, float], starts: list[tuple[int, int, int]]) -> str:
    """secrecy, registration (a number or a date on a short line), centred, or text."""
    text = line.text
    if len(text) < 80 and SECRECY.search(text):
        return "secrecy"
    # A line begun where a paragraph's first line may be indented to is no centred line on its own.
    if _centred_line(line, index, frame, starts) and line.bbox.x0 >= frame[0] + INDENT_MAX * (
        frame[1] - frame[0]
    ):
        return "centred"
    if len(line.words) <= REGISTRATION_WORDS and REGISTRATION.search(text):
        return "registration"
    return "text"


def _text_zones(body: Page) -> list[Zone]:
    """One zone per run of paragraphs of the same type, in reading order."""
    if not body.paragraphs:
        return []
    types = _paragraph_types(body)
    zones: list[Zone] = []
    run: list[int] = []
    for i, kind in enumerate(types):
        if run and (kind != types[run[-1]] or kind in ("secrecy", "registration")):
            zones.append(_text_zone(body, run, types[run[0]], len(zones)))
            run = []
        run.append(i)
    zones.append(_text_zone(body, run, types[run[0]], len(zones)))
    return zones


def _text_zone(body: Page, indices: list[int], kind: str, n: int) -> Zone:
    pars = [body.paragraphs[i] for i in indices]
    words = [w for p in pars for ln in p.lines for w in ln.words]
    confs = [w.conf for w in words if w.conf >= 0]
    return Zone(
        id=f"t{n + 1}",
        type=kind,
        bbox=BBox.enclosing([p.bbox for p in pars]),
        text="\n\n".join("\n".join(ln.text for ln in p.lines) for p in pars),
        conf=round(float(np.mean(confs)), 2) if confs else -1.0,
        paragraphs=tuple(indices),
    )


def _paragraph_types(body: Page) -> list[str]:
    """Each paragraph's type. The letterhead is printed centred at the head of the sheet, above the
    registration number and date; a heading is centred on the text below them (`ПРОТОКОЛ № 8` / `заседания
    ...`, `СПИСОК`), where the addressee is typed from the middle to the right."""
    frame = _text_frame(body.lines)
    starts = _line_starts(body, frame)
    centred = [_centred(body, i, frame, starts) for i in range(len(body.paragraphs))]
    types = [_paragraph_type(body, i, centred[i]) for i in range(len(body.paragraphs))]
    registered = [body.paragraphs[i].bbox.y0 for i, t in enumerate(types) if t == "registration"]
    if registered:
        # Centred paragraphs above the registration, before any paragraph of the document's own, are the
        # letterhead's (its address and smaller lines too), however its name was misread; so is a piece
        # of a letterhead's line read apart (`Кузнецкий мост, 21`) on the rows just below it.
        below: float | None = None  # the letterhead's bottom so far
        for i, paragraph in enumerate(body.paragraphs):
            if types[i] == "letterhead":
                below = max(below or 0.0, paragraph.bbox.y1)
            if types[i] in ("secrecy", "registration", "letterhead"):
                continue
            height = float(np.median([ln.bbox.height for ln in paragraph.lines]))
            piece = below is not None and paragraph.bbox.y0 <= below + LETTERHEAD_ROWS * height
            if not (centred[i] or types[i] == "heading" or piece) or paragraph.bbox.y1 > min(registered):
                break
            types[i] = "letterhead"
            below = max(below or 0.0, paragraph.bbox.y1)
    return types


def _text_frame(lines: Sequence[Line]) -> tuple[float, float]:
    """Left and right edge of the text of `lines` (a page's, a column's): where its lines of several
    words mostly begin and end."""
    lines = [ln for ln in lines if len(ln.words) >= 3] or list(lines)
    return (
        float(np.percentile([ln.bbox.x0 for ln in lines], 10)),
        float(np.percentile([ln.bbox.x1 for ln in lines], 90)),
    )


def _line_starts(body: Page, frame: tuple[float, float]) -> list[tuple[int, int, int]]:
    """(x0, height, paragraph) of the page's lines of several words (not `С. С. С. Р.` or `- 71 -`)
    begun near the text's left edge: where the typist's lines and paragraphs begin."""
    left, right = frame
    return [
        (ln.bbox.x0, ln.bbox.height, i)
        for i, p in enumerate(body.paragraphs)
        for ln in p.lines
        if len(ln.words) >= 3
        and sum(c.isalpha() for c in ln.text) >= LINE_LETTERS
        and ln.bbox.x0 < left + INDENT_MAX * (right - left)
    ]


def _centred(body: Page, index: int, frame: tuple[float, float], starts: list[tuple[int, int, int]]) -> bool:
    """Every line of the paragraph is centred on the text (see _centred_line)."""
    return all(_centred_line(ln, index, frame, starts) for ln in body.paragraphs[index].lines)


def _centred_line(
    line: Line, index: int, frame: tuple[float, float], starts: list[tuple[int, int, int]]
) -> bool:
    """The line (of paragraph `index`) is centred on the text and narrower than it, and begins where no
    line of another paragraph begins (a short line begun at the paragraph indent is no centred line)."""
    left, right = frame
    width = right - left
    if width <= 0:
        return False
    box = line.bbox
    aligned = any(i != index and abs(x0 - box.x0) <= 0.6 * max(h, box.height) for x0, h, i in starts)
    return (
        abs((box.x0 + box.x1) / 2 - (left + right) / 2) <= CENTRED * width
        and box.x0 >= left + CENTRED_INDENT * width
        and box.x1 <= right - CENTRED_INDENT * width
        and not aligned
    )


def _paragraph_type(body: Page, index: int, centred: bool) -> str:
    paragraph = body.paragraphs[index]
    text = "\n".join(ln.text for ln in paragraph.lines)
    top_part = paragraph.bbox.y1 < body.height * 0.3
    short = len(text) < 80
    if short and SECRECY.search(text):
        return "secrecy"
    if top_part and LETTERHEAD.search(text):
        return "letterhead"
    if centred and len(text) < 120 and len(paragraph.lines) <= 3 and any(c.isalnum() for c in text):
        return "heading"  # `ПРОТОКОЛ № 8` is no registration number
    if top_part and short and REGISTRATION.search(text):
        return "registration"
    if len(paragraph.lines) >= 3 and sum(
        bool(TABLE_ROW.match(ln.text)) for ln in paragraph.lines
    ) >= 0.6 * len(paragraph.lines):
        return "table"
    if top_part and short and len(paragraph.lines) <= 3 and paragraph.bbox.x0 > body.width * 0.4:
        return "addressee"  # `Секретарю ЦК ВКП(б) / тов. Сталину`, typed to the right above the body
    if _is_column(body, index):
        return "column"
    letters = [c for c in text if c.isalpha()]
    if (
        short
        and len(paragraph.lines) <= 2
        and len(letters) >= HEADING_LETTERS
        and sum(c.isupper() for c in letters) > 0.7 * len(letters)
    ):
        return "heading"
    return "body"


def _is_column(body: Page, index: int) -> bool:
    """A paragraph sits beside another block of text (a printed two-column page)."""
    this = body.paragraphs[index].bbox
    if this.width > body.width * 0.55:
        return False
    for other in body.paragraphs:
        o = other.bbox
        if other is body.paragraphs[index] or o.width > body.width * 0.55:
            continue
        vertical = min(this.y1, o.y1) - max(this.y0, o.y0)
        side_by_side = o.x0 >= this.x1 or o.x1 <= this.x0
        if side_by_side and vertical > min(this.height, o.height) * 0.5 and min(this.height, o.height) > 0:
            return True
    return False
