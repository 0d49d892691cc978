"""Benchmarks (``make bench``): each ``bench_*.py`` module has ``run(ctx) -> dict`` of figures."""
