"""A WebSocket client of /ws for tests (websocket-client), reading synchronously, and the login
that gets it a session cookie the way a browser would (GET /login for the CSRF token, POST)."""
from __future__ import annotations

import json
import queue
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import websocket

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def login_session(base_url: str, email: str, password: str = PASSWORD) -> requests.Session:
    session = requests.Session()
    token = _CSRF.search(session.get(f"{base_url}/login", timeout=10).text)
    assert token, "the login form carries a CSRF token"
    response = session.post(f"{base_url}/login", data={"email": email, "password": password,
                                                       "csrf_token": token.group(1)},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed by the server: {code} {reason}")
        self.code = code
        self.reason = reason


class LiveClient:
    """Connects, reads the replay up to ``ready``, then reads on demand. Keeps every message,
    every event (wire order) and the latest cursor.

    Frames are read on a background thread, as a browser does: pings are answered even while
    the test is busy elsewhere (the server closes sockets whose pings go unanswered). A client
    made with ``background=False`` reads only when asked: one that never reads."""

    def __init__(self, ws_url: str, *, cookie: str | None = None, last_id: int | None = None,
                 query: str = "", read_ready: bool = True, background: bool = True, timeout: float = 10.0,
                 **options: Any) -> None:
        params = "&".join(p for p in (f"last_id={last_id}" if last_id is not None else "", query) if p)
        self.ws = websocket.create_connection(f"{ws_url}?{params}" if params else ws_url, cookie=cookie,
                                              timeout=timeout, **options)
        self.messages: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.cursor: int | None = last_id
        self.ready: dict[str, Any] | None = None
        self.replayed: list[dict[str, Any]] = []
        self._frames: queue.Queue[tuple[int, bytes] | Closed] = queue.Queue()
        self._closed: Closed | None = None
        if background:
            self.ws.settimeout(None)
            threading.Thread(target=self._read_forever, daemon=True).start()
        self._background = background
        if read_ready:
            self.wait_for(lambda c: c.ready is not None, timeout)

    def recv(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None after ``timeout``; raises Closed once the socket closed."""
        frame = self._next_frame(timeout)
        if frame is None:
            return None
        opcode, data = frame
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
            self._closed = Closed(code, data[2:].decode(errors="replace"))
            raise self._closed
        message = json.loads(data)
        self.messages.append(message)
        self.cursor = message.get("cursor", self.cursor)
        if message["type"] == "events":
            self.events.extend(message["events"])
            if self.ready is None:
                self.replayed.extend(message["events"])
        elif message["type"] == "ready":
            self.ready = message
        return message

    def _next_frame(self, timeout: float) -> tuple[int, bytes] | None:
        if self._closed is not None:
            raise self._closed
        if self._background:
            try:
                item = self._frames.get(timeout=timeout)
            except queue.Empty:
                return None
            if isinstance(item, Closed):
                self._closed = item
                raise item
            return item
        self.ws.settimeout(timeout)
        while True:
            try:
                opcode, frame = self.ws.recv_data_frame(control_frame=True)
            except websocket.WebSocketTimeoutException:
                return None
            except (websocket.WebSocketConnectionClosedException, ConnectionError) as exc:
                self._closed = Closed(None, str(exc))
                raise self._closed from exc
            if opcode in _DATA_OR_CLOSE:
                return opcode, frame.data

    def _read_forever(self) -> None:
        while True:
            try:
                opcode, frame = self.ws.recv_data_frame(control_frame=True)  # answers pings itself
            except Exception as exc:  # noqa: BLE001 - any end of the socket ends the reading
                self._frames.put(Closed(None, str(exc)))
                return
            if opcode in _DATA_OR_CLOSE:
                self._frames.put((opcode, frame.data))
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return

    def wait_for(self, condition: Callable[["LiveClient"], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; last messages: {self.messages[-3:]}"
            self.recv(left)

    def wait_for_ids(self, ids: set[int], timeout: float = 10.0) -> None:
        self.wait_for(lambda c: ids <= {e["id"] for e in c.events}, timeout)

    def ids(self) -> list[int]:
        return [event["id"] for event in self.events]

    def kill(self) -> None:
        """Drop the connection abruptly, as a network failure would (no close frame)."""
        sock = self.ws.sock
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def close(self) -> None:
        try:
            self.ws.send_close()
        except (OSError, websocket.WebSocketException):
            pass
        self.kill()


_DATA_OR_CLOSE = (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_CLOSE)


def handshake_status(ws_url: str, **options: Any) -> int:
    """The HTTP status a refused handshake got (101 means it was accepted)."""
    try:
        ws = websocket.create_connection(ws_url, timeout=10, **options)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close()
    return 101
