"""The web app as the benchmarks drive it: one gunicorn process (the live tests' server
helper, ``tests.live.server.gunicorn``) pointed at a bench runtime."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from backend.runtime import Runtime
from tests.live.server import gunicorn

WEB_THREADS = 8  # gthread threads of the one web process


@contextmanager
def web_process(runtime: Runtime) -> Iterator[str]:
    """gunicorn (app:server, the repo's gunicorn.conf.py) in one process; yields its base URL."""
    settings = runtime.settings
    with gunicorn(settings, settings.var_dir / "gunicorn.log", workers=1, threads=WEB_THREADS) as server:
        yield server.url
