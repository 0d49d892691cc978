"""Delivery across processes, resumption by cursor, late commits and a lost Redis link: two
gunicorn gthread worker processes, real PostgreSQL and Redis, real sockets."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import redis

from backend.config import PROJECT_ROOT
from backend.enums import EventType, Role
from backend.live.listener import CLIENT_NAME_PREFIX
from backend.queues import QueueName
from backend.runtime import Runtime
from tests.factories import World
from tests.live.client import LiveClient
from tests.live.publishing import publish


def _one_client_per_process(connect: Callable[..., LiveClient], cookie: str, tries: int = 24) -> list[LiveClient]:
    """Connections land on whichever worker accepts first: open until both processes answered."""
    by_node: dict[str, LiveClient] = {}
    for _ in range(tries):
        client = connect(cookie)
        assert client.ready is not None
        if client.ready["node"] in by_node:
            client.close()
        else:
            by_node[client.ready["node"]] = client
        if len(by_node) == 2:
            return list(by_node.values())
    raise AssertionError(f"every connection went to the same process ({list(by_node)})")


def _run_rq_worker_burst(runtime: Runtime) -> None:
    """A real worker process (``python -m workers.worker``: an RQ SimpleWorker) in burst mode."""
    env = {**os.environ, "DATABASE_URL": runtime.settings.database_url or "",
           "REDIS_URL": runtime.settings.redis_url or "", "SECRET_KEY": "test-secret-key",
           "NOC_VAR_DIR": str(runtime.settings.var_dir), "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-m", "workers.worker", QueueName.DEFAULT.value, "--burst"],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_events_published_by_an_rq_job_reach_clients_on_both_processes(
        pg_runtime: Runtime, world: World, connect: Callable[..., LiveClient], login: Callable[[str], str]) -> None:
    clients = _one_client_per_process(connect, login(world.users[Role.OPERATOR]))
    queue = pg_runtime.queues[QueueName.DEFAULT]
    jobs = [queue.enqueue("workers.notices.broadcast_notice", world.tenant_id, f"radio channel {n} is down")
            for n in (1, 2)]
    _run_rq_worker_burst(pg_runtime)
    ids = {job.return_value() for job in jobs}
    assert None not in ids
    for client in clients:
        client.wait_for_ids(ids, timeout=5)
        notices = [e["data"]["notice"] for e in client.events if e["id"] in ids]
        assert sorted(notices) == ["radio channel 1 is down", "radio channel 2 is down"]
        assert {e["type"] for e in client.events} == {"system"}


def test_a_client_resuming_with_its_cursor_gets_exactly_what_it_missed_in_order(
        pg_runtime: Runtime, world: World, connect: Callable[..., LiveClient], login: Callable[[str], str]) -> None:
    cookie = login(world.users[Role.OPERATOR])

    # 1. Killed mid-stream: events keep coming while the client is gone; resuming fills the gap.
    first = connect(cookie)
    published: list[int] = []
    publisher = threading.Thread(target=lambda: published.extend(publish(pg_runtime, world.tenant_id, 120)))
    publisher.start()
    first.wait_for(lambda c: len(c.events) >= 30)
    first.kill()
    publisher.join()
    resumed = connect(cookie, last_id=first.cursor)
    assert resumed.ready is not None and resumed.ready["resumed"] is True
    resumed.wait_for_ids(set(published) - set(first.ids()))
    # The replay starts after the cursor, in id order; ids above the cursor the client already
    # had may come again (the protocol: drop ids you have), nothing at or below it does.
    assert all(event["id"] > first.cursor for event in resumed.replayed)
    assert resumed.ids() == sorted(resumed.ids()) and len(set(resumed.ids())) == len(resumed.ids())
    have = set(first.ids())
    assert [i for i in resumed.ids() if i not in have] == [i for i in published if i not in have]

    # 2. Killed at rest, 100 published meanwhile: exactly those 100 come back, in order.
    resumed.kill()
    missed = publish(pg_runtime, world.tenant_id, 100)
    again = connect(cookie, last_id=resumed.cursor)
    new = [event["id"] for event in again.replayed if event["id"] not in set(resumed.ids())]
    assert new == missed
    assert again.ready is not None and again.ready["replayed"] == len(again.replayed)


def test_an_event_committing_late_is_not_skipped_by_the_cursor(
        pg_runtime: Runtime, world: World, connect: Callable[..., LiveClient], login: Callable[[str], str]) -> None:
    cookie = login(world.users[Role.OPERATOR])
    watcher, leaver = connect(cookie), connect(cookie)
    slow = pg_runtime.sessions()
    slow.begin()
    # Its id is taken now; it stays uncommitted while a higher id commits.
    late = pg_runtime.events.publish(slow, EventType.SYSTEM, world.tenant_id, data={"late": True})
    (early,) = publish(pg_runtime, world.tenant_id, 1)  # a higher id, committed first
    assert early > late.id
    leaver.wait_for_ids({early})
    assert leaver.cursor is not None and leaver.cursor < late.id  # the cursor waits for the late id
    leaver.kill()
    slow.commit()
    slow.close()
    watcher.wait_for_ids({early, late.id})  # connected: the late commit arrives live
    back = connect(cookie, last_id=leaver.cursor)
    back.wait_for_ids({late.id})  # resumed: the late commit is replayed, not skipped
    assert back.cursor is not None and back.cursor >= early


def _kill_listener_connections(client: redis.Redis) -> int:
    """Drop every web process's listener link to Redis (only ours: by name and test db)."""
    db = str(client.connection_pool.connection_kwargs.get("db", 0))
    killed = 0
    for info in client.client_list():
        if str(info.get("name", "")).startswith(CLIENT_NAME_PREFIX) and str(info.get("db")) == db:
            killed += client.client_kill_filter(_id=info["id"])
    return killed


def test_a_lost_redis_link_while_publishing_loses_nothing_for_connected_clients(
        pg_runtime: Runtime, world: World, connect: Callable[..., LiveClient], login: Callable[[str], str]) -> None:
    clients = _one_client_per_process(connect, login(world.users[Role.OPERATOR]))
    published: list[int] = []

    def publish_steadily() -> None:
        for _ in range(30):
            published.extend(publish(pg_runtime, world.tenant_id, 10))
            time.sleep(0.02)

    publisher = threading.Thread(target=publish_steadily)
    publisher.start()
    kills = []
    for _ in range(3):
        time.sleep(0.3)
        kills.append(_kill_listener_connections(pg_runtime.redis))
    publisher.join()
    assert all(k >= 2 for k in kills), kills  # both processes' listeners were cut, three times
    for client in clients:
        client.wait_for_ids(set(published), timeout=10)
        assert len(client.ids()) == len(set(client.ids()))  # and nothing came twice
