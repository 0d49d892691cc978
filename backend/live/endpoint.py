"""The ``/ws`` handler. Each socket holds one gunicorn thread for its life (gthread; see
STACK.md). That thread replays, sends ``ready``, turns on the listener's direct writes, and
then only does the slow work: frames the listener could not write at once, resyncs, heartbeats
and pings, until the client leaves or is told to."""
from __future__ import annotations

import logging
import socket
import time
from collections.abc import Sequence

from simple_websocket import ConnectionClosed, Server

from backend.auth.principal import Principal
from backend.config import Settings
from backend.live import log as event_log
from backend.live.audience import Audience
from backend.live.connection import Chunk, Connection
from backend.live.envelopes import LiveEvent
from backend.live.hub import LiveHub
from backend.live.metrics import METRICS
from backend.live.protocol import (CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_SESSION_ENDED, CLOSE_TRY_AGAIN,
                                   PING_FRAME, MessageType, ResyncReason, control_frame, events_frame,
                                   text_frame)

log = logging.getLogger(__name__)

POLL_S = 1.0              # a socket thread wakes at least this often to notice a closed socket
REPLAY_FRAME_EVENTS = 500
CLOSE_WAIT_S = 1.0        # how long a closing socket waits for the peer's close frame
# The kernel would otherwise autotune a socket's send buffer up to 4 MB: that much memory per
# stuck client, and seconds of backlog hidden from the bounded outbox. 256 KB still covers
# ~2.5 MB/s per client at 100 ms round trip, far more than an event feed needs.
SEND_BUFFER_BYTES = 256 * 1024


def serve_socket(ws: Server, hub: LiveHub, principal: Principal, last_id: int | None) -> None:
    with hub.handler_slot() as accepted:
        if accepted:
            _serve(ws, hub, principal, last_id)
        else:
            _close_quietly(ws, CLOSE_GOING_AWAY, "server stopping")
            _release(ws)


def _serve(ws: Server, hub: LiveHub, principal: Principal, last_id: int | None) -> None:
    conn: Connection | None = None
    try:
        hub.ensure_started()
        settings = hub.settings
        conn = Connection(principal.get_id(), Audience.of(principal, settings), settings.live_outbox_max, ws.sock)
        registered_at = hub.register(conn)
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        SocketSession(ws, hub, conn, settings).run(last_id, registered_at)
    except (ConnectionClosed, OSError):
        pass  # the client left (maybe right after the handshake), or the watchdog cut it
    except Exception:  # noqa: BLE001 - e.g. the database is down for the replay: the client retries
        log.exception("live socket of %s failed", principal.get_id())
        _close_quietly(ws, CLOSE_TRY_AGAIN, "server error, try again")
    finally:
        if conn is not None:
            hub.unregister(conn)
        _release(ws)


def _close_quietly(ws: Server, code: int, reason: str) -> None:
    try:
        ws.close(code, reason)
    except (ConnectionClosed, OSError):
        pass


def _release(ws: Server) -> None:
    """Return with the connection shut. gunicorn (27, gthread) closes a finished connection on
    its main loop, lingering up to 2 s for the peer's FIN: a socket still open there stalls
    every request of the worker. And werkzeug's dev server writes an HTTP response after the
    handler returns, which a browser reads as a broken frame.

    simple-websocket's reader thread closes the socket when it ends, once the peer answered our
    close frame (or has gone); a peer that does not answer within CLOSE_WAIT_S has the socket
    shut under it. The shutdown always runs: under werkzeug the descriptor outlives close()
    (its request files hold it), under gunicorn a closed socket just answers EBADF."""
    ws.thread.join(CLOSE_WAIT_S)
    try:
        ws.sock.shutdown(socket.SHUT_RDWR)  # also wakes a reader thread still waiting
    except OSError:
        pass
    ws.thread.join(CLOSE_WAIT_S)


class SocketSession:
    def __init__(self, ws: Server, hub: LiveHub, conn: Connection, settings: Settings) -> None:
        self._ws = ws
        self._hub = hub
        self._conn = conn
        self._settings = settings
        self._replayed: set[int] = set()  # replayed ids the live path may still bring (dropped once)
        self._replayed_max = 0

    def run(self, last_id: int | None, registered_at: int) -> None:
        with self._conn.writing():
            replayed = self._replay(last_id, registered_at) if last_id is not None else 0
            self._conn.advance(registered_at)
            self._write(text_frame(control_frame(
                MessageType.READY, self._conn.cursor, resumed=last_id is not None, replayed=replayed,
                heartbeat_s=self._settings.live_heartbeat_s, node=self._hub.node)))
        self._serve_live()

    # -- replay ---------------------------------------------------------------------------

    def _replay(self, last_id: int, registered_at: int) -> int:
        """Events after ``last_id`` from the log, oldest first. Live events queue meanwhile
        (the socket registered first), so nothing committed during the replay is missed."""
        limit = self._settings.live_replay_max
        with self._hub.runtime.sessions() as session:
            oldest, newest = event_log.id_range(session)
            entries = event_log.replay_after(session, self._conn.audience, last_id, limit + 1)
            events = [LiveEvent.from_entry(entry) for entry in entries]
        reason = None
        if last_id > (newest or 0):
            reason = ResyncReason.UNKNOWN_CURSOR     # not a cursor of this database
        elif (oldest is not None and last_id < oldest - 1) or len(events) > limit:
            reason = ResyncReason.GAP_TOO_OLD        # pruned, or too much to replay event by event
        if reason is not None:
            self._write_resync(reason, registered_at)
            return 0
        self._conn.advance(last_id)
        redacted = self._conn.audience.redacted
        for start in range(0, len(events), REPLAY_FRAME_EVENTS):
            batch = events[start:start + REPLAY_FRAME_EVENTS]
            # Up to the batch's last id, but not past what had been fanned out when we registered:
            # ids above that may still be uncommitted, and then come live after the replay.
            self._conn.advance(min(batch[-1].id, registered_at))
            self._write(text_frame(events_frame(self._conn.cursor, [e.text_for(redacted) for e in batch])))
        self._replayed = {event.id for event in events}
        self._replayed_max = max(self._replayed, default=0)
        METRICS.add("replayed", len(events))
        return len(events)

    # -- live -----------------------------------------------------------------------------

    def _serve_live(self) -> None:
        heartbeat_s = self._settings.live_heartbeat_s
        now = last_alive = time.monotonic()
        next_beat = now + heartbeat_s
        wrote_in_interval = False
        self._update_direct()
        while True:
            watermark = self._hub.watermark  # read before taking: see LiveHub.watermark
            self._conn.wait(max(0.0, min(POLL_S, next_beat - time.monotonic())))
            with self._conn.writing():
                pending = self._conn.take()
                if pending.close is not None:
                    self._close(*pending.close)
                    return
                if not self._ws.connected:
                    return
                if pending.head:
                    self._write(pending.head)
                if pending.resync is not None:
                    self._write_resync(*pending.resync)
                if pending.chunks:
                    self._write_chunks(pending.chunks)
                    wrote_in_interval = True
                now = time.monotonic()
                if now >= next_beat:
                    if self._ws.pong_received:
                        last_alive = now
                    elif now - last_alive > 2 * heartbeat_s:  # two pings unanswered: the peer is gone
                        METRICS.add("closed_dead")
                        self._close(CLOSE_POLICY, "ping timeout")
                        return
                    if not wrote_in_interval:  # idle here: say we are alive, and how far
                        self._conn.advance(watermark)
                        self._write(text_frame(control_frame(MessageType.HEARTBEAT, self._conn.cursor,
                                                             time=time.time())))
                    self._ws.pong_received = False  # a protocol ping: browsers answer it by themselves
                    self._write(PING_FRAME)
                    wrote_in_interval = False
                    next_beat = now + heartbeat_s
            if self._replayed:
                self._update_direct()
            self._discard_incoming()

    def _update_direct(self) -> None:
        """Let the listener write to this socket itself once no replayed id can come again."""
        if self._replayed and self._hub.watermark >= self._replayed_max:
            self._replayed = set()
        self._conn.set_direct(not self._replayed)

    def _write_chunks(self, chunks: Sequence[Chunk]) -> None:
        events = [event for chunk in chunks for event in chunk.events]
        last_watermark = chunks[-1].watermark
        if self._replayed:
            keep = [i for i, event in enumerate(events) if event.id not in self._replayed]
            texts = [text for chunk in chunks for text in chunk.texts]
            events, texts = [events[i] for i in keep], [texts[i] for i in keep]
        elif len(chunks) == 1 and last_watermark >= self._conn.cursor:
            texts = []  # the shared frame below
        else:
            texts = [text for chunk in chunks for text in chunk.texts]
        self._conn.advance(last_watermark)
        if not events:
            return
        wire = chunks[0].wire if not texts else text_frame(events_frame(self._conn.cursor, texts))
        self._write(wire)
        now = time.time()
        METRICS.delivered([(now - event.published_at) * 1000 for event in events if event.published_at is not None])

    def _write_resync(self, reason: str, cursor: int) -> None:
        self._conn.advance(cursor)
        self._replayed = set()
        METRICS.add("resyncs")
        self._write(text_frame(control_frame(MessageType.RESYNC, self._conn.cursor, reason=reason)))

    # -- the socket -----------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        """A blocking write (hold ``conn.writing()``); the watchdog cuts one that never ends."""
        self._conn.send_started = time.monotonic()
        try:
            self._ws.sock.sendall(data)
        finally:
            self._conn.send_started = None

    def _close(self, code: int, reason: str) -> None:
        if code == CLOSE_SESSION_ENDED:
            METRICS.add("closed_auth")
        _close_quietly(self._ws, code, reason)

    def _discard_incoming(self) -> None:
        # Clients have nothing to say on this channel; drain what they send so it cannot pile up.
        while self._ws.receive(timeout=0) is not None:
            pass
