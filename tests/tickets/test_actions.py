"""Supervisors' ticket actions on PostgreSQL: state rules, roles, tenant and site scope,
optimistic concurrency (two racing acknowledges: one wins, one conflict, one history row),
history rows, ``ticket_updated`` events in the log and on the Redis stream, and dispositions
that training reads as labels."""
from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from backend.auth.principal import Principal
from backend.enums import Disposition, EventType, Role, TicketState
from backend.events import EVENT_STREAM_KEY
from backend.models import EventLogEntry, Ticket, TicketComment, TicketHistory
from backend.runtime import Runtime
from backend.scoring.labels import event_labels
from backend.tickets import actions
from backend.tickets.actions import (ActionNotAllowed, InvalidTicketAction, TicketConflict, TicketNotFound)
from tests.factories import World
from tests.tickets.builders import add_user, open_ticket, principal


def _ticket(runtime: Runtime, ticket_id: int) -> Ticket:
    with runtime.read() as session:
        return session.get_one(Ticket, ticket_id)


def _history(runtime: Runtime, ticket_id: int) -> list[TicketHistory]:
    with runtime.read() as session:
        return list(session.scalars(sa.select(TicketHistory).where(TicketHistory.ticket_id == ticket_id)
                                    .order_by(TicketHistory.id)))


def _updates(runtime: Runtime, ticket_id: int) -> list[dict[str, Any]]:
    with runtime.read() as session:
        entries = session.scalars(sa.select(EventLogEntry).where(EventLogEntry.type == EventType.TICKET_UPDATED)
                                  .order_by(EventLogEntry.id))
        return [e.data for e in entries if e.data.get("ticket_id") == ticket_id]


def _act(runtime: Runtime, action: Any, who: Principal, *args: Any, **kwargs: Any) -> Any:
    with runtime.transaction() as session:
        return action(session, runtime.events, who, *args, **kwargs)


def test_acknowledge_takes_the_ticket_writes_history_and_publishes_after_commit(pg_runtime: Runtime,
                                                                               world: World) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    boss = principal(pg_runtime, world, Role.SUPERVISOR)
    stream_before = pg_runtime.redis.xrevrange(EVENT_STREAM_KEY, count=1)
    last = stream_before[0][0] if stream_before else b"0"

    detail = _act(pg_runtime, actions.acknowledge, boss, ticket_id, 1)

    assert detail.ticket.state is TicketState.ACKNOWLEDGED and detail.ticket.version == 2
    assert detail.ticket.assignee_id == boss.user_id and detail.ticket.assignee_name == boss.name
    ticket = _ticket(pg_runtime, ticket_id)
    assert ticket.state is TicketState.ACKNOWLEDGED and ticket.acknowledged_at is not None and ticket.version == 2
    history = _history(pg_runtime, ticket_id)
    assert [h.action for h in history] == ["created", "acknowledged"]
    assert history[-1].actor_user_id == boss.user_id and history[-1].from_state is TicketState.OPEN \
        and history[-1].to_state is TicketState.ACKNOWLEDGED
    assert [h.actor for h in detail.history] == [None, boss.name]
    [event] = _updates(pg_runtime, ticket_id)
    assert event["change"] == "acknowledged" and event["state"] == "acknowledged" and event["version"] == 2
    assert event["actor_user_id"] == boss.user_id and event["assignee_user_id"] == boss.user_id
    live = [json.loads(f[b"event"]) for _, f in pg_runtime.redis.xrange(EVENT_STREAM_KEY, min=f"({last.decode()}")]
    assert any(e["type"] == "ticket_updated" and e["data"]["ticket_id"] == ticket_id for e in live)

    # Acknowledging again is refused with a clear message; nothing more is written.
    with pytest.raises(InvalidTicketAction, match="is acknowledged"):
        _act(pg_runtime, actions.acknowledge, boss, ticket_id, 2)
    assert len(_history(pg_runtime, ticket_id)) == 2 and len(_updates(pg_runtime, ticket_id)) == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.SECURITY_MANAGER])
def test_roles_below_supervisor_are_refused_and_nothing_is_written(pg_runtime: Runtime, world: World,
                                                                  role: Role) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    who = principal(pg_runtime, world, role)
    for action, args in ((actions.acknowledge, (ticket_id, 1)), (actions.assign, (ticket_id, 1, who.user_id)),
                         (actions.comment, (ticket_id, "hello")),
                         (actions.resolve, (ticket_id, 1, "benign", "ok")),
                         (actions.bulk_acknowledge, ({ticket_id: 1},))):
        with pytest.raises(ActionNotAllowed, match="Only supervisors"):
            _act(pg_runtime, action, who, *args)
    assert _ticket(pg_runtime, ticket_id).version == 1 and len(_history(pg_runtime, ticket_id)) == 1


def test_another_tenant_or_site_cannot_reach_the_ticket(pg_runtime: Runtime, world: World,
                                                        other_world: World) -> None:
    ticket_id = open_ticket(pg_runtime, world, site="S1")
    outsider = principal(pg_runtime, other_world, Role.ADMIN)
    for action, args in ((actions.acknowledge, (ticket_id, 1)), (actions.comment, (ticket_id, "hi")),
                         (actions.resolve, (ticket_id, 1, "benign"))):
        with pytest.raises(TicketNotFound):
            _act(pg_runtime, action, outsider, *args)
    result = _act(pg_runtime, actions.bulk_acknowledge, outsider, {ticket_id: 1})
    assert result.acknowledged == () and result.missing == (ticket_id,)
    # A supervisor scoped to site S2 does not reach S1's ticket either.
    scoped = add_user(pg_runtime, world, Role.SUPERVISOR, "Scoped Sup", site="S2")
    with pytest.raises(TicketNotFound):
        _act(pg_runtime, actions.acknowledge, scoped, ticket_id, 1)
    # Assigning to a user of another tenant is refused.
    boss = principal(pg_runtime, world, Role.SUPERVISOR)
    with pytest.raises(InvalidTicketAction, match="cannot take this ticket") as refused:
        _act(pg_runtime, actions.assign, boss, ticket_id, 1, outsider.user_id)
    assert refused.value.field == "assignee"
    assert _ticket(pg_runtime, ticket_id).version == 1 and _updates(pg_runtime, ticket_id) == []


def test_a_stale_version_is_a_conflict_carrying_the_fresh_ticket(pg_runtime: Runtime, world: World) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    first = add_user(pg_runtime, world, Role.SUPERVISOR, "Ana Lopes")
    second = principal(pg_runtime, world, Role.SUPERVISOR)
    _act(pg_runtime, actions.assign, first, ticket_id, 1, first.user_id)
    with pytest.raises(TicketConflict) as conflict:
        _act(pg_runtime, actions.resolve, second, ticket_id, 1, "benign", "looked fine")
    assert str(conflict.value) == f"Ticket #{ticket_id} was changed by Ana Lopes — showing the current state."
    fresh = conflict.value.fresh
    assert fresh.ticket.version == 2 and fresh.ticket.assignee_name == "Ana Lopes"
    assert fresh.ticket.state is TicketState.OPEN
    assert [h.action for h in _history(pg_runtime, ticket_id)] == ["created", "assigned"]


def test_two_supervisors_acknowledging_at_once_one_wins_one_conflicts(pg_runtime: Runtime, world: World) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    supervisors = [principal(pg_runtime, world, Role.SUPERVISOR), add_user(pg_runtime, world, Role.SUPERVISOR, "B")]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def race(who: Principal) -> None:
        try:
            with pg_runtime.transaction() as session:
                barrier.wait()
                outcomes.append(actions.acknowledge(session, pg_runtime.events, who, ticket_id, 1))
        except TicketConflict as conflict:
            outcomes.append(conflict)

    threads = [threading.Thread(target=race, args=(who,)) for who in supervisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 2, outcomes
    conflicts = [o for o in outcomes if isinstance(o, TicketConflict)]
    wins = [o for o in outcomes if not isinstance(o, TicketConflict)]
    assert len(conflicts) == 1 and len(wins) == 1
    assert conflicts[0].fresh.ticket.state is TicketState.ACKNOWLEDGED and conflicts[0].fresh.ticket.version == 2
    assert [h.action for h in _history(pg_runtime, ticket_id)] == ["created", "acknowledged"]
    assert len(_updates(pg_runtime, ticket_id)) == 1
    assert _ticket(pg_runtime, ticket_id).assignee_user_id == wins[0].ticket.assignee_id


def test_assign_comment_and_validation(pg_runtime: Runtime, world: World) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    boss = principal(pg_runtime, world, Role.SUPERVISOR)
    operator = principal(pg_runtime, world, Role.OPERATOR)
    viewer = principal(pg_runtime, world, Role.VIEWER)
    assert viewer.user_id not in {u.id for u in _act(pg_runtime, actions.acknowledge, boss, ticket_id, 1).assignable}

    detail = _act(pg_runtime, actions.assign, boss, ticket_id, 2, operator.user_id)
    assert detail.ticket.assignee_name == operator.name and detail.ticket.state is TicketState.ACKNOWLEDGED
    assert detail.history[-1].summary == f"to {operator.name}"
    with pytest.raises(InvalidTicketAction, match="cannot take"):
        _act(pg_runtime, actions.assign, boss, ticket_id, 3, viewer.user_id)  # wall displays work no tickets
    with pytest.raises(InvalidTicketAction, match="version"):
        _act(pg_runtime, actions.assign, boss, ticket_id, "3", None)

    for bad, message in (("   ", "Write a comment"), ("x" * 2001, "at most 2000"), (42, "must be text")):
        with pytest.raises(InvalidTicketAction, match=message):
            _act(pg_runtime, actions.comment, boss, ticket_id, bad)
    detail = _act(pg_runtime, actions.comment, boss, ticket_id, "  Called the guard; on his way.  ")
    assert [c.body for c in detail.comments] == ["Called the guard; on his way."]
    assert detail.comments[0].author == boss.name and detail.ticket.version == 4
    assert _updates(pg_runtime, ticket_id)[-1]["change"] == "commented"
    with pg_runtime.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TicketComment)
                              .where(TicketComment.ticket_id == ticket_id)) == 1


def test_resolve_writes_the_disposition_training_reads_and_needs_info_keeps_it_open(pg_runtime: Runtime,
                                                                                   world: World) -> None:
    boss = principal(pg_runtime, world, Role.SUPERVISOR)
    fraud = open_ticket(pg_runtime, world, details={"attendance_event_id": 9_000_001})
    doubtful = open_ticket(pg_runtime, world, details={"attendance_event_id": 9_000_002})

    with pytest.raises(InvalidTicketAction, match="Choose a disposition"):
        _act(pg_runtime, actions.resolve, boss, fraud, 1, "guilty")
    with pytest.raises(InvalidTicketAction, match="Write a note"):
        _act(pg_runtime, actions.resolve, boss, doubtful, 1, Disposition.NEEDS_INFO, "")

    detail = _act(pg_runtime, actions.resolve, boss, fraud, 1, "confirmed_fraud", "Two punches, one phone.")
    assert detail.ticket.state is TicketState.RESOLVED and detail.ticket.disposition is Disposition.CONFIRMED_FRAUD
    assert detail.history[-1].summary == "confirmed fraud · “Two punches, one phone.”"
    resolved = _ticket(pg_runtime, fraud)
    assert resolved.resolved_at is not None and resolved.acknowledged_at is not None

    waiting = _act(pg_runtime, actions.resolve, boss, doubtful, 1, "needs_info", "Ask the site for CCTV.")
    assert waiting.ticket.state is TicketState.IN_PROGRESS and waiting.ticket.disposition is Disposition.NEEDS_INFO
    assert _ticket(pg_runtime, doubtful).resolved_at is None
    with pg_runtime.read() as session:
        labels = event_labels(session, world.tenant_id)
    assert labels.positives == {9_000_001: "gps_spoofing"} and labels.negatives == set()

    _act(pg_runtime, actions.resolve, boss, doubtful, 2, "false_positive")
    with pg_runtime.read() as session:
        labels = event_labels(session, world.tenant_id)
    assert labels.negatives == {9_000_002}
    with pytest.raises(InvalidTicketAction, match="is resolved"):
        _act(pg_runtime, actions.resolve, boss, doubtful, 3, "benign")
    # Notes after resolving are welcome.
    assert _act(pg_runtime, actions.comment, boss, doubtful, "CCTV confirmed it.").ticket.version == 4


def test_bulk_acknowledge_reports_what_it_skipped(pg_runtime: Runtime, world: World, other_world: World) -> None:
    boss = principal(pg_runtime, world, Role.SUPERVISOR)
    ok, stale, done = (open_ticket(pg_runtime, world) for _ in range(3))
    foreign = open_ticket(pg_runtime, other_world)
    _act(pg_runtime, actions.comment, boss, stale, "bumps the version")
    _act(pg_runtime, actions.acknowledge, boss, done, 1)

    result = _act(pg_runtime, actions.bulk_acknowledge, boss, {ok: 1, stale: 1, done: 2, foreign: 1})

    assert result.acknowledged == (ok,) and result.conflicts == (stale,) and result.not_open == (done,)
    assert result.missing == (foreign,)
    assert _ticket(pg_runtime, ok).state is TicketState.ACKNOWLEDGED
    assert _ticket(pg_runtime, stale).state is TicketState.OPEN
    assert _history(pg_runtime, ok)[-1].data == {"bulk": True}
    assert _updates(pg_runtime, ok)[-1]["change"] == "acknowledged"
    with pytest.raises(InvalidTicketAction, match="Select the tickets"):
        _act(pg_runtime, actions.bulk_acknowledge, boss, {})
    with pytest.raises(InvalidTicketAction, match="numbers"):
        _act(pg_runtime, actions.bulk_acknowledge, boss, {"1": 1})
