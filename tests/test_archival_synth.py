"""The archival page generator: its ground truth is exact and its furniture is where its zones say."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import archival_eval
from pipeline import archival, evaluate, ocr
from pipeline.config import Settings
from pipeline.model import FURNITURE_ZONE_TYPES, TEXT_ZONE_TYPES

from .conftest import ROOT, archocr

RUSSIAN = "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ0123456789.,:;-()"
STAMP_INKS = ("stamp_violet", "stamp_blue")


@pytest.fixture(scope="module")
def words(test_text: str) -> list[str]:
    return test_text.split()


@pytest.fixture(scope="module")
def stamped(words: list[str]) -> archival.ArchivalPage:
    """A stamped letter, skewed, with no ageing: colours stay those of the inks."""
    return archival.render_page(words, 21, page_type="stamped", degradations=(), max_skew=3.0)


def test_every_face_of_both_sets_is_installed_and_covers_russian():
    for fontset in archival.FONTSETS.values():
        for faces in fontset.values():
            for face in faces:
                have = archival.charset(face)
                assert not set(RUSSIAN) - have, f"{face} lacks {sorted(set(RUSSIAN) - have)}"


def test_text_is_fitted_to_the_glyphs_a_face_has():
    # GNU Typewriter has no «», Ё or №: they are typed as a typist without those keys would.
    fitted = archival.fit_text("«Ёлка» № 5", "GNUTypewriter.ttf")
    assert fitted == '"Елка" N 5'
    assert set(fitted) <= archival.charset("GNUTypewriter.ttf") | {" "}
    assert archival.fit_text("«Ёлка» № 5", "PTM55F.ttf") == "«Ёлка» № 5"


def test_tune_dev_and_heldout_share_no_face_and_heldout_has_its_own_degradations():
    tune, dev, heldout = (
        {f for faces in archival.FONTSETS[s].values() for f in faces} for s in ("tune", "dev", "heldout")
    )
    assert not tune & heldout and not dev & heldout and not tune & dev
    assert set(archival.DEGRADATION_SETS["dev"]) == set(archival.DEGRADATION_SETS["tune"]) | set(
        archival.DEV_ONLY
    )
    assert not set(archival.DEV_ONLY) & set(archival.DEGRADATION_SETS["heldout"])
    assert set(archival.HELDOUT_ONLY) <= set(archival.DEGRADATION_SETS["heldout"])
    assert not set(archival.HELDOUT_ONLY) & set(archival.DEGRADATION_SETS["tune"])


@pytest.mark.parametrize("own", ["crease", "worn_type"])
def test_the_dev_sets_own_degradations_leave_the_rest_of_the_page_as_it_was(words: list[str], own: str):
    """They draw from a generator of their own, so a dev page is the page it was without them plus
    the degradation: a fold shades a few bands, worn type takes ink from the type only."""
    base = ("texture", "noise")
    plain = archival.render_page(words, 7301, fontset="dev", page_type="carbon", degradations=base)
    worn = archival.render_page(words, 7301, fontset="dev", page_type="carbon", degradations=(*base, own))
    assert worn.lines == plain.lines and worn.params["dev_only_degradations"] == [own]
    changed = np.abs(worn.image.astype(int) - plain.image.astype(int)).max(axis=2) > 2
    assert 0.002 < changed.mean() < 0.15, changed.mean()
    if own == "worn_type":
        assert (worn.image.astype(int) >= plain.image.astype(int) - 1).all()  # ink taken, none added


def test_every_character_drawn_is_in_its_face(stamped: archival.ArchivalPage):
    typed = archival.charset(stamped.params["fonts"]["typewriter"])
    heading = archival.charset(stamped.params["fonts"]["heading"])
    for zone in stamped.zones:
        if "font" in zone:  # stamps and handwriting record their face
            assert set(zone["text"]) - {" ", "\n"} <= archival.charset(zone["font"]), zone
        elif zone["type"] == "letterhead":
            assert set(zone["text"]) - {" ", "\n"} <= heading
        elif zone["type"] != "folio":
            assert set(zone["text"]) - {" ", "\n"} <= typed, zone


def test_same_seed_same_page_other_seed_other_page(words: list[str]):
    a = archival.render_page(words, 5, page_type="carbon")
    b = archival.render_page(words, 5, page_type="carbon")
    c = archival.render_page(words, 6, page_type="carbon")
    assert np.array_equal(a.image, b.image)
    assert a.lines == b.lines and a.zones == b.zones and a.params == b.params
    assert a.lines != c.lines


def test_ground_truth_is_the_text_zones_in_order_and_nothing_else(stamped: archival.ArchivalPage):
    text_zones = [z for z in stamped.zones if z["in_text"]]
    assert [ln["text"] for z in text_zones for ln in z["lines"]] == list(stamped.lines)
    assert {z["type"] for z in text_zones} <= set(TEXT_ZONE_TYPES)
    furniture = [z for z in stamped.zones if not z["in_text"]]
    assert {z["type"] for z in furniture} <= set(FURNITURE_ZONE_TYPES)
    assert {"stamp", "handwriting"} <= {z["type"] for z in furniture}
    for zone in furniture:
        if zone["type"] != "struck":
            assert zone["text"] not in stamped.lines
    # A page's truth starts with its letterhead block, the way it is read.
    assert stamped.lines[0] in [z["text"] for z in text_zones if z["type"] == "secrecy"] or any(
        stamped.lines[0] == ln["text"] for z in text_zones if z["type"] == "letterhead" for ln in z["lines"]
    )


def test_struck_words_are_kept_out_of_the_line_they_were_typed_in(words: list[str]):
    page = next(
        p
        for p in (
            archival.render_page(words, s, page_type="handwritten", degradations=()) for s in range(3, 40)
        )
        if any(z["type"] == "struck" for z in p.zones)
    )
    body_lines = [ln for z in page.zones if z["type"] == "body" for ln in z["lines"]]
    for zone in (z for z in page.zones if z["type"] == "struck"):
        assert zone["overtyped"] == "х" * len(zone["text"])
        # typed inside a body line, whose truth lacks the overtyping
        assert any(archival_eval.boxes_match(ln["box"], zone["box"]) for ln in body_lines)
    assert not any("ххх" in line for line in page.lines)


def _colour_mask(image: np.ndarray, ink: str) -> np.ndarray:
    r, g, b = (image[..., i].astype(int) for i in range(3))
    if ink in STAMP_INKS:  # violet and blue: blue well above green (paper and black ink are not)
        return (b - g > 25) & (b > r)
    return (r + g + b) < 3 * 150


def test_stamp_ink_lies_in_the_stamp_boxes_after_skew(stamped: archival.ArchivalPage):
    assert abs(stamped.params["skew"]) > 0.05
    stamps = [z for z in stamped.zones if z["type"] == "stamp"]
    mask = _colour_mask(stamped.image, "stamp_violet")
    covered = np.zeros_like(mask)
    for zone in stamps:
        x0, y0, x1, y1 = zone["box"]
        covered[y0:y1, x0:x1] = True
        assert mask[y0:y1, x0:x1].sum() > 500, zone  # the box holds stamp ink
    # ... and (nearly) all stamp-coloured ink is inside a stamp box (handwriting in blue aside)
    hand = np.zeros_like(mask)
    for zone in stamped.zones:
        if zone["type"] in ("handwriting", "folio"):
            x0, y0, x1, y1 = zone["box"]
            hand[y0:y1, x0:x1] = True
    stray = mask & ~covered & ~hand
    assert stray.sum() < 0.02 * max(mask.sum(), 1)


def test_every_zone_box_holds_ink(stamped: archival.ArchivalPage):
    grey = stamped.image.astype(int).sum(axis=2) / 3
    paper = np.median(grey)
    for zone in stamped.zones:
        x0, y0, x1, y1 = zone["box"]
        assert 0 <= x0 < x1 <= stamped.image.shape[1] and 0 <= y0 < y1 <= stamped.image.shape[0]
        inked = (grey[y0:y1, x0:x1] < paper - 40).sum()
        assert inked > 50, zone


def test_a_typed_list_numbers_its_names_on_one_a_row(words: list[str]):
    """`list`, made only when asked for by name (the benchmark's cycle of PAGE_TYPES stays as it was):
    rows `463. КАРМАНОВ И.` numbered on by one in a table zone, each a line of the truth, in order."""
    assert "list" not in archival.PAGE_TYPES
    page = archival.render_page(words, 12, page_type="list", degradations=(), max_skew=0)
    (table,) = [z for z in page.zones if z["type"] == "table"]
    rows = [ln["text"] for ln in table["lines"]]
    numbers = [int(row.split(".")[0]) for row in rows]
    assert len(rows) >= 10 and numbers == list(range(numbers[0], numbers[0] + len(rows)))
    assert all(row.split(". ", 1)[1][:1].isalpha() for row in rows)
    start = list(page.lines).index(rows[0])
    assert list(page.lines)[start : start + len(rows)] == rows


def test_grey_variant_has_one_channel(words: list[str]):
    page = archival.render_page(words, 8, page_type="letter", grey=True)
    assert page.image.ndim == 2 and page.params["colour"] == "grey"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["letter", "two_columns"])
def test_tesseract_reads_the_truth_of_an_unaged_page(words: list[str], kind: str):
    page = archival.render_page(words, 31, page_type=kind, degradations=(), max_skew=0, furniture=False)
    paragraphs, _ = ocr.recognise(page.image, Settings(), 300)
    text = "\n".join(line.text for p in paragraphs for line in p.lines)
    score = evaluate.score(page.text, text, fold=True)
    assert score.chars > 800
    assert score.cer < 0.03, (score.cer, text[:500])


def test_cli_writes_image_truth_zones_and_record(tmp_path, test_text: str):
    source = tmp_path / "text.txt"
    source.write_text(test_text[:20000], encoding="utf-8")
    result = archocr(
        "synth", str(source), "--layout", "archival", "--fontset", "heldout", "--pages", "2", "--seed", "40",
        "--page-type", "table,carbon", "--colour", "grey", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for seed, kind in ((40, "table"), (41, "carbon")):
        base = tmp_path / "out" / f"text-{seed:04d}"
        record = json.loads(base.with_name(base.name + ".json").read_text(encoding="utf-8"))
        zones = json.loads(base.with_name(base.name + ".zones.json").read_text(encoding="utf-8"))
        truth = base.with_name(base.name + ".gt.txt").read_text(encoding="utf-8")
        assert base.with_name(base.name + ".jpg").stat().st_size > 10_000
        assert record["page_type"] == kind and record["fontset"] == "heldout" and record["colour"] == "grey"
        assert record["fonts"]["typewriter"] in archival.FONTSETS["heldout"]["typewriter"]
        assert {"id", "type", "role", "text", "box", "polygon", "in_text"} <= set(zones[0])
        assert truth.strip().splitlines() == [ln["text"] for z in zones if z["in_text"] for ln in z["lines"]]
    assert any(z["type"] == "table" for z in zones) or kind == "carbon"


def test_cli_rejects_an_unknown_page_type(tmp_path, test_text: str):
    source = tmp_path / "text.txt"
    source.write_text(test_text[:2000], encoding="utf-8")
    result = archocr(
        "synth", str(source), "--layout", "archival", "--page-type", "poster", "--out", str(tmp_path)
    )
    assert result.returncode == 2
    assert "poster" in result.stderr and "letter" in result.stderr


def test_the_benchmark_rejects_an_unknown_page_type_before_it_renders_a_page(tmp_path):
    """`bench_archival --kinds` is checked as the CLI's `--page-type` is, by `archival.unknown_page_types`:
    a type it does not know ends the run with the known ones named, nothing rendered or run."""
    assert archival.unknown_page_types(("list", "carbon")) is None
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_archival", "--kinds", "list,poster", "--pages", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert "['poster']" in result.stderr and "two_columns, list" in result.stderr


def test_cli_names_a_face_that_is_not_installed_and_its_package(tmp_path, test_text: str, monkeypatch):
    """A machine set up before the dev faces came (`make setup` installs them): the message says which
    face is missing and which Debian package has it, with no traceback."""
    from click.testing import CliRunner

    from pipeline import cli

    source = tmp_path / "text.txt"
    source.write_text(test_text[:5000], encoding="utf-8")
    installed = archival._font_index()
    monkeypatch.setattr(
        archival, "_font_index", lambda: {k: v for k, v in installed.items() if not k.startswith("cmun")}
    )
    archival.charset.cache_clear()  # its faces were looked up through the index before
    result = CliRunner().invoke(
        cli.app,
        ["synth", str(source), "--layout", "archival", "--fontset", "dev", "--pages", "3",
         "--out", str(tmp_path / "out")],
    )  # fmt: skip
    archival.charset.cache_clear()
    assert result.exit_code == 4, result.output
    assert "archocr: error: font cmun" in result.stderr and "install fonts-cmu" in result.stderr
    assert isinstance(result.exception, SystemExit)  # reported, not raised


# --- the evaluator the benchmark and the layout work use ---------------------------------------------


def test_leaked_furniture_words_are_those_beyond_the_truth():
    zones = [
        {"type": "stamp", "text": "ЦК ВКП(б) СЕКРЕТНЫЙ ОТДЕЛ"},
        {"type": "folio", "text": "308"},
        {"type": "handwriting", "text": "Согласен"},
        {"type": "body", "text": "не мебель"},
    ]
    truth = "Секретарю ЦК тов. Сталину. Прошу рассмотреть."
    output = "Секретарю ЦК тов. Сталину. ЦК Прошу СЕКРЕТНЫИ рассмотреть. 305 Соглзсен мебель"
    leaks = archival_eval.furniture_leaks(truth, output, zones)
    assert sorted(w for _, w, _ in leaks) == ["308", "секретный", "согласен", "цк"]
    assert archival_eval.furniture_leaks(truth, truth, zones) == []


def test_zone_scores_need_the_right_type_and_place():
    truth = [
        {"type": "stamp", "box": [100, 100, 500, 500]},
        {"type": "folio", "box": [2000, 20, 2100, 80]},
    ]
    predicted = [
        ("stamp", [120, 90, 480, 520]),
        ("handwriting", [2000, 20, 2100, 80]),
        ("stamp", [0, 0, 50, 50]),
    ]
    scores = archival_eval.score_zones(truth, predicted)
    assert scores["stamp"] == [1, 1, 2, 1]
    assert scores["folio"] == [1, 0, 0, 0]
    assert scores["handwriting"] == [0, 0, 1, 0]


def test_predicted_boxes_are_mapped_back_to_the_scan():
    record = {
        "page": {
            "document": "d",
            "number": 1,
            "width": 100,
            "height": 100,
            "dpi": 300,
            "transform": [[1, 0, 30], [0, 1, 40]],
            "zones": [{"id": "z0", "type": "stamp", "bbox": {"x0": 10, "y0": 10, "x1": 20, "y1": 30}}],
        }
    }
    assert archival_eval.predicted_zones(record) == [("stamp", [40, 50, 50, 70])]


def test_evaluate_run_reads_a_run_folder_against_a_truth_folder(tmp_path):
    truth, run = tmp_path / "truth", tmp_path / "run"
    (run / "p-0001").mkdir(parents=True)
    truth.mkdir()
    (truth / "p-0001.gt.txt").write_text("Членам Политбюро\nПрошу рассмотреть.\n", encoding="utf-8")
    zones = [
        {"type": "body", "text": "Членам Политбюро\nПрошу рассмотреть.", "box": [100, 100, 900, 300]},
        {"type": "stamp", "text": "СЕКРЕТНЫЙ ОТДЕЛ", "box": [500, 500, 900, 900]},
    ]
    (truth / "p-0001.zones.json").write_text(json.dumps(zones, ensure_ascii=False), encoding="utf-8")
    (truth / "p-0001.json").write_text(json.dumps({"page_type": "stamped", "degradations": ["fade"]}))
    (run / "p-0001" / "0001.txt").write_text("Членам Политбюро\nПрошу рассмотреть. ОТДЕЛ\n", encoding="utf-8")
    record = {
        "timings": {"clean": 1.0, "ocr": 4.0},
        "page": {
            "document": "p-0001",
            "number": 1,
            "width": 1000,
            "height": 1000,
            "dpi": 300,
            "transform": [[1, 0, 0], [0, 1, 0]],
            "zones": [{"id": "z1", "type": "stamp", "bbox": {"x0": 520, "y0": 480, "x1": 880, "y1": 910}}],
        },
    }
    (run / "p-0001" / "0001.json").write_text(json.dumps(record), encoding="utf-8")
    pages = archival_eval.evaluate_run(run, truth)
    summary = archival_eval.summarise(pages)
    assert summary["pages"] == 1 and summary["leaked_words_per_page"] == 1
    assert summary["zones"]["stamp"] == {"truth": 1, "recall": 1.0, "predicted": 1, "precision": 1.0}
    assert summary["zones"]["body"]["recall"] == 0.0
    assert summary["furniture_recall"] == 1.0
    assert summary["cer_by_page_type"]["stamped"] == pytest.approx(
        len(" ОТДЕЛ") / len("Членам Политбюро Прошу рассмотреть.")
    )
    assert summary["seconds_per_page"] == {"clean": 1.0, "ocr": 4.0}


def test_errors_are_counted_on_the_lines_a_stamp_crosses_and_on_the_others():
    zones = [
        {
            "type": "body",
            "in_text": True,
            "text": "Членам Политбюро ЦК\nПрошу рассмотреть вопрос",
            "box": [100, 100, 900, 200],
            "lines": [
                {"text": "Членам Политбюро ЦК", "box": [100, 100, 900, 140]},
                {"text": "Прошу рассмотреть вопрос", "box": [100, 160, 900, 200]},
            ],
        },
        {"type": "stamp", "text": "КОПИЯ", "box": [600, 150, 800, 260]},
        {"type": "folio", "text": "83", "box": [950, 20, 990, 60]},  # over no line, and no stamp
    ]
    crossed = archival_eval.crossed_lines(zones)
    assert crossed == {"Прошу рассмотреть вопрос"}
    truth = "Членам Политбюро ЦК\nПрошу рассмотреть вопрос\n"
    first, second = len("Членам Политбюро ЦК") + 1, len("Прошу рассмотреть вопрос") + 1

    def split(output: str) -> tuple[tuple[float, int], tuple[float, int]]:
        return archival_eval.errors_by_line_kind(truth, output, crossed)

    assert split(truth) == ((0, second), (0, first))
    assert split("Членам Политбюро ЦК\nПрошу раСсмотреть вопрос") == ((1, second), (0, first))
    assert split("Членам Полптбюро ЦК\nПрошу рассмотреть вопрос") == ((0, second), (1, first))
    # The stamp's word read after the line it crosses: on that line, with its space.
    assert split(truth + " КОПИЯ") == ((len(" КОПИЯ"), second), (0, first))
    # Nothing read: every character lost, shared between the two lines by their own characters.
    (crossed_errors, _), (other_errors, _) = split("")
    assert crossed_errors + other_errors == len("Членам Политбюро ЦК Прошу рассмотреть вопрос")
    assert crossed_errors == pytest.approx(other_errors * second / first)
