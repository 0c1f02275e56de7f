"""conversations the bot is installed in

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(500), nullable=False, unique=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=True),
        sa.Column("team_id", sa.String(500), nullable=True),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("channel_id", sa.String(500), nullable=True),
        sa.Column("channel_name", sa.String(200), nullable=True),
        sa.Column("service_url", sa.String(500), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("installed_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversations")
