"""Score an archocr run on archival pages against their truth (`archocr synth --layout archival`).

    from benchmarks.archival_eval import evaluate_run, summarise, print_summary
    pages = evaluate_run(Path("out/run"), Path("data/archival-tune"))
    print_summary(summarise(pages))

or `python -m benchmarks.archival_eval RUN_DIR TRUTH_DIR [--json FILE]`.

For every `<stem>.gt.txt` + `<stem>.zones.json` in the truth folder it reads the run's
`<stem>/0001.txt` and `<stem>/0001.json` and measures:
  - CER/WER of the document's text (raw and folded, as `archocr eval`);
  - furniture leakage: words of stamps, handwriting, folio and page numbers that the output has and the
    ground truth does not (an output word beyond the truth's own count of it, equal to a furniture word
    or within one edit in five characters of it, or a number of 3+ digits one digit off);
  - zones: per type, how many of the truth's zones a predicted zone of the same type finds (IoU >= 0.5,
    or the predicted box's centre inside the truth box, or the truth's centre inside a predicted box at
    most 4x its size), and how many predicted zones of each type hit a truth zone of that type;
    predicted boxes are mapped from the cleaned image to the scan by the page's transform;
  - where the errors lie: the text's characters and their errors in the lines a stamp or handwriting
    crosses and in the other lines (`errors_by_line_kind`: words aligned by edit distance, each
    changed run's character edits shared between the lines its truth words come from);
  - seconds per stage from the page record.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from pipeline import evaluate
from pipeline.model import page_from_dict

LEAK_TYPES = ("stamp", "handwriting", "folio", "page_number")
OVER_TYPE = ("stamp", "handwriting")  # furniture that lies over the document's lines
TARGET_TYPES = ("stamp", "handwriting", "folio")  # the "found with the right type" target
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class TruthPage:
    stem: str
    text: str
    zones: tuple[dict[str, Any], ...]
    params: dict[str, Any]


@dataclass
class PageEval:
    stem: str
    page_type: str
    degradations: tuple[str, ...]
    score: evaluate.Score
    folded: evaluate.Score
    leaks: list[tuple[str, str, str]]  # (zone type, furniture word, output word)
    extra_words: int = 0  # output words beyond the truth's count of them: misreadings and furniture alike
    zones: dict[str, list[int]] = field(default_factory=dict)  # type -> [truth, found, predicted, hits]
    seconds: dict[str, float] = field(default_factory=dict)
    missing: bool = False
    # (errors, characters) in the lines a stamp or handwriting crosses, then in the other lines
    by_line_kind: tuple[tuple[float, int], tuple[float, int]] = ((0.0, 0), (0.0, 0))


def load_truth(truth_dir: Path) -> list[TruthPage]:
    pages = []
    for gt in sorted(truth_dir.glob("*.gt.txt")):
        stem = gt.name[: -len(".gt.txt")]
        zones_path = gt.with_name(stem + ".zones.json")
        params_path = gt.with_name(stem + ".json")
        if not zones_path.is_file():
            raise FileNotFoundError(
                f"{zones_path}: the page's zones are missing (made by another generator?)"
            )
        pages.append(
            TruthPage(
                stem,
                gt.read_text(encoding="utf-8"),
                tuple(json.loads(zones_path.read_text(encoding="utf-8"))),
                json.loads(params_path.read_text(encoding="utf-8")) if params_path.is_file() else {},
            )
        )
    return pages


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).lower().replace("ё", "е")
    return _WORD.findall(text)


def furniture_leaks(truth_text: str, output_text: str, zones: list[dict] | tuple[dict, ...]) -> list[tuple]:
    """(zone type, furniture word, output word) for each furniture word found in the output beyond the
    truth's own occurrences of it."""
    extra = list((Counter(words(output_text)) - Counter(words(truth_text))).elements())
    leaks = []
    for zone in zones:
        if zone["type"] not in LEAK_TYPES:
            continue
        for word in words(zone["text"]):
            if len(word) < 2:
                continue
            match = next((t for t in extra if t == word), None)
            if match is None and (len(word) >= 5 or (word.isdigit() and len(word) >= 3)):
                limit = max(1, len(word) // 5)  # a folio 308 read as 305 has still leaked
                match = next((t for t in extra if Levenshtein.distance(t, word) <= limit), None)
            if match is not None:
                extra.remove(match)
                leaks.append((zone["type"], word, match))
    return leaks


def crossed_lines(zones: list[dict] | tuple[dict, ...]) -> set[str]:
    """The document's lines (normalised text) that a stamp's or a handwriting zone's box overlaps."""
    over = [z["box"] for z in zones if z["type"] in OVER_TYPE]
    crossed = set()
    for zone in zones:
        for line in zone.get("lines", ()) if zone.get("in_text") else ():
            if any(_iou(line["box"], box) > 0 for box in over):
                crossed.add(evaluate.normalise(line["text"]))
    return crossed


def errors_by_line_kind(
    truth_text: str, output_text: str, crossed: set[str]
) -> tuple[tuple[float, int], tuple[float, int]]:
    """((errors, characters) in the lines of `crossed`, the same in the other lines) of the truth text.
    The words are aligned by edit distance; each changed run's character edits are shared between the
    two kinds of line as its truth words' characters are (a run that only adds words goes, with its
    space, to the line of the truth word before it), and a line's characters are its own and the space
    after it. The two parts add up to the page's characters, and to a little more than its character
    errors: words aligned first, a run of changed words costs at least what the characters' own
    alignment finds."""
    kinds: list[bool] = []  # one per truth word: whether its line is crossed
    truth_words: list[str] = []
    for line in truth_text.splitlines():
        line = evaluate.normalise(line)
        if line:
            line_words = line.split()
            truth_words += line_words
            kinds += [line in crossed] * len(line_words)
    chars = [0, 0]  # crossed, other
    for word, kind in zip(truth_words, kinds, strict=True):
        chars[0 if kind else 1] += len(word) + 1
    out_words = evaluate.normalise(output_text).split()
    errors = [0.0, 0.0]
    for op in Levenshtein.opcodes(truth_words, out_words):
        if op.tag == "equal":
            continue
        run = range(op.src_start, op.src_end)
        edits = Levenshtein.distance(
            " ".join(truth_words[op.src_start : op.src_end]), " ".join(out_words[op.dest_start : op.dest_end])
        )
        if not run:  # words added: on the line before them (or the first), with their space
            kind = bool(kinds) and kinds[max(0, op.src_start - 1)]
            errors[0 if kind else 1] += edits + 1
            continue
        weight = [0, 0]
        for i in run:
            weight[0 if kinds[i] else 1] += len(truth_words[i]) + 1
        for k in (0, 1):
            errors[k] += edits * weight[k] / (weight[0] + weight[1])
    return (errors[0], chars[0]), (errors[1], chars[1])


def _iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _inside(point: tuple[float, float], box: list[float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _area(box: list[float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def boxes_match(truth: list[float], predicted: list[float]) -> bool:
    if _iou(truth, predicted) >= 0.5:
        return True
    if _inside(((predicted[0] + predicted[2]) / 2, (predicted[1] + predicted[3]) / 2), truth):
        return True
    centre = ((truth[0] + truth[2]) / 2, (truth[1] + truth[3]) / 2)
    return _inside(centre, predicted) and _area(predicted) <= 4 * max(_area(truth), 1.0)


def score_zones(truth: list[dict] | tuple[dict, ...], predicted: list[tuple[str, list[float]]]) -> dict:
    """type -> [truth zones, found by a predicted zone of that type, predicted zones, predicted that hit
    a truth zone of their type]. `predicted` holds (type, box in scan pixels)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for zone in truth:
        counts[zone["type"]][0] += 1
        if any(t == zone["type"] and boxes_match(zone["box"], box) for t, box in predicted):
            counts[zone["type"]][1] += 1
    for type_, box in predicted:
        counts[type_][2] += 1
        if any(z["type"] == type_ and boxes_match(z["box"], box) for z in truth):
            counts[type_][3] += 1
    return dict(counts)


def predicted_zones(page_record: dict[str, Any]) -> list[tuple[str, list[float]]]:
    """The zones of an NNNN.json page, their boxes mapped to the scan's pixels by the page transform."""
    page = page_from_dict(page_record.get("page", page_record))
    (a, b, c), (d, e, f) = page.transform
    out = []
    for zone in page.zones:
        box = zone.bbox
        corners = [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
        xs = [a * x + b * y + c for x, y in corners]
        ys = [d * x + e * y + f for x, y in corners]
        out.append((zone.type, [min(xs), min(ys), max(xs), max(ys)]))
    return out


def evaluate_page(
    truth: TruthPage,
    text: str | None,
    zones: list[tuple[str, list[float]]] | None = None,
    seconds: dict[str, float] | None = None,
) -> PageEval:
    """One page's figures; `text` None means the run has no output for it (everything counts wrong)."""
    hypothesis = text or ""
    return PageEval(
        stem=truth.stem,
        page_type=truth.params.get("page_type", "?"),
        degradations=tuple(truth.params.get("degradations", ())),
        score=evaluate.score(truth.text, hypothesis),
        folded=evaluate.score(truth.text, hypothesis, fold=True),
        leaks=furniture_leaks(truth.text, hypothesis, truth.zones),
        extra_words=sum((Counter(words(hypothesis)) - Counter(words(truth.text))).values()),
        zones=score_zones(truth.zones, zones) if zones is not None else {},
        seconds=seconds or {},
        missing=text is None,
        by_line_kind=errors_by_line_kind(truth.text, hypothesis, crossed_lines(truth.zones)),
    )


def evaluate_run(run_dir: Path, truth_dir: Path) -> list[PageEval]:
    """Every truth page against `run_dir/<stem>/0001.txt` and `0001.json` of an `archocr run`."""
    results = []
    for truth in load_truth(truth_dir):
        out = run_dir / truth.stem
        text_path, record_path = out / "0001.txt", out / "0001.json"
        text = text_path.read_text(encoding="utf-8") if text_path.is_file() else None
        zones, seconds = None, None
        if record_path.is_file():
            record = json.loads(record_path.read_text(encoding="utf-8"))
            zones = predicted_zones(record)
            seconds = {k: float(v) for k, v in record.get("timings", {}).items()}
            # The layout stage's Tesseract calls (furniture, lines read again) are not archocr's own time.
            for step in record.get("page", {}).get("steps", ()):
                done = step.get("settings", {})
                furniture_ocr = float(done.get("furniture_ocr_seconds") or 0.0) + float(
                    done.get("reread_ocr_seconds") or 0.0
                )
                if step.get("name") == "layout" and furniture_ocr and "layout" in seconds:
                    seconds["furniture_ocr"] = furniture_ocr
                    seconds["layout"] = max(0.0, seconds["layout"] - furniture_ocr)
        results.append(evaluate_page(truth, text, zones, seconds))
    return results


def _ratio(found: float, total: float) -> float | None:
    return found / total if total else None


def summarise(pages: list[PageEval]) -> dict[str, Any]:
    """Totals, CER by page type and by degradation, leakage, zone recall/precision, seconds per stage."""
    total, folded = evaluate.EMPTY, evaluate.EMPTY
    by_type: dict[str, evaluate.Score] = defaultdict(lambda: evaluate.EMPTY)
    by_degradation: dict[str, evaluate.Score] = defaultdict(lambda: evaluate.EMPTY)
    zones: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    seconds: dict[str, float] = defaultdict(float)
    leak_types: Counter[str] = Counter()
    line_kinds = [[0.0, 0], [0.0, 0]]  # (errors, characters): crossed lines, other lines
    for p in pages:
        for kind, (errors, chars) in enumerate(p.by_line_kind):
            line_kinds[kind][0] += errors
            line_kinds[kind][1] += chars
        total, folded = total + p.score, folded + p.folded
        by_type[p.page_type] += p.score
        for d in p.degradations:
            by_degradation[d] += p.score
        for t, counts in p.zones.items():
            zones[t] = [x + y for x, y in zip(zones[t], counts, strict=True)]
        for k, v in p.seconds.items():
            seconds[k] += v
        leak_types.update(t for t, _, _ in p.leaks)
    n = max(len(pages), 1)
    target = [sum(zones[t][i] for t in TARGET_TYPES) for i in range(4)]
    return {
        "pages": len(pages),
        "missing": sum(p.missing for p in pages),
        "cer": total.cer,
        "wer": total.wer,
        "cer_folded": folded.cer,
        "wer_folded": folded.wer,
        "cer_by_page_type": {k: v.cer for k, v in sorted(by_type.items())},
        "wer_by_page_type": {k: v.wer for k, v in sorted(by_type.items())},
        "cer_by_degradation": {k: v.cer for k, v in sorted(by_degradation.items())},
        # Word-aligned CER of the lines a stamp or handwriting crosses and of the others, and the
        # crossed lines' share of the text's characters.
        "cer_crossed_lines": _ratio(*line_kinds[0]),
        "cer_other_lines": _ratio(*line_kinds[1]),
        "crossed_share": _ratio(line_kinds[0][1], line_kinds[0][1] + line_kinds[1][1]),
        "leaked_words_per_page": sum(len(p.leaks) for p in pages) / n,
        "extra_words_per_page": sum(p.extra_words for p in pages) / n,
        "leaked_words_by_zone_type": dict(leak_types),
        "zones": {
            t: {
                "truth": c[0],
                "recall": _ratio(c[1], c[0]),
                "predicted": c[2],
                "precision": _ratio(c[3], c[2]),
            }
            for t, c in sorted(zones.items())
        },
        "furniture_recall": _ratio(target[1], target[0]),
        "seconds_per_page": {k: v / n for k, v in sorted(seconds.items())},
        "page_cer": {p.stem: p.score.cer for p in pages},
    }


def print_summary(summary: dict[str, Any], title: str = "archival pages") -> None:
    from .common import pct, table

    table(
        f"{title}: {summary['pages']} pages",
        ["", "CER", "WER", "CER folded", "leaked words/page", "stamps+handwriting+folio found"],
        [
            [
                "all",
                pct(summary["cer"]),
                pct(summary["wer"]),
                pct(summary["cer_folded"]),
                f"{summary['leaked_words_per_page']:.2f}",
                "-" if summary["furniture_recall"] is None else pct(summary["furniture_recall"]),
            ]
        ],
    )
    table(
        "CER by page type",
        ["page type", "CER", "WER"],
        [[k, pct(v), pct(summary["wer_by_page_type"][k])] for k, v in summary["cer_by_page_type"].items()],
    )
    table(
        "zones (same type; IoU >= 0.5 or centre in box)",
        ["type", "truth", "recall", "predicted", "precision"],
        [
            [t, z["truth"], "-" if z["recall"] is None else pct(z["recall"]), z["predicted"]]
            + ["-" if z["precision"] is None else pct(z["precision"])]
            for t, z in summary["zones"].items()
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("truth_dir", type=Path)
    parser.add_argument("--json", type=Path, default=None, help="Also write the summary here.")
    args = parser.parse_args()
    summary = summarise(evaluate_run(args.run_dir, args.truth_dir))
    print_summary(summary, f"{args.run_dir} against {args.truth_dir}")
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
