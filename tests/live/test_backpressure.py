"""A client that never reads does not slow the others: its outbox overflows (bounded), it is
told to resync and its stuck socket is cut, while the readers on the same process keep up."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from backend.enums import EventType, Role
from backend.runtime import Runtime
from tests.factories import World
from tests.live.client import Closed, LiveClient

BURST = 800
PAYLOAD = "x" * 1000  # ~0.8 MB in all: more than a socket's send buffer plus the outbox (200 in tests)


def _publish_burst(runtime: Runtime, tenant_id: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, BURST, 50):  # batches, as ingestion publishes
        with runtime.transaction() as session:
            ids += [e["id"] for e in runtime.events.publish_many(session, [
                {"tenant_id": tenant_id, "type": EventType.SYSTEM, "data": {"n": n, "pad": PAYLOAD}}
                for n in range(start, start + 50)])]
    return ids


class ConcurrentReaders:
    """Each reader reads on its own thread from the start, as separate browsers would."""

    def __init__(self, readers: list[LiveClient]) -> None:
        self._expected: set[int] | None = None
        self._ready = threading.Event()
        self.done: list[float] = []
        self.errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._read, args=(reader,)) for reader in readers]
        for thread in self._threads:
            thread.start()

    def expect(self, ids: set[int]) -> list[float]:
        """Wait until every reader had ``ids``; when each got there (monotonic)."""
        self._expected = ids
        self._ready.set()
        for thread in self._threads:
            thread.join()
        assert not self.errors, self.errors
        return self.done

    def _read(self, reader: LiveClient) -> None:
        try:
            while not self._ready.is_set():
                reader.recv(0.05)
            assert self._expected is not None
            reader.wait_for_ids(self._expected, timeout=15)
            self.done.append(time.monotonic())
            assert not any(m["type"] == "resync" for m in reader.messages), "a reader was resynced"
        except BaseException as exc:  # noqa: BLE001 - reported by expect()
            self.errors.append(exc)


def test_a_client_that_never_reads_does_not_slow_the_others(
        pg_runtime: Runtime, world: World, connect: Callable[..., LiveClient], login: Callable[[str], str]) -> None:
    cookie = login(world.users[Role.OPERATOR])
    stuck = connect(cookie, background=False, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    assert stuck.ready is not None
    readers = [connect(cookie) for _ in range(3)]
    while not any(r.ready and r.ready["node"] == stuck.ready["node"] for r in readers):  # share its process
        readers.append(connect(cookie))
        assert len(readers) < 16, "no reader landed on the stuck client's process"

    reading = ConcurrentReaders(readers)
    started = time.monotonic()
    ids = _publish_burst(pg_runtime, world.tenant_id)
    published = time.monotonic()
    done = reading.expect(set(ids))
    # Everyone who reads had everything within a second of the publisher finishing.
    assert max(done) - published < 1.0, (published - started, [d - published for d in done])

    # The stuck client: its backlog was dropped and it is told to resync (or, stuck in one send
    # for longer than the send timeout, its socket was cut). Either way, it got far less.
    outcome = "cut"
    try:
        stuck.wait_for(lambda c: c.messages[-1]["type"] == "resync", timeout=10)
        outcome = stuck.messages[-1]["reason"]
    except Closed:
        pass
    assert outcome in ("overflow", "cut")
    assert len(stuck.events) < BURST
