"""Lexicon files: strict loading with clear errors, building from texts, identity that tracks content."""

import shutil

import pytest

from pipeline import lexicon
from pipeline.errors import LexiconError

from .conftest import ROOT, archocr


@pytest.fixture
def lex_copy(tmp_path):
    root = tmp_path / "dictionaries"
    shutil.copytree(ROOT / "dictionaries", root)
    return root


def _load(folder):
    lexicon.load.cache_clear()
    return lexicon.load(str(folder))


def test_default_lexicon_loads_with_period_vocabulary():
    lex = lexicon.load("default")
    assert lex.identity.startswith("default@")
    for word in ("политбюро", "троцкистской", "губкома", "оппозиции", "пленум"):
        assert lex.is_word(word), word
    assert lex.is_word("мѣсто") and lex.is_word("Россіи")  # pre-1918 spellings of real words
    assert lex.frequency("гдѣ") == lex.frequency("где") > 0
    assert not lex.is_word("щкола")
    assert "ЦКК" in lex.abbreviations and "тов." in lex.dotted and "РГАСПИ" in lex.citations


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "words.tsv").unlink(), "missing"),
        (lambda f: (f / "words.tsv").write_text("# only a comment\n"), "empty"),
        (lambda f: (f / "words.tsv").write_bytes("слово\t3\n".encode("cp1251")), "not UTF-8"),
        (lambda f: (f / "words.tsv").write_bytes(b"\xef\xbb\xbf" + "слово\t3\n".encode()), "byte-order mark"),
        (lambda f: (f / "words.tsv").write_text("слово\t3\nплохая строка\n"), "line 2"),
        (lambda f: (f / "bigrams.tsv").write_text("одно\t3\n"), "line 1"),
    ],
)
def test_broken_lexicon_files_are_clear_errors(lex_copy, damage, message):
    folder = lex_copy / "default"
    damage(folder)
    with pytest.raises(LexiconError, match=message) as info:
        _load(folder)
    assert str(folder) in str(info.value)


def test_confusion_with_an_unknown_flag_is_a_clear_error(lex_copy):
    confusions = lex_copy / "common" / "confusions.txt"
    confusions.write_text(confusions.read_text(encoding="utf-8") + "б\tѣ\t0.4\tsometimes\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="fourth column") as info:
        _load(lex_copy / "default")
    assert str(confusions) in str(info.value)


def test_missing_lexicon_name_is_an_error_and_run_refuses(tmp_path):
    lexicon.load.cache_clear()
    with pytest.raises(LexiconError, match="no lexicon named"):
        lexicon.load("no-such-collection")
    result = archocr(
        "run",
        str(ROOT / "scans" / "stalin-conference-1925.jpg"),
        "--out",
        str(tmp_path),
        "--serial",
        "--lexicon",
        "no-such-collection",
    )
    assert result.returncode != 0 and "no-such-collection" in result.stderr


def test_identity_changes_with_content(lex_copy):
    folder = lex_copy / "default"
    before = _load(folder).identity
    with (lex_copy / "common" / "abbreviations.txt").open("a", encoding="utf-8") as fh:
        fh.write("НКРКИ\n")
    after = _load(folder)
    assert after.identity != before and "НКРКИ" in after.abbreviations


def test_build_joins_line_end_hyphens_only_into_words(tmp_path, monkeypatch):
    monkeypatch.setattr(lexicon, "DICTIONARIES", tmp_path)
    text = (
        "Под руко-\nводством партии и российско-\nамериканского торга пятилетки18 выполнены.\n"
        "17\nТроцкий писал Троцкий отвечал Зиновьев и Зиновьев\n"
    )
    folder = lexicon.build("test", [("inline", text)], "test lexicon")
    words = dict(line.split("\t") for line in (folder / "words.tsv").read_text().splitlines()[1:])
    assert "руководством" in words and "руко" not in words
    assert "российско-американского" in words
    assert "пятилетки" in words and "17" not in words
    names = (folder / "names.txt").read_text()
    assert "Зиновьев" in names


def test_lexicon_cli_info_and_build(tmp_path):
    info = archocr("lexicon", "info", "default")
    assert info.returncode == 0 and '"words"' in info.stdout
    source = tmp_path / "texts.txt"
    source.write_text("Протокол заседания губкома. Слушали доклад тов. Иванова.\n", encoding="utf-8")
    folder = tmp_path / "collection"
    result = archocr("lexicon", "build", str(source), "--name", str(folder))
    assert result.returncode == 0, result.stderr
    assert (folder / "words.tsv").is_file()
