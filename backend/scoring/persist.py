"""Writing scores idempotently: predictions and anomalies are inserted ON CONFLICT DO NOTHING
on their unique keys, and only rows this call inserted go on to events and tickets. Scoring a
check-in twice, or two workers scoring it at once, leaves one prediction and one event."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.enums import FraudKind, Scorer, Severity
from backend.models import AttendanceAnomaly, AttendanceEvent, FraudPrediction, UnscoredAttendance
from backend.scoring.catalog import FEATURE_VERSION
from backend.scoring.pgcopy import binary_rows, copy_in
from backend.scoring.sql import Query, in_list, param


@dataclass(frozen=True)
class Written:
    count: int                # predictions this call inserted
    flagged: frozenset[int]   # of their event ids, those scoring at or above ``flag_at``


def insert_predictions(session: Session, tenant_id: int, *, ids: np.ndarray, persons: np.ndarray,
                       sites: np.ndarray, ts: np.ndarray, scores: np.ndarray, scorer: Scorer,
                       model_version_id: int | None, features: np.ndarray,
                       reasons: Sequence[str], now: datetime, flag_at: float) -> Written:
    """Insert one prediction per event that still exists (``ts``: epoch seconds;
    ``features``: rows x ``FEATURE_NAMES``, NaN = missing; ``reasons``: JSON text per row).
    Events scored already are skipped."""
    if not len(ids):
        return Written(0, frozenset())
    if session.get_bind().dialect.name == "postgresql":
        return _pg_insert_predictions(session, tenant_id, ids=ids, persons=persons, sites=sites, ts=ts, scores=scores,
                                      scorer=scorer, model_version_id=model_version_id, features=features,
                                      reasons=reasons, now=now, flag_at=flag_at)
    existing = {row[0] for row in _EXISTING.rows(session, tenant=tenant_id, ids=ids.tolist())}
    rows = [{"tenant_id": tenant_id, "attendance_event_id": int(ids[i]), "person_id": int(persons[i]),
             "site_id": int(sites[i]), "ts": datetime.fromtimestamp(float(ts[i]), UTC),
             "score": float(scores[i]), "scorer": scorer, "model_version_id": model_version_id,
             "created_at": now, "reasons": json.loads(reasons[i]), "features": features[i].tolist(),
             "feature_version": FEATURE_VERSION}
            for i in range(len(ids)) if int(ids[i]) in existing]
    if not rows:
        return Written(0, frozenset())
    table = FraudPrediction.__table__
    statement = (sqlite.insert(table).on_conflict_do_nothing(index_elements=["attendance_event_id"])
                 .returning(table.c.attendance_event_id, table.c.score))
    inserted = session.execute(statement, rows).all()
    return Written(len(inserted), frozenset(event for event, score in inserted if score >= flag_at))


_EXISTING = Query(lambda: sa.select(AttendanceEvent.id).where(
    AttendanceEvent.tenant_id == param("tenant"), in_list(AttendanceEvent.id, "ids", sa.BigInteger())))


# PostgreSQL: the rows go by binary COPY into a temporary staging table (one per connection,
# emptied at commit), then one INSERT ... SELECT ... ON CONFLICT DO NOTHING moves those whose
# event exists (a foreign key would lock each event row). It answers with one row: how many
# it inserted, and which of them are flagged; no value is formatted as text on either side.
# (A second call in the same transaction would move the first call's rows again: they
# conflict and do nothing, so the result stays right.) The events are probed one by one by
# primary key (LATERAL ... LIMIT 1): the staging table has no statistics, and with a plain
# join the planner hashed the whole events table for every batch (a seq scan growing with
# the history: 10 ms of a 15-row call's 11 ms on the bench world, and 5% of bulk scoring).
# LIMIT 1 keeps the subquery from being pulled up into a join the planner could hash again.
_STAGE = "noc_staged_predictions"
_STAGE_COLUMNS = ("id", "person", "site", "ts", "score", "features", "reasons")


def _pg_insert_predictions(session: Session, tenant_id: int, *, ids: np.ndarray, persons: np.ndarray,
                           sites: np.ndarray, ts: np.ndarray, scores: np.ndarray, scorer: Scorer,
                           model_version_id: int | None, features: np.ndarray,
                           reasons: Sequence[str], now: datetime, flag_at: float) -> Written:
    connection = session.connection()
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (id bigint, person bigint, "
                               "site bigint, ts float8, score float8, features float8[], reasons jsonb) "
                               "ON COMMIT DELETE ROWS")
    payload = binary_rows([(ids, "int8"), (persons, "int8"), (sites, "int8"),
                           (np.asarray(ts, dtype=np.float64), "float8"),
                           (np.asarray(scores, dtype=np.float64), "float8"),
                           (np.asarray(features, dtype=np.float64), "float8[]")], jsonb=reasons)
    copy_in(session, _STAGE, _STAGE_COLUMNS, payload)
    count, flagged = connection.execute(_INSERT_STAGED, {
        "tenant_id": tenant_id, "scorer": scorer.value, "model_version_id": model_version_id, "now": now,
        "feature_version": FEATURE_VERSION, "flag_at": flag_at}).one()
    return Written(count, frozenset(flagged or ()))


_INSERT_STAGED = sa.text(f"""
    WITH inserted AS (
        INSERT INTO fraud_predictions (tenant_id, attendance_event_id, person_id, site_id, ts, score, scorer,
                                       model_version_id, features, feature_version, reasons, created_at)
        SELECT :tenant_id, u.id, u.person, u.site, to_timestamp(u.ts), u.score, :scorer, :model_version_id,
               u.features, :feature_version, u.reasons, :now
        FROM {_STAGE} AS u CROSS JOIN LATERAL (
            SELECT FROM attendance_events AS e WHERE e.id = u.id AND e.tenant_id = :tenant_id LIMIT 1) AS e
        ORDER BY u.id
        ON CONFLICT (attendance_event_id) DO NOTHING
        RETURNING attendance_event_id, score)
    SELECT count(*), array_agg(attendance_event_id) FILTER (WHERE score >= :flag_at) FROM inserted""").bindparams(
    sa.bindparam("now", type_=sa.DateTime(timezone=True)), sa.bindparam("model_version_id", type_=sa.BigInteger()),
    sa.bindparam("tenant_id", type_=sa.BigInteger()), sa.bindparam("flag_at", type_=sa.Float()))


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
