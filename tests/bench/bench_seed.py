"""Seeding the demo world: 30 days of history for 40 sites and 400 guards, from an empty
database, exactly as ``make run`` does it (``ensure_demo_world``: generate, bulk-write in one
transaction, demo users and tokens).

Figures: seed_history_s (PostgreSQL when BENCH_DATABASE_URL is set, else SQLite),
seed_history_rows, seed_history_rows_per_s, seed_history_generate_s (numpy generation alone),
seed_history_sqlite_s (the embedded SQLite, always)."""
from __future__ import annotations

import time

from backend.runtime import Runtime
from backend.simulator import ensure_demo_world
from backend.simulator.history import generate_history
from backend.simulator.world import WorldParams, build_world
from tests.bench.harness import BenchContext


def _seed(runtime: Runtime) -> tuple[float, int]:
    started = time.perf_counter()
    info = ensure_demo_world(runtime)
    seconds = time.perf_counter() - started
    assert info.seeded
    return seconds, sum(info.rows.values())


def run(ctx: BenchContext) -> dict[str, float | int | str]:
    started = time.perf_counter()
    generate_history(build_world(WorldParams()), time.time())
    figures: dict[str, float | int | str] = {"seed_history_generate_s": round(time.perf_counter() - started, 2)}
    with ctx.fresh_runtime("seed") as runtime:
        seconds, rows = _seed(runtime)
    figures.update(seed_history_s=round(seconds, 2), seed_history_rows=rows,
                   seed_history_rows_per_s=round(rows / seconds))
    if ctx.pg_url:
        with ctx.fresh_runtime("seed_sqlite", sqlite=True) as runtime:
            seconds, _rows = _seed(runtime)
    figures["seed_history_sqlite_s"] = round(seconds, 2)
    return figures
