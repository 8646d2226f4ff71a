"""Command-line options that archocr's commands and the reviewers' workbench share."""

from __future__ import annotations

import click


def check_encoding(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An --encoding's check: an unknown one is a usage error before any work."""
    from .transcripts import check_encoding as check

    if value is not None:
        try:
            check(value)
        except LookupError as exc:
            raise click.BadParameter(f"unknown encoding {value!r}", ctx, param) from exc
    return value


transcript_encoding = click.option(
    "--encoding",
    default=None,
    callback=check_encoding,
    help="Transcript encoding (default: a byte-order mark, else UTF-8, else detected).",
)
