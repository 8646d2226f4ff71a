"""The run folder as the workbench sees it: the aligned pages, their texts and images, and every
discrepancy of `discrepancies.json` with its stable id and its risk. Read-only."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import ArchocrError
from ..transcripts import read_text_with_encoding
from .ids import discrepancy_id, page_identity

# Kinds whose decision changes the published text come first; the apparatus after; normalisation last.
KIND_ORDER = {
    "ocr_error": 0,
    "variant": 1,
    "missing": 2,
    "extra": 3,
    "restoration": 4,
    "broken_fragment": 5,
    "expansion": 6,
    "normalisation": 9,
}
_SPACES = re.compile(r"\s+")
TEXT_CHANGING = {"ocr_error", "variant", "missing", "extra"}


def risk(d: dict[str, Any]) -> float:
    """Lower is riskier: low OCR confidence, a reading not in the lexicon, a kind that changes the text."""
    conf = d.get("confidence", -1)
    score = (conf if conf >= 0 else 50.0) / 100.0
    if "not in the lexicon" not in (d.get("reason") or ""):
        score += 0.5
    if d["kind"] not in TEXT_CHANGING:
        score += 1.0
    if d["kind"] == "normalisation":
        score += 2.0
    return score


def run_lexicon(folder: Path) -> str:
    """The lexicon the run was made with (its manifest's settings), else the default."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    return (manifest.get("settings") or {}).get("lexicon") or "default"


@dataclass
class RunPage:
    key: str  # "document/NNNN": the page's id in URLs
    document: str
    number: int
    folder: Path
    image: Path | None
    status: str
    reason: str
    cer: dict[str, Any] | None
    transcript_start: int
    transcript_end: int
    discrepancies: list[dict[str, Any]] = field(default_factory=list)

    @functools.cached_property
    def text(self) -> str:
        path = self.folder / f"{self.number:04d}.txt"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    @functools.cached_property
    def size(self) -> tuple[int, int]:
        if self.image is None:
            return (0, 0)
        with Image.open(self.image) as im:  # reads the header only
            return im.size


class Run:
    """Everything the workbench shows, from the files `archocr run` and `archocr align` wrote."""

    def __init__(self, folder: Path, transcript: Path | None = None) -> None:
        self.folder = folder.resolve()
        path = self.folder / "discrepancies.json"
        if not path.is_file():
            raise ArchocrError(
                "has no discrepancies.json: align it first (--transcript FILE)", path=str(path)
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ArchocrError(f"not valid JSON: {exc}", path=str(path)) from exc
        self.kinds: list[str] = data.get("kinds", list(KIND_ORDER))
        self.transcript_name = data.get("transcript", "")
        self.transcript_encoding = data.get("transcript_encoding")
        self.transcript_path = transcript or self._find_transcript(self.transcript_name)
        shas, images = self._manifest()
        self.pages: dict[str, RunPage] = {}
        for p in data.get("pages", []):
            key = f"{p['document']}/{p['page']:04d}"
            folder = self.folder / p["document"]
            image = images.get((p["document"], p["page"])) or folder / f"{p['page']:04d}.png"
            self.pages[key] = RunPage(
                key,
                p["document"],
                p["page"],
                folder,
                image if self._inside(image) and image.is_file() else None,
                p.get("status", ""),
                p.get("reason", ""),
                p.get("cer_raw"),
                p.get("transcript_start", 0),
                p.get("transcript_end", 0),
            )
        self.discrepancies: dict[str, dict[str, Any]] = {}
        for d in data.get("discrepancies", []):
            key = f"{d['document']}/{d['page']:04d}"
            page = self.pages.get(key)
            if page is None:
                continue
            did = discrepancy_id(page_identity(d["document"], d["page"], shas.get(d["document"], "")), d)
            entry = dict(d, id=did, page_key=key, risk=risk(d))
            if did in self.discrepancies:  # the same readings twice at the same place: keep one
                continue
            self.discrepancies[did] = entry
            page.discrepancies.append(entry)
        self.order = sorted(self.discrepancies, key=lambda i: self.discrepancies[i]["risk"])

    def _inside(self, path: Path) -> bool:
        return path.resolve().is_relative_to(self.folder)

    def _manifest(self) -> tuple[dict[str, str], dict[tuple[str, int], Path]]:
        """Input SHA-256 per document and image file per page, from manifest.json when there is one."""
        path = self.folder / "manifest.json"
        if not path.is_file():
            return {}, {}
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ArchocrError(f"not valid JSON: {exc}", path=str(path)) from exc
        shas, images = {}, {}
        for doc in manifest.get("documents", []):
            shas[doc["document"]] = doc.get("sha256") or ""
            for page in doc.get("pages", []):
                name = (page.get("outputs") or {}).get("image")
                if name:
                    images[(doc["document"], page["number"])] = self.folder / doc["document"] / name
        return shas, images

    def _find_transcript(self, name: str) -> Path | None:
        if not name:
            return None
        for candidate in (Path(name), self.folder / name, self.folder / Path(name).name):
            if candidate.is_file():
                return candidate
        return None

    @functools.cached_property
    def transcript(self) -> str:
        if self.transcript_path is None:
            return ""
        text, _ = read_text_with_encoding(self.transcript_path, self.transcript_encoding)
        return text

    def context(self, d: dict[str, Any], width: int = 80) -> dict[str, str]:
        """The line of the page around the OCR reading, and the transcript around its reading."""
        text = self.pages[d["page_key"]].text
        start = text.rfind("\n", 0, d["ocr_start"]) + 1
        end = text.find("\n", d["ocr_end"])
        end = len(text) if end < 0 else end
        out = {
            "ocr_before": text[max(start, d["ocr_start"] - width) : d["ocr_start"]],
            "ocr_after": text[d["ocr_end"] : min(end, d["ocr_end"] + width)],
            "transcript_before": "",
            "transcript_after": "",
        }
        transcript = self.transcript
        if transcript:
            # Line breaks of the transcript folded to spaces: the context reads as one line like the scan's.
            before = transcript[max(0, d["transcript_start"] - width) : d["transcript_start"]]
            after = transcript[d["transcript_end"] : d["transcript_end"] + width]
            out["transcript_before"] = _SPACES.sub(" ", before)
            out["transcript_after"] = _SPACES.sub(" ", after)
        return out
