"""The database engine and sessions (built once per process, by ``backend.runtime``)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_database_url(url: str) -> str:
    """Plain ``postgresql://`` (or Heroku-style ``postgres://``) means psycopg 3, our default
    driver; ``postgresql+psycopg2://`` is honoured as written."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str) -> Engine:
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit at the driver; SQLAlchemy's "begin" hook opens transactions
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")      # readers don't block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")    # safe with WAL, far fewer fsyncs
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# Execution option marking read-only work (see ``Runtime.read``).
READ_ONLY = "noc_read_only"


def _sqlite_begin(conn: sa.Connection) -> None:
    # We emit BEGIN ourselves (pysqlite's own handling is off). Writers take the write lock up
    # front, so a read-then-write transaction can't hit SQLite's lock-upgrade deadlock;
    # readers use a plain BEGIN and, under WAL, never wait for a writer.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services return ORM rows after commit without a reload query.
    return sessionmaker(engine, expire_on_commit=False)
