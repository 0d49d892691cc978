"""Ingesting a batch of events: validate, resolve codes, store idempotently in one
transaction, publish NOC alerts, then enqueue scoring of the accepted check-ins/outs.

No Flask here: the API route, tests and the simulator all call ``ingest_events``."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.enums import AttendanceKind, EventType
from backend.events import EventPublisher
from backend.ingest.mapping import RefField, Resolved, Row, RowMapping, RowRule, build_rows
from backend.ingest.results import BatchResult, FieldError
from backend.ingest.schemas import (AttendanceIn, CheckpointScanIn, EventIn, LocationPingIn, NocAlertIn,
                                    PhoneActivityIn)
from backend.ingest.store import RefTable, insert_new
from backend.ingest.validation import BatchOutcome, BatchValidator
from backend.models import AttendanceEvent, CheckpointScan, LocationPing, NocAlert, PhoneActivity, utcnow
from backend.runtime import Runtime
from backend.scoring.pending import request_scoring

ATTENDANCE_TABLE = AttendanceEvent.__tablename__
NOC_ALERT_TABLE = NocAlert.__tablename__


def _attendance_kind(row: Row, _resolved: Resolved) -> list[FieldError]:
    row["kind"] = AttendanceKind(row["kind"])  # the wire's check_in/check_out type is the stored kind
    return []


def _scan_at_checkpoint_site(row: Row, resolved: Resolved) -> list[FieldError]:
    """A scan happens at its checkpoint's site; a stated site or tour elsewhere is a bad scan."""
    checkpoint, site, tour = resolved["checkpoint"], resolved["site"], resolved["tour"]
    errors = []
    if site is not None and site.id != checkpoint.site_id:
        errors.append(FieldError("site", "the checkpoint belongs to another site"))
    if tour is not None and tour.site_id != checkpoint.site_id:
        errors.append(FieldError("tour", "the tour belongs to another site than the checkpoint"))
    row["site_id"] = checkpoint.site_id
    return errors


def _event_mapping(model: Any, refs: dict[str, RefField], *, rule: RowRule | None = None,
                   type_column: str | None = None) -> RowMapping:
    """Events share the wire conventions: ``id`` is the client event id, and ``type`` picked the
    table (so it is dropped) unless the table keeps it in ``type_column``."""
    renames = {"id": "client_event_id"} | ({"type": type_column} if type_column else {})
    return RowMapping(model.__table__, refs, renames=renames,
                      drop=frozenset() if type_column else frozenset({"type"}), rule=rule)


_PERSON = RefField(RefTable.PERSON, "person_id")
_SITE = RefField(RefTable.SITE, "site_id")
_MAPPINGS: dict[type[BaseModel], RowMapping] = {
    AttendanceIn: _event_mapping(AttendanceEvent, {"person": _PERSON, "site": _SITE},
                                 type_column="kind", rule=_attendance_kind),
    LocationPingIn: _event_mapping(LocationPing, {"person": _PERSON, "site": _SITE}),
    CheckpointScanIn: _event_mapping(
        CheckpointScan, {"person": _PERSON, "checkpoint": RefField(RefTable.CHECKPOINT, "checkpoint_id"),
                         "site": RefField(RefTable.SITE, None), "tour": RefField(RefTable.TOUR, "tour_id")},
        rule=_scan_at_checkpoint_site),
    PhoneActivityIn: _event_mapping(PhoneActivity, {"person": _PERSON, "site": _SITE}),
    NocAlertIn: _event_mapping(NocAlert, {"site": _SITE, "person": _PERSON}),
}
_VALIDATOR: BatchValidator[Any] = BatchValidator(EventIn, tagged=True)


def ingest_events(runtime: Runtime, tenant_id: int, raw_items: list[Any], *,
                  now: datetime | None = None) -> BatchResult:
    """Store a batch (already parsed JSON) for the tenant and enqueue scoring of what it added."""
    with runtime.transaction() as session:
        result = store_events(session, runtime.events, runtime.settings, tenant_id, raw_items, now=now)
    # After the commit: a worker must find the rows. A failure here loses nothing (rows stay unscored).
    attendance_ids = result.stored_ids.get(ATTENDANCE_TABLE, [])
    result.scoring_job_id = request_scoring(runtime, tenant_id, attendance_ids) if attendance_ids else None
    return result


def store_events(session: Session, publisher: EventPublisher, settings: Settings, tenant_id: int,
                 raw_items: list[Any], *, now: datetime | None = None) -> BatchResult:
    """The transactional part of ``ingest_events``, inside the caller's session."""
    now = now or utcnow()
    outcome = BatchOutcome(raw_items, id_key="id")
    valid = _in_time_window(_VALIDATOR.validate(raw_items, outcome), outcome, settings, now)
    rows_by_table = build_rows(session, tenant_id, valid, lambda item: _MAPPINGS[type(item)],
                               key="client_event_id", common={"tenant_id": tenant_id, "received_at": now},
                               outcome=outcome)
    stored_ids: dict[str, list[int]] = {}
    alerts: list[tuple[Row, int]] = []
    # Tables in a fixed order (and keys sorted within each, see insert_new): concurrent batches
    # that share keys then wait for each other instead of deadlocking.
    for table in sorted(rows_by_table, key=lambda t: t.name):
        indexed_rows = rows_by_table[table]
        inserted = insert_new(session, table, [row for _, row in indexed_rows])
        ids = stored_ids.setdefault(table.name, [])
        for index, row in indexed_rows:
            row_id = inserted.get(row["client_event_id"])
            if row_id is None:
                outcome.duplicate(index)  # stored before, or by a concurrent request just now
                continue
            ids.append(row_id)
            if table.name == NOC_ALERT_TABLE:
                alerts.append((row, row_id))
    _publish_alerts(session, publisher, tenant_id, alerts)
    return BatchResult(outcome.items, stored_ids={name: ids for name, ids in stored_ids.items() if ids})


def _in_time_window(items: list[tuple[int, Any]], outcome: BatchOutcome, settings: Settings,
                    now: datetime) -> list[tuple[int, Any]]:
    """Reject device clocks that are far off: too far in the future, or too old to matter."""
    latest = now + timedelta(seconds=settings.ingest_max_future_s)
    earliest = now - timedelta(days=settings.ingest_max_age_days)
    kept = []
    for index, item in items:
        if item.ts > latest:
            outcome.reject(index, [FieldError("ts", f"more than {settings.ingest_max_future_s} s in the future")])
        elif item.ts < earliest:
            outcome.reject(index, [FieldError("ts", f"older than {settings.ingest_max_age_days} days")])
        else:
            kept.append((index, item))
    return kept


def _publish_alerts(session: Session, publisher: EventPublisher, tenant_id: int,
                    alerts: list[tuple[Row, int]]) -> None:
    publisher.publish_many(session, [
        {"tenant_id": tenant_id, "type": EventType.ALERT_RECEIVED, "site_id": row["site_id"],
         "person_id": row["person_id"], "severity": row["severity"],
         "data": {"alert_id": alert_id, "client_id": row["client_event_id"], "kind": row["kind"].value,
                  "message": row["message"], "ts": row["ts"].astimezone(UTC).isoformat()}}
        for row, alert_id in alerts])
