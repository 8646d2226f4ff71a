"""The corrector: golden cases as a readable table, then the protections, then whole pages."""

import pytest

from pipeline import lexicon
from pipeline.correct import Corrector, is_prereform_page
from pipeline.model import BBox, Line, Page, Paragraph, Word


@pytest.fixture(scope="module")
def corrector():
    return Corrector(lexicon.load("default"))


# (OCR token, previous token, Tesseract confidence, expected text, expected reason or None)
FIXES = [
    ("paз", None, 50, "раз", "latin_lookalike"),
    ("Baш", None, 50, "Ваш", "latin_lookalike"),
    ("шкoла", None, 50, "школа", "latin_lookalike"),
    ("ХV", "на", 90, "XV", "roman_numeral"),
    ("Х1У", "на", 90, "XIV", "roman_numeral"),
    ("ТТТ.23", "7.", 90, "III.23", "roman_numeral"),
    ("УТТ.", None, 90, "VII.", "roman_numeral"),
    ("6ыл", "он", 50, "был", "digit_for_letter"),
    ("ВКП(6)", None, 80, "ВКП(б)", "digit_for_letter"),
    ("26-Й,", "с", 80, "26-й,", "ordinal_ending"),
    ("щкола", "в", 50, "школа", "lexicon"),
    ("товарищеи", "все", 50, "товарищей", "lexicon"),
    ("коммуиистов,", "и", 50, "коммунистов,", "lexicon"),
    ("следуюшее:", "сказал", 50, "следующее:", "lexicon"),
    ("«оппознция»", "и", 50, "«оппозиция»", "lexicon"),
    ("партиякоторая", "и", 50, "партия которая", "glued_words"),
    # ш broken into two strokes by Tesseract
    ("напгих", "всех", 50, "наших", "lexicon"),
    ("замептанных", "в", 50, "замешанных", "lexicon"),
    # dotted abbreviations and citation tokens run into the word or number before them
    ("письмут.", "к", 50, "письму т.", "glued_words"),
    ("ит.д.,", "работы", 80, "и т.д.,", "glued_words"),
    ("171.Д.", "Оп.", 90, "171. Д.", "glued_words"),
    ("ВКП(6)».", "«", 80, "ВКП(б)».", "digit_for_letter"),
    # a form pymorphy3 knows but the period never uses, one confusion from a common word
    ("моту", "не", 80, "могу", "real_word_misread"),
]

KEEPS = [
    # names, abbreviations, citations, numbers, dates, foreign words, period vocabulary
    "Зиновьева",
    "Зиновьеву,",
    "ЦКК",
    "ВКП(б)",
    "РКП(б)",
    "тов.",
    "тт.",
    "т.",
    "быв.",
    "чл.",
    "окр.",
    "РГАСПИ.",
    "Ф.",
    "Оп.",
    "Д.",
    "Л.",
    "Лл.",
    "ОГПУ",
    "ИККИ",
    "СТО",
    "НКПС",
    "Совнарком",
    "губкома",
    "губком",
    "1923",
    "18.XII.33",
    "7.",
    "12-го",
    "№",
    "П39/28-с",
    "XII",
    "XV",
    "Sots[ialist]",
    "Bolshevik",
    "недоразум.",
    "прибл.",
    "предприн.",
    "Н.",
    "И.Ст.",
    "троцкистской",
    "пятилетки18",
    "антипартийности",
    "российско-американского",
    "мѣсто",
    "Россіи",
    "миръ",
    "ст.",
    "т.д.",
    "и",
    "мир",
]


@pytest.mark.parametrize(("ocr", "prev", "conf", "expected", "reason"), FIXES)
def test_fixes_misreadings(corrector, ocr, prev, conf, expected, reason):
    decision = corrector.correct_word(ocr, conf, prev)
    assert decision is not None, ocr
    assert (decision.corrected, decision.reason) == (expected, reason)


@pytest.mark.parametrize("token", KEEPS)
def test_never_touches_names_abbreviations_numbers_and_period_words(corrector, token):
    assert corrector.correct_word(token, 40.0, "и") is None


def test_every_curated_abbreviation_and_name_is_left_alone(corrector):
    lex = corrector.lexicon
    for token in sorted(lex.abbreviations | lex.citations):
        assert corrector.correct_word(token, 30.0, "и") is None, token
    for name in sorted(lex.names)[:300]:
        token = name[:1].upper() + name[1:]
        assert corrector.correct_word(token, 30.0, "и") is None, token


def test_confident_ocr_of_an_unknown_word_needs_a_known_confusion(corrector):
    # Tesseract sure of `Политебюро`: one inserted letter is not enough evidence to overrule it.
    assert corrector.correct_word("политебюро", 97.0, "в") is None
    assert corrector.correct_word("политебюро", 40.0, "в").corrected == "политбюро"


def test_capitalised_unknown_words_need_strong_evidence(corrector):
    assert corrector.correct_word("Горлеев", -1.0, "и") is None
    assert corrector.correct_word("СМЕРНОВ", 95.0, "тов.") is None


def test_document_spelling_is_evidence(corrector):
    doc = Corrector(corrector.lexicon, document_text=["Смирнов", "пишет", "Смирнову", "Смирнов"])
    assert doc.correct_word("СМЕРНОВ", 95.0, "тов.").corrected == "СМИРНОВ"
    assert doc.correct_word("Смирнову", 95.0, "тов.") is None


def test_other_scripts_pass_through(corrector):
    for token in ("Sotsialist", "Politburo", "Ἀθῆναι", "東京", "12:30", "—", "«»"):
        assert corrector.correct_word(token, 20.0, None) is None


def test_roman_numerals_read_as_single_letters_or_strokes_need_context(corrector):
    assert corrector.correct_word("П", 90.0, "на", "съезде").corrected == "II"
    assert corrector.correct_word("Ш", 90.0, None, "Интернационала").corrected == "III"
    assert corrector.correct_word("Х\\/", 90.0, "на", "съезде").corrected == "XV"
    assert corrector.correct_word("Х\\,", 90.0, "на", "съезде").corrected == "XV,"
    assert corrector.correct_word("Х1\\", 90.0, "на", "съезде").corrected == "XIV"  # not XI and a stroke
    assert corrector.correct_word("П", 90.0, "на", "Иванова") is None  # a lone letter, or an initial
    assert corrector.correct_word("Ш", 90.0, "и", "все") is None


def _page(lines: list[str]) -> Page:
    box = BBox(0, 0, 10, 10)
    return Page(
        "doc",
        1,
        100,
        100,
        300,
        paragraphs=(
            Paragraph(tuple(Line(tuple(Word(w, box, 60.0) for w in ln.split()), box) for ln in lines), box),
        ),
    )


def test_page_keeps_original_records_changes_and_joins_line_end_hyphens(corrector):
    page = _page(["под руко-", "водством тов. Сталина щкола", "российско-", "американского торга"])
    out = corrector.correct_page(page)
    assert out.text == "под руководством\nтов. Сталина школа\nроссийско-американского\nторга"
    assert out.raw_text == page.text
    reasons = {(c.original, c.corrected): c.reason for c in out.corrections}
    assert reasons[("руко-", "руководством")] == "line_end_hyphen"
    assert reasons[("щкола", "школа")] == "lexicon"
    assert out.lexicon == corrector.lexicon.identity
    assert out.steps[-1].name == "correct"


def test_modernisation_is_optional_and_recorded(corrector):
    modern = Corrector(corrector.lexicon, modernise=True)
    out = modern.correct_page(_page(["Россіи новаго міра Чикаго"]))
    assert out.text == "России нового мира Чикаго"
    assert all(c.reason == "modernised" for c in out.corrections)
    assert corrector.correct_page(_page(["Россіи новаго"])).text == "Россіи новаго"


def test_list_marker_6_is_a_letter_only_in_lettered_lists(corrector):
    lettered = corrector.correct_page(_page(["а) план", "6) отчёт"]))
    assert lettered.text == "а) план\nб) отчёт"
    numbered = corrector.correct_page(_page(["а) план", "5) отчёт", "6) смета"]))
    assert numbered.text == "а) план\n5) отчёт\n6) смета"


def test_old_orthography_pages_get_their_letters_back_and_modern_pages_never_do(corrector):
    old = _page(["Въ семъ городЪ есть мБсто гдф живутъ люди", "и домЪ его стоитъ на томъ м$стЪ"])
    assert is_prereform_page(old.text.split())
    out = corrector.correct_page(old)
    assert out.text.split()[:6] == ["Въ", "семъ", "городъ", "есть", "мѣсто", "гдѣ"]
    assert "мѣстъ" in out.text.split()  # `$` for ѣ; the final Ъ read as the hard sign it usually is
    modern = _page(["В этом городе есть мБсто где живут люди и дом"])
    assert not is_prereform_page(modern.text.split())
    assert "ѣ" not in corrector.correct_page(modern).text


def test_dashes_between_words_and_in_number_ranges_are_written_as_the_edited_texts_write_them(corrector):
    # The corpus's edited text (what the archival pages' truth is) sets a dash between spaces, and
    # between the numbers of a range, as an en dash; Tesseract reads a printed one `-` or `—`.
    out = corrector.correct_page(
        _page(["нэпа - каждый срыв — в (1915-16), 225-227.", "Маслова-Рут кто-нибудь"])
    )
    assert out.text == "нэпа – каждый срыв – в (1915–16), 225–227.\nМаслова-Рут кто-нибудь"
    assert {c.reason for c in out.corrections} == {"dash"}
    phone = corrector.correct_page(_page(["телефон 4-78-85 и 1-го числа"]))
    assert phone.text == "телефон 4-78-85 и 1-го числа"
    old = corrector.correct_page(_page(["Въ семъ городЪ есть мѣсто - гдѣ живутъ люди и домъ"]))
    assert " - " in old.text  # a pre-1918 page keeps its dashes as read


def test_roman_numerals_misread_as_rare_words_and_months_glued_to_their_day(corrector):
    # `УП` is a word of the period's texts only once (the corpus's own misreading of VII): no evidence
    # against the numeral; `тт.` (comrades), seen 169 times, stays.
    assert corrector.correct_word("УП", 90.0, "комиссии", "расширенного").corrected == "VII"
    assert corrector.correct_word("ТТ.", 90.0, "к", "Троцкому") is None
    # II read as И after X, before a congress.
    assert corrector.correct_word("ХИ", 90.0, "На", "съезде").corrected == "XII"
    assert corrector.correct_word("ХИ", 90.0, "и", "все") is None  # a word (хи), out of context
    # A registration's date, its month in Roman numerals read as letters, the day glued to it.
    assert corrector.correct_word("22.ТТТ.35", 90.0, "21909/сс", "г.").corrected == "22.III.35"
    assert corrector.correct_word("21.1Х.38", 90.0, None, "г.").corrected == "21.IX.38"
    assert corrector.correct_word("12.05.31", 90.0, None, "г.") is None
