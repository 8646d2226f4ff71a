"""What the decisions produce, all written atomically:

- `<document>/NNNN.reviewed.txt`: the page text with every `t` (transcript's reading) and `e` (typed
  reading) decision applied;
- `<document>/NNNN.reviewed.alto.xml` and `.reviewed.page.xml`: the run's ALTO and PAGE-XML with the
  reviewed readings, the OCR reading kept as an alternative and a processing step naming the reviewers
  and the time (the run's own files are read, never changed);
- `errata.csv` / `errata.json`: every `o` decision (the scan is right, the transcript wrong) with its
  offsets in the transcript file;
- `decisions.jsonl`: the whole history, one decision per line; `review-export.json`: what was written,
  and the orphaned decisions (their discrepancy is no longer in the run).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from .. import __version__
from ..files import atomic_write, atomic_write_json
from .run import Run, RunPage
from .store import Decision, Store

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
TEXT_CHANGING = ("t", "e")
ERRATA_FIELDS = (
    "document",
    "page",
    "transcript_start",
    "transcript_end",
    "transcript_text",
    "scan_reading",
    "kind",
    "reviewer",
    "time",
    "comment",
    "discrepancy",
)


def effective(store: Store) -> dict[str, Decision]:
    """The decision in force for every discrepancy that has one (undo taken into account)."""
    return {did: s.current for did, s in store.refresh().items() if s.current is not None}


def new_reading(d: dict[str, Any] | Decision, decision: Decision) -> str | None:
    """What the page text says after this decision, or None when the OCR reading stays."""
    if decision.action == "t":
        return d["transcript_text"] if isinstance(d, dict) else d.transcript_text
    if decision.action == "e":
        return decision.reading
    return None


def reviewed_text(text: str, changes: list[tuple[int, int, str, str]]) -> tuple[str, int]:
    """Apply (start, end, expected OCR text, new text) from the end backwards; skip any whose OCR text is
    no longer where it was (the page was rerun) or that overlaps one already applied. Returns the text
    and how many changes were skipped."""
    skipped = 0
    limit = len(text) + 1
    for start, end, expected, new in sorted(changes, reverse=True):
        if end > limit or text[start:end] != expected:
            skipped += 1
            continue
        text = text[:start] + new + text[end:]
        limit = start
    return text, skipped


def _box_key(box: dict[str, int]) -> tuple[int, int, int, int]:
    return (box["x0"], box["y0"], box["x1"], box["y1"])


def _join_words(words: list[str], ocr_text: str, new: str) -> str:
    """The words' text with the OCR reading replaced (whitespace of the reading folded as in the words)."""
    joined = " ".join(words)
    old = re.sub(r"\s+", " ", ocr_text).strip()
    if old and old in joined:
        return joined.replace(old, new.strip(), 1)
    return new.strip()


def _review_step_text(decisions: list[Decision]) -> tuple[str, str]:
    reviewers = sorted({d.reviewer for d in decisions})
    last = max((d.created for d in decisions), default=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    return ", ".join(reviewers), last


def review_alto(xml: bytes, changes: list[tuple[dict[str, Any], str]], decisions: list[Decision]) -> bytes:
    root = etree.fromstring(xml)
    ns = {"a": ALTO_NS}
    strings = {}
    for s in root.iterfind(".//a:String", ns):
        x, y = int(s.get("HPOS")), int(s.get("VPOS"))
        strings[(x, y, x + int(s.get("WIDTH")), y + int(s.get("HEIGHT")))] = s
    for d, new in changes:
        matched = [strings[k] for k in map(_box_key, d.get("word_boxes") or []) if k in strings]
        if not matched:
            continue
        first = matched[0]
        old = " ".join(s.get("CONTENT") for s in matched)
        first.set("CONTENT", _join_words([s.get("CONTENT") for s in matched], d["ocr_text"], new))
        alternative = etree.Element(f"{{{ALTO_NS}}}ALTERNATIVE", PURPOSE="OCR reading before review")
        alternative.text = old
        # ALTERNATIVE comes after any Shape and before any Glyph.
        glyph = first.find("a:Glyph", ns)
        if glyph is not None:
            glyph.addprevious(alternative)
        else:
            first.append(alternative)
        for other in matched[1:]:
            other.set("CONTENT", "")
    description = root.find("a:Description", ns)
    if description is not None and decisions:
        reviewers, when = _review_step_text(decisions)
        E = ElementMaker(namespace=ALTO_NS)  # noqa: N806
        description.append(
            E.Processing(
                {"ID": "review"},
                E.processingCategory("contentModification"),
                E.processingDateTime(when),
                E.processingAgency(reviewers),
                E.processingStepDescription(
                    f"review: {len(changes)} reading(s) changed by {len(decisions)} decision(s) "
                    f"of {reviewers}"
                ),
                E.processingSoftware(E.softwareName("archocr review"), E.softwareVersion(__version__)),
            )
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _page_box(word: etree._Element) -> tuple[int, int, int, int] | None:
    coords = word.find(f"{{{PAGE_NS}}}Coords")
    if coords is None:
        return None
    xs, ys = [], []
    for point in coords.get("points", "").split():
        x, y = point.split(",")
        xs.append(int(x))
        ys.append(int(y))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def review_page_xml(
    xml: bytes, changes: list[tuple[dict[str, Any], str]], decisions: list[Decision]
) -> bytes:
    root = etree.fromstring(xml)
    q = f"{{{PAGE_NS}}}"
    words = {}
    for w in root.iter(f"{q}Word"):
        box = _page_box(w)
        if box is not None:
            words[box] = w

    def first_equiv(el: etree._Element) -> etree._Element | None:
        equivs = el.findall(f"{q}TextEquiv")
        return min(equivs, key=lambda e: int(e.get("index", "1"))) if equivs else None

    def text_of(el: etree._Element) -> str:
        eq = first_equiv(el)
        return eq.findtext(f"{q}Unicode", default="") if eq is not None else ""

    touched_lines = set()
    for d, new in changes:
        matched = [words[k] for k in map(_box_key, d.get("word_boxes") or []) if k in words]
        if not matched:
            continue
        texts = [text_of(w) for w in matched]
        for i, w in enumerate(matched):
            equivs = w.findall(f"{q}TextEquiv")
            top = first_equiv(w)
            for e in equivs:
                e.set("index", str(int(e.get("index", "1")) + 1))
            reviewed = etree.Element(f"{q}TextEquiv", index="1", comments="reviewed")
            etree.SubElement(reviewed, f"{q}Unicode").text = (
                _join_words(texts, d["ocr_text"], new) if i == 0 else ""
            )
            top.addprevious(reviewed)
            if top.get("comments") is None:
                top.set("comments", "OCR reading before review")
            touched_lines.add(w.getparent())
    for line in touched_lines:  # the line's and its region's own text follow their words
        line_equiv = line.find(f"{q}TextEquiv")
        if line_equiv is not None:
            words_text = [text_of(w) for w in line.findall(f"{q}Word")]
            line_equiv.find(f"{q}Unicode").text = " ".join(t for t in words_text if t)
        region = line.getparent()
        region_equiv = region.find(f"{q}TextEquiv")
        if region_equiv is not None:
            region_equiv.find(f"{q}Unicode").text = "\n".join(
                ln.findtext(f"{q}TextEquiv/{q}Unicode", default="") for ln in region.findall(f"{q}TextLine")
            )
    metadata = root.find(f"{q}Metadata")
    if metadata is not None and decisions:
        reviewers, when = _review_step_text(decisions)
        last_change = metadata.find(f"{q}LastChange")
        if last_change is not None:
            last_change.text = when
        etree.SubElement(
            metadata,
            f"{q}MetadataItem",
            type="processingStep",
            name="review",
            value=f"archocr review {__version__}; {len(changes)} reading(s) changed; reviewers: {reviewers}",
            date=when,
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_page(page: RunPage, decisions: dict[str, Decision]) -> dict[str, Any]:
    """Write one page's reviewed text, ALTO and PAGE-XML; returns what was done."""
    mine = [(d, decisions[d["id"]]) for d in page.discrepancies if d["id"] in decisions]
    changes = [(d, new) for d, dec in mine if (new := new_reading(d, dec)) is not None]
    text, skipped = reviewed_text(
        page.text, [(d["ocr_start"], d["ocr_end"], d["ocr_text"], n) for d, n in changes]
    )
    stem = f"{page.number:04d}"
    atomic_write(page.folder / f"{stem}.reviewed.txt", text)
    used = [dec for _, dec in mine]
    for suffix, rewrite in (("alto.xml", review_alto), ("page.xml", review_page_xml)):
        source = page.folder / f"{stem}.{suffix}"
        if source.is_file():
            atomic_write(
                page.folder / f"{stem}.reviewed.{suffix}", rewrite(source.read_bytes(), changes, used)
            )
    return {"changed": len(changes) - skipped, "skipped": skipped}


def errata_rows(run: Run, decisions: dict[str, Decision]) -> list[dict[str, Any]]:
    rows = []
    for did, dec in decisions.items():
        if dec.action != "o":
            continue
        d = run.discrepancies.get(did)
        source = d if d is not None else dataclasses.asdict(dec)
        rows.append(
            {
                "document": source["document"],
                "page": source["page"],
                "transcript_start": source["transcript_start"],
                "transcript_end": source["transcript_end"],
                "transcript_text": source["transcript_text"],
                "scan_reading": source["ocr_text"],
                "kind": source["kind"],
                "reviewer": dec.reviewer,
                "time": dec.created,
                "comment": dec.comment,
                "discrepancy": did,
            }
        )
    return sorted(rows, key=lambda r: (r["transcript_start"], r["document"], r["page"]))


def export(run: Run, store: Store) -> dict[str, Any]:
    decisions = effective(store)
    pages = changed = skipped = 0
    for page in run.pages.values():
        result = export_page(page, decisions)
        pages += 1
        changed += result["changed"]
        skipped += result["skipped"]
    errata = errata_rows(run, decisions)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=ERRATA_FIELDS)
    writer.writeheader()
    writer.writerows(errata)
    atomic_write(run.folder / "errata.csv", buf.getvalue())
    atomic_write_json(
        run.folder / "errata.json",
        {"transcript": run.transcript_name, "encoding": run.transcript_encoding, "errata": errata},
    )
    history = store.history()
    atomic_write(
        run.folder / "decisions.jsonl",
        "".join(json.dumps(dataclasses.asdict(h), ensure_ascii=False) + "\n" for h in history),
    )
    orphaned = [dataclasses.asdict(dec) for did, dec in decisions.items() if did not in run.discrepancies]
    summary = {
        "folder": str(run.folder),
        "pages": pages,
        "readings_changed": changed,
        "changes_skipped": skipped,
        "errata": len(errata),
        "decisions": len(history),
        "orphaned": orphaned,
    }
    atomic_write_json(run.folder / "review-export.json", summary)
    summary["orphaned"] = len(orphaned)
    return summary
