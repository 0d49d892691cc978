"""Alembic environment: the URL comes from our settings (or the caller's connection)."""
from __future__ import annotations

from alembic import context

from backend.config import get_settings
from backend.db import create_db_engine
from backend.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(get_settings().effective_database_url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER much
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


run_migrations()
