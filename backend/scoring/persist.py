"""Writing scores idempotently: predictions and anomalies are inserted ON CONFLICT DO NOTHING
on their unique keys, and only rows this call inserted go on to events and tickets. Scoring a
check-in twice, or two workers scoring it at once, leaves one prediction and one event."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.enums import FraudKind, Scorer, Severity
from backend.models import AttendanceAnomaly, FraudPrediction, UnscoredAttendance
from backend.scoring.catalog import FEATURE_NAMES
from backend.scoring.pgcopy import binary_rows, copy_in
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
        return _pg_insert_predictions(session, tenant_id, ids=ids, persons=persons, sites=sites, ts=ts, scores=scores,
                                      scorer=scorer, model_version_id=model_version_id, features=features,
                                      reasons=reasons, now=now)
    rows = [{"tenant_id": tenant_id, "attendance_event_id": int(ids[i]), "person_id": int(persons[i]),
             "site_id": int(sites[i]), "ts": datetime.fromtimestamp(float(ts[i]), UTC),
             "score": round(float(scores[i]), 6), "scorer": scorer,
             "model_version_id": model_version_id, "created_at": now, "reasons": json.loads(reasons[i]),
             "features": {name: _json_number(features[name][i]) for name in FEATURE_NAMES}}
            for i in range(len(ids))]
    statement = (sqlite.insert(FraudPrediction.__table__).on_conflict_do_nothing(index_elements=["attendance_event_id"])
                 .returning(FraudPrediction.__table__.c.attendance_event_id))
    return {row[0] for row in session.execute(statement, rows)}


def _json_number(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


# PostgreSQL: the rows go by binary COPY into a temporary staging table (one per connection,
# emptied at commit), then one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING moves
# them, building each row's features object in the server (no JSON per row in Python). No
# value is formatted as text on either side. (A second call in the same transaction would
# move the first call's rows again: they conflict and do nothing, so the result stays right.)
_STAGE = "noc_scored_rows"
_STAGE_FIXED = ("id", "person", "site", "ts", "score", *(f"f{i}" for i in range(len(FEATURE_NAMES))))


def _pg_insert_predictions(session: Session, tenant_id: int, *, ids: np.ndarray, persons: np.ndarray,
                           sites: np.ndarray, ts: np.ndarray, scores: np.ndarray, scorer: Scorer,
                           model_version_id: int | None, features: dict[str, np.ndarray],
                           reasons: Sequence[str], now: datetime) -> set[int]:
    connection = session.connection()
    connection.exec_driver_sql(_create_stage())
    payload = binary_rows([(ids, "int8"), (persons, "int8"), (sites, "int8"), (np.asarray(ts, dtype=np.float64), "float8"),
                           (np.round(scores, 6), "float8"),
                           *((np.round(features[name], 4), "float8") for name in FEATURE_NAMES)], jsonb=reasons)
    copy_in(session, _STAGE, (*_STAGE_FIXED, "reasons"), payload)
    return set(connection.execute(_insert_staged(), {
        "tenant_id": tenant_id, "scorer": scorer.value, "model_version_id": model_version_id, "now": now}).scalars().all())


@lru_cache(maxsize=1)
def _create_stage() -> str:
    floats = ", ".join(f"{name} float8" for name in _STAGE_FIXED[3:])
    return (f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (id bigint, person bigint, site bigint, {floats}, "
            "reasons jsonb) ON COMMIT DELETE ROWS")


@lru_cache(maxsize=1)
def _insert_staged() -> sa.TextClause:
    # NaN (missing) becomes JSON null: jsonb has no NaN.
    features = ", ".join(f"'{name}', nullif(u.f{i}, 'NaN'::float8)" for i, name in enumerate(FEATURE_NAMES))
    return sa.text(f"""
        INSERT INTO fraud_predictions (tenant_id, attendance_event_id, person_id, site_id, ts, score, scorer,
                                       model_version_id, features, reasons, created_at)
        SELECT :tenant_id, u.id, u.person, u.site, to_timestamp(u.ts), u.score, :scorer, :model_version_id,
               jsonb_build_object({features}), u.reasons, :now
        FROM {_STAGE} AS u
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
