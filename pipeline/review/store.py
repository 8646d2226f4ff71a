"""Decisions in a database: SQLite in the run folder by default, PostgreSQL for a team server.

The history is append-only: a decision, a change of mind and an undo each add a row, nothing is ever
updated or deleted. Each row carries the version of the discrepancy it was made on (1 for the first
row, 2 for the next ...); a unique (discrepancy, version) pair makes two reviewers deciding the same
discrepancy at once a conflict the database itself refuses, on SQLite as on PostgreSQL.
The schema is versioned with Alembic (pipeline/review/migrations) and migrated on open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

ACTIONS = {
    "o": "the scan is right, the transcript is wrong",
    "t": "the transcript is right, the OCR misread",
    "b": "both are right (a real variant or editorial apparatus)",
    "e": "edited: the right reading is typed in",
    "u": "unclear: needs a second look",
}
UNDO = "undo"
REREAD = 200  # rows read again on each refresh, for ids that committed late
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("discrepancy_id", "version", name="uq_decision_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    discrepancy_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    reading: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(200), index=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # What was decided, as it stood: so the history and the orphans can be told without the run.
    document: Mapped[str] = mapped_column(String(500))
    page: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    ocr_text: Mapped[str] = mapped_column(Text)
    transcript_text: Mapped[str] = mapped_column(Text)
    ocr_start: Mapped[int] = mapped_column(Integer)
    ocr_end: Mapped[int] = mapped_column(Integer)
    transcript_start: Mapped[int] = mapped_column(Integer)
    transcript_end: Mapped[int] = mapped_column(Integer)


@dataclasses.dataclass(frozen=True)
class Decision:
    """One row of the history, as plain data."""

    row: int
    discrepancy_id: str
    version: int
    action: str
    reading: str
    comment: str
    reviewer: str
    created: str
    document: str
    page: int
    kind: str
    ocr_text: str
    transcript_text: str
    ocr_start: int
    ocr_end: int
    transcript_start: int
    transcript_end: int


@dataclasses.dataclass
class State:
    """A discrepancy's state, replayed from its rows: the decisions still in force (undo pops one)."""

    version: int = 0
    stack: list[Decision] = dataclasses.field(default_factory=list)

    @property
    def current(self) -> Decision | None:
        return self.stack[-1] if self.stack else None

    @property
    def status(self) -> str:
        return self.current.action if self.current else "open"

    def apply(self, d: Decision) -> None:
        self.version = max(self.version, d.version)
        if d.action == UNDO:
            if self.stack:
                self.stack.pop()
        else:
            self.stack.append(d)


class Conflict(Exception):
    """The discrepancy changed since the reviewer saw it."""

    def __init__(self, discrepancy_id: str, seen: int, current: int, by: str) -> None:
        self.discrepancy_id, self.seen, self.current, self.by = discrepancy_id, seen, current, by
        super().__init__(
            f"discrepancy {discrepancy_id} was changed by {by or 'another reviewer'} "
            f"(you saw version {seen}, it is now at version {current}); reload it and decide again"
        )


def _to_decision(r: DecisionRow) -> Decision:
    created = r.created if r.created.tzinfo else r.created.replace(tzinfo=dt.UTC)
    return Decision(
        r.id,
        r.discrepancy_id,
        r.version,
        r.action,
        r.reading,
        r.comment,
        r.reviewer,
        created.isoformat(timespec="seconds"),
        r.document,
        r.page,
        r.kind,
        r.ocr_text,
        r.transcript_text,
        r.ocr_start,
        r.ocr_end,
        r.transcript_start,
        r.transcript_end,
    )


def default_url(run_dir: Path) -> str:
    return f"sqlite:///{(run_dir / 'review.sqlite').resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


_MIGRATING = threading.Lock()  # Alembic's command API keeps module-level state: one at a time


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (a fresh database gets every migration)."""
    with _MIGRATING:
        _migrate(engine)


def _migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    """Decisions of one review, with an in-memory replay of the history kept up to date incrementally."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        migrate(self.engine)
        self.states: dict[str, State] = {}
        self.last_row = 0
        self._applied: set[int] = set()
        self._lock = threading.Lock()  # the export runs beside the requests
        self.last_state: State | None = None  # the state after this process's last decision

    def close(self) -> None:
        self.engine.dispose()

    def refresh(self) -> dict[str, State]:
        """Replay rows added since the last call (by this process or any other).

        Row ids come from a sequence: on PostgreSQL a row may commit after a later id is already visible,
        so the last stretch of ids is read again and rows not yet applied are applied then. (Rows of one
        discrepancy never overtake each other: each needs the version before it.)"""
        with self._lock, Session(self.engine) as session:
            ids = session.scalars(
                select(DecisionRow.id).where(DecisionRow.id > max(0, self.last_row - REREAD))
            )
            new = [i for i in ids if i not in self._applied]
            if not new:
                return self.states
            wanted = set(new)
            query = select(DecisionRow).order_by(DecisionRow.id)
            # A few new rows by their ids; many (the first refresh) as one range.
            query = query.where(DecisionRow.id.in_(new) if len(new) < 500 else DecisionRow.id >= min(new))
            for r in session.scalars(query):
                if r.id not in wanted:
                    continue
                self._applied.add(r.id)
                self.states.setdefault(r.discrepancy_id, State()).apply(_to_decision(r))
                self.last_row = max(self.last_row, r.id)
        return self.states

    def rows(self, discrepancy_id: str) -> list[Decision]:
        """The discrepancy's history read from the database now (not from the replay cache)."""
        with Session(self.engine) as session:
            return [
                _to_decision(r)
                for r in session.scalars(
                    select(DecisionRow)
                    .where(DecisionRow.discrepancy_id == discrepancy_id)
                    .order_by(DecisionRow.version)
                )
            ]

    def state(self, discrepancy_id: str) -> State:
        state = State()
        for d in self.rows(discrepancy_id):
            state.apply(d)
        return state

    def decide(
        self,
        discrepancy: dict[str, Any],
        action: str,
        *,
        reviewer: str,
        seen_version: int,
        reading: str = "",
        comment: str = "",
        now: dt.datetime | None = None,
    ) -> Decision:
        """Append a decision (or an undo) made on `seen_version`; Conflict if that is no longer current."""
        if action not in ACTIONS and action != UNDO:
            raise ValueError(f"unknown action {action!r}: one of {', '.join([*ACTIONS, UNDO])}")
        if not reviewer.strip():
            raise ValueError("a decision needs the reviewer's name")
        if action == "e" and not reading:
            raise ValueError("an edit needs the right reading")
        if action == "u" and not comment.strip():
            raise ValueError("'unclear' needs a comment saying what to look at")
        did = discrepancy["id"]
        row = DecisionRow(
            discrepancy_id=did,
            version=seen_version + 1,
            action=action,
            reading=reading if action == "e" else "",
            comment=comment,
            reviewer=reviewer.strip(),
            created=now or dt.datetime.now(dt.UTC),
            document=discrepancy["document"],
            page=discrepancy["page"],
            kind=discrepancy["kind"],
            ocr_text=discrepancy["ocr_text"],
            transcript_text=discrepancy["transcript_text"],
            ocr_start=discrepancy["ocr_start"],
            ocr_end=discrepancy["ocr_end"],
            transcript_start=discrepancy["transcript_start"],
            transcript_end=discrepancy["transcript_end"],
        )
        with Session(self.engine) as session:
            rows = session.scalars(
                select(DecisionRow).where(DecisionRow.discrepancy_id == did).order_by(DecisionRow.version)
            ).all()
            state = State()
            for r in rows:
                state.apply(_to_decision(r))
            if state.version != seen_version:
                raise Conflict(did, seen_version, state.version, rows[-1].reviewer if rows else "")
            if action == UNDO and state.current is None:
                raise ValueError(f"discrepancy {did} has no decision to undo")
            session.add(row)
            try:
                session.commit()
            except IntegrityError as exc:  # another reviewer's row took this version in between
                session.rollback()
                raise Conflict(did, seen_version, seen_version + 1, "") from exc
            decision = _to_decision(row)
        state.apply(decision)
        self.last_state = state
        return decision

    def history(self) -> list[Decision]:
        with Session(self.engine) as session:
            return [_to_decision(r) for r in session.scalars(select(DecisionRow).order_by(DecisionRow.id))]

    def count(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count(DecisionRow.id))) or 0

    def reviewers(self) -> list[str]:
        with Session(self.engine) as session:
            return sorted(session.scalars(select(DecisionRow.reviewer).distinct()))
