"""The web server for the live-channel tests: gunicorn gthread, two worker processes, on the
session's PostgreSQL and Redis (tests/conftest.py), with the live timings shortened."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.runtime import Runtime
from tests.conftest import TEST_VAR
from tests.factories import World, make_world
from tests.live.client import LiveClient, cookie_header, login_session
from tests.live.server import WebServer, gunicorn

# Short enough for tests to see each behaviour in a second or two; the defaults are for production.
LIVE_TEST_ENV = {
    "NOC_LIVE_REVALIDATE_S": "1",      # a deactivated user's socket closes within ~1 s
    "NOC_LIVE_OUTBOX_MAX": "200",      # a client that never reads overflows quickly
    "NOC_LIVE_SEND_TIMEOUT_S": "3",    # ... and its stuck socket is cut after 3 s
    "NOC_LIVE_HEARTBEAT_S": "2",       # idle heartbeats and pings every 2 s (a client may idle 4 s)
}


@pytest.fixture(scope="session")
def live_server(pg_runtime: Runtime) -> Iterator[WebServer]:
    with gunicorn(pg_runtime.settings, TEST_VAR / "live" / "gunicorn.log", workers=2, threads=48,
                  extra_env=LIVE_TEST_ENV) as server:
        yield server
    # Tests pass on what clients see; a server that hit an unexpected error on the way fails too.
    assert "Traceback" not in server.log_tail(1_000_000), server.log_tail()


@pytest.fixture(scope="module")
def world(pg_runtime: Runtime) -> World:
    """One tenant per module here (not per test): these tests publish and read, and each reads
    only what it published after connecting. A world costs ~0.7 s, mostly password hashing.
    A module whose tests change users or tokens overrides this with a fresh world per test."""
    return make_world(pg_runtime)


@pytest.fixture
def connect(live_server: WebServer) -> Iterator[Callable[..., LiveClient]]:
    """Open clients on the live server; all are closed after the test."""
    opened: list[LiveClient] = []

    def connect(cookie: str | None = None, **kwargs: Any) -> LiveClient:
        client = LiveClient(live_server.ws_url, cookie=cookie, **kwargs)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


@pytest.fixture
def login(live_server: WebServer) -> Callable[[str], str]:
    """E-mail -> the Cookie header of a fresh signed-in session."""
    return lambda email: cookie_header(login_session(live_server.url, email))
