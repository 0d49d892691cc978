"""Numeric columns of the audit's reads fetched straight into numpy arrays (the SQL functions
themselves are shared with scoring in ``backend.sql_functions``)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.sql_functions import Kind, epoch, f8, i8  # noqa: F401 - the audit modules import them from here


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
