"""A small site world for the sites and events tests: scores, tickets, a tour with scans,
findings, an incident, a roster and event log entries, written straight into the tables the
product writes (so counts are known exactly)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.enums import (AttendanceKind, EventType, ScanMethod, Scorer, Severity, TicketPriority, TicketSource,
                           TicketState)
from backend.models import (AttendanceEvent, AuditFinding, CheckpointScan, EventLogEntry, FraudPrediction, Incident,
                            Shift, Ticket, Tour)
from backend.runtime import Runtime
from tests.factories import World

# A Wednesday noon; Lisbon is on UTC in November, so site-local times read the same.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
_keys = itertools.count(1)


def _key(prefix: str) -> str:
    return f"{prefix}-{next(_keys)}"


def score(runtime: Runtime, world: World, person: str, site: str, at: datetime, value: float, reason: str) -> int:
    with runtime.transaction() as session:
        event = AttendanceEvent(tenant_id=world.tenant_id, client_event_id=_key("att"), ts=at,
                                kind=AttendanceKind.CHECK_IN, person_id=world.person_ids[person],
                                site_id=world.site_ids[site], lat=38.7, lon=-9.14)
        session.add(event)
        session.flush()
        session.add(FraudPrediction(tenant_id=world.tenant_id, attendance_event_id=event.id, person_id=event.person_id,
                                    site_id=event.site_id, ts=at, score=value, scorer=Scorer.HEURISTIC,
                                    reasons=[{"feature": "f", "text": reason, "weight": 1.0}]))
        return event.id


def ticket(runtime: Runtime, world: World, site: str, priority: TicketPriority, *, state: TicketState = TicketState.OPEN,
           source: TicketSource = TicketSource.AUDIT, person: str | None = None, title: str = "A ticket",
           at: datetime = NOW - timedelta(hours=1)) -> int:
    with runtime.transaction() as session:
        row = Ticket(tenant_id=world.tenant_id, site_id=world.site_ids[site],
                     person_id=world.person_ids[person] if person else None, source=source, type="no_show",
                     dedup_key=_key("tk"), title=title, priority=priority, severity=Severity.HIGH, state=state,
                     created_at=at, updated_at=at)
        session.add(row)
        session.flush()
        return row.id


def tour_with_scans(runtime: Runtime, world: World, site: str, *, missed: set[int], incomplete: set[int]) -> int:
    """An hourly tour of the site's two checkpoints, all day; its 24 rounds judged at NOW are
    S = NOW-24h .. NOW-1h (slot [S-10 min, S+50 min) ended by NOW less the 10 min lateness).
    Round k (0 = the oldest) is scanned in full unless in ``missed`` / ``incomplete``."""
    cps = [world.checkpoint_ids[f"{site}-CP1"], world.checkpoint_ids[f"{site}-CP2"]]
    with runtime.transaction() as session:
        tour = Tour(tenant_id=world.tenant_id, code=_key("tour"), site_id=world.site_ids[site], name="Perimeter",
                    checkpoint_ids=cps, interval_minutes=60, grace_minutes=10, active_from="00:00", active_to="24:00")
        session.add(tour)
        session.flush()
        for k in range(24):
            start = NOW - timedelta(hours=24 - k)
            if k in missed:
                continue
            for j, cp in enumerate(cps[:1] if k in incomplete else cps):
                session.add(CheckpointScan(tenant_id=world.tenant_id, client_event_id=_key("scan"),
                                           ts=start + timedelta(minutes=1 + 2 * j), person_id=world.person_ids["P1"],
                                           site_id=world.site_ids[site], checkpoint_id=cp, tour_id=tour.id,
                                           method=ScanMethod.NFC, lat=38.70 + int(site[1:]) / 100, lon=-9.14))
        return tour.id


def finding(runtime: Runtime, world: World, site: str, type_: str, *, person: str | None = None,
            at: datetime = NOW - timedelta(hours=2), summary: str = "Something is wrong") -> int:
    with runtime.transaction() as session:
        row = AuditFinding(tenant_id=world.tenant_id, site_id=world.site_ids[site],
                           person_id=world.person_ids[person] if person else None, type=type_, severity=Severity.HIGH,
                           window_start=at - timedelta(minutes=30), window_end=at, dedup_key=_key("f"),
                           evidence={"summary": summary}, created_at=at)
        session.add(row)
        session.flush()
        return row.id


def incident(runtime: Runtime, world: World, site: str, title: str, at: datetime = NOW - timedelta(hours=3)) -> int:
    with runtime.transaction() as session:
        row = Incident(tenant_id=world.tenant_id, site_id=world.site_ids[site], severity=Severity.CRITICAL,
                       window_start=at - timedelta(minutes=15), window_end=at, dedup_key=_key("inc"),
                       signals=[{"kind": "summary", "text": title}, {"kind": "finding", "finding_id": 1}],
                       alert_ids=[1, 2], created_at=at)
        session.add(row)
        session.flush()
        return row.id


def shift(runtime: Runtime, world: World, site: str, person: str, start: datetime, end: datetime) -> None:
    with runtime.transaction() as session:
        session.add(Shift(tenant_id=world.tenant_id, code=_key("sh"), site_id=world.site_ids[site],
                          person_id=world.person_ids[person], starts_at=start, ends_at=end))


def log_event(runtime: Runtime, world: World, type_: EventType, *, site: str | None = None, person: str | None = None,
              at: datetime = NOW, severity: Severity | None = None, **data: Any) -> int:
    with runtime.transaction() as session:
        row = EventLogEntry(tenant_id=world.tenant_id, type=type_, severity=severity,
                            site_id=world.site_ids[site] if site else None,
                            person_id=world.person_ids[person] if person else None, data=data, created_at=at)
        session.add(row)
        session.flush()
        return row.id
