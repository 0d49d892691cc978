"""The wall display's read service (PostgreSQL and the embedded SQLite): every KPI tile counts
what it says, another tenant's data never counts, a site-scoped principal sees its site only;
the feed is what the socket would send (redacted for viewers); relayed live events are checked
again. And the SLA state's SQL form agrees with its Python form."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import sqlalchemy as sa

from backend.audit.types import FindingType
from backend.auth.principal import Principal
from backend.config import Settings
from backend.enums import (AttendanceKind, EventType, Role, ScanMethod, Scorer, Severity, TicketPriority,
                           TicketSource, TicketState)
from backend.events import envelope
from backend.models import AttendanceEvent, AuditFinding, CheckpointScan, FraudPrediction, Shift, Ticket, Tour
from backend.queries.wall import describe_live_events, wall_view
from backend.runtime import Runtime
from backend.enums import SlaState
from backend.tickets.sla import sla_status, sla_state_sql
from tests.factories import World, make_world

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)   # Lisbon is on UTC in November
# The defaults, pinned: an environment variable must not change what these tests expect.
SETTINGS = Settings(scoring_anomaly_threshold=0.5, scoring_ticket_threshold=0.8, audit_lateness_minutes=10,
                    audit_interval_minutes=5, live_viewer_person_details=False)
_ids = count(1)


def _principal(world: World, site: str | None = None, role: Role = Role.VIEWER) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=role, name="wall", user_id=None, wallboard_token_id=1,
                     site_id=world.site_ids[site] if site else None)


def _punch(runtime: Runtime, world: World, person: str, site: str, ago: timedelta, *,
           kind: AttendanceKind = AttendanceKind.CHECK_IN, score: float | None = None) -> None:
    with runtime.transaction() as session:
        event = AttendanceEvent(tenant_id=world.tenant_id, client_event_id=f"punch-{next(_ids)}", ts=NOW - ago,
                                kind=kind, person_id=world.person_ids[person], site_id=world.site_ids[site],
                                lat=38.7, lon=-9.14)
        session.add(event)
        session.flush()
        if score is not None:
            session.add(FraudPrediction(tenant_id=world.tenant_id, attendance_event_id=event.id,
                                        person_id=event.person_id, site_id=event.site_id, ts=event.ts, score=score,
                                        scorer=Scorer.MODEL, reasons=[{"text": "mock-location flag set"}]))


def _ticket(runtime: Runtime, world: World, priority: TicketPriority, state: TicketState, *, ack_in: timedelta,
            resolve_in: timedelta, site: str = "S1") -> None:
    with runtime.transaction() as session:
        session.add(Ticket(tenant_id=world.tenant_id, site_id=world.site_ids[site], source=TicketSource.AUDIT,
                           type="no_show", dedup_key=f"t-{next(_ids)}", title="t", priority=priority,
                           severity=Severity.HIGH, state=state, ack_due_at=NOW + ack_in,
                           resolve_due_at=NOW + resolve_in))


def _finding(runtime: Runtime, world: World, site: str, kind: FindingType, *, created_ago: timedelta,
             key: str | None = None) -> None:
    with runtime.transaction() as session:
        session.add(AuditFinding(tenant_id=world.tenant_id, site_id=world.site_ids[site], type=kind.value,
                                 severity=Severity.MEDIUM, window_start=NOW - created_ago - timedelta(minutes=50),
                                 window_end=NOW - created_ago, dedup_key=key or f"f-{next(_ids)}",
                                 created_at=NOW - created_ago))


def _shift(runtime: Runtime, world: World, person: str, site: str, start_ago: timedelta,
           hours: float = 8) -> None:
    with runtime.transaction() as session:
        session.add(Shift(tenant_id=world.tenant_id, code=f"sh-{next(_ids)}", site_id=world.site_ids[site],
                          person_id=world.person_ids[person], starts_at=NOW - start_ago,
                          ends_at=NOW - start_ago + timedelta(hours=hours)))


def _tour(runtime: Runtime, world: World, site: str) -> int:
    with runtime.transaction() as session:
        tour = Tour(tenant_id=world.tenant_id, code=f"tour-{next(_ids)}", site_id=world.site_ids[site], name="Night",
                    checkpoint_ids=[world.checkpoint_ids[f"{site}-CP1"]], interval_minutes=60, grace_minutes=10)
        session.add(tour)
        session.flush()
        return tour.id


def _scan_rounds(runtime: Runtime, world: World, tour: int, site: str, skip_hours_ago: tuple[int, ...]) -> None:
    """One scan a minute after each hourly round of the last 26 h, except ``skip_hours_ago``."""
    checkpoint = world.checkpoint_ids[f"{site}-CP1"]
    with runtime.transaction() as session:
        for hours_ago in range(1, 27):
            if hours_ago not in skip_hours_ago:
                session.add(CheckpointScan(
                    tenant_id=world.tenant_id, client_event_id=f"scan-{next(_ids)}",
                    ts=NOW - timedelta(hours=hours_ago) + timedelta(minutes=1), person_id=world.person_ids["P1"],
                    site_id=world.site_ids[site], checkpoint_id=checkpoint, tour_id=tour, method=ScanMethod.NFC,
                    lat=38.70 + int(site[1:]) / 100, lon=-9.14))


def _populate(runtime: Runtime, world: World) -> None:
    # Tickets, by SLA state at NOW (P1: ack 15 min, at risk under 3m45s; P2 resolve 24 h, at risk under 6 h).
    _ticket(runtime, world, TicketPriority.P1, TicketState.OPEN, ack_in=-timedelta(minutes=1), resolve_in=timedelta(hours=3))
    _ticket(runtime, world, TicketPriority.P1, TicketState.OPEN, ack_in=timedelta(minutes=2), resolve_in=timedelta(hours=3))
    _ticket(runtime, world, TicketPriority.P2, TicketState.ACKNOWLEDGED, ack_in=-timedelta(hours=1),
            resolve_in=timedelta(hours=10))
    _ticket(runtime, world, TicketPriority.P2, TicketState.IN_PROGRESS, ack_in=-timedelta(hours=1),
            resolve_in=timedelta(hours=1), site="S2")
    _ticket(runtime, world, TicketPriority.P3, TicketState.RESOLVED, ack_in=-timedelta(hours=1),
            resolve_in=-timedelta(hours=1))
    # Scores: P1 flagged high half an hour ago at S1; P2 flagged (not high) 5 h ago at S2; P3 honest.
    _punch(runtime, world, "P1", "S1", timedelta(minutes=30), score=0.9)
    _punch(runtime, world, "P2", "S2", timedelta(hours=5), score=0.6)
    _punch(runtime, world, "P3", "S1", timedelta(minutes=10), score=0.3)
    _punch(runtime, world, "P3", "S1", timedelta(minutes=5), kind=AttendanceKind.CHECK_OUT)
    # Roster now: P1 (clocked in), P2 (no punch since its window opened), P3 (clocked out); P1 later too.
    _shift(runtime, world, "P1", "S1", timedelta(hours=1))
    _shift(runtime, world, "P2", "S2", timedelta(hours=1))
    _shift(runtime, world, "P3", "S1", timedelta(hours=2))
    _shift(runtime, world, "P1", "S1", -timedelta(hours=9))
    # Findings: one in the last hour at S2, one older; tour rounds of S1.
    _finding(runtime, world, "S2", FindingType.NO_SHOW, created_ago=timedelta(minutes=20))
    _finding(runtime, world, "S1", FindingType.LATE_CLOCK_IN, created_ago=timedelta(hours=3))
    # A tour of S1 with one checkpoint, hourly: every round scanned on time but two.
    tour = _tour(runtime, world, "S1")
    _scan_rounds(runtime, world, tour, "S1", skip_hours_ago=(3, 5))


def test_every_tile_counts_its_own_tenant_and_scope(any_runtime: Runtime) -> None:
    world, other = make_world(any_runtime), make_world(any_runtime)
    _populate(any_runtime, world)
    _populate(any_runtime, other)   # the same again in another tenant: must change nothing below

    with any_runtime.read() as session:
        view = wall_view(session, _principal(world), settings=SETTINGS, now=NOW)
        scoped = wall_view(session, _principal(world, "S2"), settings=SETTINGS, now=NOW)

    tiles = view.tiles
    by_priority = {c.priority: (c.on_time, c.due_soon, c.breached) for c in tiles.tickets}
    assert by_priority == {TicketPriority.P1: (0, 1, 1), TicketPriority.P2: (1, 1, 0),
                           TicketPriority.P3: (0, 0, 0), TicketPriority.P4: (0, 0, 0)}
    assert (tiles.open_tickets, tiles.breached_tickets) == (4, 1)
    assert (tiles.fraud_anomalies, tiles.audit_findings, tiles.anomalies) == (1, 1, 2)
    assert (tiles.sites_at_risk, tiles.sites_total) == (1, 2)
    assert (tiles.guards_on_duty, tiles.guards_rostered) == (1, 3)
    # Hourly rounds, slot = [S-10 min, S+50 min), judged once the slot ended 10 min ago, over 24 h:
    # S from 12:00 yesterday to 11:00 today = 24 rounds; the two without a scan are missed.
    assert (tiles.tour_rounds_due, tiles.tour_rounds_ok) == (24, 22)
    assert [(p.code, p.score, p.flagged, p.name, p.reasons) for p in view.persons] == [("P1", 0.9, 1, None, ())]
    assert [(s.code, s.risk) for s in view.sites] == [("S1", 0.9), ("S2", 0.6)]

    st = scoped.tiles
    assert {c.priority: c.total for c in st.tickets if c.total} == {TicketPriority.P2: 1}
    assert (st.fraud_anomalies, st.audit_findings, st.sites_at_risk, st.sites_total) == (0, 1, 0, 1)
    assert (st.guards_on_duty, st.guards_rostered, st.tour_rounds_due) == (0, 1, 0)
    assert st.tour_compliance is None and scoped.persons == () and [s.code for s in scoped.sites] == ["S2"]


def test_person_details_show_to_operators(pg_runtime: Runtime, world: World) -> None:
    _punch(pg_runtime, world, "P1", "S1", timedelta(minutes=30), score=0.95)
    with pg_runtime.read() as session:
        [person] = wall_view(session, _principal(world, role=Role.OPERATOR), settings=SETTINGS, now=NOW).persons
    assert person.name == f"Guard 1 of {world.slug}" and person.reasons == ("mock-location flag set",)


def test_the_feed_is_what_the_socket_sends_and_relayed_events_are_checked(pg_runtime: Runtime, world: World,
                                                                          other_world: World) -> None:
    s1, s2 = world.site_ids["S1"], world.site_ids["S2"]
    with pg_runtime.transaction() as session:
        publish = pg_runtime.events.publish
        anomaly = publish(session, EventType.ANOMALY_DETECTED, world.tenant_id, site_id=s1,
                          person_id=world.person_ids["P1"], severity=Severity.HIGH,
                          data={"types": ["gps_spoofing"], "punch": "check_in", "score": 0.93,
                                "person_name": "Guard One"})
        ticket = publish(session, EventType.TICKET_UPDATED, world.tenant_id, site_id=s2, severity=Severity.HIGH,
                         data={"ticket_id": 7, "source": "audit", "type": "no_show", "title": "No-show at gate",
                               "state": "acknowledged", "change": "acknowledged"})
        foreign = publish(session, EventType.ALERT_RECEIVED, other_world.tenant_id,
                          site_id=other_world.site_ids["S1"], severity=Severity.CRITICAL, data={"kind": "panic"})
        envelopes = [envelope(e) for e in (anomaly, ticket, foreign)]

    with pg_runtime.read() as session:
        viewer = wall_view(session, _principal(world), settings=SETTINGS, feed_limit=10, now=NOW).events
        operator = wall_view(session, _principal(world, role=Role.OPERATOR), settings=SETTINGS, feed_limit=10,
                             now=NOW).events
        scoped = wall_view(session, _principal(world, "S2"), settings=SETTINGS, feed_limit=10, now=NOW).events
        relayed = describe_live_events(session, _principal(world), envelopes + [
            {"id": 1, "tenant": world.tenant_id, "type": "alert_received", "time": NOW.isoformat(),
             "site": other_world.site_ids["S2"], "severity": "high", "data": {"kind": "panic"}},   # a forged site
            {"id": "x"}, "junk", None], settings=SETTINGS)

    assert [e.id for e in viewer] == [ticket.id, anomaly.id], "newest first, this tenant only"
    assert (viewer[0].title, viewer[0].summary) == ("Ticket #7 acknowledged", "No-show at gate · now acknowledged")
    assert viewer[0].site_name == f"Site 2 of {world.slug}" and viewer[0].local_time.tzname() == "WET"
    assert (viewer[1].title, viewer[1].summary) == ("Fraud anomaly", "gps spoofing · check-in"), "redacted"
    assert operator[1].summary == "gps spoofing · check-in · score 0.93 · Guard One"
    assert [e.id for e in scoped] == [ticket.id]
    assert [e.id for e in relayed] == [anomaly.id, ticket.id, 1]
    assert relayed[0].summary == "gps spoofing · check-in", "viewers get the redacted variant"
    assert relayed[2].site_name is None and relayed[2].site_id is None, "another tenant's site names nothing"
    assert viewer[0].urgent and relayed[2].urgent


def test_sla_state_sql_agrees_with_python(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    offsets = [timedelta(minutes=m) for m in (-30, -1, 1, 3, 5, 30, 90, 300, 400, 2000)]
    for priority in TicketPriority:
        for state in (TicketState.OPEN, TicketState.ACKNOWLEDGED, TicketState.IN_PROGRESS):
            for offset in offsets:
                _ticket(any_runtime, world, priority, state, ack_in=offset, resolve_in=offset * 16)
    t = Ticket
    column = sla_state_sql(t.priority, t.state, t.ack_due_at, t.resolve_due_at, NOW, t.ack_due_at.type)
    with any_runtime.read() as session:
        rows = session.execute(sa.select(t.priority, t.state, t.ack_due_at, t.resolve_due_at, column)
                               .where(t.tenant_id == world.tenant_id)).all()
    assert len(rows) == 120
    assert [sla_status(r[0], r[1], r[2], r[3], None, NOW).state.value for r in rows] == [r[4] for r in rows]
    assert {r[4] for r in rows} == {s.value for s in SlaState} - {SlaState.MET.value}
