"""`archocr`: the command line. Thin: parses options, calls the pipeline, maps errors to exit codes.

Exit status: 0 everything succeeded; 1 some page or input failed (the manifest says which);
2 usage error (bad option, missing input); 3 another run holds the output folder; 4 the run cannot
start or go on (output folder not writable, scheduler unreachable); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cli_options import check_encoding, transcript_encoding
from .config import Settings, value_problem
from .errors import ArchocrError, UsageError


def _check_lang(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Every model named in --lang must be installed in Tesseract (`rus+eng`: both)."""
    from . import ocr

    try:
        ocr.tesseract_version()
    except ArchocrError as exc:
        raise click.BadParameter(exc.reason, ctx, param) from exc
    for name in value.split("+"):
        if not name.strip():
            raise click.BadParameter(f"{value!r} has an empty language name", ctx, param)
        try:
            ocr.traineddata_id(name)
        except ArchocrError as exc:
            raise click.BadParameter(exc.reason, ctx, param) from exc
    return value


def _check_lexicon(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from . import lexicon as lexicon_mod

    try:
        lexicon_mod.identity(value)
    except ArchocrError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc
    return value


# A Dask address: optional protocol, host name or [IPv6], optional port.
_SCHEDULER = re.compile(
    r"^(?:(?:tcp|tls|ucx|ws|wss|inproc)://)?(?:[\w.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?/?$"
)


def _check_scheduler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The form of a scheduler address (whether it answers is found when the run connects)."""
    if value is not None:
        match = _SCHEDULER.match(value.strip())
        if not match or not 0 < int(match.group(1) or 8786) < 65536:
            raise click.BadParameter(
                f"{value!r} is not a Dask scheduler address (tcp://HOST:PORT, HOST:PORT or HOST)", ctx, param
            )
    return value


# Settings whose allowed values depend on this machine: checked while the options are parsed.
_CALLBACKS = {"lang": _check_lang, "lexicon": _check_lexicon}


def _click_type(f: dataclasses.Field) -> Any:
    """The option type for a Settings field, from the limits the field declares in config.py."""
    kind = {"int": int, "float": float, "str": str}.get(str(f.type), str)
    meta = f.metadata
    if "choices" in meta:
        return click.Choice(meta["choices"])
    if kind in (int, float) and ("min" in meta or "max" in meta):
        limits = {"min": meta.get("min"), "max": meta.get("max"), "min_open": bool(meta.get("min_open"))}
        return click.IntRange(**limits) if kind is int else click.FloatRange(**limits)
    return kind


def settings_options(func: Any) -> Any:
    """One option per Settings field, named after it: the CLI can never drift from the settings."""
    for f in reversed(dataclasses.fields(Settings)):
        flag = f.name.replace("_", "-")
        help_text = f"{f.metadata.get('help', '')} [default: {f.default}]"
        if f.type in ("bool", bool):
            func = click.option(f"--{flag}/--no-{flag}", f.name, default=f.default, help=help_text)(func)
        else:
            func = click.option(
                f"--{flag}",
                f.name,
                type=_click_type(f),
                default=f.default,
                help=help_text,
                show_default=False,
                callback=_checked(f),
            )(func)
    return func


def _checked(f: dataclasses.Field) -> Any:
    """The option's callback: Settings' own check of the field (config.value_problem), then the
    machine-dependent one, so that what the CLI accepts is exactly what Settings accepts."""
    extra = _CALLBACKS.get(f.name)

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        problem = value_problem(f, value)
        if problem:
            raise click.BadParameter(problem, ctx, param)
        return extra(ctx, param, value) if extra else value

    return callback


def settings_from(kwargs: dict[str, Any]) -> Settings:
    names = {f.name for f in dataclasses.fields(Settings)}
    chosen = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
    try:
        return Settings(**chosen)
    except ValueError as exc:  # the option types above should have refused it already
        raise click.UsageError(str(exc)) from exc


def _fail(exc: ArchocrError) -> None:
    click.echo(f"archocr: error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="archocr")
def app() -> None:
    """archocr: OCR and text restoration for Russian archival documents of 1910-1940."""


@app.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: one sub-folder per document, plus manifest.json.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the local Dask cluster [default: one per core].",
)
@click.option(
    "--scheduler",
    default=None,
    callback=_check_scheduler,
    help="Address of an existing Dask scheduler (tcp://HOST:PORT).",
)
@click.option("--serial", is_flag=True, help="Run pages one after another in this process (debugging).")
@click.option("--force", is_flag=True, help="Redo pages even when an earlier run already finished them.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary; the exit status tells.")
@click.option("--progress-json", is_flag=True, help="Write progress as JSON lines on standard output.")
@click.option(
    "--transcript",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Align the results with this transcript and write the reviewers' report.",
)
@transcript_encoding
@settings_options
def run(
    inputs: tuple[Path, ...],
    out_dir: Path,
    workers: int | None,
    scheduler: str | None,
    serial: bool,
    force: bool,
    quiet: bool,
    progress_json: bool,
    transcript: Path | None,
    encoding: str | None,
    **options: Any,
) -> None:
    """OCR scans (PDF, TIFF, PNG, JPEG, or folders of them) into DIR."""
    from . import batch, scans
    from .progress import Progress

    settings = settings_from(options)
    try:
        if settings.max_pages < 1:
            raise UsageError("--max-pages must be at least 1")
        paths = scans.find_inputs(inputs, exclude=[out_dir])
        if not paths:
            raise UsageError("no PDF, TIFF, PNG or JPEG files found in the given inputs")
        executor = "serial" if serial or (workers == 1 and not scheduler) else "dask"
        with Progress(enabled=not quiet and not progress_json, json_lines=progress_json) as progress:
            manifest = batch.run(
                paths,
                out_dir,
                settings,
                executor=executor,
                workers=workers,
                scheduler=scheduler,
                force=force,
                on_event=progress.event,
            )
    except ArchocrError as exc:
        _fail(exc)
        return
    except KeyboardInterrupt:
        click.echo(
            f"archocr: interrupted; {out_dir / batch.MANIFEST} records the pages finished so far, "
            "and running the same command again does the rest",
            err=True,
        )
        sys.exit(130)
    summary = manifest.summary()
    if transcript is not None and summary["ok"]:
        try:
            _align_and_report(out_dir, transcript, encoding, settings.lexicon, quiet or progress_json)
        except ArchocrError as exc:
            _fail(exc)
    if not quiet and not progress_json:
        _print_summary(manifest, out_dir)
    # Pages read with warnings are done (status 0): the summary, the progress lines and the manifest say so.
    failed = summary["failed"] or summary["inputs_failed"] or summary["pdfs_failed"]
    sys.exit(1 if failed else 0)


def _print_summary(manifest: Any, out_dir: Path) -> None:
    summary = manifest.summary()
    click.echo(
        f"{summary['ok']} of {summary['pages']} pages done ({summary['skipped']} already done earlier), "
        f"{summary['failed']} failed, {summary['inputs_failed']} inputs unreadable"
        + (f", {summary['warnings']} damaged but readable (see warnings)" if summary["warnings"] else "")
        + f"; results in {out_dir}/ (manifest.json lists every page)",
        err=True,
    )
    for doc in manifest.documents.values():
        if doc.reason and (not doc.pages_total or doc.pdf_failed):
            click.echo(f"  failed: {doc.input}: {doc.reason}", err=True)
        for page in doc.pages.values():
            if page.status == "failed":
                click.echo(f"  failed: {doc.input} page {page.number}: {page.reason}", err=True)
            elif page.warnings:
                click.echo(f"  warning: {doc.input} page {page.number}: {'; '.join(page.warnings)}", err=True)


def _choice_option(name: str, choices: list[str], help_text: str) -> Any:
    """An option taking one of `choices`, the first by default (shown in --help)."""
    return click.option(
        name, type=click.Choice(choices), default=choices[0], show_default=True, help=help_text
    )


@app.command()
@click.argument("textfile", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--pages", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Archival: page i has seed SEED+i.")
@click.option("--max-skew", type=click.FloatRange(0, 15), default=None, help="Degrees (plain 4, archival 3).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "jpeg", "pdf", "tiff"]),
    default=None,
    help="One image per page, or one multi-page PDF / TIFF (plain only). Default: png plain, jpeg archival.",
)
@click.option(
    "--degrade", default=None, help="Comma-separated degradations to apply (default: a random mix)."
)
@click.option(
    "--style", type=click.Choice(["typewriter", "book"]), default=None, help="Font style (default: any)."
)
@click.option(
    "--wrap", is_flag=True, help="Start the text again when it runs out, so that every page is full."
)
@click.option(
    "--turn",
    type=click.Choice(["0", "90", "180", "270"]),
    default="0",
    help="Lay the page on its side or upside down (degrees clockwise).",
)
@_choice_option(
    "--layout",
    ["plain", "archival"],
    "plain: lines of text; archival: letterhead, stamps, handwriting, folio numbers, carbon copies.",
)
@_choice_option(
    "--fontset",
    ["tune", "dev", "heldout"],
    "Archival: faces and degradations to develop on (tune), other faces to check a change on before "
    "it is measured (dev), or to measure on only (heldout).",
)
@_choice_option(
    "--split", ["tests", "bench"], "Archival without TEXTFILE: the corpus split the text comes from."
)
@click.option(
    "--page-type", default=None, help="Archival: comma-separated page types, cycled (default: any)."
)
@_choice_option(
    "--colour",
    ["colour", "grey", "mixed"],
    "Archival: colour scans, grey ones, or each page either way by its seed.",
)
def synth(
    textfile: Path | None,
    out_dir: Path,
    pages: int,
    seed: int,
    max_skew: float | None,
    fmt: str | None,
    degrade: str | None,
    style: str | None,
    wrap: bool,
    turn: str,
    layout: str,
    fontset: str,
    split: str,
    page_type: str | None,
    colour: str,
) -> None:
    """Render real text into degraded synthetic scans with exact ground truth.

    With --layout archival, TEXTFILE is optional (default: the corpus's tests split) and each page gets
    `<stem>-<seed>.jpg`, `.gt.txt` (the document's text), `.zones.json` (every zone) and `.json`."""
    from . import synth as synth_mod
    from .transcripts import markdown_to_plain, read_text

    if textfile is None and layout == "plain":
        raise click.UsageError("TEXTFILE is required with --layout plain")
    text = None
    if textfile is not None:
        try:
            text = read_text(textfile)
            if textfile.suffix.lower() in (".md", ".markdown"):
                text = markdown_to_plain(text)
        except ArchocrError as exc:
            _fail(exc)
            return
    chosen = tuple(d.strip() for d in degrade.split(",") if d.strip()) if degrade else None
    if layout == "archival":
        _synth_archival(
            text, textfile, out_dir, pages, seed, max_skew, fmt, chosen, fontset, split, page_type, colour
        )
        return
    assert text is not None and textfile is not None
    if chosen and (unknown := set(chosen) - set(synth_mod.DEGRADATIONS)):
        raise click.BadParameter(
            f"unknown degradation(s) {sorted(unknown)}; known: {', '.join(synth_mod.DEGRADATIONS)}",
            param_hint="--degrade",
        )
    rendered = synth_mod.render_pages(
        text,
        pages,
        seed,
        max_skew=4.0 if max_skew is None else max_skew,
        degradations=chosen,
        style=style,
        wrap=wrap,
        turn=int(turn),
    )
    written = synth_mod.write_pages(rendered, out_dir, textfile.stem, fmt or "png")
    click.echo(
        f"wrote {len(rendered)} page(s) to {out_dir}: {', '.join(p.name for p in written[:4])}"
        f"{' …' if len(written) > 4 else ''}",
        err=True,
    )


def _synth_archival(
    text: str | None,
    textfile: Path | None,
    out_dir: Path,
    pages: int,
    seed: int,
    max_skew: float | None,
    fmt: str | None,
    chosen: tuple[str, ...] | None,
    fontset: str,
    split: str,
    page_type: str | None,
    colour: str,
) -> None:
    from . import archival

    if fmt in ("pdf", "tiff"):
        raise click.BadParameter(
            "archival pages are written one image per page: png or jpeg", param_hint="--format"
        )
    known = archival.DEGRADATION_SETS[fontset]
    if chosen and (unknown := set(chosen) - set(known)):
        raise click.BadParameter(
            f"unknown degradation(s) {sorted(unknown)} for font set {fontset}; known: {', '.join(known)}",
            param_hint="--degrade",
        )
    kinds = tuple(k.strip() for k in page_type.split(",") if k.strip()) if page_type else None
    if kinds and (wrong := archival.unknown_page_types(kinds)):
        raise click.BadParameter(wrong, param_hint="--page-type")
    try:
        words = text.split() if text is not None else archival.corpus_words(split)
    except FileNotFoundError as exc:
        raise click.UsageError(f"{exc}; set ARCHOCR_CORPUS to the corpus folder or give a TEXTFILE") from exc
    if not words:
        raise click.UsageError(f"{textfile}: no text to render")
    stem = textfile.stem if textfile is not None else "archival"
    written = []
    for index, page_seed in enumerate(range(seed, seed + pages)):  # one page in memory at a time
        try:
            rendered = archival.render_pages(
                words,
                [page_seed],
                fontset=fontset,
                page_types=(kinds[index % len(kinds)],) if kinds else None,
                degradations=chosen,
                colour=colour,
                max_skew=3.0 if max_skew is None else max_skew,
            )
        except ArchocrError as exc:  # a face of the set not installed: which one, and its package
            _fail(exc)
            return
        written += archival.write_pages(rendered, out_dir, stem, fmt or "jpeg")
    click.echo(
        f"wrote {len(written)} archival page(s) ({fontset}) to {out_dir}: "
        f"{', '.join(p.name for p in written[:4])}{' …' if len(written) > 4 else ''}",
        err=True,
    )


@app.command("eval")
@click.option(
    "--gt",
    "gt_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of <document>[.<NNNN>].gt.txt ground-truth files.",
)
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the scores as JSON to this file ('-' for standard output).",
)
def eval_cmd(gt_dir: Path, out_dir: Path, json_path: Path | None) -> None:
    """CER and WER of an output folder against ground truth, per page and overall."""
    from rich.console import Console
    from rich.table import Table

    from . import evaluate
    from .files import atomic_write

    scores = evaluate.evaluate_dir(gt_dir, out_dir)
    if not scores:
        _fail(UsageError("no *.gt.txt files found", path=str(gt_dir)))
    table = Table(title=f"{out_dir} against {gt_dir}")
    for column in ("document", "page", "CER", "WER", "CER folded", "WER folded"):
        table.add_column(column, justify="right" if column != "document" else "left")
    failed = [s for s in scores if s.error]
    for s in scores:
        if s.error:
            table.add_row(s.document, str(s.page), "failed", "", "", "", style="red")
            continue
        table.add_row(
            s.document,
            str(s.page) + (" (missing)" if s.missing else ""),
            f"{s.raw.cer:.2%}",
            f"{s.raw.wer:.2%}",
            f"{s.folded.cer:.2%}",
            f"{s.folded.wer:.2%}",
        )
    raw, folded = evaluate.total(scores), evaluate.total(scores, folded=True)
    table.add_row(
        "overall",
        str(len(scores) - len(failed)),
        f"{raw.cer:.2%}",
        f"{raw.wer:.2%}",
        f"{folded.cer:.2%}",
        f"{folded.wer:.2%}",
        style="bold",
    )
    Console(stderr=json_path is not None and str(json_path) == "-").print(table)
    if json_path is not None:
        report = {
            "pages": [
                {
                    "document": s.document,
                    "page": s.page,
                    "missing": s.missing,
                    "error": s.error,
                    **(
                        dict.fromkeys(("cer", "wer", "cer_folded", "wer_folded", "chars", "words"))
                        if s.error
                        else {
                            "cer": s.raw.cer,
                            "wer": s.raw.wer,
                            "cer_folded": s.folded.cer,
                            "wer_folded": s.folded.wer,
                            "chars": s.raw.chars,
                            "words": s.raw.words,
                        }
                    ),
                }
                for s in scores
            ],
            "overall": {
                "cer": raw.cer,
                "wer": raw.wer,
                "cer_folded": folded.cer,
                "wer_folded": folded.wer,
                "chars": raw.chars,
                "words": raw.words,
            },
        }
        text = json.dumps(report, ensure_ascii=False, indent=1)
        if str(json_path) == "-":
            click.echo(text)
        else:
            atomic_write(json_path, text + "\n")
    for s in failed:
        click.echo(f"archocr: error: {s.error} (not scored)", err=True)
    if failed:
        click.echo(f"archocr: {len(failed)} of {len(scores)} page(s) could not be scored", err=True)
        sys.exit(1)


def main() -> None:  # pragma: no cover - console entry point
    app()


@app.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--lexicon",
    "lexicon_name",
    default="default",
    show_default=True,
    callback=_check_lexicon,
    help="Lexicon to correct against.",
)
@click.option("--modernise", is_flag=True, help="Also modernise pre-1918 spelling (recorded as changes).")
@click.option(
    "--encoding",
    default=None,
    callback=check_encoding,
    help="Encoding of plain-text input (default: a byte-order mark, else UTF-8, else detected).",
)
def correct(
    files: tuple[Path, ...], out_dir: Path, lexicon_name: str, modernise: bool, encoding: str | None
) -> None:
    """Correct existing OCR output (plain text, hOCR or ALTO) against the period lexicon.

    Writes <name>.txt (corrected text, pages separated by form feeds) and <name>.changes.json (every
    change: page, line, word, original, replacement, reason, candidates, confidence)."""
    from . import lexicon as lexicon_mod

    try:
        lex = lexicon_mod.load(lexicon_name)
    except ArchocrError as exc:
        _fail(exc)
        return
    inputs = {path.resolve() for path in files}
    written: set[Path] = set()
    failed = 0
    for path in files:
        try:
            target = _correct_one(path, out_dir, lex, modernise, encoding, inputs, written)
        except ArchocrError as exc:
            message = str(exc)
        except OSError as exc:
            message = f"{path}: cannot be written: {exc.strerror or exc}"
        except Exception as exc:  # one bad file must not stop the others; it is named and counted
            message = f"{path}: internal error: {type(exc).__name__}: {exc}"
        else:
            click.echo(f"{path}: {target[1]} change(s) -> {target[0]}", err=True)
            continue
        click.echo(f"archocr: error: {message}", err=True)
        failed += 1
    if failed:
        click.echo(f"archocr: {failed} of {len(files)} file(s) failed; the others were corrected", err=True)
    sys.exit(1 if failed else 0)


def _correct_one(
    path: Path,
    out_dir: Path,
    lex: Any,
    modernise: bool,
    encoding: str | None,
    inputs: set[Path],
    written: set[Path],
) -> tuple[Path, int]:
    """Correct one OCR file into out_dir; returns (text file written, number of changes)."""
    from .correct import Corrector
    from .files import atomic_write, atomic_write_json
    from .ocr_files import read_ocr_file

    pages = read_ocr_file(path, encoding)
    # Two inputs with one stem (a.txt, a.hocr) must not overwrite each other, nor any input itself.
    taken = inputs | written
    for stem in (path.stem, path.name):
        text_path, changes_path = out_dir / f"{stem}.txt", out_dir / f"{stem}.changes.json"
        if not {text_path.resolve(), changes_path.resolve()} & taken:
            break
    else:
        raise ArchocrError(
            "its output would overwrite an input or another output; choose another --out", path=str(path)
        )
    words = [w.text for page in pages for w in page.words]
    corrector = Corrector(lex, modernise=modernise, document_text=words)
    corrected = [corrector.correct_page(page) for page in pages]
    changes = [{"page": p.number, **dataclasses.asdict(c)} for p in corrected for c in p.corrections]
    atomic_write(text_path, "\f".join(p.text + "\n" for p in corrected))
    atomic_write_json(changes_path, {"source": str(path), "lexicon": lex.identity, "changes": changes})
    written.update({text_path.resolve(), changes_path.resolve()})
    return text_path, len(changes)


@app.group()
def lexicon() -> None:
    """Build and inspect period lexicons (folders under dictionaries/)."""


@lexicon.command("build")
@click.argument("texts", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--name", default="default", show_default=True, help="Lexicon name (folder under dictionaries/)."
)
@click.option("--description", default=None, help="What the lexicon is for.")
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Keep words seen at least this often.",
)
def lexicon_build(texts: tuple[Path, ...], name: str, description: str | None, min_count: int) -> None:
    """Build a lexicon from TEXTS, or, with none given, from the corpus's lexicon split."""
    from . import corpus
    from . import lexicon as lexicon_mod
    from .transcripts import read_text

    try:
        if texts:
            sources = [(str(p), read_text(p)) for p in texts]
        else:
            documents = corpus.split_documents("lexicon")
            sources = [
                (
                    f"{corpus.BOOK_NAME}, lexicon split ({len(documents)} documents)",
                    "\n".join(raw for _, raw in documents),
                )
            ]
        folder = lexicon_mod.build(name, sources, description or f"Lexicon {name}", min_count=min_count)
        lex = lexicon_mod.load(str(folder))
    except FileNotFoundError as exc:
        _fail(UsageError(f"{exc}; give the texts to build from"))
        return
    except ArchocrError as exc:
        _fail(exc)
        return
    _ = lex.symspell  # build the cached index now, not on the first page of a batch
    click.echo(
        f"lexicon {lex.identity}: {len(lex.words)} words, {len(lex.names)} names -> {folder}", err=True
    )


@lexicon.command("info")
@click.argument("name", default="default")
def lexicon_info(name: str) -> None:
    """Show a lexicon's identity and size (loads it, so it also checks it)."""
    from . import lexicon as lexicon_mod

    try:
        lex = lexicon_mod.load(name)
    except ArchocrError as exc:
        _fail(exc)
        return
    click.echo(
        json.dumps(
            {
                "identity": lex.identity,
                "folder": str(lex.folder),
                "words": len(lex.words),
                "word_pairs": len(lex.bigrams),
                "names": len(lex.names),
                "abbreviations": len(lex.abbreviations),
                "dotted": len(lex.dotted),
                "citations": len(lex.citations),
                "confusions": len(lex.confusions),
            },
            ensure_ascii=False,
            indent=1,
        )
    )


def _align_and_report(
    out_dir: Path, transcript: Path, encoding: str | None, lexicon_name: str, quiet: bool = False
) -> dict[str, Any]:
    from . import report
    from .transcripts import read_text_with_encoding

    run_ = report.align_output(out_dir, transcript, encoding=encoding, lexicon_name=lexicon_name)
    text, _ = read_text_with_encoding(transcript, encoding)
    paths = report.write_reports(run_, out_dir, text)
    aligned = sum(p.status == "aligned" for p in run_.pages)
    for problem in run_.unreadable:
        click.echo(f"archocr: error: {problem}", err=True)
    kinds: dict[str, int] = {}
    for p in run_.pages:
        for k, v in p.counts().items():
            kinds[k] = kinds.get(k, 0) + v
    pages = len(run_.pages) + len(run_.unreadable)
    if quiet:
        return {"pages": pages, "aligned": aligned}
    click.echo(
        f"transcript {transcript} read as {run_.encoding}; {aligned} of {len(run_.pages)} pages aligned"
        + "".join(
            f"; unmatched: {p.document} page {p.page} ({p.reason})"
            for p in run_.pages
            if p.status != "aligned"
        )
        + f"; {sum(kinds.values())} discrepancies {dict(sorted(kinds.items()))} -> {paths['html']}",
        err=True,
    )
    return {"pages": pages, "aligned": aligned}


@app.command("align")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--transcript",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Transcript (plain text or Markdown; one page or a whole book).",
)
@transcript_encoding
@click.option("--lexicon", "lexicon_name", default="default", show_default=True, callback=_check_lexicon)
def align_cmd(out_dir: Path, transcript: Path, encoding: str | None, lexicon_name: str) -> None:
    """Align the pages of a finished run in OUT_DIR with a transcript; write the reviewers' report."""
    try:
        result = _align_and_report(out_dir, transcript, encoding, lexicon_name)
    except ArchocrError as exc:
        _fail(exc)
        return
    sys.exit(0 if result["aligned"] == result["pages"] else 1)


@app.command("lint-transcript")
@click.argument("transcript", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", default=None, callback=check_encoding)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option("--lexicon", "lexicon_name", default="default", show_default=True, callback=_check_lexicon)
def lint_transcript(transcript: Path, encoding: str | None, as_json: bool, lexicon_name: str) -> None:
    """Check a transcript on its own: unbalanced brackets, fragments that make no word, stray markers."""
    from . import align, report
    from . import lexicon as lexicon_mod

    try:
        parsed = report.load_transcript(transcript, lexicon_mod.load(lexicon_name), encoding)
    except ArchocrError as exc:
        _fail(exc)
        return
    problems = align.lint_transcript(parsed)
    if as_json:
        click.echo(json.dumps(problems, ensure_ascii=False, indent=1))
    else:
        for p in problems:
            click.echo(f"{transcript}:{p['line']}: {p['kind']}: {p['message']}  [{p['text']}]")
        click.echo(f"{len(problems)} problem(s) in {transcript} ({parsed.encoding})", err=True)
    sys.exit(1 if problems else 0)


from .review.commands import review as _review  # noqa: E402  (the reviewers' workbench)

app.add_command(_review)
