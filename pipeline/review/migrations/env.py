"""Alembic environment: migrations run programmatically (pipeline.review.store.migrate) on a connection
handed over in config.attributes; `alembic` on the command line is not needed."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("run the review migrations through pipeline.review.store.migrate()")
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
