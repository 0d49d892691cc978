"""The SQL of ingestion: code lookups, idempotent inserts and upserts by code.

Every statement takes the tenant explicitly. Batches are written with one executemany per
table (SQLAlchemy's "insertmanyvalues": a few multi-row INSERTs, not one per row)."""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.models import Checkpoint, Client, Person, Site, Tour


class RefTable(StrEnum):
    """Tables that items reference by their external ``code``."""
    CLIENT = "client"
    SITE = "site"
    PERSON = "person"
    CHECKPOINT = "checkpoint"
    TOUR = "tour"


_REF_MODELS: dict[RefTable, Any] = {RefTable.CLIENT: Client, RefTable.SITE: Site, RefTable.PERSON: Person,
                                    RefTable.CHECKPOINT: Checkpoint, RefTable.TOUR: Tour}


@dataclass(frozen=True, slots=True)
class Ref:
    """A resolved code: the row id and, for checkpoints and tours, the site they belong to."""
    id: int
    site_id: int | None = None


def lookup_codes(session: Session, tenant_id: int,
                 wanted: Mapping[RefTable, Collection[str]]) -> dict[RefTable, dict[str, Ref]]:
    """One query per referenced table for the whole batch (never one per item)."""
    found: dict[RefTable, dict[str, Ref]] = {}
    dialect = _dialect(session)
    for table, codes in wanted.items():
        if not codes:
            continue
        model = _REF_MODELS[table]
        site_column = model.site_id if hasattr(model, "site_id") else sa.null()
        rows = session.execute(sa.select(model.code, model.id, site_column)
                               .where(model.tenant_id == tenant_id, _code_in(model.code, list(codes), dialect)))
        found[table] = {code: Ref(row_id, site_id) for code, row_id, site_id in rows}
    return found


def _code_in(column: Any, codes: list[str], dialect: str) -> Any:
    if dialect == "postgresql":
        # ``code = ANY(:array)``: one fixed statement text that psycopg caches and PostgreSQL
        # prepares; an IN list of a few hundred codes is new text every time (~6x slower).
        array = postgresql.ARRAY(sa.String)
        return column == sa.any_(sa.cast(sa.bindparam("codes", codes, type_=array), array))
    return column.in_(codes)


def insert_new(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert event rows, skipping those whose (tenant_id, client_event_id) is already stored.

    Returns client_event_id -> id of the rows *this* call inserted; a concurrent or earlier
    insert of the same key loses to the unique constraint and is simply not returned. Rows go
    in key order so concurrent batches lock keys in the same order (no deadlocks). All rows of
    one call must have the same keys."""
    if not rows:
        return {}
    ordered = sorted(rows, key=lambda row: row["client_event_id"])
    dialect, columns = _dialect(session), tuple(rows[0])
    if dialect == "postgresql":
        result = session.execute(_pg_unnest_insert_statement(table, columns),
                                 {name: [row[name] for row in ordered] for name in columns})
    else:
        result = session.execute(_insert_new_statement(dialect, table), ordered)
    return {key: row_id for row_id, key in result}


def upsert_by_code(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert or update reference rows by (tenant_id, code); returns code -> id of every row.
    All rows of one call must have the same keys (one kind of item)."""
    if not rows:
        return {}
    statement = _upsert_statement(_dialect(session), table, tuple(rows[0]))
    ordered = sorted(rows, key=lambda row: row["code"])
    return {code: row_id for row_id, code in session.execute(statement, ordered)}


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _insert_function(dialect: str) -> Any:
    # Both dialects spell ON CONFLICT the same way; the generic insert() has no ON CONFLICT.
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


# Statements are immutable: build each once per process, not once per request.
@lru_cache(maxsize=64)
def _insert_new_statement(dialect: str, table: sa.Table) -> Any:
    return (_insert_function(dialect)(table)
            .on_conflict_do_nothing(index_elements=["tenant_id", "client_event_id"])
            .returning(table.c.id, table.c.client_event_id))


@lru_cache(maxsize=64)
def _pg_unnest_insert_statement(table: sa.Table, columns: tuple[str, ...]) -> Any:
    """INSERT ... SELECT FROM unnest(one array per column) ON CONFLICT DO NOTHING RETURNING.

    Why not executemany (insertmanyvalues)? Its multi-row VALUES statement has thousands of
    placeholders, and psycopg 3 re-parses such a long query text on every call (it caches only
    short ones): measured ~3x slower per 500 rows. This text is short and fixed, so psycopg
    caches it and PostgreSQL prepares it once."""
    arrays = [sa.cast(sa.bindparam(name, type_=postgresql.ARRAY(table.c[name].type)),
                      postgresql.ARRAY(table.c[name].type)) for name in columns]
    source = sa.func.unnest(*arrays).table_valued(*columns).render_derived()
    return (postgresql.insert(table)
            .from_select(list(columns), sa.select(*(source.c[name] for name in columns)))
            .on_conflict_do_nothing(index_elements=["tenant_id", "client_event_id"])
            .returning(table.c.id, table.c.client_event_id))


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: sa.Table, columns: tuple[str, ...]) -> Any:
    insert = _insert_function(dialect)(table)
    updated = {name: insert.excluded[name] for name in columns if name not in ("tenant_id", "code")}
    return (insert.on_conflict_do_update(index_elements=["tenant_id", "code"], set_=updated)
            .returning(table.c.id, table.c.code))
