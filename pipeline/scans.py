"""Reading inputs: find scans, check them, and hand out one page image at a time.

Everything a user can feed in is checked here before any pixel is decoded: empty files, text named
.png, corrupt or password-protected PDFs, images too small to hold text or so large that decoding
them would exhaust memory. Each problem becomes a ScanError that names the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pdf2image import convert_from_path, pdfinfo_from_path
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
    with path.open("rb") as fh:
        head = fh.read(8)
        order = "<" if head[:2] == b"II" else ">"
        offset = struct.unpack(order + "I", head[4:8])[0]
        seen: set[int] = set()
        while offset and offset not in seen and len(seen) <= limit:
            seen.add(offset)
            fh.seek(offset)
            raw = fh.read(2)
            if len(raw) < 2:
                break
            fh.seek(offset + 2 + 12 * struct.unpack(order + "H", raw)[0])
            raw = fh.read(4)
            offset = struct.unpack(order + "I", raw)[0] if len(raw) == 4 else 0
    if not seen:
        raise ScanError("TIFF has no pages (no image directory)", path=str(path))
    return len(seen)


def _pdf_info(path: Path, first: int | None = None, last: int | None = None) -> dict:
    try:
        info = pdfinfo_from_path(str(path), first_page=first, last_page=last, timeout=PDF_TIMEOUT)
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


_PDF_PAGE_SIZE = re.compile(r"([\d.]+) x ([\d.]+) pts")


def load_page(path: Path, number: int, settings: Settings) -> PageImage:
    """Decode page `number` (1-based) of a scan; PDFs are rasterised one page at a time."""
    if sniff_kind(path) == "pdf":
        return _load_pdf_page(path, number, settings)
    return _load_image_page(path, number, settings)


def _load_pdf_page(path: Path, number: int, settings: Settings) -> PageImage:
    info = _pdf_info(path, number, number)
    size_key = next((k for k in info if k.startswith("Page") and k.endswith("size")), None)
    match = _PDF_PAGE_SIZE.search(str(info.get(size_key, ""))) if size_key else None
    if match:
        width, height = (round(float(v) * settings.dpi / 72) for v in match.groups())
        check_size(width, height, path, settings, what=f"page {number} at {settings.dpi} dpi")
    try:
        images = convert_from_path(
            str(path), dpi=settings.dpi, first_page=number, last_page=number, timeout=PDF_TIMEOUT
        )
    except (PDFPageCountError, PDFSyntaxError, PDFPopplerTimeoutError) as exc:
        raise ScanError(f"page {number} could not be rasterised: {exc}", path=str(path)) from exc
    if not images:
        raise ScanError(f"page {number} could not be rasterised (poppler returned nothing)", path=str(path))
    return PageImage(pixels=_to_array(images[0]), dpi=settings.dpi, source=path, number=number)


def _load_image_page(path: Path, number: int, settings: Settings) -> PageImage:
    with _open_image(path) as im:
        check_size(im.width, im.height, path, settings)
        try:
            if number > 1 or getattr(im, "n_frames", 1) > 1:
                im.seek(number - 1)
                check_size(im.width, im.height, path, settings, what=f"page {number}")
            dpi = _image_dpi(im)
            frame = ImageOps.exif_transpose(im)
            frame.load()
        except EOFError as exc:
            raise ScanError(f"has no page {number}", path=str(path)) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ScanError(f"image data is corrupt or truncated: {exc}", path=str(path)) from exc
        return PageImage(pixels=_to_array(frame), dpi=dpi, source=path, number=number)


def _image_dpi(im: Image.Image) -> int:
    dpi = im.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError):
        value = 0
    # Scanners and converters often write 72 or 96 dpi as a placeholder; such values are meaningless.
    return value if 100 <= value <= 2400 else DEFAULT_IMAGE_DPI


def _to_array(im: Image.Image) -> np.ndarray:
    grey_modes = {"1", "L", "LA", "I", "I;16", "F"}
    return np.asarray(im.convert("L") if im.mode in grey_modes else im.convert("RGB"))
