"""Declarative base and the column types every table shares."""
from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on PostgreSQL and SQLite alike.

    SQLite has no time zones: without this, values would come back naive."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def StrEnumType(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    """A StrEnum stored as its value in a VARCHAR (no native enum: adding a value needs no DDL)."""
    return sa.Enum(enum, native_enum=False, create_constraint=False, length=length,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)


# BIGINT ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class FloatVector(sa.TypeDecorator[list[float | None]]):
    """A list of floats, None for a missing value: ``float8[]`` on PostgreSQL (a missing value
    stored as NaN: every element is then a fixed 8 bytes, which binary COPY writes straight
    from numpy), a JSON array on SQLite (null: JSON has no NaN)."""
    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(DOUBLE_PRECISION()))
        return dialect.type_descriptor(sa.JSON())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        missing = float("nan") if dialect.name == "postgresql" else None
        return [missing if v is None or math.isnan(v) else float(v) for v in value]

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> list[float | None] | None:
        return None if value is None else [None if v is None or math.isnan(v) else float(v) for v in value]
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType,
                           list[Any]: JSONType}


def tenant_fk() -> Mapped[int]:
    return mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def site_fk(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=nullable)


def person_fk(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=nullable)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(default=utcnow, nullable=False)
