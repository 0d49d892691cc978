"""Dialect-specific SQL functions shared by the set-based reads (scoring, audits): epoch
seconds of stored timestamps and back, numeric columns fit for packed numpy fetches, and the
packing itself (``packed_select``, ``unpack``)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

Kind = Literal["f8", "i8", "t8"]


class epoch(FunctionElement[float]):
    """Seconds since 1970 (UTC, fractional) of a stored timestamp column."""
    type = sa.Float()
    inherit_cache = True
    name = "noc_epoch"


@compiles(epoch, "postgresql")
def _epoch_pg(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # date_part returns double precision; EXTRACT returns numeric (slower, and needs a cast).
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: FunctionElement[float], compiler: SQLCompiler, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


class t8(FunctionElement[float]):
    """A stored timestamp column for packed array fetches, read as epoch seconds (never NULL).
    On PostgreSQL the packed read sends the stored value itself (``timestamptz_send``:
    microseconds since 2000, converted by numpy in ``unpack``): ``date_part('epoch', ...)``
    per row was a quarter of the server's time on the location-fix read. Elsewhere: ``epoch``."""
    type = sa.Float()
    inherit_cache = True
    name = "noc_t8"


@compiles(t8, "postgresql")
def _t8_pg(element: t8, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


compiles(t8, "sqlite")(_epoch_sqlite)


class at_epoch(FunctionElement[Any]):
    """A timestamp from epoch seconds, comparable with stored timestamps."""
    inherit_cache = True
    name = "noc_at_epoch"


@compiles(at_epoch, "postgresql")
def _at_epoch_pg(element: at_epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_timestamp({compiler.process(element.clauses, **kw)})"


@compiles(at_epoch, "sqlite")
def _at_epoch_sqlite(element: at_epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" (see models.base.UTCDateTime): the same text
    # form to milliseconds compares correctly against it.
    return f"strftime('%Y-%m-%d %H:%M:%f', {compiler.process(element.clauses, **kw)}, 'unixepoch')"


class f8(FunctionElement[float]):
    """A float column for packed array fetches: NULL becomes NaN."""
    type = sa.Float()
    inherit_cache = True
    name = "noc_f8"


@compiles(f8, "postgresql")
def _f8_pg(element: f8, compiler: SQLCompiler, **kw: Any) -> str:
    # Never NULL on PostgreSQL: the packed fetch would drop it and misalign the columns.
    return f"coalesce(CAST({compiler.process(element.clauses, **kw)} AS DOUBLE PRECISION), 'NaN'::float8)"


@compiles(f8, "sqlite")
def _f8_sqlite(element: f8, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS REAL)"


def i8(expression: Any) -> Any:
    """An integer column for packed array fetches (must never be NULL)."""
    return sa.cast(expression, sa.BigInteger)


class hour_number(FunctionElement[int]):
    """Whole hours since 1970 (UTC) of a stored timestamp column: a bucket to group by, which
    callers turn into site-local days and hours (SQLite has no time zones)."""
    type = sa.BigInteger()
    inherit_cache = True
    name = "noc_hour_number"


@compiles(hour_number, "postgresql")
def _hour_number_pg(element: hour_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(floor(date_part('epoch', {compiler.process(element.clauses, **kw)}) / 3600) AS BIGINT)"


@compiles(hour_number, "sqlite")
def _hour_number_sqlite(element: hour_number, compiler: SQLCompiler, **kw: Any) -> str:
    # Integer seconds, integer division: exact on the hour (julianday arithmetic is not).
    return f"(CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / 3600)"


# -- packed fetches ----------------------------------------------------------------------------

_SEND = {"f8": "float8send", "i8": "int8send", "t8": "timestamptz_send"}
_PG_EPOCH_S = 946_684_800.0     # 2000-01-01, where PostgreSQL's timestamps count from


def packed_select(statement: sa.Select[Any], kinds: Sequence[Kind]) -> sa.Select[Any]:
    """PostgreSQL: one row holding, per column, the binary values of every row concatenated
    (``string_agg(float8send(x), '')``), read back with one numpy view (``unpack``): no Python
    object per value, ~10x faster than fetching tuples for the large reads. Aggregates of one
    query see the rows in the same order, so the columns stay aligned."""
    inner = statement.subquery()
    return sa.select(*(sa.func.string_agg(getattr(sa.func, _SEND[kind])(column), sa.literal_column("''::bytea"),
                                          type_=sa.LargeBinary)
                       for column, kind in zip(inner.c, kinds, strict=True)))


def unpack(row: Sequence[bytes | None], kinds: Sequence[Kind]) -> list[np.ndarray]:
    """The numpy columns of a ``packed_select`` row (float64, int64; ``t8``: epoch seconds)."""
    columns = []
    for value, kind in zip(row, kinds, strict=True):
        raw = np.frombuffer(value or b"", dtype=">f8" if kind == "f8" else ">i8")
        if kind == "t8":
            columns.append(raw / 1e6 + _PG_EPOCH_S)
        else:
            columns.append(raw.astype(np.float64 if kind == "f8" else np.int64))
    return columns


def columns_of(rows: Sequence[Sequence[Any]], kinds: Sequence[Kind]) -> list[np.ndarray]:
    """The numpy columns of fetched rows (the unpacked path: SQLite)."""
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * len(kinds)
    return [np.array(column, dtype=np.int64 if kind == "i8" else np.float64)
            for column, kind in zip(columns, kinds, strict=True)]
