"""Live channel latency and throughput: events published through the product's event module
(log row + stream after commit) to clients of ``/ws`` on ONE web process (gunicorn gthread,
the repo's gunicorn.conf.py), on loopback.

Clients run in a separate process: one selector loop over raw sockets with wsproto (no thread
per client, no GIL shared with the publisher or the server). Latency = client receive time
minus the time stamped into the event just before its publishing transaction began.

Figures:
- ws_p50_ms_1_client, ws_p99_ms_1_client: 1 client at 20 events/s; publish_call_p50_ms: the
  publishing transaction (log insert + commit + XADD) alone, which those latencies include
- ws_p50_ms_50_clients, ws_p99_ms_50_clients: 50 clients at 20 events/s
- ws_p50_ms_200_clients, ws_p99_ms_200_clients: 200 clients at 20 events/s (goal p99 <= 100 ms)
- ws_lost_*: deliveries that never arrived (must be 0)
- ws_max_eps_50_clients: the highest rate (of a doubling ramp) 50 clients sustain with every
  event delivered and p99 <= 100 ms; ws_p99_ms_at_max_eps its p99
- redis_raw_p99_ms, redis_raw_p50_ms: plain XADD -> XREAD BLOCK at that same rate, same run
  (the floor under the channel); redis_raw_p99_ms_20eps at 20 events/s"""
from __future__ import annotations

import json
import math
import multiprocessing
import os
import selectors
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any
from urllib.parse import urlsplit

import redis
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, Request, TextMessage

from backend.enums import EventType
from backend.events import EVENT_STREAM_KEY
from backend.live.control import CONTROL_STREAM_KEY
from backend.runtime import Runtime
from tests.bench.harness import BENCH_VAR, BenchContext, median, percentile
from tests.factories import make_world
from tests.live.client import cookie_header, login_session
from tests.live.server import WebServer, gunicorn

RATE = 20                 # events/s for the latency figures
PHASE_S = 5.0             # seconds of publishing per latency phase
RAMP_RATES = (20, 50, 100, 200, 400, 800, 1600, 3200, 6400)
RAMP_STEP_S = 3.0
GOAL_P99_MS = 100.0
DRAIN_S = 0.5             # after publishing, how long stragglers may still arrive
WEB_THREADS = 240         # one thread per socket (gthread) + HTTP headroom
RAW_KEY = "bench:live:raw"
TICK_S = 0.01             # above 100 events/s, events are published in batches every 10 ms


def run(ctx: BenchContext) -> dict[str, float | int | str]:
    with ctx.fresh_runtime("live") as runtime:
        runtime.redis.delete(EVENT_STREAM_KEY, CONTROL_STREAM_KEY, RAW_KEY)
        world = make_world(runtime)
        with gunicorn(runtime.settings, BENCH_VAR / "live" / "gunicorn.log", workers=1, threads=WEB_THREADS,
                      extra_env={"NOC_LIVE_OUTBOX_MAX": "20000"}) as server:
            cookie = cookie_header(login_session(server.url, world.users[next(iter(world.users))]))
            return _measure(runtime, server, cookie, world.tenant_id)


def _measure(runtime: Runtime, server: WebServer, cookie: str, tenant_id: int) -> dict[str, float | int | str]:
    figures: dict[str, float | int | str] = {}
    publisher = Publisher(runtime, tenant_id)
    for clients in (1, 50, 200):
        with fleet(server, cookie, clients) as clients_fleet:
            published = publisher.run(RATE, PHASE_S)
            result = clients_fleet.collect(published * clients)
        suffix = "1_client" if clients == 1 else f"{clients}_clients"
        figures[f"ws_p50_ms_{suffix}"] = result.p50
        figures[f"ws_p99_ms_{suffix}"] = result.p99
        figures[f"ws_lost_{suffix}"] = result.missing
        if clients == 1:  # for reading the latencies: the publishing transaction is part of them
            figures["publish_call_p50_ms"] = round(median(publisher.call_ms), 2)

    best_rate, best = 0, None
    with fleet(server, cookie, 50) as clients_fleet:
        for rate in RAMP_RATES:
            published = publisher.run(rate, RAMP_STEP_S)
            result = clients_fleet.collect(published * 50)
            if result.missing or result.p99 > GOAL_P99_MS or publisher.achieved_rate < 0.9 * rate:
                break
            best_rate, best = rate, result
    figures["ws_max_eps_50_clients"] = best_rate
    figures["ws_p99_ms_at_max_eps"] = best.p99 if best else float("nan")

    figures["redis_raw_p99_ms_20eps"] = _raw_redis(runtime, RATE, PHASE_S).p99
    raw = _raw_redis(runtime, max(best_rate, RATE), RAMP_STEP_S)
    figures["redis_raw_p50_ms"], figures["redis_raw_p99_ms"] = raw.p50, raw.p99
    return figures


# -- publishing ---------------------------------------------------------------------------

class Publisher:
    """The product's publisher at a steady rate: one transaction per event up to 100/s, then
    one batch per 10 ms (as ingestion publishes). Each event carries its wall-clock stamp."""

    def __init__(self, runtime: Runtime, tenant_id: int) -> None:
        self._runtime = runtime
        self._tenant_id = tenant_id
        self.call_ms: list[float] = []  # how long each publishing transaction took (part of the latency)
        self.achieved_rate = 0.0        # of the last run: below the target, the publisher is the limit

    def run(self, rate: float, seconds: float) -> int:
        per_tick = max(1, math.ceil(rate * TICK_S))
        interval = per_tick / rate
        total = int(rate * seconds)
        sent, start = 0, time.monotonic()
        while sent < total:
            batch = min(per_tick, total - sent)
            began = time.perf_counter()
            with self._runtime.transaction() as session:
                self._runtime.events.publish_many(session, [
                    {"tenant_id": self._tenant_id, "type": EventType.SYSTEM,
                     "data": {"t": time.time(), "n": sent + i}} for i in range(batch)])
            self.call_ms.append((time.perf_counter() - began) * 1000)
            sent += batch
            pause = start + sent / per_tick * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self.achieved_rate = sent / (time.monotonic() - start)
        return sent


# -- the client process -------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    p50: float
    p99: float
    missing: int   # deliveries expected but not received (or resyncs)


class Fleet:
    def __init__(self, pipe: Pipe) -> None:
        self._pipe = pipe

    def collect(self, expected: int) -> Result:
        """After a phase: wait for stragglers, then take the latencies gathered since the last call."""
        deadline = time.monotonic() + DRAIN_S + 5.0
        while True:
            self._pipe.send("count")
            received = self._pipe.recv()
            if received >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self._pipe.send("collect")
        latencies, resyncs = self._pipe.recv()
        return Result(round(median(latencies), 2) if latencies else float("nan"),
                      round(percentile(latencies, 99), 2) if latencies else float("nan"),
                      max(0, expected - len(latencies)) + resyncs)


@contextmanager
def fleet(server: WebServer, cookie: str, clients: int) -> Iterator[Fleet]:
    context = multiprocessing.get_context("spawn")  # a clean process: no inherited threads or pools
    parent, child = context.Pipe()
    process = context.Process(target=_client_process, args=(server.ws_url, cookie, clients, child), daemon=True)
    process.start()
    try:
        status = parent.recv() if parent.poll(60) else "timeout"
        if status != "connected":
            raise RuntimeError(f"clients did not connect: {status}\n{server.log_tail()}")
        yield Fleet(parent)
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()


class _Client:
    def __init__(self, url: str, cookie: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port))
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.ready = False
        self._partial: list[str] = []
        self.sock.sendall(self.ws.send(Request(host=f"{parts.hostname}:{parts.port}", target=parts.path,
                                               extra_headers=[(b"cookie", cookie.encode())])))

    def feed(self, latencies: list[float], counters: dict[str, int]) -> bool:
        data = self.sock.recv(262144)
        if not data:
            return False
        now = time.time()
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                continue
            if isinstance(event, RejectConnection | CloseConnection):
                return False
            if isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, TextMessage):
                self._partial.append(event.data)
                if event.message_finished:
                    self._message(json.loads("".join(self._partial)), now, latencies, counters)
                    self._partial = []
        return True

    def _message(self, message: dict[str, Any], now: float, latencies: list[float], counters: dict[str, int]) -> None:
        if message["type"] == "ready":
            self.ready = True
        elif message["type"] == "events":
            latencies.extend((now - event["data"]["t"]) * 1000 for event in message["events"])
        elif message["type"] == "resync":
            counters["resyncs"] += 1


def _client_process(url: str, cookie: str, count: int, pipe: Pipe) -> None:
    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    counters = {"resyncs": 0}
    clients = []
    for _ in range(count):
        client = _Client(url, cookie)
        selector.register(client.sock, selectors.EVENT_READ, client)
        clients.append(client)
    connected = False
    while True:
        for key, _mask in selector.select(timeout=0.05):
            if not key.data.feed(latencies, counters):
                selector.unregister(key.fileobj)
        if not connected and all(client.ready for client in clients):
            connected = True
            pipe.send("connected")
        while pipe.poll():
            command = pipe.recv()
            if command == "count":
                pipe.send(len(latencies))
            elif command == "collect":
                pipe.send((latencies, counters["resyncs"]))
                latencies, counters = [], {"resyncs": 0}
            elif command == "stop":
                for client in clients:
                    client.sock.close()
                return


# -- raw Redis ----------------------------------------------------------------------------

def _raw_redis(runtime: Runtime, rate: float, seconds: float) -> Result:
    """XADD at ``rate`` here; XREAD BLOCK in another process, as a web process's listener reads."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    kwargs = runtime.redis.connection_pool.connection_kwargs
    process = context.Process(target=_raw_reader, args=(
        {k: kwargs[k] for k in ("host", "port", "db", "path") if k in kwargs}, child), daemon=True)
    process.start()
    parent.recv()  # reading
    per_tick = max(1, math.ceil(rate * TICK_S))
    interval, total, sent, start = per_tick / rate, int(rate * seconds), 0, time.monotonic()
    while sent < total:
        batch = min(per_tick, total - sent)
        with runtime.redis.pipeline(transaction=False) as pipe:
            for _ in range(batch):
                pipe.xadd(RAW_KEY, {"t": repr(time.time())}, maxlen=10_000, approximate=True)
            pipe.execute()
        sent += batch
        pause = start + sent / per_tick * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    time.sleep(DRAIN_S)
    parent.send("stop")
    latencies = parent.recv()
    process.join(10)
    return Result(round(median(latencies), 2), round(percentile(latencies, 99), 2), max(0, total - len(latencies)))


def _raw_reader(address: dict[str, Any], pipe: Pipe) -> None:
    client = redis.Redis(unix_socket_path=address["path"], db=address.get("db", 0)) if address.get("path") \
        else redis.Redis(host=address["host"], port=address["port"], db=address["db"])
    newest = client.xrevrange(RAW_KEY, count=1)
    position = newest[0][0] if newest else b"0-0"
    latencies: list[float] = []
    pipe.send("reading")
    while not pipe.poll():
        for _stream, entries in client.xread({RAW_KEY: position}, block=100, count=1000) or []:
            now = time.time()
            position = entries[-1][0]
            latencies.extend((now - float(fields[b"t"])) * 1000 for _id, fields in entries)
    pipe.recv()
    pipe.send(latencies)


if __name__ == "__main__":  # a quick run on its own: python -m tests.bench.bench_live
    print(run(BenchContext.from_env()))
    os._exit(0)
