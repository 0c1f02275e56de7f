"""what answers keep between questions: each job's revision (raised by every write to its
telemetry) and each finished run's judged state (storage/job_state.py)

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_revisions",
        sa.Column("job_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )
    # Every job that exists has a revision, so a judgement of its runs can be checked against it.
    op.execute("INSERT INTO job_revisions (job_id, revision) SELECT id, 0 FROM jobs")
    op.create_table(
        "run_judgements",
        sa.Column("run_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("definition_at", UTC, nullable=False),
    )
    op.create_index("ix_run_judgements_job_started", "run_judgements", ["job_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_run_judgements_job_started", table_name="run_judgements")
    op.drop_table("run_judgements")
    op.drop_table("job_revisions")
