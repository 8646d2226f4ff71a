"""Classification of differences by their evidence, archival furniture as `extra` with its subkind,
and pages of another document reported as unmatched. Pages here are plain text (OCR made elsewhere:
no boxes, no confidences, no zones) or carry zones built by hand: unit tests of the classifier; the
real-OCR cases are in test_align.py and benchmarks/bench_align.py."""

import dataclasses
from pathlib import Path

import pytest

from pipeline import align, corpus, lexicon, report
from pipeline.classify import furniture_items
from pipeline.model import BBox, Zone
from pipeline.ocr_files import _read_plain

BODY = (
    "Политбюро рассмотрело вопрос о положении в партийных организациях и постановило поручить "
    "комиссии под председательством товарища Куйбышева подготовить доклад к пленуму. "
    "Во-вторых, признать необходимым усилить работу среди рабочих передовых предприятий и "
    "обеспечить выполнение решений съезда всеми местными организациями без исключения. "
    "Товарищ Калинин могла бы доложить о поездке по губерниям, и к следующему заседанию "
    "подготовить проект постановления о снабжении городов хлебом и топливом на зимний период."
)


@pytest.fixture(scope="module")
def lex():
    return lexicon.load("default")


def _lines(text: str, width: int = 9) -> str:
    words = text.split()
    return "\n".join(" ".join(words[i : i + width]) for i in range(0, len(words), width))


def _align(lex, page_text: str, transcript: str, zones=()):  # type: ignore[no-untyped-def]
    is_word = report.word_checker(lex)
    page = _read_plain(Path("page"), page_text)[0]
    if zones:
        page = dataclasses.replace(page, zones=zones)
    t = align.parse_transcript(transcript, is_word)
    aligner = align.Aligner(t, is_word, {(c.seen, c.meant) for c in lex.confusions}, align.lemma_finder(lex))
    return page, aligner.align_page(page)


def _kind_of(result, ocr: str = "", transcript: str = ""):  # type: ignore[no-untyped-def]
    found = [
        d
        for d in result.discrepancies
        if (not ocr or ocr in d.ocr_text) and (not transcript or transcript in d.transcript_text)
    ]
    assert found, (ocr, transcript, [(d.kind, d.ocr_text, d.transcript_text) for d in result.discrepancies])
    return found[0]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("СЕКРЕТНО", ["secrecy"]),
        ("Совершенно секретно", ["secrecy"]),
        ("83 об.", ["folio"]),
        ("Л. 83", ["folio"]),
        ("– 170 –", ["page_number"]),
        ("Согласен", ["resolution"]),
        ("В дело", ["resolution"]),
        ("Вх. № 512 Совершенно секретно", ["registration", "secrecy"]),
        ("за это уволят", None),
        ("Политбюро", None),
    ],
)
def test_furniture_is_recognised_by_its_look(text, kinds):
    items = furniture_items(text)
    assert (None if items is None else [kind for _, _, kind in items]) == kinds


def test_differences_get_the_kind_their_evidence_supports(lex):
    scan = BODY.replace("могла", "мота").replace("и к следующему", "и и следующему")
    scan = scan.replace("Во-вторых", "Вовторых").replace("партийных организациях", "партийных организации")
    scan = scan.replace("Политбюро", "ПОЛИТБЮРО")
    transcript = BODY.replace("передовых", "п[удержать]")
    added = "доклад к пленуму. Пленум соберется в марте будущего года."
    transcript = transcript.replace("доклад к пленуму.", added)
    page, result = _align(lex, _lines(scan), transcript)
    assert result.status == "aligned"
    assert _kind_of(result, "мота").kind == "ocr_error"  # a misreading that happens to be a word
    assert _kind_of(result, transcript="к").kind == "ocr_error"  # one letter for another
    assert _kind_of(result, "Вовторых").kind == "normalisation"  # hyphenation
    assert _kind_of(result, "ПОЛИТБЮРО").kind == "normalisation"  # letter case, the edition's convention
    assert _kind_of(result, "организации").kind == "variant"  # another form of the same word
    assert _kind_of(result, transcript="Пленум соберется").kind == "missing"
    broken = _kind_of(result, transcript="п[удержать]")
    assert broken.kind == "broken_fragment" and broken.ocr_text == "передовых"
    for d in result.discrepancies:  # both readings can be found again by their offsets
        assert page.text[d.ocr_start : d.ocr_end] == d.ocr_text


def test_a_variant_beside_misreadings_is_not_trusted(lex):
    scan = BODY.replace("Калинин могла", "Калинину мота")  # a damaged stretch: two words differ
    _, result = _align(lex, _lines(scan), BODY)
    assert _kind_of(result, "мота").kind == "ocr_error"
    assert _kind_of(result, "Калинину").kind == "ocr_error"


def test_furniture_without_zones_is_extra_with_its_subkind(lex):
    scan = "СЕКРЕТНО\n83 об.\n\n" + _lines(BODY) + "\n\nВ дело\n– 170 –"
    _, result = _align(lex, scan, BODY)
    extras = {d.ocr_text: d for d in result.discrepancies if d.kind == "extra"}
    assert {k: d.subkind for k, d in extras.items()} == {
        "СЕКРЕТНО": "secrecy",
        "83 об.": "folio",
        "В дело": "resolution",
        "– 170 –": "page_number",
    }
    assert all("looks like" in d.reason for d in extras.values())
    assert [d.kind for d in result.discrepancies if d.kind not in ("extra", "normalisation")] == []


def test_furniture_the_transcript_has_is_aligned_not_extra(lex):
    scan = "СЕКРЕТНО\n\n" + _lines(BODY)
    _, result = _align(lex, scan, "СЕКРЕТНО\n\n" + BODY)
    assert not [d for d in result.discrepancies if d.kind == "extra"]


def test_zones_decide_furniture_when_the_page_has_them(lex):
    scan = "Исх. № 203/с «7» марта 1928 г.\n\nЧЛЕНАМ ПОЛИТБЮРО\n\n" + _lines(BODY)
    zones = (
        Zone("z1", "registration", BBox(0, 0, 10, 10), paragraphs=(0,)),
        Zone("z2", "addressee", BBox(0, 10, 10, 20), paragraphs=(1,)),
        Zone("z3", "body", BBox(0, 20, 10, 30), paragraphs=(2,)),
    )
    _, result = _align(lex, scan, BODY, zones)
    extras = {d.ocr_text: d.subkind for d in result.discrepancies if d.kind == "extra"}
    assert extras == {"Исх. № 203/с «7» марта 1928 г.": "registration", "ЧЛЕНАМ ПОЛИТБЮРО": "addressee"}


def test_a_page_of_another_document_of_the_period_is_unmatched(lex):
    folder = corpus.corpus_dir()
    if folder is None:
        pytest.skip("the shared corpus is not available")
    documents = [
        corpus.clean_edition_text(raw)
        for _, raw in corpus.split_documents("tests", folder)
        if len(corpus.clean_edition_text(raw)) > 4000
    ]
    page_text = _lines(documents[0][:2500])
    _, own = _align(lex, page_text, documents[0])
    assert own.status == "aligned"
    for other in documents[1:4]:
        _, result = _align(lex, page_text, other)
        assert result.status == "unmatched" and result.discrepancies == [], result.reason


def test_the_linters_checks_run_inside_alignment(lex):
    """A broken bracket aligned against the scan is a `broken_fragment` with the linter's class."""
    transcript = BODY.replace("передовых предприятий", "передовых [ых] предприятий").replace(
        "постановило поручить", "постановило пост[постановило] поручить"
    )
    _, result = _align(lex, _lines(BODY), transcript)
    stray = _kind_of(result, transcript="[ых]")
    assert stray.kind == "broken_fragment" and stray.reason.startswith("stray_ending")
    duplicate = _kind_of(result, transcript="пост[постановило]")
    assert duplicate.kind == "broken_fragment" and duplicate.reason.startswith("duplicate")
