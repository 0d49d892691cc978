"""One socket's side of the fan-out.

Fast path: the listener thread writes a chunk's frame (bytes built once, shared by every socket
of the audience) straight to the socket with a non-blocking send. A client that keeps up costs
one syscall per frame, no thread switch.

Slow path: when the socket cannot take the whole frame at once (client behind, buffers full),
or the socket is not live yet (replaying), the chunk goes to a bounded outbox and the socket's
own thread writes it, blocking as long as it must. The listener never blocks, so a client that
reads slowly (or not at all) costs the others nothing: its outbox fills, overflows, is dropped,
and the client is told to resync.

Order: whoever writes holds ``_write_lock``; the listener writes directly only when the outbox
is empty and it gets the lock without waiting, and the socket thread takes the lock before it
drains the outbox, so frames reach the socket in the order they were offered."""
from __future__ import annotations

import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from backend.live.audience import Audience
from backend.live.envelopes import LiveEvent
from backend.live.metrics import METRICS
from backend.live.protocol import ResyncReason, events_frame, text_frame


@dataclass(frozen=True, eq=False)
class Chunk:
    """The events of one fan-out that one audience sees, shared by all its sockets.
    ``watermark``: the hub's watermark once these were handed out (the frame's cursor)."""
    events: tuple[LiveEvent, ...]
    texts: tuple[str, ...]
    watermark: int

    @cached_property
    def frame(self) -> str:
        return events_frame(self.watermark, self.texts)

    @cached_property
    def wire(self) -> bytes:
        # Built once, by the first thread that needs it (a race would build equal bytes).
        return text_frame(self.frame)


@dataclass
class Pending:
    """What the socket's thread takes in one go (the outbox empties)."""
    head: bytes | None = None                   # the rest of a frame the listener began to write
    chunks: list[Chunk] = field(default_factory=list)
    resync: tuple[str, int] | None = None       # (reason, cursor)
    close: tuple[int, str] | None = None        # (close code, reason)


class Connection:
    def __init__(self, principal_key: str, audience: Audience, outbox_max: int,
                 sock: socket.socket | None = None) -> None:
        self.principal_key = principal_key
        self.audience = audience
        self.sock = sock
        self._outbox_max = outbox_max
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._head: bytes | None = None
        self._chunks: deque[Chunk] = deque()
        self._queued = 0
        self._resync: tuple[str, int] | None = None
        self._close: tuple[int, str] | None = None
        # Off until the socket is live (after its replay); never on TLS sockets, whose send()
        # takes no flags (TLS normally ends at the proxy in front of us).
        self._direct = False
        self._direct_capable = sock is not None and not isinstance(sock, ssl.SSLSocket)
        self.cursor = 0                       # the cursor of the last frame written (or begun)
        self.send_started: float | None = None  # monotonic start of a blocking send (watchdog)

    # -- the listener's side --------------------------------------------------------------

    def offer(self, chunk: Chunk) -> bool:
        """Hand over a chunk without ever blocking. True if it went straight to the socket."""
        with self._cond:
            if self._close is not None:
                return False
            if (self._direct and self._head is None and not self._chunks and self._resync is None
                    and chunk.watermark >= self.cursor and self._write_lock.acquire(blocking=False)):
                try:
                    written = self._send_nowait(chunk.wire)
                finally:
                    self._write_lock.release()
                if written > 0:
                    self.cursor = chunk.watermark
                    if written < len(chunk.wire):  # the socket thread finishes the frame
                        self._head = chunk.wire[written:]
                        self._cond.notify()
                    return True
            if self._queued + len(chunk.events) > self._outbox_max:
                METRICS.add("dropped", self._queued + len(chunk.events))
                self._drop_backlog(ResyncReason.OVERFLOW, chunk.watermark)
            else:
                self._chunks.append(chunk)
                self._queued += len(chunk.events)
            self._cond.notify()
            return False

    def _send_nowait(self, data: bytes) -> int:
        assert self.sock is not None
        try:
            return self.sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return 0   # buffers full: queue it
        except OSError:
            return 0   # broken: queue it; the socket thread meets the error and ends

    # -- requests from other threads ------------------------------------------------------

    def resync(self, reason: str, cursor: int) -> None:
        """Drop the backlog; the client is told to reload and continue from ``cursor``."""
        with self._cond:
            METRICS.add("dropped", self._queued)
            self._drop_backlog(reason, cursor)
            self._cond.notify()

    def request_close(self, code: int, reason: str) -> None:
        with self._cond:
            if self._close is None:
                self._close = (code, reason)
            self._cond.notify()

    def stalled(self, now: float, timeout_s: float) -> bool:
        started = self.send_started
        return started is not None and now - started > timeout_s

    def cut(self) -> None:
        """Unblock a send stuck on a client that stopped reading: shut the socket down under it
        (its thread then fails the send and ends). Called from the watchdog thread."""
        if self.sock is None:
            return
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed

    # -- the socket thread's side ---------------------------------------------------------

    def wait(self, timeout: float) -> None:
        """Until something is queued or requested, or ``timeout``."""
        with self._cond:
            if not (self._head or self._chunks or self._resync or self._close):
                self._cond.wait(timeout)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive use of the socket for writing (blocking writes are timed for the watchdog)."""
        with self._write_lock:
            yield

    def take(self) -> Pending:
        """Everything queued, emptying the outbox. Call while ``writing()``."""
        with self._cond:
            pending = Pending(self._head, list(self._chunks), self._resync, self._close)
            self._head, self._resync = None, None
            self._chunks.clear()
            self._queued = 0
            return pending

    def set_direct(self, enabled: bool) -> None:
        with self._cond:
            self._direct = enabled and self._direct_capable

    def advance(self, cursor: int) -> None:
        with self._cond:
            self.cursor = max(self.cursor, cursor)

    def _drop_backlog(self, reason: str, cursor: int) -> None:
        self._chunks.clear()
        self._queued = 0
        self._resync = (reason, max(cursor, self._resync[1]) if self._resync else cursor)
