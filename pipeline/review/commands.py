"""`archocr review DIR` (serve the workbench) and `archocr review export DIR`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..cli_options import transcript_encoding
from ..errors import ArchocrError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class _ReviewGroup(click.Group):
    """`archocr review DIR ...` serves; `archocr review export DIR` exports: DIR first means serve."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


def _fail(exc: ArchocrError) -> None:
    click.echo(f"archocr: error: {exc}", err=True)
    sys.exit(exc.exit_code if hasattr(exc, "exit_code") else 1)


def _open(run_dir: Path, db: str | None, transcript: Path | None = None) -> tuple[Any, Any]:
    from .run import Run
    from .store import Store, default_url

    run = Run(run_dir, transcript)
    return run, Store(db or default_url(run_dir))


@click.group(cls=_ReviewGroup)
def review() -> None:
    """Decide every discrepancy of an aligned run in the browser (`archocr review DIR`), then
    `archocr review export DIR` turns the decisions into the reviewed text, errata and lexicon feedback."""


@review.command("serve")
@click.argument("run_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--transcript",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Transcript to align with when DIR has no discrepancies.json yet (and for context).",
)
@transcript_encoding
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option(
    "--db", default=None, help="Database URL (default: sqlite in DIR/review.sqlite; or postgresql://...)."
)
@click.option("--token", default=None, help="Token every request must carry (required off 127.0.0.1).")
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File holding the token (keeps it out of the process list).",
)
def serve(
    run_dir: Path,
    transcript: Path | None,
    encoding: str | None,
    host: str,
    port: int,
    db: str | None,
    token: str | None,
    token_file: Path | None,
) -> None:
    """Serve the reviewers' workbench for DIR."""
    import uvicorn

    from .app import create_app

    if token_file is not None:
        token = token_file.read_text(encoding="utf-8").strip()
        if not token:
            click.echo(f"archocr: error: {token_file}: the token file is empty", err=True)
            sys.exit(2)
    if host not in LOCAL_HOSTS and not token:
        click.echo(
            f"archocr: error: listening on {host} lets other machines in: give --token or --token-file",
            err=True,
        )
        sys.exit(2)
    if token is not None and len(token) < 16:
        click.echo("archocr: error: the token is too short (16 characters at least)", err=True)
        sys.exit(2)
    try:
        if not (run_dir / "discrepancies.json").is_file():
            if transcript is None:
                raise ArchocrError(
                    "has no discrepancies.json: give --transcript FILE to align it first", path=str(run_dir)
                )
            from ..cli import _align_and_report
            from .run import run_lexicon

            _align_and_report(run_dir, transcript, encoding, run_lexicon(run_dir))
        run, store = _open(run_dir, db, transcript)
    except ArchocrError as exc:
        _fail(exc)
        return
    app = create_app(run, store, token=token)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"reviewing {len(run.discrepancies)} discrepancies of {run_dir} at {address}", err=True)
    click.echo(f"decisions go to {store.url.split('@')[-1]}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


@review.command("export")
@click.argument("run_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", default=None, help="Database URL (default: sqlite in DIR/review.sqlite).")
@click.option("--transcript", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option(
    "--lexicon",
    "lexicon_name",
    default=None,
    help="Collection lexicon to feed the confirmed words and misreadings into (dictionaries/NAME).",
)
def export_cmd(run_dir: Path, db: str | None, transcript: Path | None, lexicon_name: str | None) -> None:
    """Write the reviewed text, ALTO / PAGE-XML, errata and decisions.jsonl for DIR."""
    from . import export

    try:
        run, store = _open(run_dir, db, transcript)
        summary = export.export(run, store)
        if lexicon_name:
            from . import feedback

            summary["feedback"] = feedback.feed(run, store, lexicon_name)
    except ArchocrError as exc:
        _fail(exc)
        return
    click.echo(
        f"{summary['pages']} pages, {summary['readings_changed']} readings changed "
        f"({summary['changes_skipped']} no longer where they were), {summary['errata']} errata, "
        f"{summary['decisions']} decisions, {summary['orphaned']} orphaned -> {run_dir}",
        err=True,
    )
    if "feedback" in summary:
        f = summary["feedback"]
        click.echo(
            f"lexicon {f['lexicon']}: +{f['words']} words, +{f['names']} names, "
            f"+{f['confusions']} confusions",
            err=True,
        )
