"""who may see a job (and who a personal chat is with); the audit log of changes people make

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


# The audit log is append-only in the database itself, not only in the API.
APPEND_ONLY = {
    "sqlite": [
        f"CREATE TRIGGER audit_no_{verb.lower()} BEFORE {verb} ON audit "
        f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
        "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("audience", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("conversations") as conversations:
        conversations.add_column(sa.Column("person_id", sa.String(100), nullable=True))
        conversations.add_column(sa.Column("person_upn", sa.String(300), nullable=True))
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
    for statement in APPEND_ONLY[op.get_context().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_append_only()")
    with op.batch_alter_table("conversations") as conversations:
        conversations.drop_column("person_upn")
        conversations.drop_column("person_id")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("audience")
