"""A generated run folder for the reviewers' workbench: pages of words with boxes, their text, image,
ALTO and PAGE-XML written by archocr's own exporters, a manifest, a transcript and a discrepancies.json
in the schema `archocr align` writes (docs/discrepancies.md), with as many discrepancies as asked."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import numpy as np

from pipeline import export
from pipeline.model import BBox, Line, Page, Paragraph, Word

WORDS = [
    "заседание",
    "политбюро",
    "цк",
    "вкп",
    "слушали",
    "постановили",
    "товарищ",
    "сталин",
    "доклад",
    "комиссия",
    "губкома",
    "партии",
    "пленум",
    "протокол",
    "решение",
    "вопрос",
    "рабочих",
    "крестьян",
    "съезд",
    "резолюция",
    "секретарь",
]


def _page(
    document: str, number: int, rng: random.Random, lines: int, per_line: int, special: list[str]
) -> Page:
    paragraphs, y = [], 100
    for _ in range(2):
        line_objs = []
        for _ in range(lines // 2):
            words, x = [], 80
            for _ in range(per_line):
                text = special.pop() if special else rng.choice(WORDS)
                width = 18 * len(text) + 10
                words.append(Word(text, BBox(x, y, x + width, y + 30), rng.uniform(40, 99)))
                x += width + 20
            line_objs.append(Line(tuple(words), BBox.enclosing([w.bbox for w in words])))
            y += 45
        paragraphs.append(Paragraph(tuple(line_objs), BBox.enclosing([ln.bbox for ln in line_objs])))
        y += 30
    return Page(document, number, 1700, max(y + 100, 800), 300, tuple(paragraphs))


def make_run(
    folder: Path,
    pages: int,
    per_page: int,
    *,
    documents: int = 1,
    seed: int = 0,
    special: list[tuple[str, str]] | None = None,
    lines: int = 24,
    per_line: int = 8,
) -> Path:
    """Write the run into `folder`; `special` puts (OCR reading, transcript reading) pairs at the start
    of the first page. Returns the transcript's path."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    special = list(special or [])
    transcript_parts: list[str] = []
    at = 0
    page_entries, discrepancies, manifest_docs = [], [], []
    image_cache: dict[tuple[int, int], bytes] = {}
    for number in range(pages):
        document = f"doc{number % documents:03d}"
        page_no = number // documents + 1
        first_special = [o for o, _ in reversed(special)] if number == 0 else []
        page = _page(document, page_no, rng, lines, per_line, first_special)
        out = folder / document
        out.mkdir(exist_ok=True)
        stem = f"{page_no:04d}"
        text = export.page_text(page).rstrip("\n")
        (out / f"{stem}.txt").write_text(text + "\n", encoding="utf-8")
        (out / f"{stem}.alto.xml").write_bytes(export.to_alto(page, f"{stem}.png"))
        (out / f"{stem}.page.xml").write_bytes(export.to_page_xml(page, f"{stem}.png"))
        size = (page.width, page.height)
        if size not in image_cache:
            import cv2

            big = np.full((page.height, page.width), 255, np.uint8)
            image_cache[size] = cv2.imencode(".png", big, [cv2.IMWRITE_PNG_BILEVEL, 1])[1].tobytes()
        (out / f"{stem}.png").write_bytes(image_cache[size])
        # Which words differ in the transcript: the special pairs first, then words at random.
        spans, pos = [], 0
        for w in page.words:
            start = text.index(w.text, pos)
            spans.append((start, start + len(w.text), w))
            pos = start + len(w.text)
        chosen = set(range(len(special))) if number == 0 else set()
        candidates = [i for i in range(len(spans)) if i not in chosen]
        chosen |= set(rng.sample(candidates, min(len(candidates), max(0, per_page - len(chosen)))))
        page_transcript, last, page_start = [], 0, at
        for i, (start, end, w) in enumerate(spans):
            if i not in chosen:
                continue
            meant = special[i][1] if number == 0 and i < len(special) else w.text[:-1] + "ъ"
            page_transcript.append(text[last:start])
            t_start = at + sum(len(p) for p in page_transcript)
            page_transcript.append(meant)
            last = end
            box = {"x0": w.bbox.x0, "y0": w.bbox.y0, "x1": w.bbox.x1, "y1": w.bbox.y1}
            discrepancies.append(
                {
                    "document": document,
                    "page": page_no,
                    "line": text.count("\n", 0, start),
                    "kind": "ocr_error" if rng.random() < 0.8 else "variant",
                    "ocr_text": w.text,
                    "transcript_text": meant,
                    "ocr_start": start,
                    "ocr_end": end,
                    "transcript_start": t_start,
                    "transcript_end": t_start + len(meant),
                    "bbox": box,
                    "word_boxes": [box],
                    "confidence": round(w.conf, 2),
                    "reason": f"OCR confidence {w.conf:.0f}",
                    "status": "",
                }
            )
        page_transcript.append(text[last:] + "\n\n")
        chunk = "".join(page_transcript)
        transcript_parts.append(chunk)
        at += len(chunk)
        page_entries.append(
            {
                "document": document,
                "page": page_no,
                "status": "aligned",
                "reason": "",
                "transcript_start": page_start,
                "transcript_end": at - 2,
                "counts": {},
                "cer_raw": {"cer": 0.01, "wer": 0.05, "chars": len(text), "words": len(spans)},
                "cer_normalised": {"cer": 0.01, "wer": 0.05, "chars": len(text), "words": len(spans)},
            }
        )
        manifest_docs.append(
            {
                "document": document,
                "sha256": hashlib.sha256(document.encode()).hexdigest(),
                "pages": [{"number": page_no, "status": "ok", "outputs": {"image": f"{stem}.png"}}],
            }
        )
    transcript = folder / "transcript.txt"
    transcript.write_text("".join(transcript_parts), encoding="utf-8")
    merged: dict[str, dict] = {}
    for doc in manifest_docs:
        merged.setdefault(doc["document"], {**doc, "pages": []})["pages"].extend(doc["pages"])
    (folder / "manifest.json").write_text(json.dumps({"documents": list(merged.values())}), encoding="utf-8")
    (folder / "discrepancies.json").write_text(
        json.dumps(
            {
                "schema": 1,
                "transcript": str(transcript),
                "transcript_encoding": "utf-8",
                "kinds": ["ocr_error", "variant", "normalisation"],
                "pages": page_entries,
                "discrepancies": discrepancies,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return transcript
