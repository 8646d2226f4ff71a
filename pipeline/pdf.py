"""The searchable PDF of a document, as PDF/A-2b: each page's image with its words as an invisible,
embedded-font text layer on the word boxes.

By default the image is the ORIGINAL scan (grey or colour as scanned, resampled to at most 300 dpi,
JPEG; bilevel scans as CCITT G4), so stamps, pencil marks and greys stay visible. A skewed scan is shown
turned straight by the viewer (its pixels untouched, the frame grown to hold all of it), so the words,
carried there through the page transform, lie square to the page: every extractor, poppler's default
physical-layout mode included, reads them line by line.
`--pdf-image cleaned` puts archocr's cleaned image instead (bilevel, CCITT G4).

reportlab writes the text layer (TrueType subset embedded, no standard-14 font anywhere); pikepdf adds
the images and what PDF/A asks of the file: XMP metadata with the PDF/A identification, an sRGB
OutputIntent, a document ID, Title / language / producer. No Ghostscript.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image, ImageCms
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from . import __version__
from .model import Line, Page

PDF_IMAGES = ("original", "cleaned")
PDF_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
SRGB_PROFILES = ("/usr/share/color/icc/sRGB.icc", "/usr/share/color/icc/colord/sRGB.icc")
MAX_IMAGE_DPI = 300
JPEG_QUALITY = 75
FONT = "ArchocrText"
# How far (in font sizes) a word may leave its line's common baseline towards its own: poppler reads a
# line as one only while its words' baselines lie within about half a font size.
MAX_BASELINE_SHIFT = 0.1


@dataclass(frozen=True)
class PdfPage:
    """One page for the PDF: the model, its cleaned image and, when known, its original scan."""

    page: Page
    cleaned: Path
    original: Path | None = None
    original_dpi: int = 0


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        path = next((p for p in PDF_FONT_FILES if Path(p).is_file()), None)
        if path is None:
            raise RuntimeError("no Unicode font for the PDF text layer: run `make setup` (fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(FONT, path))
    return FONT


def _srgb_profile() -> bytes:
    """An sRGB ICC profile for the OutputIntent: Debian's (icc-profiles-free), else LittleCMS's own."""
    for path in SRGB_PROFILES:
        if Path(path).is_file():
            return Path(path).read_bytes()
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# --- images -------------------------------------------------------------------------------------------


def _is_bilevel(im: Image.Image) -> bool:
    if im.mode == "1":
        return True
    if im.mode != "L":
        return False
    histogram = im.histogram()
    return sum(histogram[1:255]) == 0


def _is_colourless(im: Image.Image) -> bool:
    """An RGB scan of black-on-paper with no colour worth keeping (channels within a few levels)."""
    small = np.asarray(im.convert("RGB").resize((max(1, im.width // 8), max(1, im.height // 8))), np.int16)
    spread = small.max(axis=2) - small.min(axis=2)
    return float(np.percentile(spread, 99.5)) < 12


def _g4_image(pdf: pikepdf.Pdf, im: Image.Image) -> pikepdf.Stream:
    """A bilevel image as CCITT Group 4: Pillow's libtiff encodes one strip, whose bytes go in as is."""
    bilevel = im.convert("1")
    buf = io.BytesIO()
    bilevel.save(buf, format="TIFF", compression="group4", tiffinfo={278: bilevel.height})
    with Image.open(io.BytesIO(buf.getvalue())) as tiff:
        offsets, counts = tiff.tag_v2[273], tiff.tag_v2[279]
        white_is_zero = tiff.tag_v2.get(262, 0) == 0
    data = buf.getvalue()
    strip = b"".join(data[o : o + c] for o, c in zip(offsets, counts, strict=True))
    return pikepdf.Stream(
        pdf,
        strip,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=bilevel.width,
        Height=bilevel.height,
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=1,
        Filter=pikepdf.Name.CCITTFaxDecode,
        DecodeParms=pikepdf.Dictionary(
            K=-1, Columns=bilevel.width, Rows=bilevel.height, BlackIs1=not white_is_zero
        ),
    )


def _jpeg_image(pdf: pikepdf.Pdf, im: Image.Image) -> pikepdf.Stream:
    grey = im.mode in ("L", "LA", "I;16", "I") or (im.mode != "L" and _is_colourless(im))
    pixels = im.convert("L" if grey else "RGB")
    buf = io.BytesIO()
    pixels.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return _dct_stream(pdf, buf.getvalue(), pixels.width, pixels.height, grey)


def _dct_stream(pdf: pikepdf.Pdf, jpeg: bytes, width: int, height: int, grey: bool) -> pikepdf.Stream:
    """A JPEG file's bytes as a PDF image: the PDF decodes them with its DCT filter as they are."""
    return pikepdf.Stream(
        pdf,
        jpeg,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=width,
        Height=height,
        ColorSpace=pikepdf.Name.DeviceGray if grey else pikepdf.Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=pikepdf.Name.DCTDecode,
    )


def page_image(pdf: pikepdf.Pdf, path: Path, dpi: int) -> pikepdf.Stream:
    """The page image as a PDF image: bilevel as G4, grey or colour as JPEG, above 300 dpi resampled."""
    with Image.open(path) as opened:
        if opened.format == "JPEG" and opened.mode in ("L", "RGB") and dpi <= MAX_IMAGE_DPI:
            # A JPEG scan goes in as it is: no second loss, no time spent decoding and encoding.
            return _dct_stream(pdf, path.read_bytes(), opened.width, opened.height, opened.mode == "L")
        im = opened.copy()
    if dpi > MAX_IMAGE_DPI and not _is_bilevel(im):
        factor = MAX_IMAGE_DPI / dpi
        im = im.resize((max(1, round(im.width * factor)), max(1, round(im.height * factor))), Image.LANCZOS)
    return _g4_image(pdf, im) if _is_bilevel(im) else _jpeg_image(pdf, im)


# --- the text layer -------------------------------------------------------------------------------------


def _baseline_y(line: Line, x: float) -> float:
    """The baseline's height at x in cleaned pixels (without one: a fifth of the box above its bottom)."""
    if len(line.baseline) >= 2:
        (xa, ya), (xb, yb) = line.baseline[0], line.baseline[-1]
        return ya + (yb - ya) * (x - xa) / (xb - xa) if xb != xa else float(ya)
    return line.bbox.y1 - line.bbox.height * 0.2


def _text_layer(pdf: canvas.Canvas, page: Page, matrix: np.ndarray, height_pt: float, scale: float) -> None:
    """Every line's words, invisible, stretched to their boxes on the target frame: `matrix` maps
    cleaned pixels to target pixels, `scale` target pixels to points.

    The words are set square to the page (in its own quarter turn): poppler's default (physical
    layout) reading cuts slanted text wherever its baseline steps by half a point and sorts the pieces
    by height, which scrambles a slanted line. Each line gets one baseline; a word may move from it
    towards its own by a tenth of the font size, which keeps the line one line for poppler. The frame
    is straight (see `straightening`), so that one baseline lies on the line as shown."""
    font = _font()
    linear = matrix[:, :2]
    zoom = math.sqrt(abs(np.linalg.det(linear)))  # cleaned pixel -> target pixel
    # Text direction on the page: the cleaned x axis, mapped (PDF's y axis points up), to the quarter.
    quarter = round(math.atan2(-linear[1, 0], linear[0, 0]) / (math.pi / 2)) % 4
    cos, sin = ((1, 0), (0, 1), (-1, 0), (0, -1))[quarter]

    def along(x: float, y: float) -> tuple[float, float]:
        """A cleaned pixel in points, as (along the text direction, across it) from the page origin."""
        tx, ty = linear @ (x, y) + matrix[:, 2]
        px, py = tx * scale, height_pt - ty * scale
        return px * cos + py * sin, -px * sin + py * cos

    for line in page.lines:
        words = [w for w in line.words if w.text]
        if not words:
            continue
        size = max(1.0, line.bbox.height * zoom * scale * 0.75)
        centres = [(w.bbox.x0 + w.bbox.x1) / 2 for w in words]
        across = [along(x, _baseline_y(line, x))[1] for x in centres]
        middle = (min(across) + max(across)) / 2
        reach = MAX_BASELINE_SHIFT * size
        text = pdf.beginText()
        text.setTextRenderMode(3)  # invisible: searchable and selectable, the image shows through
        text.setFont(font, size)
        for i, word in enumerate(words):
            # The word stretched to its box, plus the gap to the next word as a stretched space.
            right = words[i + 1].bbox.x0 if i + 1 < len(words) else word.bbox.x1
            start = along(word.bbox.x0, _baseline_y(line, word.bbox.x0))[0]
            end = along(right, _baseline_y(line, right))[0]
            chunk = word.text + (" " if i + 1 < len(words) else "")
            natural = pdfmetrics.stringWidth(chunk, font, size)
            if natural > 0:
                text.setHorizScale(100.0 * max(end - start, zoom * scale) / natural)
            v = middle + min(reach, max(-reach, across[i] - middle))
            text.setTextTransform(cos, sin, -sin, cos, start * cos - v * sin, start * sin + v * cos)
            text.textOut(chunk)
        pdf.drawText(text)


# --- the page frame ------------------------------------------------------------------------------------


def straightening(
    transform: tuple[tuple[float, float, float], ...], width: int, height: int
) -> tuple[np.ndarray, float, float]:
    """The turn that shows a skewed original straight, and the frame that holds all of it.

    The page transform maps cleaned pixels onto the original; its angle beyond the nearest quarter turn
    is the scan's skew. The PDF shows the original's own pixels turned back by that skew (the viewer
    turns them: nothing is resampled), on a frame grown to the turned image's bounds, so no margin is
    cut. The text layer is then square to the page, where every reader, poppler's physical layout
    included, reads it line by line and its boxes lie on the words as shown. Returns a 3x3 matrix from
    original pixels to frame pixels, and the frame's width and height in pixels."""
    angle = math.atan2(transform[1][0], transform[0][0])
    skew = angle - round(angle / (math.pi / 2)) * (math.pi / 2)
    cos, sin = math.cos(skew), math.sin(skew)
    new_width = width * abs(cos) + height * abs(sin)
    new_height = width * abs(sin) + height * abs(cos)
    turn = np.array([[cos, sin, 0.0], [-sin, cos, 0.0], [0.0, 0.0, 1.0]])  # by -skew (y points down)
    to_centre = np.array([[1.0, 0.0, -width / 2], [0.0, 1.0, -height / 2], [0.0, 0.0, 1.0]])
    from_centre = np.array([[1.0, 0.0, new_width / 2], [0.0, 1.0, new_height / 2], [0.0, 0.0, 1.0]])
    return from_centre @ turn @ to_centre, new_width, new_height


def _image_placement(
    straighten: np.ndarray, size: tuple[int, int], scale: float, height_pt: float
) -> tuple[float, ...]:
    """The `cm` operands that draw the image (PDF's unit square, y up) where `straighten` puts it."""
    width, height = size

    def at(u: float, v: float) -> np.ndarray:
        x, y, _ = straighten @ (u * width, (1 - v) * height, 1.0)
        return np.array([x * scale, height_pt - y * scale])

    origin = at(0, 0)
    a, b = at(1, 0) - origin, at(0, 1) - origin
    return (a[0], a[1], b[0], b[1], origin[0], origin[1])


# --- PDF/A ----------------------------------------------------------------------------------------------


def searchable_pdf(pages: list[PdfPage], title: str, image: str = "original", lang: str = "ru") -> bytes:
    """The document's searchable PDF/A-2b."""
    if image not in PDF_IMAGES:
        raise ValueError(f"unknown PDF image {image!r}; use one of {', '.join(PDF_IMAGES)}")
    font = _font()
    buf = io.BytesIO()
    text_pdf = canvas.Canvas(buf, pageCompression=1, initialFontName=font, initialFontSize=10)
    frames = []
    for item in pages:
        page = item.page
        if image == "original" and item.original is not None:
            with Image.open(item.original) as im:
                width_px, height_px = im.size
            dpi = item.original_dpi or page.dpi
            image_size = (width_px, height_px)
            straighten, width_px, height_px = straightening(page.transform, width_px, height_px)
            matrix = straighten @ np.vstack([np.array(page.transform, float), (0.0, 0.0, 1.0)])
            source, source_dpi = item.original, dpi
        else:
            width_px, height_px, dpi = page.width, page.height, page.dpi
            image_size = (page.width, page.height)
            straighten = matrix = np.eye(3)
            source, source_dpi = item.cleaned, page.dpi
        scale = 72.0 / dpi
        width_pt, height_pt = width_px * scale, height_px * scale
        text_pdf.setPageSize((width_pt, height_pt))
        _text_layer(text_pdf, page, matrix[:2], height_pt, scale)
        text_pdf.showPage()
        # A scan archocr turned upright is shown upright (/Rotate, clockwise) and keeps its own frame.
        turn = page.orientation % 360 if source is item.original else 0
        frames.append((source, source_dpi, _image_placement(straighten, image_size, scale, height_pt), turn))
    text_pdf.save()

    pdf = pikepdf.open(io.BytesIO(buf.getvalue()))
    for page_obj, (source, source_dpi, placement, turn) in zip(pdf.pages, frames, strict=True):
        if turn:
            page_obj.Rotate = turn
        xobject = pdf.make_indirect(page_image(pdf, source, source_dpi))
        name = page_obj.add_resource(xobject, pikepdf.Name.XObject, prefix="Im")
        draw = f"q {' '.join(f'{v:.6f}' for v in placement)} cm {name} Do Q\n".encode()
        page_obj.contents_add(pikepdf.Stream(pdf, draw), prepend=True)
    _make_pdfa(pdf, title, lang)
    out = io.BytesIO()
    pdf.save(
        out,
        fix_metadata_version=True,
        deterministic_id=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return out.getvalue()


def _make_pdfa(pdf: pikepdf.Pdf, title: str, lang: str) -> None:
    """What PDF/A-2b asks beyond a well-formed file: an OutputIntent with an ICC profile, XMP metadata
    with the PDF/A identification that agrees with the document information, the document language."""
    profile = pdf.make_stream(_srgb_profile())
    profile.N = 3
    pdf.Root.OutputIntents = pikepdf.Array(
        [
            pikepdf.Dictionary(
                Type=pikepdf.Name.OutputIntent,
                S=pikepdf.Name.GTS_PDFA1,
                OutputConditionIdentifier="sRGB IEC61966-2.1",
                Info="sRGB IEC61966-2.1",
                DestOutputProfile=profile,
            )
        ]
    )
    pdf.Root.Lang = lang
    now = datetime.now(UTC).replace(microsecond=0)
    producer = f"archocr {__version__} (reportlab, pikepdf)"
    for key in list(pdf.docinfo.keys()):
        del pdf.docinfo[key]
    pdf.docinfo[pikepdf.Name.Title] = title
    pdf.docinfo[pikepdf.Name.Producer] = producer
    pdf.docinfo[pikepdf.Name.Creator] = f"archocr {__version__}"
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
        meta["dc:title"] = title
        meta["dc:language"] = [lang]
        meta["pdf:Producer"] = producer
        meta["xmp:CreatorTool"] = f"archocr {__version__}"
        meta["xmp:CreateDate"] = now.isoformat()
        meta["xmp:ModifyDate"] = now.isoformat()
        meta["xmp:MetadataDate"] = now.isoformat()
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"
