import json
import unicodedata

from pipeline import evaluate
from pipeline.config import Settings

from .conftest import SCANS, archocr, load_json


def test_nfc_and_nfd_are_the_same_text():
    word = "Ёлкин й"
    assert evaluate.score(unicodedata.normalize("NFD", word), word).char_errors == 0


def test_folding_removes_quote_dash_and_yo_differences():
    truth, ocr = "«Правда» — ёлка", '"Правда" - елка'
    assert evaluate.score(truth, ocr).char_errors == 4
    assert evaluate.score(truth, ocr, fold=True).char_errors == 0


def test_folding_rejoins_words_hyphenated_at_a_line_end_only():
    truth, ocr = "на ко-\nтораго месте", "на котораго месте"
    assert evaluate.score(truth, ocr).char_errors == 2  # raw: the hyphen and the line break
    assert evaluate.score(truth, ocr, fold=True).char_errors == 0
    # A hyphen inside a line is text, folded or not.
    assert evaluate.score("военно-морской", "военноморской", fold=True).char_errors == 1


def test_cer_and_wer_count_edits_over_truth_length():
    s = evaluate.score("тов. Сталин пишет", "тов. Сталнн пишет")
    assert (s.char_errors, s.chars, s.word_errors, s.words) == (1, 17, 1, 3)
    assert evaluate.score("", "").cer == 0.0


def test_eval_command_prints_table_and_json(sample_run, tmp_path):
    target = tmp_path / "scores.json"
    result = archocr("eval", "--gt", str(SCANS / "ground-truth"), str(sample_run), "--json", str(target))
    assert result.returncode == 0, result.stderr
    assert "overall" in result.stdout
    report = load_json(target)
    assert len(report["pages"]) == 5
    # the plain samples read well; the archival one (stamps, handwriting) is the archival benchmark's
    plain = [p for p in report["pages"] if not p["document"].startswith("trotsky-politburo-1926")]
    assert len(plain) == 4 and all(0 <= p["cer"] < 0.05 for p in plain)
    assert report["overall"]["chars"] == sum(p["chars"] for p in report["pages"])
    piped = archocr("eval", "--gt", str(SCANS / "ground-truth"), str(sample_run), "--json", "-")
    assert json.loads(piped.stdout)["overall"] == report["overall"]


def test_every_setting_is_a_cli_option_and_reaches_the_page(tmp_path):
    help_text = archocr("run", "--help").stdout
    for name in Settings.__dataclass_fields__:
        assert f"--{name.replace('_', '-')}" in help_text, name
    out = tmp_path / "out"
    result = archocr(
        "run",
        str(SCANS / "stalin-conference-1925.jpg"),
        "--out",
        str(out),
        "--serial",
        "-q",
        "--psm",
        "6",
        "--binarise",
        "sauvola",
        "--no-correct",
    )
    assert result.returncode == 0, result.stderr
    steps = {
        s["name"]: s["settings"]
        for s in load_json(out / "stalin-conference-1925" / "0001.json")["page"]["steps"]
    }
    assert steps["ocr"]["psm"] == 6 and steps["binarise"]["method"] == "sauvola"
    assert load_json(out / "manifest.json")["settings"]["correct"] is False
