"""who may see a job; the audit log of changes people make

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("audience", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "audit",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("at", UTC, nullable=False, index=True),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("action", sa.String(64), nullable=False, index=True),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("origin", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("audience")
