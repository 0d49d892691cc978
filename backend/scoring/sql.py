"""SQL building blocks of the scoring reads and writes: dialect-specific pieces, and ``Query``,
a statement built once and run with named parameters.

Times travel as epoch seconds (floats) both ways: no datetime object per row, and both
databases compare stored timestamps against a bound epoch (``at_epoch``), which keeps the
timestamp indexes usable. Lists travel as one text parameter: a PostgreSQL array literal
(``= ANY(CAST(? AS BIGINT[]))``; one string is cheaper to send than a driver-built array) or,
on SQLite, a JSON array (``IN (SELECT value FROM json_each(?))``): one statement text for any
length."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# Re-exported: the scoring modules build their statements from these.
from backend.sql_functions import Kind, at_epoch, f8, i8, t8  # noqa: F401
from backend.sql_functions import columns_of, packed_select, unpack


def param(name: str, type_: sa.types.TypeEngine[Any] | None = None) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=type_)


class _ListParam(sa.TypeDecorator[Any]):
    """A list of integers bound as one text parameter: a PostgreSQL array literal, or a JSON
    array on SQLite (the element type is cast in the statement, see ``in_list``)."""
    impl = sa.String
    cache_ok = True

    def __init__(self, element_type: sa.types.TypeEngine[Any]) -> None:
        super().__init__()
        self.element_type = element_type

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        # PostgreSQL: untyped, so that no ``::VARCHAR`` is rendered: the server then types the
        # parameter from the statement's CAST, a constant the planner sees (a cast from
        # varchar is evaluated per execution: no hashed ``= ANY``, seq scans per element).
        return sa.types.NullType() if dialect.name == "postgresql" else sa.String()

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return _pg_array(value) if dialect.name == "postgresql" else json.dumps([int(v) for v in value])


def _pg_array(values: Any) -> str:
    """``{1,2,3}``: each value goes through ``int()`` (text that is not a number raises), so
    only digits and signs reach the statement."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


class in_list(FunctionElement[bool]):
    """``column IN (the list bound to parameter name)``; see the module docstring."""
    type = sa.Boolean()
    inherit_cache = True
    name = "noc_in_list"

    def __init__(self, column: Any, name: str, element_type: sa.types.TypeEngine[Any]) -> None:
        super().__init__(column, sa.bindparam(name, type_=_ListParam(element_type)))


@compiles(in_list, "postgresql")
def _in_list_pg(element: in_list, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = element.clauses
    array = compiler.dialect.type_compiler_instance.process(postgresql.ARRAY(values.type.element_type))
    return f"{compiler.process(column, **kw)} = ANY(CAST({compiler.process(values, **kw)} AS {array}))"


@compiles(in_list, "sqlite")
def _in_list_sqlite(element: in_list, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = element.clauses
    return f"{compiler.process(column, **kw)} IN (SELECT value FROM json_each({compiler.process(values, **kw)}))"


def in_values(session: Session, column: Any, values: Sequence[Any], type_: sa.types.TypeEngine[Any]) -> Any:
    """``column IN values`` for ad-hoc (non-hot-path) statements."""
    if session.get_bind().dialect.name == "postgresql":
        array = postgresql.ARRAY(type_)
        return column == sa.any_(sa.cast(sa.bindparam(None, list(values), type_=array), array))
    return column.in_(list(values))


class Query:
    """A statement built once per dialect (``build``; large numeric reads packed on
    PostgreSQL) and executed with named parameters. Building a select per batch, and the ORM
    execution path, cost more CPU than a small batch's whole query time."""

    def __init__(self, build: Callable[[], Any], kinds: Sequence[Kind] | None = None) -> None:
        self._build = build
        self.kinds = tuple(kinds) if kinds else None
        self._statements: dict[str, Any] = {}
        self._driver_statements: dict[str, tuple[Any, dict[str, Callable[[Any], Any]]]] = {}
        self._lock = threading.Lock()

    def statement(self, dialect: sa.Dialect) -> Any:
        found = self._statements.get(dialect.name)
        if found is None:
            found = self._build()
            if self.kinds and dialect.name == "postgresql":
                found = packed_select(found, self.kinds)
            with self._lock:
                self._statements[dialect.name] = found
        return found

    def execute(self, session: Session, **params: Any) -> sa.CursorResult[Any]:
        connection = session.connection()
        return connection.execute(self.statement(connection.dialect), params)

    def rows(self, session: Session, **params: Any) -> list[Any]:
        return list(self.execute(session, **params).all())

    def arrays(self, session: Session, **params: Any) -> list[np.ndarray]:
        """One numpy array per column (the columns are all ``f8``/``i8``/``t8``)."""
        assert self.kinds is not None
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            return columns_of(self.execute(session, **params).all(), self.kinds)
        if connection.dialect.driver == "psycopg":
            return unpack(self._fetch_binary(connection, params), self.kinds)
        return unpack(self.execute(session, **params).one(), self.kinds)

    def _fetch_binary(self, connection: sa.Connection, params: dict[str, Any]) -> Any:
        """psycopg 3: the packed row in binary format. In text format the server hex-encodes
        each bytea and the driver decodes it again: that was half of both sides' CPU on the
        large reads. (SQLAlchemy cannot ask for binary results, so the statement compiled
        by SQLAlchemy goes to a driver cursor of the same connection and transaction; its
        ``before_cursor_execute`` hooks do not see it, the driver's ``Cursor.execute`` does.)"""
        compiled, processors = self._driver_statement(connection.dialect)
        values = compiled.construct_params(params)
        for name, process in processors.items():
            values[name] = process(values[name])
        with connection.connection.driver_connection.cursor(binary=True) as cursor:
            return cursor.execute(compiled.string, values).fetchone()

    def _driver_statement(self, dialect: sa.Dialect) -> tuple[Any, dict[str, Callable[[Any], Any]]]:
        found = self._driver_statements.get(dialect.name)
        if found is None:
            compiled = self.statement(dialect).compile(dialect=dialect)
            processors = {name: process for bind, name in compiled.bind_names.items()
                          if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
            found = (compiled, processors)
            with self._lock:
                self._driver_statements[dialect.name] = found
        return found

