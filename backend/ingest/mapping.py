"""From validated items to table rows: codes resolved to ids (one query per referenced table
for the whole batch), per-kind rules that need those ids, and in-batch duplicates.

One generic path serves events and reference data alike; a ``RowMapping`` per kind says
which table it fills and which fields are codes."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from backend.ingest.results import FieldError
from backend.ingest.store import Ref, RefTable, lookup_codes
from backend.ingest.validation import BatchOutcome

Row = dict[str, Any]
# field name -> resolved reference (a list of them for a list of codes), for the rules below.
Resolved = dict[str, Any]
# A kind's own rule, run once its codes are resolved: may complete the row, returns errors.
RowRule = Callable[[Row, Resolved], list[FieldError]]


@dataclass(frozen=True, slots=True)
class RefField:
    table: RefTable
    column: str | None   # the id column it fills; None: only checked (by a rule), not stored
    many: bool = False   # a list of codes -> a list of ids


@dataclass(frozen=True)
class RowMapping:
    table: sa.Table
    refs: dict[str, RefField] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)   # wire name -> column
    drop: frozenset[str] = frozenset()                      # wire-only fields
    rule: RowRule | None = None


def build_rows(session: Session, tenant_id: int, items: list[tuple[int, BaseModel]],
               mapping_of: Callable[[BaseModel], RowMapping], *, key: str, common: Row,
               outcome: BatchOutcome) -> dict[sa.Table, list[tuple[int, Row]]]:
    """Rows per table, in input order, as (index, row). Items with unknown codes or a broken
    rule are rejected; the second of two items with the same ``key`` column is a duplicate."""
    found = lookup_codes(session, tenant_id, _wanted_codes(items, mapping_of))
    rows: dict[sa.Table, list[tuple[int, Row]]] = defaultdict(list)
    seen: set[tuple[sa.Table, Any]] = set()
    for index, item in items:
        mapping = mapping_of(item)
        row, errors = _row_of(item, mapping, found)
        if errors:
            outcome.reject(index, errors)
            continue
        identity = (mapping.table, row[key])
        if identity in seen:
            outcome.duplicate(index)
            continue
        seen.add(identity)
        row.update(common)
        rows[mapping.table].append((index, row))
    return rows


def _wanted_codes(items: list[tuple[int, BaseModel]],
                  mapping_of: Callable[[BaseModel], RowMapping]) -> dict[RefTable, set[str]]:
    wanted: dict[RefTable, set[str]] = defaultdict(set)
    for _, item in items:
        for name, ref in mapping_of(item).refs.items():
            value = getattr(item, name)
            if value is None:
                continue
            wanted[ref.table].update(value if ref.many else (value,))
    return wanted


def _row_of(item: BaseModel, mapping: RowMapping,
            found: dict[RefTable, dict[str, Ref]]) -> tuple[Row, list[FieldError]]:
    # The validated model's __dict__ is its field values: a much cheaper copy than model_dump().
    row: Row = {mapping.renames.get(name, name): value for name, value in item.__dict__.items()
                if name not in mapping.drop}
    errors: list[FieldError] = []
    resolved: Resolved = {}
    for name, ref in mapping.refs.items():
        codes = row.pop(name)
        known = found.get(ref.table, {})
        if codes is None:
            value = None
        elif ref.many:
            value = [known.get(code) for code in codes]
            errors += [FieldError(f"{name}.{i}", f"unknown {ref.table} code {code!r}")
                       for i, (code, hit) in enumerate(zip(codes, value, strict=True)) if hit is None]
        else:
            value = known.get(codes)
            if value is None:
                errors.append(FieldError(name, f"unknown {ref.table} code {codes!r}"))
        resolved[name] = value
        if ref.column is not None:
            row[ref.column] = _ids(value)
    if not errors and mapping.rule is not None:
        errors = mapping.rule(row, resolved)
    return row, errors


def _ids(value: Ref | list[Ref] | None) -> int | list[int] | None:
    if value is None:
        return None
    if isinstance(value, list):  # unknown codes (None) only occur in rows that get rejected
        return [ref.id for ref in value if ref is not None]
    return value.id
