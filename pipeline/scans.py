"""Reading inputs: find scans, check them, and hand out one page image at a time.

Everything a user can feed in is checked here before any pixel is decoded: empty files, text named
.png, corrupt or password-protected PDFs, images too small to hold text or so large that decoding
them would exhaust memory. Each problem becomes a ScanError that names the file.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import struct
import subprocess
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pdf2image import pdfinfo_from_path
from pdf2image.exceptions import PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError
from PIL import Image, ImageOps, UnidentifiedImageError

from .config import MIN_IMAGE_SIDE, Settings
from .errors import ScanError, UsageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
OUTPUT_MARKER = ".archocr.lock"  # every archocr output folder holds it: such folders are never inputs
SUFFIXES = IMAGE_SUFFIXES | {".pdf"}
DEFAULT_IMAGE_DPI = 300
PDF_TIMEOUT = 120  # seconds poppler may take for one page

# Sizes are checked here before any decoding (check_size), against the run's own limit and with a
# message that names the file; PIL's fixed guard would refuse first with a less helpful one.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class PageImage:
    """One rasterised page as it came in: RGB or grey pixels, with the resolution it was scanned at."""

    pixels: np.ndarray
    dpi: int
    source: Path
    number: int  # 1-based
    # What the decoder reported while reading the page (e.g. poppler on a damaged image stream): the
    # page was read, but maybe not whole. A page with warnings is "damaged but readable", never silent.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Input:
    """One input found on the command line: the file, the folder (or file) it was named by, and the
    path between them, which is what names its document. `problem` is set when the search itself
    found it unreadable (a dangling symbolic link, a device or pipe named like a scan)."""

    path: Path
    root: Path
    relative: str  # '/'-separated, relative to root; the file's own name for a file named directly
    problem: str | None = None


def find_inputs(paths: Iterable[str | Path], exclude: Iterable[Path] = ()) -> list[Input]:
    """The scans named on the command line; folders are searched recursively, in a stable order.

    Symbolic links to folders are followed, each real folder once (so a link back up the tree cannot
    loop); folders in `exclude` (the output folder) are never searched, so results are not read back
    as inputs, nor is any other archocr output folder found inside an input folder. Dangling links are
    returned with their problem, to be recorded as failed inputs. A file found twice is listed once."""
    skip = {_identity(Path(p)) for p in exclude} - {None}
    found: list[Input] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if _inside(path, skip):
                raise UsageError(
                    "is inside the output folder; it would read archocr's results", path=str(path)
                )
            found.extend(_walk(path, skip))
        elif path.is_file():
            found.append(Input(path, path.parent, path.name))
        elif path.is_symlink():
            raise UsageError(f"is a broken symbolic link (to {os.readlink(path)})", path=str(path))
        else:
            raise UsageError("no such file or folder", path=str(path))
    unique: dict[Path, Input] = {}
    for item in found:
        unique.setdefault(item.path.absolute(), item)
    return list(unique.values())


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _inside(folder: Path, skip: set[tuple[int, int] | None]) -> bool:
    return any(_identity(p) in skip for p in (folder, *folder.absolute().parents))


def _walk(root: Path, skip: set[tuple[int, int] | None]) -> list[Input]:
    seen = set(skip)
    found: list[Input] = []

    def unreadable(exc: OSError) -> None:  # a folder that cannot be listed is reported, not skipped
        where = Path(exc.filename or root)
        relative = where.relative_to(root).as_posix() if where != root else where.name
        found.append(Input(where, root, relative, f"folder cannot be read: {exc.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        seen.add(_identity(Path(folder)))
        keep = []
        for name in dirs:
            identity = _identity(Path(folder, name))
            if (Path(folder, name) / OUTPUT_MARKER).is_file():
                continue  # the results of an earlier run into another folder
            if identity not in seen:  # a loop, a second link to a folder already searched, or the output
                seen.add(identity)
                keep.append(name)
        dirs[:] = sorted(keep)
        for name in files:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink() and not path.exists():
                target = os.readlink(path)
                found.append(Input(path, root, relative, f"is a broken symbolic link (to {target})"))
            elif path.suffix.lower() not in SUFFIXES:
                continue
            elif not path.is_file():
                found.append(Input(path, root, relative, "is not a regular file (a device, pipe or socket)"))
            else:
                found.append(Input(path, root, relative))
    return sorted(found, key=lambda i: i.relative)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_kind(path: Path) -> str:
    """'pdf', 'image' by content (not by name); raises ScanError for anything else."""
    try:
        size = path.stat().st_size
        head = path.open("rb").read(1024)
    except OSError as exc:
        raise ScanError(f"cannot be read: {exc.strerror}", path=str(path)) from exc
    if size == 0:
        raise ScanError("file is empty (0 bytes)", path=str(path))
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")):
        return "image"
    if _looks_like_text(head):
        raise ScanError("is a text file, not a scan (no image or PDF signature)", path=str(path))
    raise ScanError("is not a PDF, TIFF, PNG or JPEG file (unknown content)", path=str(path))


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def page_count(path: Path, settings: Settings) -> int:
    """Number of pages in a scan, after checking it can be read and holds no more than --max-pages."""
    if sniff_kind(path) == "pdf":
        count = int(_pdf_info(path)["Pages"])
    else:
        with _open_image(path) as im:
            if im.format == "TIFF":
                # Pillow finds a TIFF's frames by parsing every directory (a minute for 50,000 frames);
                # walking the chain of directory offsets is enough to count them, and stops at the limit.
                count = _tiff_page_count(path, settings.max_pages)
            else:
                try:
                    count = int(getattr(im, "n_frames", 1))
                except (OSError, ValueError, TypeError, SyntaxError, EOFError, struct.error) as exc:
                    raise ScanError(f"not a readable image: {exc}", path=str(path)) from exc
    if count > settings.max_pages:
        raise ScanError(
            f"has more than {settings.max_pages:,} pages, the limit for one input "
            "(raise --max-pages if it is genuine)",
            path=str(path),
        )
    return count


def _tiff_page_count(path: Path, limit: int) -> int:
    """Pages of a classic TIFF: the length of its chain of image directories, two small reads each.

    Stops one past `limit` (the caller refuses the file) and at a directory seen before (a looping
    chain). A directory that lies past the end of a truncated file still counts as a page: reading it
    fails, and that page is recorded as failed rather than silently missing."""
    offsets = _tiff_directory_offsets(path, limit + 1)
    if not offsets:
        raise ScanError("TIFF has no pages (no image directory)", path=str(path))
    return len(offsets)


def _tiff_directory_offsets(path: Path, most: int) -> list[int]:
    """File offsets of the first `most` image directories of a classic TIFF, in page order."""
    offsets: list[int] = []
    with path.open("rb") as fh:
        head = fh.read(8)
        order = "<" if head[:2] == b"II" else ">"
        offset = struct.unpack(order + "I", head[4:8])[0]
        seen: set[int] = set()
        while offset and offset not in seen and len(offsets) < most:
            seen.add(offset)
            offsets.append(offset)
            fh.seek(offset)
            raw = fh.read(2)
            if len(raw) < 2:
                break
            fh.seek(offset + 2 + 12 * struct.unpack(order + "H", raw)[0])
            raw = fh.read(4)
            offset = struct.unpack(order + "I", raw)[0] if len(raw) == 4 else 0
    return offsets


def _seek_page(im: Image.Image, path: Path, number: int) -> None:
    """Make page `number` current. Pillow reaches frame n of a TIFF by parsing the n directories before
    it, which makes reading every page of a long TIFF quadratic; handing it the directory offsets
    (two small reads each) lets it go straight to the page."""
    frame_pos, limits = getattr(im, "_frame_pos", None), getattr(im, "_tag_data_limits", None)
    if im.format == "TIFF" and isinstance(frame_pos, list) and isinstance(limits, list) and len(limits) == 1:
        offsets = _tiff_directory_offsets(path, number)
        if len(offsets) == number and offsets[0] == frame_pos[0]:
            # Each skipped directory gets what is left of Pillow's budget for tag data, as the first had.
            im._frame_pos = offsets
            im._tag_data_limits = limits + [im._tag_data_remaining] * (number - 1)
    im.seek(number - 1)


def _pdf_info(path: Path, first: int | None = None, last: int | None = None) -> dict:
    try:
        info = pdfinfo_from_path(str(path.absolute()), first_page=first, last_page=last, timeout=PDF_TIMEOUT)
    except (PDFPageCountError, PDFSyntaxError) as exc:
        message = str(exc).strip().splitlines()
        detail = next((m for m in message if "password" in m.lower()), message[-1] if message else "")
        if "password" in detail.lower():
            raise ScanError("PDF is encrypted and needs a password", path=str(path)) from exc
        raise ScanError(f"not a readable PDF (corrupt or truncated): {detail}", path=str(path)) from exc
    except PDFPopplerTimeoutError as exc:
        raise ScanError("PDF could not be read within the time limit", path=str(path)) from exc
    if not int(info.get("Pages", 0) or 0):
        raise ScanError("PDF has no pages", path=str(path))
    return info


def _open_image(path: Path) -> Image.Image:
    try:
        im = Image.open(path)
    except UnidentifiedImageError as exc:
        raise ScanError("not a readable image (corrupt, or not really an image)", path=str(path)) from exc
    except Image.DecompressionBombError as exc:
        raise ScanError(f"image is too large to decode safely: {exc}", path=str(path)) from exc
    except (OSError, ValueError, TypeError, SyntaxError, EOFError, struct.error) as exc:
        # e.g. a text or ICC chunk that inflates past Pillow's limit, a header cut short
        raise ScanError(f"not a readable image: {exc}", path=str(path)) from exc
    return im


def check_size(width: int, height: int, path: Path, settings: Settings, what: str = "image") -> None:
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ScanError(
            f"{what} is {width}×{height} pixels, too small to hold text (at least {MIN_IMAGE_SIDE} px)",
            path=str(path),
        )
    megapixels = width * height / 1e6
    if megapixels > settings.max_megapixels:
        raise ScanError(
            f"{what} is {width}×{height} pixels ({megapixels:,.0f} MP), over the limit of "
            f"{settings.max_megapixels:,.0f} MP (raise --max-megapixels if it is genuine)",
            path=str(path),
        )


# pdfinfo prints sizes as C's %g: "595 x 842", "595.276 x 841.89", "2e+06 x 2e+06".
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
_PDF_PAGE_SIZE = re.compile(rf"({_NUMBER})\s*x\s*({_NUMBER})\s*pts", re.IGNORECASE)
MAX_WARNINGS = 20  # decoder messages kept per page; a damaged stream can repeat one thousands of times


def load_page(path: Path, number: int, settings: Settings) -> PageImage:
    """Decode page `number` (1-based) of a scan; PDFs are rasterised one page at a time."""
    if sniff_kind(path) == "pdf":
        return _load_pdf_page(path, number, settings)
    return _load_image_page(path, number, settings)


def pdf_page_size(info: dict) -> tuple[float, float] | None:
    """The page's (width, height) in points as pdfinfo reports it, or None when it gives no usable size."""
    size_key = next((k for k in info if k.startswith("Page") and k.endswith("size")), None)
    match = _PDF_PAGE_SIZE.search(str(info.get(size_key, ""))) if size_key else None
    if not match:
        return None
    width, height = (float(v) for v in match.groups())
    if not all(math.isfinite(v) and v > 0 for v in (width, height)):
        return None
    return width, height


def _load_pdf_page(path: Path, number: int, settings: Settings) -> PageImage:
    info = _pdf_info(path, number, number)
    size = pdf_page_size(info)
    what = f"page {number} at {settings.dpi} dpi"
    if size is None:
        # Without a size the guard cannot work, and poppler would try to allocate whatever the page says.
        raise ScanError(f"page {number} has no usable page size (corrupt page box)", path=str(path))
    width, height = (round(v * settings.dpi / 72) for v in size)
    check_size(width, height, path, settings, what=what)
    image, messages = _render_pdf_page(path, number, settings.dpi)
    # What poppler gives back must hold a page too: on a box it cannot render it returns a 1×1 image.
    check_size(image.width, image.height, path, settings, what=f"page {number} as rendered by poppler")
    return PageImage(pixels=_to_array(image), dpi=settings.dpi, source=path, number=number, warnings=messages)


def _render_pdf_page(path: Path, number: int, dpi: int) -> tuple[Image.Image, tuple[str, ...]]:
    """One page through pdftoppm, with what poppler said on standard error (pdf2image discards it)."""
    command = ["pdftoppm", "-r", str(dpi), "-f", str(number), "-l", str(number), "-singlefile"]
    command.append(str(path.absolute()))  # never read as an option, whatever the file is called
    try:
        done = subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ScanError(f"page {number} was not rasterised within {PDF_TIMEOUT} s", path=str(path)) from exc
    except OSError as exc:
        raise ScanError(f"poppler's pdftoppm cannot be run: {exc.strerror}", path=str(path)) from exc
    messages = _decoder_messages(done.stderr.decode("utf-8", "replace"))
    if done.returncode != 0 or not done.stdout:
        detail = f": {messages[-1]}" if messages else ""
        raise ScanError(f"page {number} could not be rasterised{detail}", path=str(path))
    try:
        image = Image.open(io.BytesIO(done.stdout))
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ScanError(f"page {number} could not be rasterised: {exc}", path=str(path)) from exc
    return image, messages


def _decoder_messages(stderr: str) -> tuple[str, ...]:
    """Poppler's warnings and errors, each once, at most MAX_WARNINGS (plus a count of the rest)."""
    unique = list(dict.fromkeys(line.strip() for line in stderr.splitlines() if line.strip()))
    kept = [f"poppler: {line[:300]}" for line in unique[:MAX_WARNINGS]]
    if len(unique) > MAX_WARNINGS:
        kept.append(f"poppler: … and {len(unique) - MAX_WARNINGS} more messages")
    return tuple(kept)


def _load_image_page(path: Path, number: int, settings: Settings) -> PageImage:
    # Pillow reports what it skipped (corrupt EXIF, tags past the end of the file) as Python warnings:
    # they belong to the page, like poppler's, not to standard error.
    with warnings.catch_warnings(record=True) as caught, _open_image(path) as im:
        warnings.simplefilter("always")
        check_size(im.width, im.height, path, settings)
        try:
            if number > 1:
                _seek_page(im, path, number)
                check_size(im.width, im.height, path, settings, what=f"page {number}")
            dpi = _image_dpi(im)
            frame = ImageOps.exif_transpose(im)
            frame.load()
            pixels = _to_array(frame)
        except EOFError as exc:
            raise ScanError(f"has no page {number}", path=str(path)) from exc
        except (OSError, SyntaxError, ValueError, TypeError, struct.error, IndexError, KeyError) as exc:
            raise ScanError(f"image data is corrupt or truncated: {exc}", path=str(path)) from exc
    messages = list(dict.fromkeys(f"pillow: {str(w.message)[:300]}" for w in caught))
    return PageImage(
        pixels=pixels, dpi=dpi, source=path, number=number, warnings=tuple(messages[:MAX_WARNINGS])
    )


def _image_dpi(im: Image.Image) -> int:
    dpi = im.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError):
        value = 0
    # Scanners and converters often write 72 or 96 dpi as a placeholder; such values are meaningless.
    return value if 100 <= value <= 2400 else DEFAULT_IMAGE_DPI


_GREY_MODES = {"1", "L", "I", "F"}
_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}


def _to_array(im: Image.Image) -> np.ndarray:
    """8-bit grey or RGB pixels of a page, whatever the file stored.

    Deep images (16-bit, 32-bit integer, float) are scaled from their bit depth, not clipped; anything
    transparent is laid on white paper, as it would be printed; palettes, CMYK and the rest become RGB.
    """
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode in ("L", "1") and "transparency" in im.info:
        im = im.convert("LA")
    elif im.mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in _ALPHA_MODES:
        return _on_white(im)
    if im.mode.startswith("I") or im.mode == "F":
        return _deep_to_8_bit(np.asarray(im))
    return np.asarray(im.convert("L") if im.mode in _GREY_MODES else im.convert("RGB"))


def _on_white(im: Image.Image) -> np.ndarray:
    grey = im.mode in ("LA", "La")
    # Converting to LA / RGBA also undoes premultiplied alpha (La, RGBa): straight alpha from here on.
    rgba = np.asarray(im.convert("LA" if grey else "RGBA"), dtype=np.float32)
    colour, alpha = rgba[..., :-1], rgba[..., -1:] / 255.0
    flat = np.clip(np.rint(colour * alpha + 255.0 * (1.0 - alpha)), 0, 255).astype(np.uint8)
    return flat[..., 0] if grey else flat


def _deep_to_8_bit(values: np.ndarray) -> np.ndarray:
    """Grey values deeper than 8 bits to 0-255. Integers are scaled by the smallest bit depth that
    holds the image's largest value (16-bit scanners often write 10 or 12 significant bits), so a pale
    page stays pale; floats in [0, 1] are fractions; anything else is stretched from its own range."""
    data = values.astype(np.float32)
    finite = np.isfinite(data)
    if not finite.all():
        data = np.where(finite, data, np.nanmax(np.where(finite, data, np.nan)) if finite.any() else 0.0)
    low, high = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
    if np.issubdtype(values.dtype, np.integer) and low >= 0:
        bits = max(8, int(values.max()).bit_length())
        scaled = data * (255.0 / (2**bits - 1))
    elif low >= 0 and high <= 1.0:
        scaled = data * 255.0
    elif low >= 0 and high <= 255.0:
        scaled = data
    else:
        scaled = (data - low) * (255.0 / (high - low)) if high > low else np.full_like(data, 255.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
