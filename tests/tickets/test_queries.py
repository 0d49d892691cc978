"""The tickets page's reads: SLA states, the queue's order, filters, scope and counts (on
PostgreSQL and the embedded SQLite, with the actions it shows), URL filters round-trip, and
what live events mean for the page."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.auth.principal import Principal
from backend.enums import Role, SlaState, TicketPriority, TicketState
from backend.queries.ticket_schemas import DEFAULT_STATES, TicketFilters
from backend.queries.tickets import ticket_detail, ticket_queue, ticket_rows
from backend.runtime import Runtime
from backend.tickets import actions
from backend.tickets.sla import sla_status
from components.tickets import live_plan
from tests.factories import make_world
from tests.tickets.builders import add_user, open_ticket, principal

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_sla_states() -> None:
    ack, resolve = T0 + timedelta(hours=1), T0 + timedelta(hours=24)   # P2
    def at(minutes: float, state: TicketState = TicketState.OPEN, resolved: datetime | None = None) -> SlaState:
        return sla_status(TicketPriority.P2, state, ack, resolve, resolved, T0 + timedelta(minutes=minutes)).state
    assert at(10) is SlaState.ON_TIME and at(46) is SlaState.DUE_SOON and at(60) is SlaState.BREACHED
    assert at(61, TicketState.ACKNOWLEDGED) is SlaState.ON_TIME                 # now it answers to resolve
    assert at(60 * 20, TicketState.ACKNOWLEDGED) is SlaState.DUE_SOON
    assert at(60 * 25, TicketState.IN_PROGRESS) is SlaState.BREACHED
    assert at(0, TicketState.RESOLVED, resolved=T0 + timedelta(hours=2)) is SlaState.MET
    assert at(0, TicketState.RESOLVED, resolved=T0 + timedelta(hours=30)) is SlaState.BREACHED
    status = sla_status(TicketPriority.P2, TicketState.OPEN, ack, resolve, None, T0)
    assert status.target == "acknowledge" and status.due_at == ack


def test_filters_round_trip_through_the_url() -> None:
    assert TicketFilters.from_query({}) == TicketFilters() and TicketFilters().to_query() == ""
    shared = TicketFilters(states=(), priorities=(TicketPriority.P1, TicketPriority.P2), site_id=7, mine=True)
    query = shared.to_query()
    assert query == "?state=all&priority=p1&priority=p2&site=7&mine=1"
    parsed = {"state": "all", "priority": ["p1", "p2"], "site": "7", "mine": "1"}  # as Dash hands it over
    assert TicketFilters.from_query(parsed) == shared
    junk = TicketFilters.from_query({"state": ["bogus"], "priority": "p9", "site": "-3", "mine": "maybe"})
    assert junk == TicketFilters(states=DEFAULT_STATES)
    assert TicketFilters.from_inputs(["resolved", 5], "p1", True, "yes") == TicketFilters(
        states=(TicketState.RESOLVED,), priorities=(TicketPriority.P1,))


def test_live_plan() -> None:
    shown = {"ids": [1, 2], "versions": {"1": 3, "2": 1}}
    update = lambda t, v: {"id": 1, "type": "ticket_updated", "data": {"ticket_id": t, "version": v}}  # noqa: E731
    plan = live_plan([update(1, 3), update(2, 2), {"type": "alert_received", "data": {}}], shown,
                     {"ticket": 2, "version": 1}, gap=False)
    assert plan.patch_ids == (2,) and not plan.refresh and plan.detail_stale
    assert live_plan([update(9, 1)], shown, None, gap=False).refresh
    assert live_plan([], shown, None, gap=True).refresh
    viewer_event = {"type": "ticket_updated", "data": {"ticket_id": 1}}  # redacted: no version
    assert live_plan([viewer_event], shown, None, gap=False).patch_ids == (1,)


def test_queue_order_filters_scope_and_actions(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    low = open_ticket(any_runtime, world, priority=TicketPriority.P4, now=T0)
    urgent = open_ticket(any_runtime, world, priority=TicketPriority.P1, site="S2", now=T0 + timedelta(minutes=5))
    newer_low = open_ticket(any_runtime, world, priority=TicketPriority.P4, now=T0 + timedelta(minutes=9))
    system = open_ticket(any_runtime, world, site=None, person=None, priority=TicketPriority.P3, now=T0)
    boss = principal(any_runtime, world, Role.SUPERVISOR)
    now = T0 + timedelta(minutes=30)
    with any_runtime.read() as session:
        queue = ticket_queue(session, boss, TicketFilters(), now=now)
    assert [r.id for r in queue.rows] == [urgent, system, newer_low, low] and queue.matched == 4
    first = queue.rows[0]
    assert first.sla_state is SlaState.BREACHED and first.sla_target == "acknowledge"  # P1: 15 min
    assert first.site_code == "S2" and first.local(first.created_at).tzname() in ("WET", "WEST")
    assert queue.can_act and queue.any_tickets

    with any_runtime.transaction() as session:
        actions.bulk_acknowledge(session, any_runtime.events, boss, {low: 1, urgent: 1}, now=now)
        actions.resolve(session, any_runtime.events, boss, newer_low, 1, "benign", now=now)
    with any_runtime.read() as session:
        open_only = ticket_queue(session, boss, TicketFilters(states=(TicketState.OPEN,)), now=now)
        mine = ticket_queue(session, boss, TicketFilters(states=(), mine=True), now=now)
        limited = ticket_queue(session, boss, TicketFilters(states=()), limit=2, now=now)
        detail = ticket_detail(session, boss, urgent, now=now)
        resolved = ticket_detail(session, boss, newer_low, now=now)
        rows = ticket_rows(session, boss, TicketFilters(states=(TicketState.OPEN,)), [system, urgent], now=now)
    assert [r.id for r in open_only.rows] == [system]
    assert {r.id for r in mine.rows} == {low, urgent}  # acknowledging took them
    assert len(limited.rows) == 2 and limited.matched == 4
    assert detail is not None and [h.action for h in detail.history] == ["created", "acknowledged"]
    assert detail.history[-1].summary == "bulk" and detail.ticket.acknowledged_at == now
    assert resolved is not None and resolved.ticket.acknowledged_at == now == resolved.ticket.resolved_at
    assert rows.rows[urgent] is None and rows.rows[system] is not None and rows.rows[system].id == system

    # A site-scoped operator sees its site's tickets only (not the tenant-wide one), and cannot act.
    scoped = add_user(any_runtime, world, Role.OPERATOR, "Site Two Op", site="S2")
    with any_runtime.read() as session:
        seen = ticket_queue(session, scoped, TicketFilters(states=()), now=now)
        assert ticket_detail(session, scoped, low, now=now) is None
    assert [r.id for r in seen.rows] == [urgent] and not seen.can_act
    outsider = Principal(tenant_id=make_world(any_runtime).tenant_id, role=Role.ADMIN, name="x", user_id=None)
    with any_runtime.read() as session:
        nothing = ticket_queue(session, outsider, TicketFilters(states=()), now=now)
    assert nothing.rows == () and not nothing.any_tickets


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_wall_displays_see_fraud_tickets_without_the_person(any_runtime: Runtime, role: Role) -> None:
    world = make_world(any_runtime)
    ticket_id = open_ticket(any_runtime, world)
    boss = principal(any_runtime, world, Role.SUPERVISOR)
    with any_runtime.transaction() as session:
        actions.comment(session, any_runtime.events, boss, ticket_id, "Guard 1 admitted it")
    with any_runtime.read() as session:
        detail = ticket_detail(session, principal(any_runtime, world, role), ticket_id)
    assert detail is not None and detail.ticket.redacted and detail.ticket.person_name is None
    assert detail.ticket.title == "Suspected gps spoofing" and detail.comments == ()
    assert not detail.can_act and detail.assignable == ()
