"""Dialect-specific SQL functions shared by the set-based reads (scoring, audits): epoch
seconds of stored timestamps and back, and numeric columns fit for packed numpy fetches."""
from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

Kind = Literal["f8", "i8"]


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
def _epoch_sqlite(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


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
