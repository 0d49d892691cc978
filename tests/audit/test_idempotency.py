"""Idempotency and concurrency: re-running an audit for the same window creates nothing new,
and two audits racing on PostgreSQL store every finding, incident, event and ticket once."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from backend.audit import AuditResult, run_audit
from backend.enums import EventType
from backend.models import AuditFinding, EventLogEntry, Ticket, TicketHistory
from backend.runtime import Runtime
from backend.simulator import WorldParams
from tests.audit.conftest import END, WINDOW_END, Seeded, counts, seed

SMALL = WorldParams(seed=11, n_sites=4, n_guards=40, days=4, future_days=1)
LOOKBACK = 2 * 86400.0    # two days of deadlines: many findings; the last 24 h open tickets


Race = tuple[Seeded, list[AuditResult], dict[str, int]]


@pytest.fixture(scope="module")
def racing(pg_runtime: Runtime) -> Race:
    """Two audits of the same window started together on two threads (after the baselines
    exist), and the row counts before them."""
    world = seed(pg_runtime, SMALL, "aud-race")
    run_audit(pg_runtime, world.tenant_id, WINDOW_END.timestamp() - 3600, now=END)   # bootstrap out of the race
    before = counts(pg_runtime, world.tenant_id)
    barrier = threading.Barrier(2)
    results: list[AuditResult] = []
    errors: list[BaseException] = []

    def audit() -> None:
        try:
            barrier.wait()
            results.append(run_audit(pg_runtime, world.tenant_id, WINDOW_END, lookback_s=LOOKBACK, now=END))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            errors.append(exc)

    threads = [threading.Thread(target=audit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return world, results, before


def test_two_concurrent_audits_store_everything_once(racing: Race) -> None:
    world, results, before = racing
    runtime, tenant_id = world.runtime, world.tenant_id
    stored = counts(runtime, tenant_id)
    assert len(results) == 2 and stored["findings"] - before["findings"] > 20
    # Each new finding and incident was new to exactly one of the two audits.
    assert sum(r.findings for r in results) == stored["findings"] - before["findings"]
    assert sum(r.incidents for r in results) == stored["incidents"] - before["incidents"]
    with runtime.read() as session:
        events = Counter(session.scalars(sa.select(EventLogEntry.type).where(EventLogEntry.tenant_id == tenant_id)))
        keys = Counter(session.scalars(sa.select(AuditFinding.dedup_key).where(AuditFinding.tenant_id == tenant_id)))
        tickets = list(session.scalars(sa.select(Ticket).where(Ticket.tenant_id == tenant_id)))
        history = session.scalar(sa.select(sa.func.count()).select_from(TicketHistory).where(
            TicketHistory.tenant_id == tenant_id))   # one row per occurrence
    assert max(keys.values()) == 1
    assert events[EventType.FINDING_CREATED] == stored["findings"]
    assert events[EventType.INCIDENT_CORRELATED] == stored["incidents"]
    # Tickets: every escalation filed once, by whichever audit stored the finding; open tickets unique per key.
    filed = sum(r.tickets for r in results)
    assert filed > 0 and stored["occurrences"] - before["occurrences"] == filed
    assert sum(t.occurrences for t in tickets) == history
    assert max(Counter(t.dedup_key for t in tickets).values()) == 1
    assert events[EventType.TICKET_CREATED] == len(tickets)


def test_rerunning_the_same_window_creates_nothing_new(racing: Race) -> None:
    world, _, _ = racing
    before = counts(world.runtime, world.tenant_id)
    again = run_audit(world.runtime, world.tenant_id, WINDOW_END, lookback_s=LOOKBACK, now=END)
    assert (again.findings, again.incidents, again.tickets, again.baselines_observed) == (0, 0, 0, 0)
    # The ordinary cycle of that window (shorter lookback) and a window end inside it are the same cycle.
    assert run_audit(world.runtime, world.tenant_id, WINDOW_END, now=END).findings == 0
    assert run_audit(world.runtime, world.tenant_id, WINDOW_END.timestamp() + 59, now=END).findings == 0
    assert counts(world.runtime, world.tenant_id) == before


def test_the_next_cycle_observes_each_baseline_once(racing: Race) -> None:
    world, _, _ = racing
    before = counts(world.runtime, world.tenant_id)["baseline_samples"]
    nxt = run_audit(world.runtime, world.tenant_id, WINDOW_END.timestamp() + 300, now=END)
    assert nxt.baselines_observed == 5 * SMALL.n_sites
    learned = counts(world.runtime, world.tenant_id)["baseline_samples"] - before
    assert 0 <= learned <= nxt.baselines_observed   # flagged windows are observed, not learned
