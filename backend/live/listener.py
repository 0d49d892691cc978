"""The one Redis reader of a web process: ``XREAD BLOCK`` on the event stream (and the small
control stream) from the last entry it saw, handing events to the hub.

Reading a Stream by position, not a pub/sub subscription, is what makes a blip harmless: after
a lost connection the listener reconnects and reads on from where it was, and nothing published
meanwhile is lost. What the stream itself lost (Redis restarted empty, trimmed past us, or an
XADD that failed while Redis was down) is in the log: every error triggers an immediate log sweep."""
from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

import redis

from backend.events import EVENT_STREAM_KEY
from backend.live.control import CONTROL_STREAM_KEY, parse_control
from backend.live.envelopes import LiveEvent
from backend.live.metrics import METRICS

if TYPE_CHECKING:
    from backend.live.hub import LiveHub

log = logging.getLogger(__name__)

BLOCK_MS = 1000         # one XREAD waits at most this long (the loop then checks for a stop)
READ_COUNT = 1000       # entries per XREAD: under bursts, many events per fan-out and per frame
CLIENT_NAME_PREFIX = "noc-live:"  # CLIENT LIST shows each process's listener connection by this
_FIELD = b"event"
_EVENT_STREAM = EVENT_STREAM_KEY.encode()


def listener_client(shared: redis.Redis, name: str) -> redis.Redis:
    """A dedicated connection with the shared client's address (URL or embedded socket): it
    blocks in XREAD most of the time, so it must not hold one of the shared pool's connections,
    and a socket timeout above the block time makes a dead link fail instead of hang."""
    pool = shared.connection_pool
    kwargs = {**pool.connection_kwargs, "client_name": name, "socket_timeout": BLOCK_MS / 1000 + 10,
              "socket_connect_timeout": 5}
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs))


class StreamListener:
    def __init__(self, hub: LiveHub) -> None:
        self._hub = hub
        self._client = listener_client(hub.runtime.redis, CLIENT_NAME_PREFIX + hub.node)
        self._events_pos: bytes | None = None   # id of the last entry read; None: not known yet
        self._control_pos: bytes | None = None

    def run(self) -> None:
        failures = 0
        while not self._hub.stopping.is_set():
            try:
                # Begin at the current tips, read here (not as the first socket waits): what was
                # published between the hub's look at the log and this read, or while Redis was
                # down, the log sweep brings.
                self._ensure_positions()
                reply = self._client.xread({EVENT_STREAM_KEY: self._events_pos, CONTROL_STREAM_KEY: self._control_pos},
                                           count=READ_COUNT, block=BLOCK_MS)
                if failures:
                    log.info("live listener reconnected to Redis")
                    failures = 0
                self._handle(reply)
            except redis.RedisError as exc:
                failures += 1
                METRICS.add("listener_errors")
                if failures == 1:
                    log.warning("live listener lost Redis (%s); reconnecting, sweeping the log meanwhile", exc)
                self._hub.request_sweep()
                self._client.connection_pool.disconnect()
                # Exponential backoff with jitter, capped: many processes must not hammer Redis as it returns.
                self._hub.stopping.wait(min(5.0, 0.05 * 2 ** min(failures, 7)) * random.uniform(0.5, 1.0))
            except Exception:  # noqa: BLE001 - the listener must outlive any bug in one message
                log.exception("live listener: unexpected error; continuing")
                self._hub.stopping.wait(0.5)

    def _ensure_positions(self) -> None:
        if self._events_pos is None:
            self._events_pos = self._tip(EVENT_STREAM_KEY)
        if self._control_pos is None:
            self._control_pos = self._tip(CONTROL_STREAM_KEY)

    def _tip(self, key: str) -> bytes:
        newest = self._client.xrevrange(key, count=1)
        return newest[0][0] if newest else b"0-0"

    def _handle(self, reply: list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]) -> None:
        for stream, entries in reply or []:
            if not entries:
                continue
            if stream == _EVENT_STREAM:
                self._events_pos = entries[-1][0]
                self._hub.fan_out(self._events(entries))
            else:
                self._control_pos = entries[-1][0]
                self._control(entries)

    @staticmethod
    def _events(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[LiveEvent]:
        events = []
        for entry_id, fields in entries:
            event = LiveEvent.from_stream(fields.get(_FIELD, b""))
            if event is None:
                log.warning("live listener: skipping malformed stream entry %r", entry_id)
            else:
                events.append(event)
        return events

    def _control(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        for _entry_id, fields in entries:
            message = parse_control(fields)
            if message is not None:
                METRICS.add("control_messages")
                self._hub.close_principal(message.principal_key, message.reason)
