"""Batch runs: plan the pages, run them serially or on a Dask cluster, keep the manifest true.

The run is described as data (a list of PageTask), and `run_page` is the unit of work. The serial
executor is the reference; the Dask executor must give the same outputs. This is the only module
that imports Dask, and only when a Dask executor is asked for.

Resumability: each page has a content key (input hash, page number, settings that change output,
versions of archocr, Tesseract, its models and the lexicon). A page whose JSON holds that key is done
and is skipped on the next run. Every file is written atomically and the page JSON is written last.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__, export, ocr, process, scans
from .config import Settings
from .errors import ArchocrError, LockedError
from .files import atomic_write_json

MANIFEST = "manifest.json"
LOCK = ".archocr.lock"
# Settings that do not change a page's output, and so do not enter its content key.
NOT_IN_KEY = {"page_timeout", "max_megapixels"}

Event = dict[str, Any]


@dataclass(frozen=True)
class PageTask:
    source: str
    sha256: str
    document: str
    number: int
    key: str


@dataclass(frozen=True)
class PageRecord:
    document: str
    number: int
    status: str  # "ok" or "failed"
    reason: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    key: str = ""
    skipped: bool = False  # done by an earlier run with the same key
    worker: str | None = None
    versions: dict[str, str] = field(default_factory=dict)


@dataclass
class DocumentRecord:
    document: str
    input: str
    sha256: str | None
    pages_total: int = 0
    status: str = "pending"
    reason: str | None = None
    pdf: str | None = None
    pages: dict[int, PageRecord] = field(default_factory=dict)


def versions(settings: Settings) -> dict[str, str]:
    from .correct import lexicon_identity  # local: the corrector is optional for a run

    return {
        "archocr": __version__,
        "tesseract": ocr.tesseract_version(),
        "models": ocr.traineddata_id(settings.lang),
        "lexicon": lexicon_identity(settings) if settings.correct else "none",
    }


def page_key(sha256: str, number: int, settings: Settings, versions_: dict[str, str]) -> str:
    relevant = {k: v for k, v in settings.as_dict().items() if k not in NOT_IN_KEY}
    blob = json.dumps(
        {"input": sha256, "page": number, "settings": relevant, "versions": versions_}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def plan(inputs: Iterable[Path], settings: Settings) -> tuple[list[DocumentRecord], list[PageTask]]:
    """Check every input and list its pages. An unreadable input becomes a failed document, not an abort."""
    documents: list[DocumentRecord] = []
    tasks: list[PageTask] = []
    versions_ = versions(settings)
    used: set[str] = set()
    for path in inputs:
        name = _unique(path.stem, used)
        record = DocumentRecord(document=name, input=str(path), sha256=None)
        documents.append(record)
        try:
            record.sha256 = scans.sha256_of(path)
            record.pages_total = scans.page_count(path, settings)
        except ArchocrError as exc:
            record.status, record.reason = "failed", exc.reason
            continue
        for number in range(1, record.pages_total + 1):
            key = page_key(record.sha256, number, settings, versions_)
            tasks.append(PageTask(str(path), record.sha256, name, number, key))
    return documents, tasks


def _unique(stem: str, used: set[str]) -> str:
    name, n = stem, 1
    while name in used:
        n += 1
        name = f"{stem}-{n}"
    used.add(name)
    return name


def finished_record(task: PageTask, out_dir: Path) -> PageRecord | None:
    """The record of an earlier run that did this exact page, if its outputs are all there."""
    json_path = out_dir / task.document / f"{export.page_stem(task.number)}.json"
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    outputs = data.get("outputs", {})
    if data.get("key") != task.key or not all((json_path.parent / n).is_file() for n in outputs.values()):
        return None
    return PageRecord(
        task.document,
        task.number,
        "ok",
        None,
        outputs,
        data.get("timings", {}),
        task.key,
        True,
        data.get("worker"),
        data.get("versions", {}),
    )


def run_page(task: PageTask, settings: Settings, out_dir: str) -> PageRecord:
    """The unit of work: load, process and write one page. Never raises for a bad page."""
    started = time.perf_counter()
    folder = Path(out_dir) / task.document
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        load_started = time.perf_counter()
        scan = scans.load_page(Path(task.source), task.number, settings)
        load_seconds = time.perf_counter() - load_started
        corrector = _corrector(settings)
        result = process.process_page(scan, task.document, settings, corrector)
        timings = {"load": round(load_seconds, 4), **result.timings}
        write_started = time.perf_counter()
        names = export.page_output_names(task.number)
        extra = {
            "key": task.key,
            "worker": worker,
            "versions": versions(settings),
            "source": task.source,
            "sha256": task.sha256,
            "outputs": names,
            "timings": timings,
        }
        original = export.original_of(scan.source, task.number, scan.pixels, scan.dpi, folder)
        names = export.write_page_files(
            result.page, result.image, folder, extra, original, settings.cleaned_frame
        )
        timings["write"] = round(time.perf_counter() - write_started, 4)
        timings["total"] = round(time.perf_counter() - started, 4)
        return PageRecord(
            task.document,
            task.number,
            "ok",
            None,
            names,
            timings,
            task.key,
            False,
            worker,
            versions(settings),
        )
    except ArchocrError as exc:
        reason = exc.reason
    except MemoryError:
        reason = "ran out of memory on this page"
    except Exception as exc:  # a batch must go on; the reason is recorded for the page
        reason = f"internal error: {type(exc).__name__}: {exc}"
    return PageRecord(
        task.document,
        task.number,
        "failed",
        reason,
        {},
        {"total": round(time.perf_counter() - started, 4)},
        task.key,
        False,
        worker,
    )


_CORRECTORS: dict[Settings, Any] = {}


def _corrector(settings: Settings) -> Any:
    """The page corrector, built once per process (per worker) and reused for every page."""
    if not settings.correct:
        return None
    if settings not in _CORRECTORS:
        from .correct import page_corrector

        _CORRECTORS[settings] = page_corrector(settings)
    return _CORRECTORS[settings]


# --- executors ------------------------------------------------------------------------------------

Worker = Callable[[PageTask], PageRecord]


def execute_serial(tasks: list[PageTask], work: Worker, done: Callable[[PageRecord], None]) -> None:
    for task in tasks:
        done(work(task))


def execute_dask(
    tasks: list[PageTask],
    settings: Settings,
    out_dir: str,
    done: Callable[[PageRecord], None],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
) -> None:
    from dask.distributed import Client, LocalCluster, as_completed  # only the batch layer imports Dask

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
    try:
        futures = {
            client.submit(
                run_page,
                task,
                settings,
                out_dir,
                key=f"page-{task.key[:16]}-{task.number}",
                pure=False,
                retries=1,
            ): task
            for task in tasks
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # the worker died repeatedly on this page
                record = PageRecord(
                    task.document,
                    task.number,
                    "failed",
                    f"worker lost: {type(exc).__name__}: {exc}",
                    key=task.key,
                )
            done(record)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- the run ----------------------------------------------------------------------------------------


class OutputLock:
    """An exclusive lock on the output folder, so two scheduled runs never write the same pages."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK
        self.handle: Any = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise LockedError(
                f"another archocr run ({holder}) is writing to this folder", path=str(self.path.parent)
            ) from exc
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()} on {os.uname().nodename}\n")
        self.handle.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Manifest:
    """The run's record, rewritten atomically each time a page finishes."""

    def __init__(self, out_dir: Path, settings: Settings, documents: list[DocumentRecord]) -> None:
        self.path = out_dir / MANIFEST
        self.settings = settings
        self.documents = {d.document: d for d in documents}
        self.started = _now()
        self.finished: str | None = None
        self.versions = versions(settings)

    def add(self, record: PageRecord) -> None:
        self.documents[record.document].pages[record.number] = record

    def summary(self) -> dict[str, int]:
        pages = [p for d in self.documents.values() for p in d.pages.values()]
        return {
            "documents": len(self.documents),
            "inputs_failed": sum(d.status == "failed" and not d.pages_total for d in self.documents.values()),
            "pages": len(pages),
            "ok": sum(p.status == "ok" for p in pages),
            "failed": sum(p.status == "failed" for p in pages),
            "skipped": sum(p.skipped for p in pages),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "archocr": __version__,
            "versions": self.versions,
            "settings": self.settings.as_dict(),
            "started": self.started,
            "updated": _now(),
            "finished": self.finished,
            "summary": self.summary(),
            "documents": [
                {
                    **{k: v for k, v in dataclasses.asdict(d).items() if k != "pages"},
                    "pages": [dataclasses.asdict(d.pages[n]) for n in sorted(d.pages)],
                }
                for d in self.documents.values()
            ],
        }

    def save(self) -> None:
        atomic_write_json(self.path, self.to_dict())


def run(
    inputs: Iterable[Path],
    out_dir: Path,
    settings: Settings,
    *,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    on_event: Callable[[Event], None] | None = None,
) -> Manifest:
    """Run archocr over `inputs` into `out_dir`; returns the manifest (also written to disk)."""
    emit = on_event or (lambda event: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    with OutputLock(out_dir):
        documents, tasks = plan(inputs, settings)
        manifest = Manifest(out_dir, settings, documents)
        for doc in documents:
            if doc.status == "failed":
                emit(
                    {
                        "event": "input_failed",
                        "document": doc.document,
                        "input": doc.input,
                        "reason": doc.reason,
                    }
                )
        todo = []
        for task in tasks:
            earlier = None if force else finished_record(task, out_dir)
            if earlier is not None:
                manifest.add(earlier)
            else:
                todo.append(task)
        emit({"event": "start", "pages": len(tasks), "todo": len(todo), "skipped": len(tasks) - len(todo)})
        manifest.save()

        def done(record: PageRecord) -> None:
            manifest.add(record)
            manifest.save()
            emit({"event": "page", **dataclasses.asdict(record)})
            _finish_document(manifest.documents[record.document], out_dir, True, settings.pdf_image)

        if not todo:
            pass  # everything was done before: no cluster to start, nothing to load
        elif executor == "dask":
            execute_dask(todo, settings, str(out_dir), done, workers=workers, scheduler=scheduler)
        else:
            execute_serial(todo, lambda task: run_page(task, settings, str(out_dir)), done)

        for doc in manifest.documents.values():
            _finish_document(doc, out_dir, False, settings.pdf_image)
        manifest.finished = _now()
        manifest.save()
        emit({"event": "finish", **manifest.summary()})
        return manifest


def _finish_document(doc: DocumentRecord, out_dir: Path, rebuild: bool, pdf_image: str = "original") -> None:
    """Once every page of a document has a record, set its status and (re)build its PDF."""
    if doc.status == "failed" and not doc.pages:
        return
    if len(doc.pages) < doc.pages_total:
        return
    ok = [n for n, p in doc.pages.items() if p.status == "ok"]
    doc.status = "ok" if len(ok) == doc.pages_total else ("partial" if ok else "failed")
    if doc.status == "failed" and doc.reason is None:
        doc.reason = "no page could be processed"
    pdf = out_dir / doc.document / f"{doc.document}.pdf"
    if ok and (rebuild or not pdf.is_file()):
        export.write_document_pdf(out_dir / doc.document, doc.document, ok, pdf_image)
    doc.pdf = f"{doc.document}/{doc.document}.pdf" if ok and pdf.is_file() else None
