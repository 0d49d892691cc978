"""Writing scores idempotently: predictions and anomalies are inserted ON CONFLICT DO NOTHING
on their unique keys, and only rows this call inserted go on to events and tickets. Scoring a
check-in twice, or two workers scoring it at once, leaves one prediction and one event."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.enums import FraudKind, Scorer, Severity
from backend.models import AttendanceAnomaly, FraudPrediction, UnscoredAttendance
from backend.scoring.catalog import FEATURE_NAMES
from backend.scoring.sql import Query, in_list, param


def insert_predictions(session: Session, tenant_id: int, *, ids: np.ndarray, persons: np.ndarray,
                       sites: np.ndarray, ts: np.ndarray, scores: np.ndarray, scorer: Scorer,
                       model_version_id: int | None, features: dict[str, np.ndarray],
                       reasons: Sequence[str], now: datetime) -> set[int]:
    """Insert one prediction per event (``ts``: epoch seconds; ``reasons``: JSON text per row);
    returns the event ids this call inserted (the others were scored already)."""
    if not len(ids):
        return set()
    if session.get_bind().dialect.name == "postgresql":
        # One INSERT ... SELECT FROM unnest(one array per column): a short fixed statement,
        # and PostgreSQL builds each row's features object itself (no JSON per row in Python).
        # Numeric columns go as array literals ('{1.5,NaN,...}'), which numpy formats ~10x
        # faster than the driver adapts a list of floats element by element.
        params: dict[str, Any] = {
            "tenant_id": tenant_id, "ids": _array_literal(ids), "persons": _array_literal(persons),
            "sites": _array_literal(sites), "ts": _array_literal(np.asarray(ts, dtype=np.float64)),
            "scores": _array_literal(np.round(scores, 6)), "scorer": scorer.value,
            "model_version_id": model_version_id, "reasons": list(reasons), "now": now,
            **{f"f{i}": _array_literal(np.round(features[name], 4)) for i, name in enumerate(FEATURE_NAMES)}}
        return set(session.execute(_pg_insert_predictions(), params).scalars())
    rows = [{"tenant_id": tenant_id, "attendance_event_id": int(ids[i]), "person_id": int(persons[i]),
             "site_id": int(sites[i]), "ts": datetime.fromtimestamp(float(ts[i]), UTC),
             "score": round(float(scores[i]), 6), "scorer": scorer,
             "model_version_id": model_version_id, "created_at": now, "reasons": json.loads(reasons[i]),
             "features": {name: _json_number(features[name][i]) for name in FEATURE_NAMES}}
            for i in range(len(ids))]
    statement = (sqlite.insert(FraudPrediction.__table__).on_conflict_do_nothing(index_elements=["attendance_event_id"])
                 .returning(FraudPrediction.__table__.c.attendance_event_id))
    return {row[0] for row in session.execute(statement, rows)}


def _array_literal(values: np.ndarray) -> str:
    """A PostgreSQL array literal of numbers (NaN as NaN)."""
    return "{" + ",".join(map(str, values.tolist())) + "}"


def _json_number(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


@lru_cache(maxsize=1)
def _pg_insert_predictions() -> sa.TextClause:
    arrays = ", ".join(f"CAST(:f{i} AS float8[])" for i in range(len(FEATURE_NAMES)))
    columns = ", ".join(f"f{i}" for i in range(len(FEATURE_NAMES)))
    # NaN (missing) becomes JSON null: jsonb has no NaN.
    features = ", ".join(f"'{name}', nullif(u.f{i}, 'NaN'::float8)" for i, name in enumerate(FEATURE_NAMES))
    return sa.text(f"""
        INSERT INTO fraud_predictions (tenant_id, attendance_event_id, person_id, site_id, ts, score, scorer,
                                       model_version_id, features, reasons, created_at)
        SELECT :tenant_id, u.id, u.person, u.site, to_timestamp(u.ts), u.score, :scorer, :model_version_id,
               jsonb_build_object({features}), CAST(u.reasons AS jsonb), :now
        FROM unnest(CAST(:ids AS bigint[]), CAST(:persons AS bigint[]), CAST(:sites AS bigint[]),
                    CAST(:ts AS float8[]), CAST(:scores AS float8[]), CAST(:reasons AS text[]), {arrays})
             AS u(id, person, site, ts, score, reasons, {columns})
        ORDER BY u.id
        ON CONFLICT (attendance_event_id) DO NOTHING
        RETURNING attendance_event_id""").bindparams(
        sa.bindparam("now", type_=sa.DateTime(timezone=True)),
        sa.bindparam("model_version_id", type_=sa.BigInteger()))


def insert_anomalies(session: Session, tenant_id: int, rows: Sequence[tuple[int, FraudKind, Severity]],
                     now: datetime) -> None:
    """(attendance event id, type, severity) rows; existing (event, type) pairs are kept."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(AttendanceAnomaly.__table__)
    session.execute(insert.on_conflict_do_nothing(index_elements=["attendance_event_id", "type"]),
                    [{"tenant_id": tenant_id, "attendance_event_id": event_id, "type": kind, "severity": severity,
                      "created_at": now} for event_id, kind, severity in sorted(rows)])


_DEQUEUE = Query(lambda: sa.delete(UnscoredAttendance).where(
    UnscoredAttendance.tenant_id == param("tenant"),
    in_list(UnscoredAttendance.attendance_event_id, "ids", sa.BigInteger())))


def dequeue(session: Session, tenant_id: int, ids: Sequence[int]) -> None:
    """Take scored check-ins off the unscored queue (in the transaction that wrote their scores:
    a rollback leaves them queued)."""
    if len(ids):
        _DEQUEUE.execute(session, tenant=tenant_id, ids=sorted(ids))
