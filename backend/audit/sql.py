"""Numeric columns of the audit's reads fetched straight into numpy arrays (the SQL functions
themselves are shared with scoring in ``backend.sql_functions``)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.sql_functions import Kind, columns_of, packed_select, unpack
# Re-exported: the audit modules import them from here.
from backend.sql_functions import epoch, f8, i8, t8  # noqa: F401


def fetch_arrays(session: Session, statement: sa.Select[Any], kinds: Sequence[Kind]) -> list[np.ndarray]:
    """Run a select whose columns are all ``f8(...)``/``i8(...)``/``t8(...)``; one numpy array
    per column (packed on PostgreSQL, see ``sql_functions.packed_select``)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return unpack(connection.execute(packed_select(statement, kinds)).one(), kinds)
    return columns_of(connection.execute(statement).all(), kinds)
