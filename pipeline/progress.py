"""Progress for people (a rich bar on a terminal) and for machines (JSON lines on standard output)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as RichProgress,
)


class Progress:
    def __init__(self, enabled: bool, json_lines: bool = False) -> None:
        self.console = Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self.json_lines = json_lines
        self.bar: RichProgress | None = None
        self.task: Any = None
        self.started = time.monotonic()
        self.done = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            self.bar = RichProgress(
                TextColumn("[bold]archocr"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} pages/s"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "page":
            self.done += 1
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        if self.json_lines:
            line = {**event, "time": round(time.time(), 3), "pages_per_second": round(rate, 3)}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        if self.bar is None:
            return
        if kind == "start":
            self.task = self.bar.add_task("pages", total=event["todo"], rate="0.00")
        elif kind == "page" and self.task is not None:
            self.bar.update(self.task, advance=1, rate=f"{rate:.2f}")
        elif kind == "input_failed":
            # file names and reasons are the user's text, not markup (a name may hold "[red]")
            self.console.print(f"[red]unreadable:[/red] {escape(event['input'])}: {escape(event['reason'])}")
        if kind == "page" and event.get("warnings"):
            self.console.print(
                f"[yellow]damaged but readable:[/yellow] {escape(event['document'])} page {event['number']}: "
                + escape("; ".join(event["warnings"]))
            )
