"""What an archive's inbox holds and once came out wrong: deep and transparent images, PDFs with page
sizes the guard could not read or with damaged streams, UTF-16 transcripts, other engines' ALTO,
option values that fail every page, formulas in the CSV, and names that break the report.

The hostile files are in tests/resources (see its README); ground truth is the sample's own.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline import evaluate, report, scans, transcripts
from pipeline.config import Settings
from pipeline.errors import ScanError, TranscriptError
from pipeline.model import BBox, Discrepancy

from .conftest import SCANS, archocr, chromium_command, load_json

RESOURCES = Path(__file__).resolve().parent / "resources"
CROP_TRUTH = "\n".join(
    (SCANS / "ground-truth" / "stalin-conference-1925.gt.txt").read_text(encoding="utf-8").splitlines()[:3]
)
IMAGES = [
    "grey16.png",
    "grey12-in-16bit-bigendian.tif",
    "float32.tif",
    "rgba-transparent-paper.png",
    "la-transparent-paper.png",
    "palette-transparent-paper.png",
    "cmyk.tif",
    "rgb48.png",
    "grey16-alpha16.png",
]


def _ink(pixels: np.ndarray) -> np.ndarray:
    grey = pixels if pixels.ndim == 2 else pixels.mean(axis=2)
    return grey < 128


REFERENCE_INK = _ink(np.asarray(Image.open(RESOURCES / "reference-1bit.png").convert("L")))


def _agreement(pixels: np.ndarray) -> tuple[float, float]:
    """(recall, precision) of the loaded page's ink against the reference ink."""
    ink = _ink(pixels)
    assert ink.shape == REFERENCE_INK.shape
    both = (ink & REFERENCE_INK).sum()
    return both / REFERENCE_INK.sum(), both / max(ink.sum(), 1)


# --- images: deep, transparent, palette, CMYK ----------------------------------------------------


@pytest.mark.parametrize("name", IMAGES)
def test_every_image_kind_shows_the_ink_of_the_page(name):
    page = scans.load_page(RESOURCES / name, 1, Settings())
    assert page.pixels.dtype == np.uint8
    recall, precision = _agreement(page.pixels)
    # Clipped 16-bit and dropped alpha gave recall 0 (white page) or precision 0.09 (black page).
    assert recall > 0.98 and precision > 0.98, (recall, precision)
    assert page.warnings == ()


def test_deep_values_are_scaled_by_their_bit_depth_not_stretched():
    ten_bit = np.array([[0, 512, 1023]], np.uint16)
    assert scans._deep_to_8_bit(ten_bit).tolist() == [[0, 128, 255]]
    # A pale 16-bit page stays pale: no contrast stretch that would turn paper noise into ink.
    pale = np.array([[60000, 61000, 65535]], np.uint16)
    assert scans._deep_to_8_bit(pale).min() > 230
    # 32-bit integers, floats outside 0..1, NaN: all end as 0..255, NaN as paper.
    assert scans._deep_to_8_bit(np.array([[0, 2**31 - 1]], np.int32)).tolist() == [[0, 255]]
    assert scans._deep_to_8_bit(np.array([[-5.0, 5.0]], np.float32)).tolist() == [[0, 255]]
    assert scans._deep_to_8_bit(np.array([[0.0, np.nan, 1.0]], np.float32)).tolist() == [[0, 255, 255]]


def test_half_transparent_ink_is_blended_onto_white():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 3] = 128  # black at half opacity on white paper is mid grey
    pixels = scans._to_array(Image.fromarray(rgba, mode="RGBA"))
    assert pixels.shape == (40, 40, 3) and abs(int(pixels.mean()) - 127) <= 1


# --- PDFs: page sizes, poppler's own result, damaged streams -------------------------------------


@pytest.mark.parametrize(
    "printed, size",
    [
        ("595 x 842 pts (A4)", (595.0, 842.0)),
        ("595.276 x 841.89 pts (A4)", (595.276, 841.89)),
        ("2e+06 x 2e+06 pts", (2e6, 2e6)),
        ("1e-05 x 1e-05 pts", (1e-5, 1e-5)),
        ("nan x nan pts", None),
        ("inf x 842 pts", None),
        ("0 x 842 pts", None),
        ("garbage", None),
    ],
)
def test_pdf_page_size_is_read_in_any_form_pdfinfo_prints(printed, size):
    assert scans.pdf_page_size({"Page    1 size": printed}) == size


def test_pdf_page_without_a_size_is_refused_not_rendered(monkeypatch):
    monkeypatch.setattr(scans, "_pdf_info", lambda *a, **k: {"Pages": 1, "Page    1 size": "nan x nan pts"})
    with pytest.raises(ScanError, match="no usable page size"):
        scans.load_page(RESOURCES / "intact.pdf", 1, Settings())


@pytest.mark.parametrize(
    "name, problem", [("huge-page-size.pdf", "over the limit"), ("tiny-page-size.pdf", "too small")]
)
def test_absurd_pdf_page_sizes_are_refused(name, problem):
    with pytest.raises(ScanError, match=problem) as caught:
        scans.load_page(RESOURCES / name, 1, Settings())
    assert name in str(caught.value)


def test_a_one_pixel_rendering_is_a_failure_not_an_empty_page(monkeypatch):
    monkeypatch.setattr(scans, "_render_pdf_page", lambda *a: (Image.new("RGB", (1, 1), "white"), ()))
    with pytest.raises(ScanError, match="1×1 pixels.*too small"):
        scans.load_page(RESOURCES / "intact.pdf", 1, Settings())


def test_poppler_warnings_on_a_damaged_stream_stay_with_the_page():
    intact = scans.load_page(RESOURCES / "intact.pdf", 1, Settings())
    damaged = scans.load_page(RESOURCES / "damaged-image-stream.pdf", 1, Settings())
    assert intact.warnings == ()
    assert damaged.warnings and any("flate stream" in w for w in damaged.warnings), damaged.warnings
    # Poppler drew only the top of the page: less than half the ink is there.
    assert _agreement(damaged.pixels)[0] < 0.6 < _agreement(intact.pixels)[0]


def test_pdf_named_like_an_option_is_still_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(RESOURCES / "intact.pdf", tmp_path / "-singlefile.pdf")
    page = scans.load_page(Path("-singlefile.pdf"), 1, Settings())
    assert _agreement(page.pixels)[0] > 0.8


@pytest.fixture(scope="module")
def resources_run(tmp_path_factory):
    """`archocr run` over every hostile scan in tests/resources, with real Tesseract."""
    inbox = tmp_path_factory.mktemp("inbox")
    names = [*IMAGES, "intact.pdf", "damaged-image-stream.pdf", "huge-page-size.pdf", "tiny-page-size.pdf"]
    for name in names:
        shutil.copy(RESOURCES / name, inbox / name)
    out = tmp_path_factory.mktemp("out")
    result = archocr("run", str(inbox), "--out", str(out), "--serial", "--no-correct")
    return out, result


@pytest.mark.parametrize("name", [*IMAGES, "intact.pdf"])
def test_hostile_images_are_read_whole(resources_run, name):
    out, _ = resources_run
    manifest = load_json(out / "manifest.json")
    doc = next(d for d in manifest["documents"] if Path(d["input"]).name == name)
    assert doc["status"] == "ok"
    text = (out / doc["document"] / "0001.txt").read_text(encoding="utf-8")
    assert evaluate.score(CROP_TRUTH, text, fold=True).cer < 0.1, text


def test_refused_pdfs_are_recorded_and_the_run_says_so(resources_run):
    out, result = resources_run
    assert result.returncode == 1 and "Traceback" not in result.stderr
    manifest = load_json(out / "manifest.json")
    for name, problem in (("huge-page-size.pdf", "over the limit"), ("tiny-page-size.pdf", "too small")):
        doc = next(d for d in manifest["documents"] if Path(d["input"]).name == name)
        reasons = [doc["reason"] or ""] + [p["reason"] or "" for p in doc["pages"]]
        assert doc["status"] == "failed" and any(problem in r for r in reasons), reasons
        assert any(name in line and problem in line for line in result.stderr.splitlines())
    damaged = next(d for d in manifest["documents"] if d["input"].endswith("damaged-image-stream.pdf"))
    page = damaged["pages"][0]
    # Poppler's warnings reach the manifest when the run records them; a partial page never hides.
    if "warnings" in page:
        assert page["warnings"], page


# --- the CSV a reviewer opens in a spreadsheet ---------------------------------------------------

HOSTILE_CELLS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "обычный"]


def _run_with(texts: list[str]) -> report.AlignmentRun:
    page = report.align.PageAlignment(
        document="=doc",
        page=1,
        status="aligned",
        discrepancies=[
            Discrepancy(
                "=doc",
                1,
                0,
                "variant",
                text,
                "-" + text,
                0,
                1,
                0,
                1,
                BBox(0, 0, 5, 5),
                confidence=91.0,
                reason=text,
            )
            for text in texts
        ],
    )
    return report.AlignmentRun(
        "t.md", "utf-8", [page], {("=doc", 1): "x/0001.png"}, {("=doc", 1): (9, 9)}, {}
    )


def test_csv_cells_never_start_a_formula_and_the_json_keeps_the_text():
    run = _run_with(HOSTILE_CELLS)
    rows = list(csv.DictReader(io.StringIO(report.to_csv(run), newline="")))
    assert len(rows) == len(HOSTILE_CELLS)
    for row, text in zip(rows, HOSTILE_CELLS, strict=True):
        for field in ("document", "ocr_text", "transcript_text", "reason"):
            assert not row[field].startswith(("=", "+", "-", "@", "\t", "\r")), (field, row[field])
        assert row["ocr_text"] == (text if text == "обычный" else "'" + text)
        assert row["transcript_text"] == "'-" + text
        assert row["confidence"] == "91.0" and row["page"] == "1"
    data = report.to_json(run)
    assert [d["ocr_text"] for d in data["discrepancies"]] == HOSTILE_CELLS


# --- transcripts: byte-order marks and named encodings -------------------------------------------


@pytest.mark.parametrize(
    "name, encoding",
    [
        ("transcript-utf16le-bom.txt", "utf-16-le"),
        ("transcript-utf16be-bom.txt", "utf-16-be"),
        ("transcript-utf32le-bom.txt", "utf-32-le"),
    ],
)
def test_byte_order_mark_decides_the_encoding(name, encoding):
    for given in (None, "utf-16", "cp1251"):  # the mark wins over a guess and over a wrong name
        text, used = transcripts.read_text_with_encoding(RESOURCES / name, given)
        assert text.strip() == CROP_TRUTH and used == encoding


def test_given_encoding_is_honoured_and_bad_bytes_name_the_file(tmp_path):
    plain = tmp_path / "no-bom.txt"
    plain.write_bytes(CROP_TRUTH.encode("utf-16-le"))
    with pytest.raises(TranscriptError, match="NUL bytes.*--encoding"):
        transcripts.read_text(plain)
    assert transcripts.read_text(plain, "utf-16-le") == CROP_TRUTH
    bad = tmp_path / "bad.txt"
    bad.write_bytes("Письмо".encode("cp1251"))
    with pytest.raises(TranscriptError, match=r"bad\.txt.*cannot be decoded.*utf-8"):
        transcripts.read_text(bad, "utf-8")


def test_utf16_transcript_through_the_command_line():
    result = archocr("lint-transcript", str(RESOURCES / "transcript-utf16le-bom.txt"), "--encoding", "utf-16")
    assert result.returncode in (0, 1) and "binary" not in result.stderr, result.stderr
    assert "utf-16-le" in result.stderr
    wrong = archocr("lint-transcript", str(RESOURCES / "transcript-utf16le-bom.txt"), "--encoding", "klingon")
    assert wrong.returncode == 2 and "klingon" in wrong.stderr


# --- `archocr correct` and `archocr eval` go on past a bad file ----------------------------------


def test_correct_reads_other_engines_alto_and_goes_on_past_a_broken_file(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(CROP_TRUTH + "\n", encoding="utf-8")
    hocr_twin = tmp_path / "good.hocr"  # same stem as good.txt: neither output may be lost
    hocr_twin.write_text(
        '<html><body><div class="ocr_page" title="bbox 0 0 100 100"><p class="ocr_par">'
        '<span class="ocr_line" title="bbox 0 0 90 10"><span class="ocrx_word" '
        'title="bbox 0.5 0 40 10; x_wconf 97">Письмо</span></span></p></div></body></html>',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = archocr(
        "correct",
        str(RESOURCES / "alto-lenient.xml"),
        str(RESOURCES / "alto-broken.xml"),
        str(good),
        str(hocr_twin),
        "--out",
        str(out),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "alto-broken.xml" in result.stderr and "not well-formed" in result.stderr
    assert "товарищи" in (out / "alto-lenient.txt").read_text(encoding="utf-8")
    assert not (out / "alto-broken.txt").exists()
    assert (out / "good.txt").read_text(encoding="utf-8").split()[:3] == CROP_TRUTH.split()[:3]
    assert (out / "good.hocr.txt").read_text(encoding="utf-8").strip() == "Письмо"


def test_lenient_alto_values():
    from pipeline.ocr_files import read_ocr_file

    page = read_ocr_file(RESOURCES / "alto-lenient.xml")[0]
    assert (page.width, page.height) == (2480, 3508)
    words = {w.text: w for w in page.words}
    assert words["Дорогие"].conf == -1.0  # WC="high" means nothing: unknown
    assert words["товарищи!"].conf == 87.0  # a percentage
    assert round(words["Секретариата"].conf) == 93
    assert words["ЦК"].bbox == BBox(0, 0, 0, 0)  # WIDTH="wide": no box rather than a wrong one


def test_hocr_that_is_html_but_not_xml_is_read():
    from pipeline.ocr_files import read_ocr_file

    page = read_ocr_file(RESOURCES / "hocr-html-not-xml.hocr")[0]
    assert [(w.text, w.conf) for w in page.words] == [("Письмо", 96.0), ("президиуму", 91.5)]
    assert page.words[0].bbox == BBox(60, 50, 300, 100) and page.width == 2150


def test_hocr_cut_short_is_refused_not_read_in_part(tmp_path):
    from pipeline.ocr_files import read_ocr_file

    cut = tmp_path / "cut.hocr"
    data = (RESOURCES / "hocr-html-not-xml.hocr").read_bytes()
    cut.write_bytes(data[: data.index("президиуму".encode())])
    with pytest.raises(TranscriptError, match=r"cut\.hocr.*not well-formed"):
        read_ocr_file(cut)


def test_broken_utf8_is_located_for_the_user(tmp_path):
    cut = tmp_path / "cut.txt"
    cut.write_bytes("Письмо\nпрезидиуму".encode()[:-1])  # a copy cut inside the last letter
    offset = len("Письмо\nпрезидиум".encode())  # where the cut letter starts
    with pytest.raises(
        TranscriptError, match=rf"cut\.txt: is not UTF-8 \(byte 0xd1 at offset {offset}, line 2"
    ):
        transcripts.read_text(cut)


def test_correct_never_overwrites_its_input(tmp_path):
    source = tmp_path / "ocr.txt"
    source.write_text("Письмо президиуму\n", encoding="utf-8")
    result = archocr("correct", str(source), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert source.read_text(encoding="utf-8") == "Письмо президиуму\n"
    assert (tmp_path / "ocr.txt.txt").is_file()


def test_eval_scores_the_good_pages_and_names_the_unreadable(tmp_path):
    gt = tmp_path / "gt"
    shutil.copytree(RESOURCES / "ground-truth-cp1251", gt)
    (gt / "broken.gt.txt").write_bytes(b"\xff\xfe\x00\xd8 not text")  # a UTF-16 mark, then a lone surrogate
    out = tmp_path / "out"
    for document in ("crop", "broken"):
        (out / document).mkdir(parents=True)
        (out / document / "0001.txt").write_text(CROP_TRUTH + "\n", encoding="utf-8")
    result = archocr("eval", "--gt", str(gt), str(out), "--json", str(tmp_path / "scores.json"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "broken.gt.txt" in result.stderr
    scores = {p["document"]: p for p in load_json(tmp_path / "scores.json")["pages"]}
    assert scores["crop"]["cer"] == 0.0 and scores["crop"]["error"] is None  # cp1251 read as such
    assert scores["broken"]["cer"] is None and "broken.gt.txt" in scores["broken"]["error"]


# --- option values: usage errors before any work -------------------------------------------------


@pytest.mark.parametrize(
    "option, value",
    [
        ("--binarise", "foo"),
        ("--psm", "99"),
        ("--psm", "2"),
        ("--dpi", "0"),
        ("--dpi", "-300"),
        ("--lang", "xyz"),
        ("--lang", "rus+"),
        ("--lexicon", "nosuch"),
        ("--page-timeout", "0"),
        ("--max-megapixels", "nan"),
        ("--encoding", "nosuch"),
        ("--scheduler", "http://head"),
        ("--scheduler", "tcp://head:99999"),
        ("--workers", "0"),
    ],
)
def test_bad_option_values_are_usage_errors_before_any_work(tmp_path, option, value):
    out = tmp_path / "out"
    result = archocr("run", str(RESOURCES / "grey16.png"), "--out", str(out), option, value)
    assert result.returncode == 2, result.stderr
    assert option in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("align", "{tmp}", "--transcript", "{transcript}", "--lexicon", "nosuch"),
        ("align", "{tmp}", "--transcript", "{transcript}", "--encoding", "nosuch"),
        ("correct", "{transcript}", "--out", "{tmp}/o", "--lexicon", "nosuch"),
        ("lint-transcript", "{transcript}", "--lexicon", "nosuch"),
    ],
)
def test_other_commands_refuse_bad_values_too(tmp_path, args):
    transcript = RESOURCES / "transcript-utf16le-bom.txt"
    result = archocr(*(a.format(tmp=tmp_path, transcript=transcript) for a in args))
    assert result.returncode == 2 and "nosuch" in result.stderr, result.stderr


def test_settings_and_options_declare_the_same_limits():
    import click

    from pipeline import cli

    params = {p.name: p for p in cli.run.params}
    assert isinstance(params["psm"].type, click.Choice) and 2 not in params["psm"].type.choices
    assert set(params["binarise"].type.choices) == {"auto", "otsu", "sauvola", "none"}
    for bad in ({"psm": 99}, {"binarise": "foo"}, {"dpi": 0}, {"page_timeout": 0.0}, {"lang": ""}):
        with pytest.raises(ValueError):
            Settings(**bad)


# --- the report with hostile names, in a real browser --------------------------------------------

HOSTILE_NAMES = ["doc#1", "100%", "o'brien", "two\nlines", "a b&c"]

# Appended to a copy of the report: waits until every page image and every crop's background has
# loaded or failed, then writes what happened into the page for --dump-dom to print.
CHECK_SCRIPT = """
<script>
(function () {
  var checks = [];
  function probe(url, what) {
    checks.push(new Promise(function (done) {
      var im = new Image();
      im.onload = function () { done({what: what, url: url, ok: im.naturalWidth > 0}); };
      im.onerror = function () { done({what: what, url: url, ok: false}); };
      im.src = url;
    }));
  }
  document.querySelectorAll('.scan img').forEach(function (img) { probe(img.src, 'image'); });
  document.querySelectorAll('.crop').forEach(function (el) {
    var bg = getComputedStyle(el).backgroundImage;
    var m = /^url\\("(.*)"\\)$/.exec(bg);
    probe(m ? m[1] : 'none:' + bg, 'crop');
  });
  Promise.all(checks).then(function (results) {
    var out = document.createElement('pre');
    out.id = 'image-check';
    out.textContent = JSON.stringify(results);
    document.body.appendChild(out);
  });
})();
</script>
"""


def _chromium_dom(page: Path, profile: Path) -> str:
    flags = [
        *chromium_command(profile),
        "--allow-file-access-from-files",
        "--virtual-time-budget=15000",
        "--dump-dom",
        page.as_uri(),
    ]
    return subprocess.run(flags, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("names")
    for name in HOSTILE_NAMES:
        shutil.copy(RESOURCES / "reference-1bit.png", inbox / f"{name}.png")
    transcript = inbox / "crop.txt"
    # An editor's restoration and a variant, so that every page has discrepancies with crops.
    transcript.write_text(CROP_TRUTH.replace("Письмо", "[Пись]мо").replace("Дорогие", "Дорогой"), "utf-8")
    out = tmp_path_factory.mktemp("report")
    result = archocr(
        "run", str(inbox), "--out", str(out), "--serial", "--no-correct", "--transcript", str(transcript)
    )
    assert "Traceback" not in result.stderr, result.stderr
    return out


def test_report_images_and_crops_load_whatever_the_names(hostile_report):
    html = (hostile_report / "report.html").read_text(encoding="utf-8")
    assert "--" not in "".join(line for line in html.splitlines() if "background-position" in line)
    checked = hostile_report / "report-checked.html"
    checked.write_text(html.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    dom = _chromium_dom(checked, hostile_report / ".chromium")
    start = dom.index('<pre id="image-check">') + len('<pre id="image-check">')
    results = json.loads(dom[start : dom.index("</pre>", start)].replace("&amp;", "&").replace("&quot;", '"'))
    data = load_json(hostile_report / "discrepancies.json")
    assert len([r for r in results if r["what"] == "image"]) == len(data["pages"]) == len(HOSTILE_NAMES)
    assert any(r["what"] == "crop" for r in results)
    broken = [r for r in results if not r["ok"]]
    assert not broken, broken


@pytest.mark.parametrize(
    "bbox, expected",
    [
        (BBox(0, 0, 50, 20), (0, 0)),  # top-left corner: never a negative offset
        (BBox(100, 3, 150, 20), (80, 0)),
        (BBox(100, 200, 150, 220), (80, 190)),
    ],
)
def test_crops_stay_inside_the_page(bbox, expected):
    crop = report.crop_geometry(bbox, 1000, 1000)
    assert (crop["x"], crop["y"]) == expected and crop["width"] > 0 and crop["height"] > 0
    assert report.crop_geometry(BBox(2000, 2000, 2100, 2100), 1000, 1000) is None


def test_image_urls_encode_everything_a_url_or_css_could_read_as_syntax():
    url = report.image_url("o'brien #1 100%\n(x)\\y\"z:w/0001.png")
    assert url.endswith("/0001.png")
    assert not set(url) & set("'#% \n()\\\":") - {"%"} and url.count("/") == 1
