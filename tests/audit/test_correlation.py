"""Correlation and escalation: a "device offline" alert for a guard whose phone went silent
becomes one incident with raised severity and one ticket; the silent-device finding that
follows joins that incident's ticket instead of opening its own. Plus the severity rule."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.audit import AuditRules, run_audit
from backend.audit.correlate import Alert, Silence, incident_severity
from backend.audit.findings import StoredFinding
from backend.audit.types import INCIDENT_TYPE, FindingType
from backend.enums import AlertKind, EventType, Severity, TicketPriority, TicketSource
from backend.models import AuditFinding, EventLogEntry, Incident, Ticket
from backend.runtime import Runtime
from tests.audit.builders import add_alert, add_pings, add_punch, add_shift
from tests.factories import World, make_world

RULES = AuditRules()
DAY = datetime(2026, 11, 17, tzinfo=UTC)        # a Tuesday; Lisbon is on UTC in November
SHIFT_START, SHIFT_END = DAY.replace(hour=8), DAY.replace(hour=20)
SILENT_FROM = DAY.replace(hour=10)               # the last ping
OFFLINE_AT = SILENT_FROM + timedelta(minutes=20)  # the MDM notices


def _window_end(as_of: datetime) -> datetime:
    return as_of + timedelta(seconds=RULES.lateness_s)


def _alert(kind: AlertKind, severity: Severity, person: int | None = 1) -> Alert:
    return Alert(id=1, site_id=1, person_id=person, ts=0.0, kind=kind, severity=severity)


def _finding(kind: FindingType, severity: Severity) -> StoredFinding:
    return StoredFinding(id=1, type=kind.value, severity=severity, site_id=1, person_id=1, start=0.0, end=1.0,
                         key="k", evidence={})


SILENCE = Silence(person_ids=(1,), start=0.0, end=1.0, silent_since=0.0)


@pytest.mark.parametrize(("alert", "findings", "silences", "expected"), [
    # One level above the most severe member...
    (_alert(AlertKind.DEVICE_OFFLINE, Severity.MEDIUM), [], [SILENCE], Severity.HIGH),
    (_alert(AlertKind.DEVICE_OFFLINE, Severity.MEDIUM), [_finding(FindingType.SILENT_DEVICE, Severity.HIGH)], [],
     Severity.CRITICAL),
    (_alert(AlertKind.LOW_BATTERY, Severity.LOW), [], [SILENCE], Severity.MEDIUM),
    (_alert(AlertKind.TAMPER, Severity.MEDIUM, None), [_finding(FindingType.MISSED_TOUR_ROUND, Severity.MEDIUM)], [],
     Severity.HIGH),
    (_alert(AlertKind.DOOR_FORCED, Severity.HIGH, None), [_finding(FindingType.LATE_CLOCK_IN, Severity.LOW)], [],
     Severity.CRITICAL),
    # ... capped at critical; a personal-safety alert with an absence is critical whatever its members.
    (_alert(AlertKind.PANIC, Severity.CRITICAL), [], [SILENCE], Severity.CRITICAL),
    (_alert(AlertKind.MAN_DOWN, Severity.LOW), [_finding(FindingType.NO_SHOW, Severity.HIGH)], [], Severity.CRITICAL),
    (_alert(AlertKind.MAN_DOWN, Severity.LOW), [_finding(FindingType.LATE_TOUR_ROUND, Severity.LOW)], [],
     Severity.MEDIUM),
])
def test_incident_severity_rule(alert: Alert, findings: list[StoredFinding], silences: list[Silence],
                                expected: Severity) -> None:
    assert incident_severity([alert], findings, silences) is expected


@pytest.fixture(scope="module")
def guard(pg_runtime: Runtime) -> tuple[World, int, int, int]:
    """A guard on a day shift whose phone reports every 10 min until 10:00, then nothing; the
    MDM raises "device offline" at 10:20. Returns (world, site, person, alert id)."""
    world = make_world(pg_runtime, n_sites=1, n_persons=1)
    site, person = world.site_ids["S1"], world.person_ids["P1"]
    add_shift(pg_runtime, world.tenant_id, site, person, SHIFT_START, SHIFT_END)
    add_punch(pg_runtime, world.tenant_id, site, person, SHIFT_START - timedelta(minutes=5))
    pings = [SHIFT_START + timedelta(minutes=10 * k) for k in range(13)]
    add_pings(pg_runtime, world.tenant_id, site, person, [t for t in pings if t <= SILENT_FROM])
    alert = add_alert(pg_runtime, world.tenant_id, site, person, OFFLINE_AT, AlertKind.DEVICE_OFFLINE, Severity.MEDIUM)
    return world, site, person, alert


def _rows(runtime: Runtime, tenant_id: int, model: type) -> list:  # type: ignore[type-arg]
    with runtime.read() as session:
        return list(session.scalars(sa.select(model).where(model.tenant_id == tenant_id).order_by(model.id)))


def test_device_offline_with_a_silent_guard_is_one_incident_with_raised_severity(
        pg_runtime: Runtime, guard: tuple[World, int, int, int]) -> None:
    world, site, person, alert = guard
    # Not yet judged while the alert's ±15 min are still open ...
    early = run_audit(pg_runtime, world.tenant_id, _window_end(OFFLINE_AT + timedelta(minutes=10)), now=OFFLINE_AT)
    assert early.incidents == 0
    # ... then: one incident, one level above the alert (medium -> high), one ticket.
    as_of = OFFLINE_AT + timedelta(minutes=20)
    result = run_audit(pg_runtime, world.tenant_id, _window_end(as_of), now=as_of)
    assert result.incidents == 1 and result.findings == 0
    [incident] = _rows(pg_runtime, world.tenant_id, Incident)
    assert incident.severity == Severity.HIGH and incident.alert_ids == [alert]
    assert (incident.site_id, incident.person_id) == (site, person)
    kinds = [s["kind"] for s in incident.signals]
    assert kinds[0] == "summary" and "alert" in kinds and "silence" in kinds
    events = [e for e in _rows(pg_runtime, world.tenant_id, EventLogEntry) if e.type == EventType.INCIDENT_CORRELATED]
    assert len(events) == 1 and events[0].severity == Severity.HIGH and events[0].data["incident_id"] == incident.id
    [ticket] = _rows(pg_runtime, world.tenant_id, Ticket)
    assert (ticket.source, ticket.type, ticket.priority) == (TicketSource.INCIDENT, INCIDENT_TYPE, TicketPriority.P2)
    assert ticket.details["incident_id"] == incident.id and ticket.occurrences == 1


def test_the_silent_device_finding_joins_the_incidents_ticket(pg_runtime: Runtime,
                                                               guard: tuple[World, int, int, int]) -> None:
    world, site, person, _ = guard
    as_of = SILENT_FROM + timedelta(minutes=100)   # silent for 100 min >= 90: a silent device, still ongoing
    result = run_audit(pg_runtime, world.tenant_id, _window_end(as_of), now=as_of)
    assert result.by_type == {FindingType.SILENT_DEVICE.value: 1} and result.incidents == 0
    [finding] = _rows(pg_runtime, world.tenant_id, AuditFinding)
    assert finding.severity == Severity.HIGH and finding.evidence["ongoing"] is True
    assert finding.window_start == SILENT_FROM and finding.person_id == person
    assert finding.evidence["last_hour"] == {"check_ins": 0, "pings": 0, "movement": 0, "phone_activity": 0, "scans": 0}
    # One item, not two: the finding joins the incident (whose severity rises: medium alert +
    # high finding -> critical) and is an occurrence on the incident's ticket.
    [incident] = _rows(pg_runtime, world.tenant_id, Incident)
    assert incident.severity == Severity.CRITICAL
    assert [s["finding_id"] for s in incident.signals if s["kind"] == "finding"] == [finding.id]
    [ticket] = _rows(pg_runtime, world.tenant_id, Ticket)
    assert ticket.type == INCIDENT_TYPE and ticket.occurrences == 2
    # Re-running either window changes nothing.
    for moment in (as_of, OFFLINE_AT + timedelta(minutes=20)):
        again = run_audit(pg_runtime, world.tenant_id, _window_end(moment), now=moment)
        assert (again.findings, again.incidents, again.tickets) == (0, 0, 0)
