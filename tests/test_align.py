"""Transcript apparatus, locating and aligning pages, classification, and the reviewers' report."""

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline import align, corpus, export, lexicon, report, synth

from .conftest import ROOT, SCANS, archocr, chromium_command, load_json


@pytest.fixture(scope="module")
def is_word():
    return report.word_checker(lexicon.load("default"))


def test_apparatus_is_parsed_with_offsets_into_the_file(is_word):
    text = (
        "### Письмо[**[1]**](#_ftn1)\n\nВ [ком]иссии тов. Ф[рунзе] и _Сталин_ решили в [19]23 г.\n"
        "17\nчто руко-\nводство и российско-\nамериканского [omi]siya\n\n[[1]](#_ftnref1) Примечание.\n"
    )
    t = align.parse_transcript(text, is_word)
    kinds = {(a.kind, a.text) for a in t.apparatus}
    assert ("restoration", "[ком]") in kinds
    assert ("expansion", "[рунзе]") in kinds and ("expansion", "[19]") in kinds
    assert ("broken_fragment", "[omi]") in kinds
    assert ("footnote_marker", "[**[1]**](#_ftn1)") in kinds and ("page_number", "17") in kinds
    assert "В комиссии тов. Фрунзе и Сталин решили в 1923 г." in t.reading.text
    assert "руководство и российско-американского" in t.reading.text
    # Every character of the reading maps back to the character of the file it came from.
    for ch, offset in zip(t.reading.text, t.reading.offsets, strict=True):
        if ch != " ":
            assert align.fold_char(text[offset]).translate(align._LATIN_IN_CYRILLIC) == ch or ch.isalpha()


def test_locating_a_page_in_a_whole_book(is_word):
    folder = corpus.corpus_dir()
    if folder is None:
        pytest.skip("the shared corpus is not available")
    book = (folder / corpus.BOOK_NAME).read_text(encoding="utf-8")
    t = align.parse_transcript(book, is_word)
    middle = len(t.reading.text) // 2
    page = t.reading.text[middle : middle + 2500]
    page = page[page.index(" ") + 1 :]
    _, words = align._words(page)
    location = align.locate(words, t)
    assert location is not None and location.start <= middle + 10 and location.end >= middle + 2400
    assert location.end - location.start < 10_000  # a region, not the book


def _aligned_sample(tmp_path, sample_run, document, transcript_text, is_word):
    t = align.parse_transcript(transcript_text, is_word)
    page, _ = export.read_page_json(sample_run / document / "0001.json")
    lex = lexicon.load("default")
    aligner = align.Aligner(t, is_word, {(c.seen, c.meant) for c in lex.confusions}, align.lemma_finder(lex))
    return page, aligner.align_page(page)


def test_injected_discrepancies_are_found_with_their_kind(sample_run, tmp_path, is_word):
    truth = (SCANS / "ground-truth" / "politburo-1923-doc5.gt.txt").read_text(encoding="utf-8")
    found = total = false_flags = 0
    for seed in range(3):
        text, injections = synth.inject_discrepancies(truth, np.random.default_rng(seed), is_word)
        page, result = _aligned_sample(tmp_path, sample_run, "politburo-1923-doc5", text, is_word)
        page_text = page.text
        for d in result.discrepancies:  # both readings can always be found again by their offsets
            assert page_text[d.ocr_start : d.ocr_end] == d.ocr_text
            assert text[d.transcript_start : d.transcript_end] == d.transcript_text
        matched = set()
        for inj in injections:
            total += 1
            hits = [
                d
                for d in result.discrepancies
                if d.kind == inj.kind
                and d.transcript_start <= max(inj.end, inj.start + 1)
                and d.transcript_end >= inj.start
            ]
            found += bool(hits)
            matched.update(id(d) for d in hits)
        false_flags += sum(
            id(d) not in matched and d.kind not in ("ocr_error", "normalisation")
            for d in result.discrepancies
        )
    assert found >= 0.9 * total, (found, total)
    assert false_flags <= 3


def test_restoration_status_confirmed_absent_conflict(sample_run, tmp_path, is_word):
    truth = (SCANS / "ground-truth" / "politburo-1923-doc5.gt.txt").read_text(encoding="utf-8")
    assert "заявление" in truth and "содержание" in truth and "согласии" in truth
    text = truth.replace("заявление", "[зая]вление", 1).replace("содержание", "[вы]держание", 1)
    page, result = _aligned_sample(tmp_path, sample_run, "politburo-1923-doc5", text, is_word)
    by_word = {
        d.transcript_text: d for d in result.discrepancies if d.kind in ("restoration", "broken_fragment")
    }
    assert by_word["[зая]вление"].status == "confirmed"
    assert by_word["[вы]держание"].status == "conflict"


def test_page_not_in_transcript_is_unmatched(sample_run, tmp_path, is_word):
    other = (SCANS / "transcripts" / "stalin-lenin-1923.md").read_text(encoding="utf-8")
    _, result = _aligned_sample(tmp_path, sample_run, "politburo-1923-doc5", other, is_word)
    assert result.status == "unmatched" and result.discrepancies == []


def test_lint_transcript_finds_the_broken_fragment_in_the_corpus(tmp_path):
    folder = corpus.corpus_dir()
    source = folder / "001_e33aa29600d11d37.txt" if folder else None
    if source is None or not source.is_file():
        source = tmp_path / "letters.txt"
        source.write_text(
            "the [omi]siya met; F[runze] wrote in [19]23 to the [com]mission [\n", encoding="utf-8"
        )
    result = archocr("lint-transcript", str(source), "--json")
    problems = json.loads(result.stdout)
    assert result.returncode == 1
    assert any(p["kind"] == "broken_fragment" and "[omi]siya" in p["text"] for p in problems)
    assert not any("F[runze]" in p["text"] or "[19]23" in p["text"] for p in problems)
    clean = tmp_path / "clean.md"
    clean.write_text("В [ком]иссии тов. Ф[рунзе] решили.\n", encoding="utf-8")
    assert archocr("lint-transcript", str(clean)).returncode == 0


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r"])
def test_legacy_encodings_are_detected_and_named(sample_run, tmp_path, encoding):
    out = tmp_path / "out"
    shutil.copytree(sample_run / "politburo-1923-doc5", out / "politburo-1923-doc5")
    shutil.copy(sample_run / "manifest.json", out)  # align goes by it; the other documents are not here
    text = (SCANS / "transcripts" / "politburo-1923-doc5.txt").read_text(encoding="utf-8")
    legacy = tmp_path / "transcript.txt"
    legacy.write_bytes(text.encode(encoding, errors="replace"))  # KOI8-R has no №
    result = archocr("align", str(out), "--transcript", str(legacy))
    assert result.returncode == 0, result.stderr
    assert f"read as {encoding}" in result.stderr.replace("-", "_").lower()
    assert load_json(out / "discrepancies.json")["pages"][0]["status"] == "aligned"


def test_a_damaged_page_file_is_named_and_the_other_pages_are_aligned(sample_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sample_run, out)
    damaged = out / "stalin-lenin-1923" / "0002.json"
    damaged.write_text(damaged.read_text(encoding="utf-8")[:500], encoding="utf-8")  # cut short
    transcript = tmp_path / "all.txt"
    transcript.write_text(
        "\n".join(p.read_text(encoding="utf-8") for p in sorted((SCANS / "transcripts").glob("*"))),
        encoding="utf-8",
    )
    result = archocr("align", str(out), "--transcript", str(transcript))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "0002.json" in result.stderr and "unreadable" in result.stderr
    aligned = {(p["document"], p["page"]) for p in load_json(out / "discrepancies.json")["pages"]}
    assert ("stalin-lenin-1923", 1) in aligned and ("stalin-lenin-1923", 2) not in aligned


@pytest.mark.parametrize(("content", "message"), [(b"", "empty"), (b"\x00\x01\x02PK\x03\x04", "binary")])
def test_empty_or_binary_transcript_is_a_clear_error(sample_run, tmp_path, content, message):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    result = archocr("align", str(sample_run), "--transcript", str(path))
    assert result.returncode == 1 and message in result.stderr and "t.txt" in result.stderr


@pytest.fixture(scope="module")
def reviewed(sample_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("reviewed")
    shutil.copytree(sample_run / "stalin-conference-1925", out / "stalin-conference-1925")
    shutil.copy(sample_run / "manifest.json", out)  # align goes by it; the other documents are not here
    transcript = tmp_path_factory.mktemp("t") / "conference.md"
    text = (SCANS / "transcripts" / "stalin-conference-1925.md").read_text(encoding="utf-8")
    # An editor's restoration and a hostile string, to see both reported and the latter escaped.
    text = text.replace("Дорогие товарищи!", "Дорогие [то]варищи! <script>alert('x')</script>", 1)
    transcript.write_text(text, encoding="utf-8")
    result = archocr("align", str(out), "--transcript", str(transcript))
    assert result.returncode == 0, result.stderr
    return out


def test_reports_are_written_from_the_model(reviewed):
    data = load_json(reviewed / "discrepancies.json")
    assert data["schema"] == 1 and data["pages"][0]["status"] == "aligned"
    kinds = {d["kind"] for d in data["discrepancies"]}
    assert "restoration" in kinds and "ocr_error" in kinds
    for d in data["discrepancies"]:
        assert {
            "document",
            "page",
            "kind",
            "ocr_text",
            "transcript_text",
            "ocr_start",
            "ocr_end",
            "transcript_start",
            "transcript_end",
        } <= set(d)
    with (reviewed / "discrepancies.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(data["discrepancies"])
    assert [r["transcript_text"] for r in rows] == [d["transcript_text"] for d in data["discrepancies"]]
    html = (reviewed / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_report_renders_in_headless_chromium(reviewed):
    flags = [
        *chromium_command(reviewed / ".chromium"),
        "--allow-file-access-from-files",
        "--window-size=1400,1800",
    ]
    url = (reviewed / "report.html").as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    data = load_json(reviewed / "discrepancies.json")
    shown = [d for d in data["discrepancies"] if d["kind"] != "normalisation"]
    assert dom.count('class="item disc') == len(data["discrepancies"])
    # After the page's script ran: normalisation rows are filtered out by default, the rest shown.
    assert dom.count('class="item disc hidden"') == len(data["discrepancies"]) - len(shown)
    assert "restoration" in dom and "[то]варищи" in dom
    screenshots = ROOT / "out" / "test-artifacts"
    screenshots.mkdir(parents=True, exist_ok=True)
    shot = screenshots / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000


def test_edition_page_break_inside_a_page_is_not_a_discrepancy(sample_run, tmp_path, is_word):
    truth = (SCANS / "ground-truth" / "politburo-1923-doc5.gt.txt").read_text(encoding="utf-8")
    lines = truth.splitlines()
    middle = len(lines) // 2
    # The edition's page ends mid-page of the scan: a page number, then its running header.
    header = "ПОЛИТБЮРО И ОППОЗИЦИЯ"
    edition = "\n".join(lines[:middle] + ["", "117", header, ""] + lines[middle:])
    edition = f"{header}\n{edition}\n{header}\n"
    _, result = _aligned_sample(tmp_path, sample_run, "politburo-1923-doc5", edition, is_word)
    assert result.status == "aligned"
    kinds = [d.kind for d in result.discrepancies]
    assert "missing" not in kinds and "extra" not in kinds, result.discrepancies
    assert not any("117" in d.transcript_text or header in d.transcript_text for d in result.discrepancies)


def test_run_with_transcript_writes_the_report(tmp_path):
    out = tmp_path / "out"
    result = archocr(
        "run",
        str(SCANS / "stalin-lenin-1923.pdf"),
        "--out",
        str(out),
        "--serial",
        "--transcript",
        str(SCANS / "transcripts" / "stalin-lenin-1923.md"),
    )
    assert result.returncode == 0, result.stderr
    data = load_json(out / "discrepancies.json")
    assert [p["status"] for p in data["pages"]] == ["aligned", "aligned"]
    assert (out / "report.html").is_file() and "2 of 2 pages aligned" in result.stderr


def test_transcript_is_shown_as_a_reader_sees_it_with_offsets_into_the_file(reviewed):
    """Markdown and footnote links are rendered (text and superscript markers), and every piece of the
    transcript column still names its offset in the transcript file."""
    from lxml import html as lxml_html

    data = load_json(reviewed / "discrepancies.json")
    transcript = Path(data["transcript"]).read_text(encoding="utf-8")
    tree = lxml_html.fromstring((reviewed / "report.html").read_bytes())
    column = tree.xpath('//div[@aria-label="transcript"]')[0]
    shown = column.text_content()
    assert "(#_ftn" not in shown and "**" not in shown and "###" not in shown
    sups = column.xpath(".//sup")
    assert sups and all(s.text.isdigit() for s in sups)
    for sup in sups:  # the marker's offset points at its footnote link in the file
        assert transcript[int(sup.get("data-start")) :].startswith("[")
    pieces = column.xpath(".//span[@data-start]")
    assert len(pieces) > 3
    for piece in pieces:
        start = int(piece.get("data-start"))
        assert transcript[start : start + len(piece.text or "")] == (piece.text or "")
