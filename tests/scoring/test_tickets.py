"""Opening tickets: one open ticket per dedup key however many workers race, occurrences
counted, dedup windows, default assignee, SLA due times; on PostgreSQL and SQLite."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.enums import EventType, Role, Severity, TicketPriority, TicketSource, TicketState
from backend.models import EventLogEntry, Site, Ticket, TicketHistory, User
from backend.runtime import Runtime
from backend.tickets import TicketSpec, open_or_add_occurrence, open_or_add_occurrences
from backend.tickets.sla import SLAS
from tests.factories import World, make_world

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def _spec(world: World, key: str, **changes: object) -> TicketSpec:
    fields: dict[str, object] = dict(
        tenant_id=world.tenant_id, source=TicketSource.FRAUD, type="gps_spoofing", dedup_key=key,
        title="GPS spoofing suspected", priority=TicketPriority.P3, severity=Severity.HIGH,
        site_id=world.site_ids["S1"], person_id=world.person_ids["P1"], details={"attendance_event_id": 1},
        assignee_role=Role.SECURITY_MANAGER)
    fields.update(changes)
    return TicketSpec(**fields)  # type: ignore[arg-type]


def _tickets(runtime: Runtime, tenant_id: int) -> list[Ticket]:
    with runtime.read() as session:
        return list(session.scalars(sa.select(Ticket).where(Ticket.tenant_id == tenant_id).order_by(Ticket.id)))


def test_racing_workers_open_one_ticket_and_count_every_occurrence(pg_runtime: Runtime) -> None:
    world = make_world(pg_runtime)
    racers = 12
    barrier = threading.Barrier(racers)
    errors: list[BaseException] = []

    def race(n: int) -> None:
        try:
            barrier.wait()
            with pg_runtime.transaction() as session:
                spec = _spec(world, "fraud:race", details={"n": n})
                open_or_add_occurrence(session, pg_runtime.events, spec, now=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    tickets = _tickets(pg_runtime, world.tenant_id)
    assert len(tickets) == 1 and tickets[0].occurrences == racers and tickets[0].version == racers
    with pg_runtime.read() as session:
        history = list(session.scalars(sa.select(TicketHistory.action).where(TicketHistory.ticket_id == tickets[0].id)))
        events = list(session.scalars(sa.select(EventLogEntry.type).where(EventLogEntry.tenant_id == world.tenant_id)))
    assert sorted(history) == ["created"] + ["occurrence"] * (racers - 1)
    assert sorted(events) == [EventType.TICKET_CREATED] + [EventType.TICKET_UPDATED] * (racers - 1)


def test_the_dedup_window_joins_recent_occurrences_and_opens_a_new_ticket_after(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    window = timedelta(hours=24)
    base = datetime(2026, 11, 16, 23, 0, tzinfo=UTC)   # an hour before a window bucket boundary

    def occur(at: datetime) -> int:
        with any_runtime.transaction() as session:
            return open_or_add_occurrence(session, any_runtime.events,
                                          _spec(world, "fraud:p1:gps", occurred_at=at, dedup_window=window),
                                          now=at).ticket_id

    first = occur(base)
    assert occur(base + timedelta(hours=2)) == first      # across the bucket boundary, within 24 h
    assert occur(base + timedelta(hours=23)) == first
    later = occur(base + timedelta(hours=25))              # more than 24 h after the first occurrence
    assert later != first
    assert occur(base + timedelta(hours=26)) == later
    tickets = _tickets(any_runtime, world.tenant_id)
    assert [t.occurrences for t in tickets] == [3, 2]


def test_a_closed_ticket_does_not_absorb_new_occurrences(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    with any_runtime.transaction() as session:
        first = open_or_add_occurrence(session, any_runtime.events, _spec(world, "k"), now=NOW)
        session.execute(sa.update(Ticket).where(Ticket.id == first.ticket_id).values(state=TicketState.RESOLVED))
    with any_runtime.transaction() as session:
        second = open_or_add_occurrence(session, any_runtime.events, _spec(world, "k"), now=NOW)
    assert second.created and second.ticket_id != first.ticket_id


@pytest.mark.parametrize("priority", list(TicketPriority))
def test_new_tickets_get_sla_due_times_and_the_sites_security_manager(pg_runtime: Runtime,
                                                                      priority: TicketPriority) -> None:
    world = make_world(pg_runtime)
    site = world.site_ids["S2"]
    with pg_runtime.transaction() as session:
        # A manager scoped to S2 wins over the tenant-wide one the factory made.
        scoped = User(tenant_id=world.tenant_id, email=f"s2-{priority.value}@{world.slug}.test", name="S2 manager",
                      password_hash="x", role=Role.SECURITY_MANAGER, site_id=site)
        session.add(scoped)
        session.flush()
        outcome = open_or_add_occurrence(session, pg_runtime.events, _spec(world, "sla", priority=priority,
                                                                           site_id=site), now=NOW)
        scoped_id = scoped.id
    ticket = _tickets(pg_runtime, world.tenant_id)[0]
    assert outcome.created and ticket.assignee_user_id == scoped_id
    assert ticket.ack_due_at == NOW + SLAS[priority].acknowledge
    assert ticket.resolve_due_at == NOW + SLAS[priority].resolve
    assert ticket.state is TicketState.OPEN and ticket.details["first_occurred_at"] == NOW.isoformat()


def test_without_a_site_scoped_manager_any_manager_of_the_tenant_gets_it(pg_runtime: Runtime) -> None:
    world = make_world(pg_runtime)
    with pg_runtime.read() as session:
        manager = session.scalar(sa.select(User.id).where(User.tenant_id == world.tenant_id,
                                                          User.role == Role.SECURITY_MANAGER))
        other_site = session.scalar(sa.select(Site.id).where(Site.tenant_id == world.tenant_id, Site.code == "S2"))
    with pg_runtime.transaction() as session:
        open_or_add_occurrence(session, pg_runtime.events, _spec(world, "any", site_id=other_site), now=NOW)
    assert _tickets(pg_runtime, world.tenant_id)[0].assignee_user_id == manager


def test_a_batch_files_its_specs_as_one_by_one_filing_would(any_runtime: Runtime) -> None:
    """``open_or_add_occurrences`` (scoring's and audits' path) against one call per spec in
    time order: same tickets, occurrences, escalations, outcomes, history and events, although
    the batch is shuffled and files its upserts in rounds. The specs cross a window bucket
    boundary (joining the ticket an earlier spec of the batch opened), outlive a window,
    repeat keys within a bucket, escalate, and include keys without a window."""
    window = timedelta(hours=24)
    base = datetime(2026, 11, 16, 23, 0, tzinfo=UTC)   # an hour before a window bucket boundary
    plan = [("fraud:p1:gps", 0, Severity.HIGH, TicketPriority.P3, window),
            ("fraud:p1:gps", 2, Severity.CRITICAL, TicketPriority.P2, window),   # next bucket: joins
            ("fraud:p1:gps", 3, Severity.MEDIUM, TicketPriority.P4, window),
            ("fraud:p1:gps", 26, Severity.HIGH, TicketPriority.P3, window),      # a window later: new
            ("fraud:p1:gps", 27, Severity.HIGH, TicketPriority.P3, window),
            ("fraud:p2:geo", 1, Severity.MEDIUM, TicketPriority.P3, window),
            ("fraud:p2:geo", 1.5, Severity.HIGH, TicketPriority.P3, window),
            ("audit:s1", 0, Severity.MEDIUM, TicketPriority.P3, None),
            ("audit:s1", 5, Severity.HIGH, TicketPriority.P2, None)]

    def specs(world: World) -> list[TicketSpec]:
        return [_spec(world, key, severity=severity, priority=priority, dedup_window=dedup,
                      occurred_at=base + timedelta(hours=hours), details={"n": n})
                for n, (key, hours, severity, priority, dedup) in enumerate(plan)]

    def filed(world: World) -> tuple[list[tuple[object, ...]], list[str], list[str]]:
        with any_runtime.read() as session:
            tickets = session.execute(sa.select(Ticket.dedup_key, Ticket.occurrences, Ticket.severity,
                                                Ticket.priority, Ticket.ack_due_at, Ticket.details["n"].as_integer(),
                                                Ticket.assignee_user_id.is_not(None))
                                      .where(Ticket.tenant_id == world.tenant_id).order_by(Ticket.dedup_key)).all()
            history = session.scalars(sa.select(TicketHistory.action).where(TicketHistory.tenant_id == world.tenant_id)
                                      .order_by(TicketHistory.action)).all()
            events = session.scalars(sa.select(EventLogEntry.type).where(EventLogEntry.tenant_id == world.tenant_id)
                                     .order_by(EventLogEntry.type)).all()
        return [tuple(t) for t in tickets], list(history), [str(e) for e in events]

    single, batch = make_world(any_runtime), make_world(any_runtime)
    one_by_one = []
    for spec in specs(single):
        with any_runtime.transaction() as session:
            one_by_one.append(open_or_add_occurrence(session, any_runtime.events, spec, now=NOW))
    shuffled = list(reversed(specs(batch)))
    with any_runtime.transaction() as session:
        outcomes = open_or_add_occurrences(session, any_runtime.events, shuffled, now=NOW)
    outcomes.reverse()
    assert [(o.created, o.occurrences, o.dedup_key) for o in outcomes] == \
        [(o.created, o.occurrences, o.dedup_key) for o in one_by_one]
    tickets, history, events = filed(batch)
    assert (tickets, history, events) == filed(single)
    assert [t[:2] for t in tickets] == [("audit:s1", 2), ("fraud:p1:gps@20773", 3), ("fraud:p1:gps@20775", 2),
                                        ("fraud:p2:geo@20774", 2)]
    assert tickets[1][2:4] == (Severity.CRITICAL, TicketPriority.P2)   # escalated by the joining occurrence
