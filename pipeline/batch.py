"""Batch runs: plan the pages, run them serially or on a Dask cluster, keep the manifest true.

The run is described as data (a list of PageTask), and `run_page` is the unit of work. The serial
executor is the reference; the Dask executor must give the same outputs. This is the only module
that imports Dask, and only when a Dask executor is asked for.

Resumability: each page has a content key (input hash, page number, settings that change output,
versions of archocr, Tesseract, its models and the lexicon, a digest of archocr's code). A page whose
JSON holds that key is done and is skipped on the next run. A page's files are written into a hidden
staging folder and renamed into place together, the page JSON last.

The manifest is the single truth about the output folder: a page's files are there exactly when the
manifest records the page `ok`, and `finished_pages` (used by `align` and reruns) goes by it alone.
Whatever a killed run leaves (temporary files, a page half moved into place, pages of a document that
has since shrunk, files of a page that failed) is removed at the next run's start.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__, export, ocr, process, scans
from .config import Settings
from .errors import ArchocrError, LockedError, ScanError, SetupError, UsageError, failure_reason
from .files import atomic_write_json

MANIFEST = "manifest.json"
LOCK = scans.OUTPUT_MARKER  # the lock file also marks the folder as archocr's output
# Names archocr writes at the top of the output folder: no document folder may take one of them.
RESERVED_NAMES = frozenset({MANIFEST, LOCK, "report.html", "discrepancies.json", "discrepancies.csv"})
# Settings that do not change a page's output, and so do not enter its content key.
NOT_IN_KEY = {"page_timeout", "max_megapixels", "max_pages"}
# What Dask's nanny sets in the local cluster's workers, changed: not MALLOC_TRIM_THRESHOLD_, which
# fixes glibc's mmap threshold, so that every page-sized array is mapped afresh and its memory faulted
# in and zeroed. archocr frees and allocates page images all the time; with the variable its own stages
# took 1.5x as long (docs/design_notes.md, "Speed of the own stages"). OMP_NUM_THREADS=1 and the like stay.
LOCAL_WORKER_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
# glibc's malloc keeps freed blocks up to this size for the next request, mapped and faulted in: a
# page's images (a float copy of a colour page is over 100 MB) are then taken from memory freed by the
# page's earlier steps or the page before, not mapped afresh and zeroed page by page by the kernel.
KEEP_FREED_BYTES = 512 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)
CONNECT_TIMEOUT = 5  # seconds to reach a --scheduler before the run stops with a clear message
STAGING_SUFFIX = ".writing"  # a page's files are written into `.<NNNN>.<random>.writing/` first
_PAGE_FILE = re.compile(r"^(\d{4,})\.")
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
MAX_NAME_BYTES = 100  # a document name, so that `<name>/<name>.pdf` fits every file system's limits

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
    # Decoder warnings: the page was read but may not be whole ("damaged but readable"); status stays ok.
    warnings: tuple[str, ...] = ()


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
    source: str = ""  # the input's absolute path: what keeps its document name from run to run
    in_this_run: bool = True
    pdf_failed: bool = False


@functools.lru_cache(maxsize=1)
def code_identity() -> str:
    """A digest of archocr's own code: every .py file of the package but the review server's, which
    makes no page. `__version__` alone does not change while a checkout's code does, and a rerun must
    not take pages made by older code for done. An installed wheel holds the same files as the
    checkout it was built from, so the two agree (and Dask workers agree with the head node)."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        if not name.startswith("review/"):
            source = path.read_bytes()
            digest.update(f"{name}\0{len(source)}\0".encode() + source)
    return digest.hexdigest()[:16]


def versions(settings: Settings) -> dict[str, str]:
    from .correct import lexicon_identity  # local: the corrector is optional for a run

    return {
        "archocr": __version__,
        "code": code_identity(),
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


def _display(path: Path | str) -> str:
    """A path as text that can always be written (file names need not be valid UTF-8)."""
    return os.fsencode(path).decode("utf-8", "replace")


def _source(item: scans.Input) -> str:
    return _display(item.path.absolute())


def _as_input(item: scans.Input | Path) -> scans.Input:
    return (
        item if isinstance(item, scans.Input) else scans.Input(Path(item), Path(item).parent, Path(item).name)
    )


def safe_name(stem: str) -> str:
    """A file's stem made into a folder name: NFC, no separators, control or reserved characters, no
    leading or trailing dots or spaces (so never `.`, `..` or hidden), at most MAX_NAME_BYTES."""
    name = _UNSAFE_CHARS.sub("_", unicodedata.normalize("NFC", _display(stem))).strip(" .")
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    return name.rstrip(" .") or "document"


def _short_hash(text: str) -> str:
    return hashlib.sha256(os.fsencode(text)).hexdigest()[:8]


# Names Windows cannot create, with any extension: an output folder on an SMB share must take every name.
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10))}
)


def _reserved(name: str) -> bool:
    folded = name.casefold()
    return folded in {r.casefold() for r in RESERVED_NAMES} or name.split(".")[0].upper() in _DEVICE_NAMES


def _usable(name: str) -> bool:
    return bool(name) and safe_name(name) == name and not _reserved(name)


def document_names(inputs: list[scans.Input], previous: dict[str, str] | None = None) -> list[str]:
    """The one rule for a document's folder name: stable across runs, unique, safe whatever the name.

    The name is the file's stem made safe (safe_name). The first 8 hex digits of the SHA-256 of its path
    relative to the input root are added when the stem had to be changed, is one of archocr's own names,
    or is shared (ignoring case) with another input; then every input sharing it gets its hash, so no
    sort order decides who keeps the plain name. A name an earlier run gave an input (`previous`:
    absolute path -> name, from the manifest) stays that input's, and no other input is given it.
    """
    previous = {src: name for src, name in (previous or {}).items() if _usable(name)}
    claimed = {name.casefold(): src for src, name in previous.items()}
    sources = [_source(i) for i in inputs]
    stems = [unicodedata.normalize("NFC", i.path.stem) for i in inputs]
    plain = [safe_name(stem) for stem in stems]
    names: list[str | None] = [
        previous[src] if claimed.get(previous.get(src, "").casefold()) == src else None for src in sources
    ]
    taken = set(claimed)
    shared = Counter(p.casefold() for p, n in zip(plain, names, strict=True) if n is None)
    wants_hash = [
        plain[i] != stems[i]
        or _reserved(plain[i])
        or shared[plain[i].casefold()] > 1
        or plain[i].casefold() in claimed
        for i in range(len(inputs))
    ]
    for i in sorted(range(len(inputs)), key=lambda i: wants_hash[i]):  # plain names first
        if names[i] is not None:
            continue
        name = f"{plain[i]}-{_short_hash(inputs[i].relative)}" if wants_hash[i] else plain[i]
        if name.casefold() in taken:  # the same relative path under two roots
            name = f"{plain[i]}-{_short_hash(sources[i])}"
        n = 2
        while name.casefold() in taken:
            name, n = f"{plain[i]}-{_short_hash(sources[i])}-{n}", n + 1
        taken.add(name.casefold())
        names[i] = name
    return [n or "" for n in names]


def plan(
    inputs: Iterable[scans.Input | Path], settings: Settings, previous: dict[str, str] | None = None
) -> tuple[list[DocumentRecord], list[PageTask]]:
    """Check every input and list its pages. Any failure of one input becomes a failed document with its
    reason (never an abort): planning goes on with the others."""
    items = [_as_input(i) for i in inputs]
    documents: list[DocumentRecord] = []
    tasks: list[PageTask] = []
    versions_ = versions(settings)
    for item, name in zip(items, document_names(items, previous), strict=True):
        record = DocumentRecord(document=name, input=_display(item.path), sha256=None, source=_source(item))
        documents.append(record)
        try:
            if item.problem:
                raise ScanError(item.problem, path=record.input)
            record.sha256 = scans.sha256_of(item.path)
            record.pages_total = scans.page_count(item.path, settings)
        except Exception as exc:  # one bad input must not stop the run
            record.status, record.reason = "failed", failure_reason(exc)
            record.pages_total = 0
            continue
        for number in range(1, record.pages_total + 1):
            key = page_key(record.sha256, number, settings, versions_)
            tasks.append(PageTask(str(item.path), record.sha256, name, number, key))
    return documents, tasks


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
        tuple(data.get("warnings", ())),
    )


@functools.cache
def keep_freed_memory() -> bool:
    """Have glibc's malloc serve page-sized arrays from its heap and keep what is freed there (once a
    process). By default an array over 32 MB (a float copy of a page) is mapped afresh at every
    allocation, and a heap whose free top passes the trim threshold gives it back: the next page's
    images are then faulted in and zeroed again by the kernel (tune pages: 11-20 thousand page faults a
    page, against about 3 thousand kept). False where the C library has no mallopt (not glibc)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, KEEP_FREED_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
    )


def run_page(task: PageTask, settings: Settings, out_dir: str) -> PageRecord:
    """The unit of work: load, process and write one page. Never raises for a bad page."""
    keep_freed_memory()
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
        warnings = tuple(scan.warnings)
        extra = {
            "key": task.key,
            "worker": worker,
            "versions": versions(settings),
            "source": _display(task.source),
            "sha256": task.sha256,
            "outputs": names,
            "timings": timings,
            "warnings": list(warnings),
        }
        # The original is named relative to the page's real folder, not the staging folder.
        original = export.original_of(scan.source, task.number, scan.pixels, scan.dpi, folder)
        names = _write_page(result, folder, extra, original, settings.cleaned_frame)
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
            warnings,
        )
    except Exception as exc:  # a batch must go on; the reason is recorded for the page
        reason = failure_reason(exc)
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


def _write_page(
    result: process.PageResult,
    folder: Path,
    extra: dict[str, Any],
    original: tuple[export.Original, bytes | None],
    cleaned_frame: bool,
) -> dict[str, str]:
    """Write a page's files so that they appear together: all into a hidden staging folder, then each
    renamed into place (a rename takes microseconds), the JSON that marks the page done last."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = export.page_stem(result.page.number)
    staging = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=STAGING_SUFFIX, dir=folder))
    try:
        names = export.write_page_files(result.page, result.image, staging, extra, original, cleaned_frame)
        for kind in sorted(names, key=lambda k: k == "json"):
            os.replace(staging / names[kind], folder / names[kind])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Files an earlier run wrote for this page and this one did not (a kept original the new scan
    # does not need, cleaned-frame exports without --cleaned-frame) would describe another reading.
    remove_page_files(folder, result.page.number, keep=set(names.values()))
    return names


def page_files(folder: Path) -> dict[int, list[Path]]:
    """Every page file in a document folder (NNNN.*), by page number."""
    found: dict[int, list[Path]] = {}
    with contextlib.suppress(OSError):
        for path in folder.iterdir():
            match = _PAGE_FILE.match(path.name)
            if match and path.is_file():
                found.setdefault(int(match.group(1)), []).append(path)
    return found


def remove_page_files(folder: Path, number: int, keep: Collection[str] = ()) -> None:
    """Remove what an earlier run wrote for one page (it failed now, or its document lost it), except
    the files in `keep` (what this run has just written for it)."""
    for path in page_files(folder).get(number, []):
        if export.is_page_output(path.name, number) and path.name not in keep:
            path.unlink(missing_ok=True)


def remove_leftovers(out_dir: Path) -> None:
    """Remove the temporary files and staging folders of writes a killed run never finished."""
    for folder in (out_dir, *(p for p in out_dir.iterdir() if p.is_dir() and not p.is_symlink())):
        for path in folder.iterdir():
            if path.name.startswith(".") and path.name.endswith(".part") and path.is_file():
                path.unlink(missing_ok=True)
            elif path.name.startswith(".") and path.name.endswith(STAGING_SUFFIX) and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)


def _tidy_document(doc: DocumentRecord, out_dir: Path) -> None:
    """Before a document's pages run: drop page files its input no longer has (a re-scan with fewer
    pages, an input that cannot be read now) and pages whose JSON never got into place (a killed write)."""
    folder = out_dir / doc.document
    for number, paths in page_files(folder).items():
        if number > doc.pages_total or not any(p.name == f"{export.page_stem(number)}.json" for p in paths):
            remove_page_files(folder, number)
    if not doc.pages_total:
        (folder / f"{doc.document}.pdf").unlink(missing_ok=True)


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


@contextlib.contextmanager
def _environment_kept() -> Iterator[None]:
    """Dask's nanny writes the variables it gives its workers into this process's environment and
    leaves them there; a program that runs a batch and then starts others (the benchmarks start
    `archocr run`) would hand them on."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for name in [name for name in os.environ if name not in before]:
            del os.environ[name]
        os.environ.update({name: value for name, value in before.items() if os.environ.get(name) != value})


@_environment_kept()  # a Dask run leaves the caller's environment as it found it
def execute_dask(
    tasks: list[PageTask],
    settings: Settings,
    out_dir: str,
    done: Callable[[PageRecord], None],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
) -> None:
    """Run the pages on a local Dask cluster, or on `client` (connected to --scheduler), or connect."""
    from dask.distributed import Client, as_completed  # only the batch layer imports Dask

    # Ctrl-C on a terminal reaches every process of the group: the workers ignore it (they inherit
    # SIG_IGN while the cluster starts, and a plugin sets it in workers started later to replace a lost
    # one); this process hears it, stops them, and its manifest says what was finished.
    cluster = None
    if client is None and scheduler:
        client = connect(scheduler)
    elif client is None:
        with _sigint_ignored():
            cluster = start_local_cluster(workers or os.cpu_count() or 1)
            client = Client(cluster)
            with contextlib.suppress(Exception):
                client.register_plugin(_IgnoreCtrlC(), name="archocr-ignore-ctrl-c")
    with _sigint_as_flag() as interrupted:
        try:
            with contextlib.suppress(Exception):  # best effort: what killed workers left in each /dev/shm
                client.run(ocr.remove_stale_scratch)
            futures = {
                client.submit(
                    run_page, task, settings, out_dir, key=dask_key(task), pure=False, retries=1
                ): task
                for task in tasks
            }
            pending = as_completed(futures)
            while not pending.is_empty():
                if interrupted.is_set():
                    raise KeyboardInterrupt
                finished = pending.next_batch(block=False)
                if not finished:
                    time.sleep(0.05)
                for future in finished:
                    done(_dask_record(future, futures[future]))
        finally:
            if cluster is not None:
                # Shutting our own cluster down is not news: the workers' complaints about the
                # scheduler going first (tracebacks, after Ctrl-C) would only bury the run's message.
                with contextlib.suppress(Exception):
                    client.run(_quiet_dask_logs)
                _quiet_dask_logs()
            client.close()
            if cluster is not None:
                cluster.close()


def start_local_cluster(workers: int) -> Any:
    """A local Dask cluster of `workers` processes of one thread each, their environment as
    LOCAL_WORKER_ENVIRON says."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(LOCAL_WORKER_ENVIRON):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},  # its HTTP port: any free one, not 8787
            silence_logs=40,
        )


def _dask_record(future: Any, task: PageTask) -> PageRecord:
    try:
        return future.result()
    except Exception as exc:  # the worker died repeatedly on this page
        return PageRecord(
            task.document, task.number, "failed", f"worker lost: {type(exc).__name__}: {exc}", key=task.key
        )


@contextlib.contextmanager
def _sigint_as_flag() -> Iterator[threading.Event]:
    """While Dask runs, Ctrl-C sets a flag that the waiting loop turns into KeyboardInterrupt: raised
    inside one of Dask's own calls, it would leave Dask's threads logging tracebacks."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    before = signal.signal(signal.SIGINT, lambda *_: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, before)


class _IgnoreCtrlC:
    """A Dask worker plugin: the local cluster's workers leave Ctrl-C to the run (see execute_dask)."""

    def setup(self, worker: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _quiet_dask_logs() -> None:
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def connect(scheduler: str) -> Any:
    """A Dask client of the scheduler at `scheduler`, or a SetupError within CONNECT_TIMEOUT seconds."""
    from dask.distributed import Client

    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT)
    except ValueError as exc:  # raised at once for an address Dask cannot parse
        raise UsageError(f"--scheduler {scheduler} is not a Dask scheduler address: {exc}") from exc
    except Exception as exc:  # refused, unknown host, timed out
        raise SetupError(
            f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_TIMEOUT} s ({exc})"
        ) from exc


def dask_key(task: PageTask) -> str:
    """The page's Dask key: its document and number as well as its content, so that byte-identical
    inputs (copies of a scan, blank separator sheets) are distinct tasks and each gets its own outputs."""
    identity = hashlib.sha256(f"{task.document}\0{task.number}\0{task.key}".encode()).hexdigest()
    return f"page-{task.number:04d}-{identity[:24]}"


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


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
    """The run's record, rewritten atomically each time a page finishes.

    It lists this run's inputs and, unchanged, the documents of earlier runs into the same folder whose
    inputs were not given this time (`in_this_run: false`), so it describes the whole output folder."""

    def __init__(
        self,
        out_dir: Path,
        settings: Settings,
        documents: list[DocumentRecord],
        earlier: Iterable[dict[str, Any]] = (),
    ) -> None:
        self.path = out_dir / MANIFEST
        self.settings = settings
        self.documents = {d.document: d for d in documents}
        names = {d.document.casefold() for d in documents}
        self.earlier = [
            {**d, "in_this_run": False} for d in earlier if str(d.get("document", "")).casefold() not in names
        ]
        self.started = _now()
        self.finished: str | None = None
        self.versions = versions(settings)
        self.unsaved: str | None = None  # why the last save failed (a full disk), until one succeeds

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
            "warnings": sum(p.status == "ok" and bool(p.warnings) for p in pages),
            "pdfs_failed": sum(d.pdf_failed for d in self.documents.values()),
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
            ]
            + self.earlier,
        }

    def save(self) -> bool:
        """Write the manifest; a failure (a full disk) is remembered, not raised, so the run goes on."""
        try:
            atomic_write_json(self.path, self.to_dict())
        except OSError as exc:
            self.unsaved = failure_reason(exc)
            return False
        self.unsaved = None
        return True


def read_manifest(out_dir: Path) -> dict[str, Any]:
    path = out_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArchocrError(
            "has no manifest.json: not the output folder of `archocr run`", path=str(out_dir)
        ) from exc
    except (OSError, ValueError) as exc:
        raise ArchocrError(f"manifest cannot be read: {exc}", path=str(path)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise ArchocrError("is not an archocr manifest (no list of documents)", path=str(path))
    return data


def _earlier_documents(out_dir: Path) -> list[dict[str, Any]]:
    """The documents an earlier run recorded here; none when there is no readable manifest."""
    try:
        documents = read_manifest(out_dir)["documents"]
    except ArchocrError:
        return []
    return [d for d in documents if isinstance(d, dict) and isinstance(d.get("document"), str)]


def _source_of(doc: dict[str, Any]) -> str:
    return str(doc.get("source") or _display(Path(str(doc.get("input", ""))).absolute()))


@dataclass(frozen=True)
class FinishedPage:
    document: str
    number: int
    folder: Path
    outputs: dict[str, str]  # kind -> file name in folder
    warnings: tuple[str, ...] = ()

    @property
    def json_path(self) -> Path:
        return self.folder / self.outputs["json"]


def finished_pages(out_dir: Path) -> list[FinishedPage]:
    """The finished pages of an output folder, as its manifest records them (status ok, every output
    there), by document and page. Page files the manifest does not list are never taken: this is what
    `align`, reviews and reruns go by."""
    pages = []
    for doc in read_manifest(out_dir)["documents"]:
        name = doc.get("document")
        if not isinstance(name, str) or not _usable(name):
            continue
        folder = out_dir / name
        for page in doc.get("pages") or []:
            outputs = page.get("outputs") or {}
            if page.get("status") != "ok" or "json" not in outputs:
                continue
            if all(isinstance(v, str) and "/" not in v and (folder / v).is_file() for v in outputs.values()):
                pages.append(
                    FinishedPage(
                        name, int(page["number"]), folder, dict(outputs), tuple(page.get("warnings") or ())
                    )
                )
    return sorted(pages, key=lambda p: (p.document, p.number))


def run(
    inputs: Iterable[scans.Input | Path],
    out_dir: Path,
    settings: Settings,
    *,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    on_event: Callable[[Event], None] | None = None,
) -> Manifest:
    """Run archocr over `inputs` into `out_dir`; returns the manifest (also written to disk).

    Raises SetupError when the output folder cannot be written or the scheduler cannot be reached;
    KeyboardInterrupt passes through once the manifest records what was finished."""
    emit = on_event or (lambda event: None)
    # A cluster that cannot be reached is found out first, before an inbox is read.
    client = connect(scheduler) if executor == "dask" and scheduler else None
    try:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            lock = OutputLock(out_dir)
            lock.__enter__()
        except OSError as exc:
            reason = failure_reason(exc)
            raise SetupError(f"cannot write to the output folder: {reason}", path=str(out_dir)) from exc
        try:
            return _run_locked(inputs, out_dir, settings, executor, workers, client, force, emit)
        finally:
            lock.__exit__()
    finally:
        if client is not None:
            client.close()


def _run_locked(
    inputs: Iterable[scans.Input | Path],
    out_dir: Path,
    settings: Settings,
    executor: str,
    workers: int | None,
    client: Any,
    force: bool,
    emit: Callable[[Event], None],
) -> Manifest:
    earlier = _earlier_documents(out_dir)
    previous = {_source_of(d): d["document"] for d in earlier}
    documents, tasks = plan(inputs, settings, previous)
    manifest = Manifest(out_dir, settings, documents, earlier)
    _clean_up(out_dir)
    for doc in documents:
        with contextlib.suppress(OSError):  # what cannot be removed now is tried again on the next run
            _tidy_document(doc, out_dir)
    for doc in documents:
        if doc.status == "failed":
            emit(
                {"event": "input_failed", "document": doc.document, "input": doc.input, "reason": doc.reason}
            )
    todo = []
    for task in tasks:
        earlier_record = None if force else finished_record(task, out_dir)
        if earlier_record is not None:
            manifest.add(earlier_record)
        else:
            todo.append(task)
    emit({"event": "start", "pages": len(tasks), "todo": len(todo), "skipped": len(tasks) - len(todo)})
    if not manifest.save():
        raise SetupError(f"cannot write the manifest: {manifest.unsaved}", path=str(manifest.path))

    def done(record: PageRecord) -> None:
        doc = manifest.documents[record.document]
        if record.status == "failed":  # nothing of an earlier run may pass for this page
            with contextlib.suppress(OSError):
                remove_page_files(out_dir / doc.document, record.number)
        manifest.add(record)
        _finish_document(doc, out_dir, True, settings.pdf_image)
        manifest.save()
        emit({"event": "page", **dataclasses.asdict(record)})

    try:
        if not todo:
            pass  # everything was done before: no cluster to start, nothing to load
        elif executor == "dask":
            execute_dask(todo, settings, str(out_dir), done, workers=workers, client=client)
        else:
            execute_serial(todo, lambda task: run_page(task, settings, str(out_dir)), done)
    except KeyboardInterrupt:
        with _sigint_ignored():
            manifest.save()  # a true record of an unfinished run: `finished` stays empty
            emit({"event": "interrupted", **manifest.summary()})
        raise
    for doc in manifest.documents.values():
        _finish_document(doc, out_dir, False, settings.pdf_image)
    _clean_up(out_dir)
    manifest.finished = _now()
    if not manifest.save():
        raise SetupError(f"cannot write the manifest: {manifest.unsaved}", path=str(manifest.path))
    emit({"event": "finish", **manifest.summary()})
    return manifest


def _clean_up(out_dir: Path) -> None:
    """What killed runs and workers left; anything that cannot be removed now is tried on the next run."""
    for clean in (lambda: remove_leftovers(out_dir), ocr.remove_stale_scratch):
        with contextlib.suppress(OSError):
            clean()


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
    try:
        if ok and (rebuild or not pdf.is_file()):
            export.write_document_pdf(out_dir / doc.document, doc.document, ok, pdf_image)
        elif not ok:
            pdf.unlink(missing_ok=True)
    except Exception as exc:  # the pages stand; only the PDF is missing, and the manifest says why
        doc.pdf_failed, doc.reason = True, f"searchable PDF not written: {failure_reason(exc)}"
        pdf.unlink(missing_ok=True)
    else:
        doc.pdf_failed = False
    doc.pdf = f"{doc.document}/{doc.document}.pdf" if ok and pdf.is_file() else None
