"""expectations on jobs; alerts, deliveries and subscriptions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("schedule", sa.String(100), nullable=True))
        batch.add_column(sa.Column("expect", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("alert", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("checked_until", UTC, nullable=True))
        batch.add_column(sa.Column("next_check_at", UTC, nullable=True))
    op.create_index("ix_jobs_next_check_at", "jobs", ["next_check_at"])
    op.create_table(
        "alerts",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("run_id", sa.BigInteger(), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("occurrence_at", UTC, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("resolution", sa.String(2000), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("snoozed_until", UTC, nullable=True),
        sa.UniqueConstraint("job_id", "kind", "key", name="uq_alerts_job_kind_key"),
    )
    op.create_index("ix_alerts_state_job", "alerts", ["state", "job_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("alert_id", sa.BigInteger(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("last_error", sa.String(2000), nullable=True),
        sa.Column("activity_id", sa.String(200), nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("alert_id", "event", "target", name="uq_deliveries_alert_event_target"),
    )
    op.create_index("ix_deliveries_state_due", "deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(500), nullable=False),
        sa.Column("job", sa.String(128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("conversation_id", "job", name="uq_subscriptions"),
    )


def downgrade() -> None:
    op.drop_table("subscriptions")
    op.drop_index("ix_deliveries_state_due", "deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_alerts_state_job", "alerts")
    op.drop_table("alerts")
    op.drop_index("ix_jobs_next_check_at", "jobs")
    with op.batch_alter_table("jobs") as batch:
        for column in ("next_check_at", "checked_until", "alert", "expect", "schedule"):
            batch.drop_column(column)
