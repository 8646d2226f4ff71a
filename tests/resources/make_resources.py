"""Regenerate the hostile test files in this folder (see README.md):
`python tests/resources/make_resources.py`.

Every image is the same crop of a committed sample scan (the first lines of
scans/stalin-conference-1925.jpg, whose text is scans/ground-truth/stalin-conference-1925.gt.txt),
stored the ways archives and converters store pages that archocr once read wrongly. The files are
deterministic, so regenerating them changes nothing unless this script changes.
"""

from __future__ import annotations

import codecs
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLE = ROOT / "scans" / "stalin-conference-1925.jpg"
SKEW = -2.9  # degrees: the sample's lines, made level so that a rectangle holds whole lines
CROP = (110, 240, 2260, 490)  # left, top, right, bottom after levelling: the sample's first three lines
CROP_LINES = 3  # so the crop's text is the first three lines of the sample's ground truth
DPI = 300


def ink_mask() -> np.ndarray:
    """True where the crop has ink (the sample binarised locally, so the shaded paper stays paper)."""
    level = Image.open(SAMPLE).convert("L").rotate(SKEW, resample=Image.Resampling.BICUBIC, fillcolor=255)
    grey = np.asarray(level.crop(CROP))
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 51, 25)
    return binary == 0


def _save(image: Image.Image, name: str, **options: object) -> None:
    image.save(HERE / name, dpi=(DPI, DPI), **options)


def make_images(ink: np.ndarray) -> None:
    paper = ~ink
    # The reference: what every other file below must read as.
    _save(Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).convert("1"), "reference-1bit.png")
    # 16-bit grey, full range, paper not quite white: clipping to 8 bits made the whole page white.
    grey16 = np.where(ink, 6000, 60000).astype(np.uint16)
    _save(Image.frombytes("I;16", grey16.shape[::-1], grey16.astype("<u2").tobytes()), "grey16.png")
    # 16-bit big-endian TIFF holding 12 significant bits, as many scanners write their masters.
    grey12 = np.where(ink, 300, 3900).astype(np.uint16)
    image = Image.frombytes("I;16B", grey12.shape[::-1], grey12.astype(">u2").tobytes())
    _save(image, "grey12-in-16bit-bigendian.tif", compression="tiff_adobe_deflate")
    # 32-bit float TIFF with values in 0..1 (scientific and conservation software).
    floats = np.where(ink, 0.05, 0.95).astype(np.float32)
    _save(Image.fromarray(floats, mode="F"), "float32.tif", compression="tiff_adobe_deflate")
    # Transparent paper: black ink on nothing. Dropping the alpha made the whole page black.
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = np.where(ink, 255, 0)
    _save(Image.fromarray(rgba, mode="RGBA"), "rgba-transparent-paper.png", optimize=True)
    la = np.stack([np.zeros(ink.shape, np.uint8), np.where(ink, 255, 0).astype(np.uint8)], axis=-1)
    _save(Image.fromarray(la, mode="LA"), "la-transparent-paper.png", optimize=True)
    # A palette image whose paper colour (index 0, black in the palette) is the transparent one.
    palette = Image.fromarray(np.where(paper, 0, 1).astype(np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 20, 20, 20] + [0, 0, 0] * 254)
    _save(palette, "palette-transparent-paper.png", transparency=0, optimize=True)
    # CMYK TIFF, as prepress software exports pages.
    cmyk = np.zeros((*ink.shape, 4), np.uint8)
    cmyk[..., 3] = np.where(ink, 230, 10)
    _save(Image.fromarray(cmyk, mode="CMYK"), "cmyk.tif", compression="tiff_adobe_deflate")


def _png16(samples: np.ndarray, colour_type: int) -> bytes:
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit colour or 16-bit grey with alpha)."""
    height, width = samples.shape[:2]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = samples.astype(">u2").reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def make_deep_colour(ink: np.ndarray) -> None:
    # 48-bit RGB: dark blue ink on cream paper, as a colour master scan is stored.
    rgb = np.where(ink[..., None], [4000, 6000, 20000], [62000, 60000, 52000]).astype(np.uint16)
    (HERE / "rgb48.png").write_bytes(_png16(rgb, 2))
    # 16-bit grey with 16-bit alpha: ink opaque, paper transparent.
    grey_alpha = np.stack([np.zeros(ink.shape), np.where(ink, 65535, 0)], axis=-1).astype(np.uint16)
    (HERE / "grey16-alpha16.png").write_bytes(_png16(grey_alpha, 4))


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from its objects (numbered from 1; the first is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def image_pdf(ink: np.ndarray, media_box: bytes | None = None, keep: float = 1.0) -> bytes:
    """One page showing the crop as a 1-bit Flate image; `keep` < 1 cuts the compressed stream short."""
    height, width = ink.shape
    bits = np.packbits(~ink, axis=1)  # 1 = white in DeviceGray
    data = zlib.compress(bits.tobytes(), 9)
    data = data[: int(len(data) * keep)]
    w_pt, h_pt = width * 72 / DPI, height * 72 / DPI
    box = media_box or b"[0 0 %.2f %.2f]" % (w_pt, h_pt)
    content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (w_pt, h_pt)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox "
            + box
            + b" /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
            _stream(
                b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                b"/BitsPerComponent 1 /Filter /FlateDecode" % (width, height),
                data,
            ),
            _stream(b"", content),
        ]
    )


def make_pdfs(ink: np.ndarray) -> None:
    (HERE / "intact.pdf").write_bytes(image_pdf(ink))
    # The image stream ends early: poppler draws the top part, warns on stderr, and exits 0.
    (HERE / "damaged-image-stream.pdf").write_bytes(image_pdf(ink, keep=0.45))
    # pdfinfo prints these sizes as "2e+06 x 2e+06 pts" and "1e-05 x 1e-05 pts"; poppler renders 1×1.
    (HERE / "huge-page-size.pdf").write_bytes(image_pdf(ink, media_box=b"[0 0 2000000 2000000]"))
    (HERE / "tiny-page-size.pdf").write_bytes(image_pdf(ink, media_box=b"[0 0 0.00001 0.00001]"))


ALTO_LENIENT = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Layout>
    <Page ID="p1" WIDTH="2480px" HEIGHT="3508px" PHYSICAL_IMG_NR="1">
      <PrintSpace>
        <TextBlock ID="b1" HPOS="100" VPOS="100" WIDTH="2000" HEIGHT="200">
          <TextLine ID="l1" HPOS="100.5" VPOS="100" WIDTH="2000px" HEIGHT="60">
            <String CONTENT="Дорогие" HPOS="100" VPOS="100" WIDTH="300" HEIGHT="60" WC="high"/>
            <SP/>
            <String CONTENT="товарищи!" HPOS="420" VPOS="100" WIDTH="360" HEIGHT="60" WC="87"/>
            <SP/>
            <String CONTENT="Секретариата" HPOS="800" VPOS="100" WIDTH="480" HEIGHT="60" WC="0.93"/>
            <SP/>
            <String CONTENT="ЦК" HPOS="1300" VPOS="100" WIDTH="wide" HEIGHT="60" WC=""/>
          </TextLine>
        </TextBlock>
      </PrintSpace>
    </Page>
  </Layout>
</alto>
"""


# hOCR as engines other than Tesseract write it: HTML, not XML (an unclosed <meta>, &nbsp;), decimal boxes.
HOCR_HTML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="ocr-system" content="other"><title>hOCR</title></head>
<body><div class="ocr_page" title="bbox 0 0 2150 250; ppageno 0">
<p class="ocr_par"><span class="ocr_line" title="bbox 60.5 50 1200 100">
<span class="ocrx_word" title="bbox 60.5 50 300 100; x_wconf 96">Письмо</span>&nbsp;<span
 class="ocrx_word" title="bbox 320 50 700 100; x_wconf 91.5">президиуму</span><br>
</span></p></div></body></html>
"""


def make_texts() -> None:
    truth = (ROOT / "scans" / "ground-truth" / "stalin-conference-1925.gt.txt").read_text(encoding="utf-8")
    first = "\n".join(truth.splitlines()[:CROP_LINES]) + "\n"
    (HERE / "transcript-utf16le-bom.txt").write_bytes(codecs.BOM_UTF16_LE + first.encode("utf-16-le"))
    (HERE / "transcript-utf16be-bom.txt").write_bytes(codecs.BOM_UTF16_BE + first.encode("utf-16-be"))
    (HERE / "transcript-utf32le-bom.txt").write_bytes(codecs.BOM_UTF32_LE + first.encode("utf-32-le"))
    gt = HERE / "ground-truth-cp1251"
    gt.mkdir(exist_ok=True)
    (gt / "crop.gt.txt").write_bytes(first.encode("cp1251"))
    (HERE / "alto-lenient.xml").write_text(ALTO_LENIENT, encoding="utf-8")
    (HERE / "hocr-html-not-xml.hocr").write_text(HOCR_HTML, encoding="utf-8")
    (HERE / "alto-broken.xml").write_text(ALTO_LENIENT[: len(ALTO_LENIENT) // 2], encoding="utf-8")


def main() -> None:
    ink = ink_mask()
    make_images(ink)
    make_deep_colour(ink)
    make_pdfs(ink)
    make_texts()
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and path.suffix not in (".py", ".md"):
            print(f"{path.stat().st_size:>8}  {path.relative_to(HERE)}")


if __name__ == "__main__":
    main()
