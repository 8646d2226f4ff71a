"""The period lexicon: build it from texts, load it (strictly), and answer "is this a word of the period?".

A lexicon is a folder `dictionaries/<name>/` with
  - `words.tsv`   word<TAB>count, lower case, ё folded to е: the vocabulary of the period's own texts,
  - `names.txt`   personal and place names of the period, as spelt (one per line),
  - `lexicon.json` its name, description and what it was built from,
plus the curated lists every lexicon shares, in `dictionaries/common/` (abbreviations, dotted
abbreviations, archival citation tokens, OCR confusions). Everything is text and readable; the only
derived data (SymSpell's delete index) is cached under ~/.cache/archocr, keyed by the lexicon's content
hash, and rebuilt when missing. General Russian comes from pymorphy3's OpenCorpora dictionary, which
knows every inflected form of ~390k lemmas.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pymorphy3
from symspellpy import SymSpell

from .errors import LexiconError
from .files import atomic_write


def dictionaries_folder() -> Path:
    """Where the lexicons live: $ARCHOCR_DICTIONARIES when set; else the copy an installed archocr
    carries inside its package (pipeline/dictionaries/, put there from dictionaries/ when the wheel is
    built); else the checkout's own dictionaries/ (editable installs and running from the source tree)."""
    configured = os.environ.get("ARCHOCR_DICTIONARIES")
    if configured:
        return Path(configured)
    packaged = importlib.resources.files("pipeline").joinpath("dictionaries")
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "dictionaries"


DICTIONARIES = dictionaries_folder()
COMMON = "common"
COMMON_LISTS = ("abbreviations.txt", "dotted.txt", "citations.txt", "confusions.txt")
MAX_EDIT = 2
REVIEWED_CONFUSIONS = "confusions.txt"  # optional in a collection's folder, same format as common's
PREFIX = 7

_WORD = re.compile(r"[А-Яа-яЁёѢѣІіЇїѲѳѴѵA-Za-z]+(?:-[А-Яа-яЁёѢѣІіЇїѲѳѴѵ]+)*")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CYRILLIC_LETTER = re.compile(r"[А-Яа-яЁёѢѣІіЇїѲѳѴѵ]")
_PREREFORM = str.maketrans(
    {"ѣ": "е", "Ѣ": "Е", "і": "и", "І": "И", "ї": "и", "Ї": "И", "ѳ": "ф", "Ѳ": "Ф", "ѵ": "и", "Ѵ": "И"}
)
_CONSONANT_END_HARD_SIGN = re.compile(r"(?<=[бвгджзклмнпрстфхцчшщ])ъ$")


def fold(word: str) -> str:
    """Lexicon key: lower case, ё as е (most printed sources of the period do not mark ё)."""
    return word.lower().replace("ё", "е")


def modernise_spelling(word: str) -> str:
    """Pre-1918 letters to modern ones: ѣ→е, і→и, ѳ→ф, ѵ→и, final ъ after a consonant dropped."""
    return _CONSONANT_END_HARD_SIGN.sub("", word.translate(_PREREFORM))


def has_prereform_letters(word: str) -> bool:
    return word != modernise_spelling(word)


@dataclass(frozen=True)
class Confusion:
    seen: str  # what OCR printed
    meant: str  # what the page says
    cost: float
    prereform: bool = False  # only on pages in the pre-1918 orthography (ѣ read as Б, $, ф …)


@dataclass
class Lexicon:
    name: str
    version: str  # short hash of every file's content: changes whenever any list changes
    words: dict[str, int]
    bigrams: dict[str, int]  # "first second" (folded) -> count
    names: set[str]  # folded
    abbreviations: set[str]  # exact case: ЦК, ВКП(б), губком
    dotted: set[str]  # folded, with the dot: тов., т., быв.
    citations: set[str]  # exact case, with any dot: РГАСПИ, Ф., Оп.
    confusions: tuple[Confusion, ...]
    folder: Path
    morph: pymorphy3.MorphAnalyzer = field(repr=False, default=None)  # type: ignore[assignment]
    _symspell: SymSpell | None = field(repr=False, default=None)

    @property
    def identity(self) -> str:
        return f"{self.name}@{self.version}"

    def frequency(self, word: str) -> int:
        """Count in the period's texts; a pre-1918 spelling counts as its modern form (гдѣ as где)."""
        key = fold(word)
        count = self.words.get(key, 0)
        if not count and has_prereform_letters(key):
            count = self.words.get(modernise_spelling(key), 0)
        return count

    def bigram(self, first: str, second: str) -> int:
        return self.bigrams.get(f"{fold(first)} {fold(second)}", 0)

    def is_word(self, word: str) -> bool:
        """A word of the period: in the corpus vocabulary, a name, or any form pymorphy3 knows;
        pre-1918 spellings count when their modern spelling does."""
        key = fold(word)
        if key in self.words or key in self.names:
            return True
        if has_prereform_letters(key):
            key = modernise_spelling(key)
            if key in self.words or key in self.names:
                return True
        if key.endswith(("аго", "яго")) and len(key) > 4 and not _known(self.morph, key):
            # Pre-1918 adjective endings: новаго, синяго are нового, синего.
            return _known(self.morph, key[:-3] + ("ого" if key.endswith("аго") else "его"))
        return bool(key) and _known(self.morph, key)

    def is_protected(self, token: str) -> bool:
        """Abbreviations, archival citations and names: never changed by the corrector."""
        return (
            token in self.abbreviations
            or token in self.citations
            or fold(token) in self.dotted
            or fold(token.rstrip(".")) in self.names
        )

    @property
    def symspell(self) -> SymSpell:
        if self._symspell is None:
            self._symspell = _load_symspell(self)
        return self._symspell


def _known(morph: pymorphy3.MorphAnalyzer, key: str) -> bool:
    if "-" in key:
        return all(part and morph.word_is_known(part) for part in key.split("-"))
    return morph.word_is_known(key)


# --- loading ------------------------------------------------------------------------------------------


def _read_lines(path: Path, allow_empty: bool = False) -> list[tuple[int, str]]:
    """(line number, text) of a list file, comments (#) and blank lines skipped; strict about encoding."""
    if not path.is_file():
        raise LexiconError("lexicon file is missing", path=str(path))
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        raise LexiconError(
            "starts with a byte-order mark (BOM); save it as UTF-8 without BOM", path=str(path)
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LexiconError(f"line {line}: not UTF-8 (byte {data[exc.start]:#04x})", path=str(path)) from exc
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append((number, unicodedata.normalize("NFC", stripped)))
    if not lines and not allow_empty:
        raise LexiconError("lexicon file is empty", path=str(path))
    return lines


def _read_words(path: Path) -> dict[str, int]:
    words: dict[str, int] = {}
    for number, line in _read_lines(path):
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].isdigit() or not parts[0] or " " in parts[0]:
            raise LexiconError(f"line {number}: expected 'word<TAB>count', got {line[:60]!r}", path=str(path))
        words[fold(parts[0])] = words.get(fold(parts[0]), 0) + int(parts[1])
    return words


def _read_bigrams(path: Path) -> dict[str, int]:
    pairs: dict[str, int] = {}
    for number, line in _read_lines(path, allow_empty=True):  # a small collection may repeat no pair
        pair, _, count = line.partition("\t")
        if pair.count(" ") != 1 or not count.isdigit():
            raise LexiconError(
                f"line {number}: expected 'first second<TAB>count', got {line[:60]!r}", path=str(path)
            )
        pairs[pair] = int(count)
    return pairs


def _read_confusions(path: Path) -> tuple[Confusion, ...]:
    confusions = []
    for number, line in _read_lines(path):
        parts = line.split("\t")
        try:
            seen, meant, cost = parts[0], parts[1], float(parts[2])
        except (IndexError, ValueError) as exc:
            raise LexiconError(
                f"line {number}: expected 'seen<TAB>meant<TAB>cost', got {line[:60]!r}", path=str(path)
            ) from exc
        flag = parts[3] if len(parts) > 3 else ""
        if flag not in ("", "both", "pre1918"):
            raise LexiconError(
                f"line {number}: the fourth column may be 'both' or 'pre1918', got {flag[:20]!r}",
                path=str(path),
            )
        confusions.append(Confusion(seen, meant, cost, prereform=flag == "pre1918"))
        if flag == "both":
            confusions.append(Confusion(meant, seen, cost))
    return tuple(confusions)


def _first_column(path: Path, allow_empty: bool = False) -> set[str]:
    return {line.split("\t")[0].strip() for _, line in _read_lines(path, allow_empty)}


def _content_hash(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def lexicon_folder(name: str) -> Path:
    path = Path(name)
    return path if path.is_dir() or os.sep in name else DICTIONARIES / name


def _files(name: str) -> tuple[Path, list[Path], list[Path]]:
    folder = lexicon_folder(name)
    if not folder.is_dir():
        raise LexiconError(f"no lexicon named {name!r} (looked for the folder {folder})", path=str(folder))
    common = folder.parent / COMMON
    if not common.is_dir():
        common = DICTIONARIES / COMMON  # a collection's lexicon kept elsewhere shares archocr's lists
    own = [folder / "words.tsv", folder / "names.txt", folder / "bigrams.tsv"]
    if (folder / REVIEWED_CONFUSIONS).is_file():  # misreadings the collection's reviewers confirmed
        own.append(folder / REVIEWED_CONFUSIONS)
    return folder, own, [common / n for n in COMMON_LISTS]


def identity(name: str = "default") -> str:
    """`name@hash` of a lexicon from its files' bytes, without parsing them (cheap: for run keys)."""
    folder, own, shared = _files(name)
    for path in own + shared:
        if not path.is_file():
            raise LexiconError("lexicon file is missing", path=str(path))
    meta = folder / "lexicon.json"
    label = (
        json.loads(meta.read_text(encoding="utf-8")).get("name", folder.name)
        if meta.is_file()
        else folder.name
    )
    return f"{label}@{_content_hash(own + shared)}"


@functools.lru_cache(maxsize=4)
def load(name: str = "default") -> Lexicon:
    """Load a lexicon by name (a folder under dictionaries/) or path. Raises LexiconError when any part
    is missing, empty or malformed: a corrector without its lexicon must never run silently."""
    folder, own, shared = _files(name)
    common = shared[0].parent
    meta_path = folder / "lexicon.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    except ValueError as exc:
        raise LexiconError(f"not valid JSON: {exc}", path=str(meta_path)) from exc
    words = _read_words(own[0])
    lexicon = Lexicon(
        name=meta.get("name", folder.name),
        version=_content_hash(own + shared),
        words=words,
        bigrams=_read_bigrams(own[2]),
        names={fold(n) for n in _first_column(own[1], allow_empty=True)},
        abbreviations=_first_column(common / "abbreviations.txt"),
        dotted={fold(d) for d in _first_column(common / "dotted.txt")},
        citations=_first_column(common / "citations.txt"),
        confusions=_read_confusions(common / "confusions.txt")
        + (_read_confusions(own[3]) if len(own) > 3 else ()),
        folder=folder,
        morph=_morph(),
    )
    return lexicon


@functools.lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "archocr"


def _load_symspell(lexicon: Lexicon) -> SymSpell:
    """SymSpell's delete index over the lexicon's words, from the cache or built (and cached) now."""
    sym = SymSpell(max_dictionary_edit_distance=MAX_EDIT, prefix_length=PREFIX)
    cached = cache_dir() / f"symspell-{lexicon.name}-{lexicon.version}.pickle"
    if cached.is_file():
        try:
            sym.load_pickle(cached)
            return sym
        except Exception:  # a stale or damaged cache is rebuilt, never trusted
            cached.unlink(missing_ok=True)
            sym = SymSpell(max_dictionary_edit_distance=MAX_EDIT, prefix_length=PREFIX)
    for word, count in lexicon.words.items():
        if len(word) > 1:
            sym.create_dictionary_entry(word, count)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.part")
    sym.save_pickle(tmp)
    os.replace(tmp, cached)
    return sym


# --- building -----------------------------------------------------------------------------------------

_LINE_END_HYPHEN = re.compile(r"(\w+)[-\u00ad]\s*\n\s*(\w+)")
_FOOTNOTE_DIGITS = re.compile(r"(?<=[а-яё])\d{1,3}(?=[\s.,;:»)]|$)")
_PAGE_NUMBER_LINE = re.compile(r"^\s*\d{1,4}\s*$", re.MULTILINE)


def tokens_of(text: str, morph: pymorphy3.MorphAnalyzer | None = None) -> list[str]:
    """The folded words of a source text, cleaned the way printed editions need: page numbers dropped,
    footnote digits unglued, words split at a printed line end joined only when the joined form is a
    word (`руко-`/`водством`), otherwise kept with their hyphen (`российско-`/`американского`)."""
    morph = morph or _morph()
    text = unicodedata.normalize("NFC", text)
    text = _PAGE_NUMBER_LINE.sub("", text)
    text = _FOOTNOTE_DIGITS.sub("", text)
    plain = Counter(fold(w) for w in _WORD.findall(_LINE_END_HYPHEN.sub(" ", text)))

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        joined = fold(left + right)
        if joined in plain or morph.word_is_known(joined):
            return left + right
        return f"{left}-{right}"

    words = _WORD.findall(_LINE_END_HYPHEN.sub(join, text))
    # A token mixing Latin and Cyrillic letters (ХV, Baш) is a typing or OCR artefact, not a word.
    return [fold(w) for w in words if not (_LATIN_LETTER.search(w) and _CYRILLIC_LETTER.search(w))]


def words_of(text: str, morph: pymorphy3.MorphAnalyzer | None = None) -> Counter[str]:
    return Counter(tokens_of(text, morph))


def likely_names(
    counts: Counter[str],
    texts: Iterable[str],
    morph: pymorphy3.MorphAnalyzer | None = None,
    min_count: int = 2,
) -> list[str]:
    """Capitalised words that pymorphy3 tags as surnames, first names or patronymics, or does not know
    at all, seen at least `min_count` times mid-sentence: the period's people (and some places)."""
    morph = morph or _morph()
    capitalised: Counter[str] = Counter()
    for text in texts:
        for match in re.finditer(r"(?<=[а-яё,;:]\s)([А-ЯЁ][а-яё]{2,})", text):
            capitalised[match.group(1)] += 1
    names = []
    for word, count in capitalised.items():
        if count < min_count:
            continue
        parses = morph.parse(word)
        tags = {g for p in parses[:2] for g in ("Surn", "Name", "Patr", "Geox") if g in p.tag}
        if tags or not morph.word_is_known(word.lower()):
            names.append(word)
    return sorted(set(names))


def build(name: str, texts: list[tuple[str, str]], description: str, min_count: int = 1) -> Path:
    """Write `dictionaries/<name>/` (words.tsv, names.txt, lexicon.json) from (source label, text) pairs."""
    if not texts or not any(t.strip() for _, t in texts):
        raise LexiconError("no text to build a lexicon from")
    morph = _morph()
    counts: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for _, text in texts:
        tokens = tokens_of(text, morph)
        counts.update(tokens)
        pairs.update(zip(tokens, tokens[1:], strict=False))
    folder = lexicon_folder(name)
    one_letter_words = {"и", "в", "к", "с", "о", "у", "я", "а"}
    rows = sorted(
        (w, c) for w, c in counts.items() if (c >= min_count and len(w) > 1) or w in one_letter_words
    )
    atomic_write(
        folder / "words.tsv",
        "# word<TAB>count: the vocabulary of the source texts (lower case, ё as е)\n"
        + "".join(f"{w}\t{c}\n" for w, c in rows),
    )
    atomic_write(
        folder / "bigrams.tsv",
        "# first second<TAB>count: word pairs seen at least twice in the source texts\n"
        + "".join(f"{a} {b}\t{c}\n" for (a, b), c in sorted(pairs.items()) if c >= 2),
    )
    names = likely_names(counts, (t for _, t in texts), morph)
    atomic_write(
        folder / "names.txt",
        "# Personal and place names seen capitalised mid-sentence at least twice in the sources\n"
        + "".join(f"{n}\n" for n in names),
    )
    meta = {
        "name": name,
        "description": description,
        "sources": [label for label, _ in texts],
        "words": len(rows),
        "names": len(names),
    }
    atomic_write(folder / "lexicon.json", json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    load.cache_clear()
    return folder


def add_reviewed(
    name: str,
    words: Counter[str],
    names: Iterable[str],
    confusions: Counter[tuple[str, str]],
    base: str = "default",
) -> Path:
    """Merge what reviewers confirmed into the collection lexicon `name` (made from `base` if it does not
    exist yet): words into words.tsv (counts added), names into names.txt, confirmed misreadings into the
    collection's own confusions.txt (cheaper the more often confirmed). Every file written atomically."""
    folder = lexicon_folder(name)
    if not (folder / "words.tsv").is_file():
        source = lexicon_folder(base)
        for file in ("words.tsv", "bigrams.tsv", "names.txt"):
            atomic_write(folder / file, (source / file).read_bytes())
        meta = {"name": folder.name, "description": f"collection lexicon made from {base} by review"}
        atomic_write(folder / "lexicon.json", json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    counts = _read_words(folder / "words.tsv")
    for word, n in words.items():
        counts[fold(word)] = counts.get(fold(word), 0) + n
    atomic_write(
        folder / "words.tsv",
        "# word<TAB>count: the vocabulary of the source texts (lower case, ё as е), with reviewed words\n"
        + "".join(f"{w}\t{c}\n" for w, c in sorted(counts.items())),
    )
    known_names = [line for _, line in _read_lines(folder / "names.txt", allow_empty=True)]
    new_names = sorted(set(names) - set(known_names))
    if new_names:
        atomic_write(
            folder / "names.txt",
            "# Personal and place names (from the sources, and confirmed by reviewers)\n"
            + "".join(f"{n}\n" for n in [*known_names, *new_names]),
        )
    if confusions:
        path = folder / REVIEWED_CONFUSIONS
        seen_before: Counter[tuple[str, str]] = Counter()
        if path.is_file():
            for _, line in _read_lines(path, allow_empty=True):
                parts = line.split("\t")
                seen_before[(parts[0], parts[1])] += int(parts[4]) if len(parts) > 4 else 1
        seen_before.update(confusions)
        atomic_write(
            path,
            "# seen<TAB>meant<TAB>cost<TAB><TAB>times: misreadings reviewers confirmed in this collection\n"
            + "".join(
                f"{a}\t{b}\t{max(0.1, 0.5 / n):.2f}\t\t{n}\n" for (a, b), n in sorted(seen_before.items())
            ),
        )
    load.cache_clear()
    return folder
