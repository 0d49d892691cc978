"""The demo roster is kept ahead (backend.simulator.seed.extend_demo_roster): a world seeded
weeks ago gets the shifts it ran out of, idempotently and race-free, from the launcher and a
daily cron job, and a live feed that runs for days picks them up without a restart.

"Now" is moved 20 days on by passing it explicitly (never by sleeping). Every test seeds a
small world under a slug of its own: the PostgreSQL schema and the embedded SQLite file are
shared with other modules, and ``demo`` may already exist there."""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq.cron import CronScheduler

import workers.demo
from backend.config import PROJECT_ROOT, Settings
from backend.enums import InputType
from backend.migrate import upgrade_database
from backend.models import Person, Shift
from backend.runtime import Runtime
from backend.simulator import WorldParams, ensure_demo_world, extend_demo_roster
from backend.simulator.live import RELOAD_EVERY_S, RELOAD_IDLE_S, WorldReloader
from backend.simulator.live_sim import LiveSimulator
from backend.simulator.live_world import load_live_world
from backend.simulator.schedule import build_roster
from backend.simulator.seed import roster_horizon, seed_world
from backend.simulator.world import build_world
from tests.conftest import TEST_VAR

TINY = WorldParams(seed=5, n_sites=4, n_guards=40, days=3, future_days=3)
END = datetime.now(UTC).replace(second=0, microsecond=0)   # where the seeded history ends
LATER = END + timedelta(days=20)                             # the seeded roster ran out days ago


@pytest.fixture
def seeded(any_runtime: Runtime) -> tuple[Runtime, WorldParams, int]:
    """A tiny world, history ending at END, roster to END + 3 days, under a slug of its own."""
    params = replace(TINY, slug=f"roster-{uuid.uuid4().hex[:8]}")
    with any_runtime.transaction() as session:
        tenant_id, _rows, _wall = seed_world(session, params, end=END)
    return any_runtime, params, tenant_id


def expected_codes(params: WorldParams, now: datetime) -> set[str]:
    """The rota's shifts starting from ``now`` to the horizon, straight from the generator."""
    roster = build_roster(build_world(params), now.timestamp(),
                          roster_horizon(now, params.future_days).timestamp())
    return set(roster.code)


def stored_shifts(runtime: Runtime, tenant_id: int, starting_from: datetime,
                  until: datetime = datetime.max.replace(tzinfo=UTC)) -> list[Any]:
    with runtime.read() as s:
        return s.execute(sa.select(Shift.code, Shift.starts_at, Shift.ends_at, Shift.site_id, Person.home_site_id)
                         .join(Person, Person.id == Shift.person_id)
                         .where(Shift.tenant_id == tenant_id, Shift.starts_at >= starting_from,
                                Shift.starts_at < until)).all()


def shift_counts(runtime: Runtime, tenant_id: int) -> tuple[int, int]:
    """(rows, distinct codes) of the tenant's shifts."""
    with runtime.read() as s:
        return tuple(s.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(Shift.code)))
                               .where(Shift.tenant_id == tenant_id)).one())


# -- extend_demo_roster ---------------------------------------------------------------------------


def test_twenty_days_on_the_missing_shifts_are_added_once(seeded: tuple[Runtime, WorldParams, int]) -> None:
    runtime, params, tenant_id = seeded
    assert not load_live_world(runtime, params.slug, now=LATER).shifts    # the demo would go quiet
    rows_before, _ = shift_counts(runtime, tenant_id)

    added = extend_demo_roster(runtime, params, now=LATER)

    expected = expected_codes(params, LATER)
    ahead = stored_shifts(runtime, tenant_id, LATER)
    assert added == len(expected) > 0
    assert {row.code for row in ahead} == expected
    horizon = roster_horizon(LATER, params.future_days)
    assert max(row.starts_at for row in ahead) >= horizon - timedelta(days=1)    # days ahead, not hours
    assert all(row.starts_at < horizon and row.ends_at > row.starts_at for row in ahead)
    assert all(row.site_id == row.home_site_id for row in ahead)               # the rota's own guards
    # The days the demo was off are not backfilled (they would read as no-shows).
    assert not stored_shifts(runtime, tenant_id, END + timedelta(days=params.future_days), until=LATER)

    assert extend_demo_roster(runtime, params, now=LATER) == 0                 # idempotent
    # Later the same UTC day: the same horizon. (Not LATER + 5 h: run after 19:00 UTC, that is tomorrow.)
    assert extend_demo_roster(runtime, params, now=LATER.replace(hour=23, minute=59)) == 0
    assert shift_counts(runtime, tenant_id) == (rows_before + added, rows_before + added)


def test_the_next_day_adds_one_more_day(seeded: tuple[Runtime, WorldParams, int]) -> None:
    runtime, params, tenant_id = seeded
    first = extend_demo_roster(runtime, params, now=LATER)
    nextday = LATER + timedelta(days=1)
    added = extend_demo_roster(runtime, params, now=nextday)
    assert 0 < added < first
    assert {row.code for row in stored_shifts(runtime, tenant_id, nextday)} == expected_codes(params, nextday)
    rows, distinct = shift_counts(runtime, tenant_id)
    assert rows == distinct


def test_concurrent_extensions_store_each_shift_once(pg_runtime: Runtime) -> None:
    params = replace(TINY, slug=f"roster-{uuid.uuid4().hex[:8]}")
    with pg_runtime.transaction() as session:
        tenant_id, _rows, _wall = seed_world(session, params, end=END)
    rows_before, _ = shift_counts(pg_runtime, tenant_id)
    start = threading.Barrier(2)
    added: list[int] = []
    errors: list[Exception] = []

    def extend() -> None:
        start.wait()
        try:
            added.append(extend_demo_roster(pg_runtime, params, now=LATER))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=extend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(added) == 2
    expected = expected_codes(params, LATER)
    assert sum(added) == len(expected) > 0                                      # one of them stored each
    assert {row.code for row in stored_shifts(pg_runtime, tenant_id, LATER)} == expected
    assert shift_counts(pg_runtime, tenant_id) == (rows_before + len(expected),) * 2


def test_a_world_seeded_with_other_settings_is_left_alone(seeded: tuple[Runtime, WorldParams, int],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    runtime, params, tenant_id = seeded
    before = shift_counts(runtime, tenant_id)
    for other in (replace(params, seed=params.seed + 1), replace(params, n_guards=params.n_guards + 8)):
        with caplog.at_level(logging.WARNING, logger="backend.simulator.seed"):
            assert extend_demo_roster(runtime, other, now=LATER) == 0
        assert "seeded with other settings" in caplog.text
    assert shift_counts(runtime, tenant_id) == before


def test_without_the_tenant_nothing_happens(any_runtime: Runtime) -> None:
    assert extend_demo_roster(any_runtime, replace(TINY, slug=f"absent-{uuid.uuid4().hex[:8]}"), now=LATER) == 0


def test_ensure_demo_world_extends_an_existing_world(seeded: tuple[Runtime, WorldParams, int]) -> None:
    runtime, params, tenant_id = seeded
    info = ensure_demo_world(runtime, params, end=LATER, live_token=False)
    assert not info.seeded and info.tenant_id == tenant_id
    assert {row.code for row in stored_shifts(runtime, tenant_id, LATER)} == expected_codes(params, LATER)


# -- the live feed picks the new shifts up ----------------------------------------------------------


def test_the_live_feed_reloads_and_plays_the_new_shifts(seeded: tuple[Runtime, WorldParams, int]) -> None:
    runtime, params, _tenant_id = seeded
    now = LATER.timestamp()
    simulator = LiveSimulator(load_live_world(runtime, params.slug, now=LATER), seed=2, rate=0.5, now=now,
                              fraud_rate=0.0)
    reloader = WorldReloader(runtime, now, slug=params.slug)
    assert simulator.shifts_ahead == 0
    assert not reloader.due(simulator, now + RELOAD_IDLE_S - 1)
    assert reloader.due(simulator, now + RELOAD_IDLE_S)          # nothing ahead: looks again soon

    extend_demo_roster(runtime, params, now=LATER)               # the daily cron, meanwhile
    world = load_live_world(runtime, params.slug, now=LATER)
    assert world.shifts and all(s.starts >= now for s in world.shifts)   # the loader sees shifts ahead

    tick = now + RELOAD_IDLE_S
    assert reloader.reload(simulator, tick) == len(world.shifts)
    assert simulator.shifts_ahead == len(world.shifts)
    assert reloader.reload(simulator, tick + 1) == 0             # nothing is queued twice
    last = tick + 1                                              # shifts ahead: every 30 min is enough
    assert not reloader.due(simulator, last + RELOAD_EVERY_S - 1) and reloader.due(simulator, last + RELOAD_EVERY_S)

    first = min(s.starts for s in world.shifts)
    payloads = [p for t in range(int(tick), int(first + 3600), 60) for p in simulator.step(float(t))]
    check_ins = [p for p in payloads if p["type"] == InputType.CHECK_IN.value]
    persons = {p["person"] for p in check_ins}
    assert persons <= {s.person for s in world.shifts}                       # rostered, no fraud planted
    assert {s.person for s in world.shifts if s.starts == first} <= persons   # the first shift is played


# -- the daily cron job ----------------------------------------------------------------------------


def test_the_daily_job_is_registered_on_the_default_queue() -> None:
    scheduler = CronScheduler(connection=redis.Redis())      # never connects: only reads the table
    scheduler.load_config_from_file(str(PROJECT_ROOT / "workers" / "cron_table.py"))
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    job = jobs["workers.demo.extend_demo_roster_daily"]
    assert job.queue_name == "default" and job.cron and not job.args and not job.kwargs


@pytest.fixture
def demo_sqlite() -> Iterator[Runtime]:
    """An embedded SQLite file of this test's own whose settings describe a tiny demo world:
    the job extends tenant ``demo`` as the settings describe it."""
    var_dir = TEST_VAR / "demo_roster"
    var_dir.mkdir(parents=True, exist_ok=True)
    for leftover in var_dir.glob("noc.db*"):
        leftover.unlink()
    runtime = Runtime(Settings(var_dir=var_dir, secret_key="test-secret-key", demo_seed=TINY.seed,
                               demo_sites=TINY.n_sites, demo_guards=TINY.n_guards, demo_days=TINY.days))
    upgrade_database(runtime.engine)
    yield runtime
    runtime.close()


def test_the_daily_job_extends_the_demo_tenant_if_there_is_one(demo_sqlite: Runtime,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers.demo, "get_runtime", lambda: demo_sqlite)
    assert workers.demo.extend_demo_roster_daily() == 0          # no demo tenant: nothing to do
    # Seeded 20 days ago (14 days of roster then): today it has nothing ahead.
    info = ensure_demo_world(demo_sqlite, end=END - timedelta(days=20), live_token=False)
    assert info.seeded and not load_live_world(demo_sqlite).shifts

    assert workers.demo.extend_demo_roster_daily() > 0
    world = load_live_world(demo_sqlite)
    assert max(s.starts for s in world.shifts) > (datetime.now(UTC) + timedelta(days=12)).timestamp()
    assert workers.demo.extend_demo_roster_daily() == 0          # idempotent within the day
    rows, distinct = shift_counts(demo_sqlite, info.tenant_id)
    assert rows == distinct


def test_extending_takes_a_few_statements_however_long_the_roster(seeded: tuple[Runtime, WorldParams, int]) -> None:
    runtime, params, _tenant_id = seeded
    statements: list[str] = []
    this_thread = threading.get_ident()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == this_thread:   # not a live hub's poll of the event log on the same engine
            statements.append(statement)

    sa.event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        short = extend_demo_roster(runtime, params, now=LATER)
        n_short, statements[:] = len(statements), []
        long = extend_demo_roster(runtime, replace(params, future_days=40), now=LATER)
        n_long = len(statements)
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", record)
    print(f"\n{runtime.engine.dialect.name}: {short} shifts in {n_short} statements, {long} in {n_long}")
    assert long > 10 * short > 0
    # The tenant, sites, guards, the insert (one multi-row statement), plus SQLite's explicit BEGINs.
    assert n_long == n_short <= 6, statements
