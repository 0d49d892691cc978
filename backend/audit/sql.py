"""SQL pieces the audit's reads share: epoch seconds of stored timestamps, and numeric
columns fetched straight into numpy arrays.

(The fraud scoring has its own, in ``backend/scoring/sql.py``, still moving while both are
built; the two should become one shared module.)"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

Kind = Literal["f8", "i8"]


class epoch(FunctionElement[float]):
    """Seconds since 1970 (UTC, fractional) of a stored timestamp column."""
    type = sa.Float()
    inherit_cache = True
    name = "audit_epoch"


@compiles(epoch, "postgresql")
def _epoch_pg(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # date_part is double precision; EXTRACT would return numeric (slower, needs a cast).
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


class f8(FunctionElement[float]):
    """A float column for ``fetch_arrays``: NULL becomes NaN."""
    type = sa.Float()
    inherit_cache = True
    name = "audit_f8"


@compiles(f8, "postgresql")
def _f8_pg(element: f8, compiler: SQLCompiler, **kw: Any) -> str:
    # Never NULL on PostgreSQL: string_agg would skip it and misalign the packed columns.
    return f"coalesce(CAST({compiler.process(element.clauses, **kw)} AS DOUBLE PRECISION), 'NaN'::float8)"


@compiles(f8, "sqlite")
def _f8_sqlite(element: f8, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS REAL)"


def i8(expression: Any) -> Any:
    """An integer column for ``fetch_arrays`` (must never be NULL)."""
    return sa.cast(expression, sa.BigInteger)


def fetch_arrays(session: Session, statement: sa.Select[Any], kinds: Sequence[Kind]) -> list[np.ndarray]:
    """Run a select whose columns are all ``f8(...)``/``i8(...)``; one numpy array per column.

    On PostgreSQL the rows come back packed: one row holding, per column, the binary values of
    every row concatenated (``string_agg(float8send(x), '')``), read with one numpy view: no
    Python object per value, several times faster for the large reads (telemetry, bootstrap
    buckets). Aggregates of one query see the rows in one order, so the columns stay aligned."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        inner = statement.subquery()
        packed = sa.select(*(sa.func.string_agg(sa.func.float8send(column) if kind == "f8"
                                                else sa.func.int8send(column),
                                                sa.literal_column("''::bytea"), type_=sa.LargeBinary)
                             for column, kind in zip(inner.c, kinds, strict=True)))
        row = connection.execute(packed).one()
        return [np.frombuffer(value or b"", dtype=">f8" if kind == "f8" else ">i8")
                .astype(np.float64 if kind == "f8" else np.int64) for value, kind in zip(row, kinds, strict=True)]
    rows = connection.execute(statement).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(kinds)
    return [np.array(column, dtype=np.float64 if kind == "f8" else np.int64)
            for column, kind in zip(columns, kinds, strict=True)]
