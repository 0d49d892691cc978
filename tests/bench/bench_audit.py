"""Site audits at scale: one audit cycle over 200 sites (2000 guards) with 30 days of history.

The history is the demo world's own (``WorldParams(n_sites=200, n_guards=2000, days=30)``:
~2.9 M rows of check-ins, pings, scans, phone activity, alerts, with planted misconduct),
seeded by the simulator into PostgreSQL (or the embedded SQLite without BENCH_DATABASE_URL),
then ANALYZEd as autovacuum would. The baselines are bootstrapped by the first cycle, six
hours before the end of the history; then 36 consecutive 5-minute cycles (three hours of
history, as ``rq cron`` would run them) are timed, each doing everything a live cycle does:
signals vs baselines (and their incremental update), shift/presence/tour checks, correlation
with the alerts, escalation to tickets.

Figures: audit_cycle_200_sites_s (median cycle), audit_cycle_p95_s, audit_per_site_ms,
audit_baseline_bootstrap_s (first cycle: 200 sites x 5 metrics x 168 hours learned from 30
days), audit_findings_per_cycle, audit_seed_s, audit_history_rows."""
from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from backend.audit import AuditRules, run_audit
from backend.simulator import WorldParams
from backend.simulator.seed import seed_world
from tests.bench.harness import BenchContext, percentile

PARAMS = WorldParams(seed=7, n_sites=200, n_guards=2000, days=30, future_days=1, slug="bench-audit")
END = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)
CYCLES = 36


def run(ctx: BenchContext) -> dict[str, float | int | str]:
    rules = AuditRules()
    step = timedelta(seconds=rules.interval_s)
    first = END - timedelta(hours=6)
    with ctx.fresh_runtime("audit") as runtime:
        started = time.perf_counter()
        with runtime.transaction() as session:
            tenant_id, rows, _wall = seed_world(session, PARAMS, end=END)
        if runtime.engine.dialect.name == "postgresql":
            with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        seeded = time.perf_counter() - started
        bootstrap = run_audit(runtime, tenant_id, first, now=first)
        assert bootstrap.bootstrapped_sites == PARAMS.n_sites
        results = [run_audit(runtime, tenant_id, first + k * step, now=first + k * step)
                   for k in range(1, CYCLES + 1)]
    seconds = [r.seconds for r in results]
    median = statistics.median(seconds)
    return {
        "audit_cycle_200_sites_s": round(median, 3),
        "audit_cycle_p95_s": round(percentile(seconds, 95), 3),
        "audit_cycle_max_s": round(max(seconds), 3),
        "audit_per_site_ms": round(median / PARAMS.n_sites * 1000, 2),
        "audit_baseline_bootstrap_s": round(bootstrap.seconds, 1),
        "audit_findings_per_cycle": round(sum(r.findings for r in results) / len(results), 1),
        "audit_tickets_per_cycle": round(sum(r.tickets for r in results) / len(results), 1),
        "audit_seed_s": round(seeded, 1),
        "audit_history_rows": sum(rows.values()),
    }
