"""The sites table and the site page's read services, on PostgreSQL and the embedded SQLite:
exact counts (risk, open tickets by priority, tour compliance from the audit's tour checks,
newest input), a bounded number of statements, tenant isolation and site scope."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from backend.auth.principal import Principal
from backend.config import Settings
from backend.enums import Role, TicketPriority, TicketSource, TicketState
from backend.queries.sites import site_detail, sites_overview
from backend.runtime import Runtime
from tests.factories import World, make_world
from tests.sites.builders import NOW, finding, incident, score, shift, ticket, tour_with_scans

SETTINGS = Settings(secret_key="x")   # thresholds at their defaults (anomaly 0.5)


def _as(world: World, role: Role = Role.SECURITY_MANAGER, site: str | None = None) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=role, name="t", user_id=1,
                     site_id=world.site_ids[site] if site else None)


@contextmanager
def _selects(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa.event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", count)


@pytest.fixture
def busy(any_runtime: Runtime) -> World:
    world = make_world(any_runtime, n_sites=3)
    rt = any_runtime
    score(rt, world, "P1", "S1", NOW - timedelta(hours=2), 0.91, "mock-location flag set")
    score(rt, world, "P2", "S1", NOW - timedelta(hours=3), 0.2, "nothing much")
    score(rt, world, "P2", "S2", NOW - timedelta(hours=1), 0.4, "a bit odd")
    score(rt, world, "P3", "S2", NOW - timedelta(hours=30), 0.99, "too old to count")
    ticket(rt, world, "S1", TicketPriority.P1)
    ticket(rt, world, "S1", TicketPriority.P1, state=TicketState.ACKNOWLEDGED)
    ticket(rt, world, "S1", TicketPriority.P3, state=TicketState.IN_PROGRESS)
    ticket(rt, world, "S1", TicketPriority.P2, state=TicketState.RESOLVED)
    ticket(rt, world, "S2", TicketPriority.P4, state=TicketState.CLOSED)
    tour_with_scans(rt, world, "S1", missed={3, 10}, incomplete={20})
    return world


def test_the_sites_table_counts_risk_tickets_compliance_and_last_activity(any_runtime: Runtime, busy: World) -> None:
    other = make_world(any_runtime)
    score(any_runtime, other, "P1", "S1", NOW - timedelta(hours=1), 0.97, "another tenant")
    with any_runtime.read() as session, _selects(any_runtime) as selects:
        rows = sites_overview(session, _as(busy), settings=SETTINGS, now=NOW)
    assert len(selects) <= 8, "a few bounded round trips, not one per site"
    assert [r.code for r in rows] == ["S1", "S2", "S3"], "riskiest first, unscored last"
    s1, s2, s3 = rows
    assert (s1.risk, s1.flagged, s1.scored) == (0.91, 1, 2) and (s2.risk, s2.flagged) == (0.4, 0)
    assert s3.risk is None and s3.scored == 0 and s3.last_activity is None and s3.compliance is None
    assert s1.open_tickets == 3 and s1.open_by_priority == {TicketPriority.P1: 2, TicketPriority.P2: 0,
                                                           TicketPriority.P3: 1, TicketPriority.P4: 0}
    assert s2.open_tickets == 0
    assert (s1.rounds_due, s1.compliance) == (24, pytest.approx(21 / 24)), "2 missed and 1 incomplete of 24"
    # The newest input at S1 is the last round's second scan (NOW-1h +3 min); S2's the check-in 1 h ago.
    assert s1.last_activity == NOW - timedelta(minutes=57) and s2.last_activity == NOW - timedelta(hours=1)
    assert s1.city == "Lisbon" and s1.local_last_activity.tzname() in ("WET", "WEST")


def test_the_sites_table_keeps_to_the_tenant_and_the_site_scope(any_runtime: Runtime, busy: World) -> None:
    other = make_world(any_runtime)
    with any_runtime.read() as session:
        scoped = sites_overview(session, _as(busy, Role.OPERATOR, "S2"), settings=SETTINGS, now=NOW)
        outsider = sites_overview(session, _as(other), settings=SETTINGS, now=NOW)
    assert [r.code for r in scoped] == ["S2"] and scoped[0].risk == 0.4
    assert [r.code for r in outsider] == ["S1", "S2"] and all(r.risk is None and r.open_tickets == 0 for r in outsider)


def test_a_site_page_has_its_findings_incidents_tickets_persons_and_tours(any_runtime: Runtime, busy: World) -> None:
    rt = any_runtime
    finding(rt, busy, "S1", "no_show", person="P2", summary="No-show: Guard 2 never clocked in")
    finding(rt, busy, "S2", "silent_device", summary="elsewhere")
    finding(rt, busy, "S1", "no_show", at=NOW - timedelta(days=9), summary="too old")
    incident(rt, busy, "S1", "Panic alert with phone silent 30 min")
    fraud = ticket(rt, busy, "S1", TicketPriority.P2, source=TicketSource.FRAUD, person="P1",
                   title="Possible GPS spoofing by Guard 1")
    shift(rt, busy, "S1", "P3", NOW - timedelta(hours=4), NOW + timedelta(hours=4))
    shift(rt, busy, "S2", "P2", NOW - timedelta(hours=4), NOW + timedelta(hours=4))
    with rt.read() as session:
        detail = site_detail(session, _as(busy), busy.site_ids["S1"], settings=SETTINGS, now=NOW)
    assert detail is not None and detail.summary.code == "S1" and not detail.scores_hidden
    assert [f.summary for f in detail.findings] == ["No-show: Guard 2 never clocked in"]
    assert detail.findings[0].person_id == busy.person_ids["P2"]
    [inc] = detail.incidents
    assert (inc.title, inc.alerts, inc.findings, inc.severity) == ("Panic alert with phone silent 30 min", 2, 1,
                                                                   "critical")
    # Open tickets, most urgent first, then the closed one; the fraud ticket names its person.
    assert [t.priority.value for t in detail.tickets] == ["p1", "p1", "p2", "p3", "p2"]
    assert detail.tickets[-1].state == "resolved"
    fraud_row = next(t for t in detail.tickets if t.id == fraud)
    assert fraud_row.title == "Possible GPS spoofing by Guard 1" and fraud_row.person_id == busy.person_ids["P1"]
    # P1 and P2 punched here today, P3 is rostered now; riskiest first with the reasons.
    persons = [(p.code, p.risk, p.on_shift, p.last_punch) for p in detail.persons]
    assert persons == [("P1", 0.91, False, "check_in"), ("P2", 0.4, False, "check_in"), ("P3", None, True, None)]
    assert detail.persons[0].reasons == ("mock-location flag set",), "the person's risk is across sites"
    [tour] = detail.tours
    assert (tour.name, tour.due, tour.compliant, tour.missed, tour.incomplete) == ("Perimeter", 24, 21, 2, 1)
    assert detail.signals is not None and [s.metric for s in detail.signals.series][0] == "check_ins"


def test_a_viewer_sees_no_person_scores_nor_fraud_ticket_titles(any_runtime: Runtime, busy: World) -> None:
    ticket(any_runtime, busy, "S1", TicketPriority.P2, source=TicketSource.FRAUD, person="P1",
           title="Possible GPS spoofing by Guard 1")
    with any_runtime.read() as session:
        detail = site_detail(session, _as(busy, Role.VIEWER), busy.site_ids["S1"], settings=SETTINGS, now=NOW,
                             with_signals=False)
    assert detail is not None and detail.scores_hidden and detail.signals is None
    assert all(p.risk is None and p.reasons == () for p in detail.persons)
    fraud_row = next(t for t in detail.tickets if t.source == "fraud")
    assert fraud_row.title == "Fraud ticket" and fraud_row.person_id is None and fraud_row.person_name is None
    assert detail.summary.risk == 0.91, "the site's risk is not person-level"


def test_a_foreign_or_unknown_site_reads_as_not_found(any_runtime: Runtime, busy: World) -> None:
    other = make_world(any_runtime)
    s1 = busy.site_ids["S1"]
    with any_runtime.read() as session:
        assert site_detail(session, _as(busy, Role.OPERATOR, "S2"), s1, settings=SETTINGS, now=NOW) is None
        assert site_detail(session, _as(other, Role.ADMIN), s1, settings=SETTINGS, now=NOW) is None
        assert site_detail(session, _as(busy), 10**12, settings=SETTINGS, now=NOW) is None
        assert site_detail(session, _as(busy, Role.OPERATOR, "S1"), s1, settings=SETTINGS, now=NOW,
                           with_signals=False) is not None
