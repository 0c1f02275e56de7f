"""Alembic environment. The app passes its own connection in `config.attributes`;
`alembic revision --autogenerate` from a shell uses OPENTRACE_DATABASE_URL instead."""

import os

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

# Importing the table modules registers their tables on the metadata.
import storage.alerts
import storage.audit
import storage.conversations
import storage.models  # noqa: F401

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = os.environ.get("OPENTRACE_DATABASE_URL", "sqlite:///opentrace.db")
    with create_engine(url).connect() as own_connection:
        context.configure(connection=own_connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
