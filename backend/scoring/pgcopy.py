"""PostgreSQL binary COPY of numpy columns: the payload is built by numpy in one pass (no
Python object per value, no text for the server to parse) and sent with the driver's COPY
(psycopg 3 ``cursor.copy``, psycopg2 ``copy_expert``: the same bytes for both).

Format (PostgreSQL docs, "COPY", binary format): a header, then per row a 16-bit field count
and per field a 32-bit length and the value in the type's binary "send" form (big-endian
int8/float8 here; a float8[] is the array header (1 dimension, no NULLs, element type,
length, lower bound 1) then each element as length 8 and value; jsonb is a version byte 1 and
the JSON text), then a -1 trailer."""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from sqlalchemy.orm import Session

_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
_JSONB_VERSION = b"\x01"

Fixed = Literal["int8", "float8", "float8[]"]
_FLOAT8_OID = 701
_ELEMENT = np.dtype([("len", ">i4"), ("value", ">f8")])


def binary_rows(fixed: Sequence[tuple[np.ndarray, Fixed]], jsonb: Sequence[str] | None = None) -> bytes:
    """The COPY payload of equally long ``fixed`` columns (in order; NaN stays NaN; a
    ``float8[]`` column is a 2-D array, one row per row), then, if given, one jsonb column of
    JSON texts."""
    n = len(fixed[0][0]) if fixed else len(jsonb or ())
    layout: list[tuple[Any, ...]] = [("count", ">i2")]
    for i, (values, kind) in enumerate(fixed):
        if kind == "float8[]":
            layout += [(f"len{i}", ">i4"), (f"head{i}", ">i4", (5,)), (f"value{i}", _ELEMENT, (values.shape[1],))]
        else:
            layout += [(f"len{i}", ">i4"), (f"value{i}", ">i8" if kind == "int8" else ">f8")]
    rows = np.empty(n, dtype=np.dtype(layout))
    rows["count"] = len(fixed) + (jsonb is not None)
    for i, (values, kind) in enumerate(fixed):
        if kind == "float8[]":
            width = values.shape[1]
            rows[f"len{i}"] = 20 + width * _ELEMENT.itemsize
            rows[f"head{i}"] = (1, 0, _FLOAT8_OID, width, 1)
            rows[f"value{i}"]["len"] = 8
            rows[f"value{i}"]["value"] = values
        else:
            rows[f"len{i}"] = 8
            rows[f"value{i}"] = values
    if jsonb is None:
        return b"".join((_HEADER, rows.tobytes(), _TRAILER))
    packed, size = rows.tobytes(), rows.dtype.itemsize
    parts = [_HEADER]
    for i, text in enumerate(jsonb):
        value = _JSONB_VERSION + text.encode()
        parts += (packed[i * size:(i + 1) * size], len(value).to_bytes(4, "big"), value)
    parts.append(_TRAILER)
    return b"".join(parts)


def copy_in(session: Session, table: str, columns: Sequence[str], payload: bytes) -> None:
    """COPY ``payload`` (from ``binary_rows``) into ``table`` inside the session's transaction."""
    connection = session.connection()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.driver == "psycopg":
            with cursor.copy(statement) as copy:
                copy.write(payload)
        else:
            cursor.copy_expert(statement, io.BytesIO(payload))
    finally:
        cursor.close()
