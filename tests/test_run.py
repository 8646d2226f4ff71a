"""`archocr run` end to end over the committed samples (PDF, JPEG, a page scanned on its side)."""

import io
import subprocess

import pypdf
from lxml import etree
from PIL import Image

from pipeline import evaluate

from .conftest import SCANS, SCHEMAS, archocr, load_json

OUTPUTS = ("png", "txt", "raw.txt", "json", "hocr", "alto.xml", "page.xml")


def test_every_page_has_every_output(sample_run):
    manifest = load_json(sample_run / "manifest.json")
    assert manifest["summary"]["failed"] == 0
    pages = [(d["document"], p["number"]) for d in manifest["documents"] for p in d["pages"]]
    assert sorted(pages) == [
        ("politburo-1923-doc5", 1),
        ("stalin-conference-1925", 1),
        ("stalin-lenin-1923", 1),
        ("stalin-lenin-1923", 2),
        ("trotsky-politburo-1926", 1),
    ]
    for document, number in pages:
        for suffix in OUTPUTS:
            assert (sample_run / document / f"{number:04d}.{suffix}").is_file(), (document, number, suffix)
        assert (sample_run / document / f"{document}.pdf").is_file()
    for doc in manifest["documents"]:
        assert len(doc["sha256"]) == 64 and doc["status"] == "ok"
        for page in doc["pages"]:
            assert page["timings"]["ocr"] > 0 and page["status"] == "ok"
    assert not list(sample_run.rglob("*.part")), "temporary files left behind"


def test_text_is_accurate_against_ground_truth(sample_run):
    scores = evaluate.evaluate_dir(SCANS / "ground-truth", sample_run)
    assert len(scores) == 5 and not any(s.missing for s in scores)
    # The archival sample (stamps, handwriting: it has zones) is measured by the archival benchmark.
    archival = {p.name.removesuffix(".zones.json") for p in (SCANS / "ground-truth").glob("*.zones.json")}
    plain = [s for s in scores if s.document not in archival]
    assert len(plain) == 4
    assert evaluate.total(plain).cer < 0.03
    assert max(s.raw.cer for s in plain) < 0.05


def test_page_json_records_structure_skew_and_steps(sample_run):
    data = load_json(sample_run / "politburo-1923-doc5" / "0001.json")
    page = data["page"]
    assert page["orientation"] == 270  # the sample was scanned lying on its side
    assert [s["name"] for s in page["steps"]][:5] == [
        "crop_borders",
        "orient",
        "deskew",
        "binarise",
        "despeckle",
    ]
    assert [s["name"] for s in page["steps"]][5:] == ["ocr", "layout", "correct"]
    assert (
        page["lexicon"].startswith("default@") and page["steps"][-1]["settings"]["lexicon"] == page["lexicon"]
    )
    words = [w for p in page["paragraphs"] for ln in p["lines"] for w in ln["words"]]
    assert words and all({"text", "bbox", "conf"} <= set(w) for w in words)
    with Image.open(sample_run / "politburo-1923-doc5" / data["image"]) as im:
        assert im.size == (page["width"], page["height"])
    skewed = load_json(sample_run / "stalin-conference-1925" / "0001.json")["page"]
    assert abs(skewed["skew_angle"]) > 0.5  # rendered with up to 6 degrees of skew


def test_alto_and_page_xml_validate_against_their_schemas(sample_run):
    alto = etree.XMLSchema(etree.parse(str(SCHEMAS / "alto-4-2.xsd")))
    page = etree.XMLSchema(etree.parse(str(SCHEMAS / "pagecontent-2019-07-15.xsd")))
    for path in sample_run.rglob("*.alto.xml"):
        assert alto.validate(etree.parse(str(path))), (path, alto.error_log.last_error)
    for path in sample_run.rglob("*.page.xml"):
        assert page.validate(etree.parse(str(path))), (path, page.error_log.last_error)


def test_hocr_words_match_the_page_model(sample_run):
    folder = sample_run / "stalin-lenin-1923"
    tree = etree.parse(str(folder / "0001.hocr"))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    words = tree.xpath("//h:span[@class='ocrx_word']", namespaces=ns)
    model = load_json(folder / "0001.json")["page"]
    expected = [w for p in model["paragraphs"] for ln in p["lines"] for w in ln["words"]]
    assert [w.text for w in words] == [w["text"] for w in expected]
    assert words[0].get("title").startswith("bbox ")


def test_searchable_pdf_has_image_and_text_on_every_page(sample_run):
    pdf_path = sample_run / "stalin-lenin-1923" / "stalin-lenin-1923.pdf"
    reader = pypdf.PdfReader(str(pdf_path))
    assert len(reader.pages) == 2
    # In content order (-raw) and in poppler's physical layout (the default) alike: the skewed scan is
    # shown straightened, so its text layer is square to the page (see README).
    truth = (SCANS / "ground-truth" / "stalin-lenin-1923.0001.gt.txt").read_text(encoding="utf-8")
    for mode in (["-raw"], []):
        text = subprocess.run(
            ["pdftotext", *mode, str(pdf_path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert evaluate.score(truth, text.split("\f")[0]).cer < 0.05, mode
    assert reader.pages[0].images, "page image missing"


def test_multipage_tiff_and_exif_orientation(tmp_path, test_text):
    from pipeline import synth

    pages = synth.render_pages(test_text, 2, seed=41, max_skew=1, degradations=("texture",))
    synth.write_pages(pages, tmp_path / "in", "bundle", "tiff")
    # A JPEG whose pixels lie on their side, with the EXIF tag that tells viewers to turn it upright.
    upright = Image.fromarray(pages[0].image)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    buf = io.BytesIO()
    upright.rotate(90, expand=True).save(buf, format="JPEG", exif=exif, quality=90, dpi=(300, 300))
    (tmp_path / "in" / "camera.jpg").write_bytes(buf.getvalue())
    out = tmp_path / "out"
    archocr("run", str(tmp_path / "in"), "--out", str(out), "--serial", "-q", check=True)
    assert (out / "bundle" / "0002.txt").is_file()
    for number, page in enumerate(pages, 1):
        text = (out / "bundle" / f"{number:04d}.txt").read_text(encoding="utf-8")
        assert evaluate.score(page.text, text).cer < 0.03
    camera = load_json(out / "camera" / "0001.json")["page"]
    assert camera["orientation"] == 0  # EXIF already turned it upright
    assert evaluate.score(pages[0].text, (out / "camera" / "0001.txt").read_text()).cer < 0.03


def test_rerun_skips_finished_pages_and_force_redoes_them(tmp_path, sample_run):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(sample_run, out)
    result = archocr(
        "run", str(SCANS / "stalin-conference-1925.jpg"), "--out", str(out), "--serial", "--progress-json"
    )
    assert result.returncode == 0, result.stderr
    assert load_json(out / "manifest.json")["summary"]["skipped"] == 1
    result = archocr(
        "run", str(SCANS / "stalin-conference-1925.jpg"), "--out", str(out), "--serial", "-q", "--force"
    )
    assert result.returncode == 0
    assert load_json(out / "manifest.json")["summary"]["skipped"] == 0
