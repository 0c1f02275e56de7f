"""what the watcher keeps so that it reads only what changed: a mark on each run not judged
since its last write, partial indexes of the runs it still looks at (not judged; unfinished),
each run's own facts and its stall limit beside the stored judgements, since when each job's
definition has been as it is, and when its running runs next need a look (storage/watch.py,
storage/job_state.py)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)
PENDING_RUNS, UNFINISHED_RUNS = "pending", "finished_at IS NULL"
# Every job's running runs are looked at once after the upgrade (as `NEVER_LOOKED`).
NEVER_LOOKED = {"sqlite": "1970-01-01 00:00:00.000000", "postgresql": "1970-01-01 00:00:00+00"}
# The runs the watcher before this one would still have judged: reported since its job's last
# check (every run of a job never checked), within the week it looks back. Older ones it let go.
SINCE_THE_LAST_CHECK = (
    "UPDATE runs SET pending = {true} WHERE started_at >= {week_ago} AND EXISTS ("
    "SELECT 1 FROM jobs WHERE jobs.id = runs.job_id AND (jobs.checked_until IS NULL"
    " OR runs.last_event_at > jobs.checked_until OR runs.created_at > jobs.checked_until))")
WEEK_AGO = {
    "sqlite": "strftime('%Y-%m-%d %H:%M:%f', 'now', '-8 days')",
    "postgresql": "now() - interval '8 days'",
}


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    false, true = ("0", "1") if dialect == "sqlite" else ("false", "true")
    # A literal default adds the column in place, without copying the table, on both databases.
    op.add_column("runs", sa.Column("pending", sa.Boolean(), nullable=False,
                                    server_default=sa.text(false)))
    op.execute(SINCE_THE_LAST_CHECK.format(true=true, week_ago=WEEK_AGO[dialect]))
    for name, condition in (("ix_runs_pending", PENDING_RUNS), ("ix_runs_unfinished", UNFINISHED_RUNS)):
        op.create_index(name, "runs", ["job_id", "started_at"], sqlite_where=sa.text(condition),
                        postgresql_where=sa.text(condition))
    op.add_column("jobs", sa.Column("defined_at", UTC, nullable=True))
    op.add_column("jobs", sa.Column("definition_digest", sa.String(32), nullable=True))
    op.add_column("jobs", sa.Column("runs_check_at", UTC, nullable=True,
                                    server_default=NEVER_LOOKED[dialect]))
    with op.batch_alter_table("run_judgements") as judgements:
        judgements.alter_column("state", existing_type=sa.String(16), nullable=True)
        judgements.add_column(sa.Column("facts", sa.Text(), nullable=True))
        judgements.add_column(sa.Column("stall_after", sa.Float(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM run_judgements WHERE state IS NULL")
    with op.batch_alter_table("run_judgements") as judgements:
        judgements.drop_column("stall_after")
        judgements.drop_column("facts")
        judgements.alter_column("state", existing_type=sa.String(16), nullable=False)
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("runs_check_at")
        jobs.drop_column("definition_digest")
        jobs.drop_column("defined_at")
    op.drop_index("ix_runs_unfinished", table_name="runs")
    op.drop_index("ix_runs_pending", table_name="runs")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("pending")
