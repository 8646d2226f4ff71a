"""The append-only history of review decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("discrepancy_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("reading", sa.Text, nullable=False, server_default=""),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.String(500), nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("ocr_text", sa.Text, nullable=False),
        sa.Column("transcript_text", sa.Text, nullable=False),
        sa.Column("ocr_start", sa.Integer, nullable=False),
        sa.Column("ocr_end", sa.Integer, nullable=False),
        sa.Column("transcript_start", sa.Integer, nullable=False),
        sa.Column("transcript_end", sa.Integer, nullable=False),
        sa.UniqueConstraint("discrepancy_id", "version", name="uq_decision_version"),
    )
    op.create_index("ix_decisions_discrepancy_id", "decisions", ["discrepancy_id"])
    op.create_index("ix_decisions_reviewer", "decisions", ["reviewer"])


def downgrade() -> None:
    op.drop_table("decisions")
