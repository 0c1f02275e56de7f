"""initial schema: jobs, runs, events, tokens

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(128), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
    )
    op.create_table(
        "runs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("has_start", sa.Boolean(), nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("last_event_at", UTC, nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(4000), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("job_id", "key", name="uq_runs_job_key"),
    )
    op.create_index("ix_runs_job_started", "runs", ["job_id", "started_at"])
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("run_id", sa.BigInteger(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("key", sa.String(128), nullable=True),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.UniqueConstraint("run_id", "key", name="uq_events_run_key"),
    )
    op.create_index("ix_events_run_at", "events", ["run_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_run_at", "events")
    op.drop_table("events")
    op.drop_index("ix_runs_job_started", "runs")
    op.drop_table("runs")
    op.drop_table("tokens")
    op.drop_table("jobs")
