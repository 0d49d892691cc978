"""The wire protocol of ``/ws`` (README "Live channel"): what the server sends, as JSON text.

Events travel as the exact JSON the publisher wrote to the stream (``backend.events``): a frame
is built by joining those strings, so an event is encoded once however many sockets get it."""
from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

from backend.events import envelope
from backend.models import EventLogEntry

WS_PATH = "/ws"
LAST_ID_PARAM = "last_id"  # resume: the ``cursor`` of the last message the client got

# Close codes (4000-4999 are the application's). Clients reconnect after any close except
# SESSION_ENDED, which means "sign in again" (a reconnect would be refused with 401).
CLOSE_SESSION_ENDED = 4401
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001      # this server is stopping: reconnect (to another one)
CLOSE_POLICY = 1008          # pings got no pong: the peer is gone
CLOSE_TRY_AGAIN = 1011       # the server failed (e.g. database down during the replay): reconnect later


class MessageType:
    EVENTS = "events"        # {"type", "cursor", "events": [envelope, ...]}
    READY = "ready"          # after the replay: {"type", "cursor", "resumed", "replayed", "heartbeat_s", "node"}
    HEARTBEAT = "heartbeat"  # when idle: {"type", "cursor", "time"}
    RESYNC = "resync"        # the client's view has a gap: {"type", "cursor", "reason"}


class ResyncReason:
    OVERFLOW = "overflow"            # the client read too slowly; its backlog was dropped
    GAP_TOO_OLD = "gap_too_old"      # too many events (or pruned ones) to replay since last_id
    UNKNOWN_CURSOR = "unknown_cursor"  # last_id is ahead of the log (another database, a restore)
    SERVER_BEHIND = "server_behind"  # this process's listener fell too far behind to catch up event by event


def encode_event(env: dict[str, Any]) -> str:
    # The same encoding as the publisher's stream entries, so a frame never mixes two styles.
    return json.dumps(env, default=str)


def encode_entry(entry: EventLogEntry) -> str:
    return encode_event(envelope(entry))


def events_frame(cursor: int, event_texts: Sequence[str]) -> str:
    return f'{{"type":"{MessageType.EVENTS}","cursor":{cursor},"events":[{",".join(event_texts)}]}}'


def control_frame(type_: str, cursor: int, **fields: Any) -> str:
    return json.dumps({"type": type_, "cursor": cursor, **fields})


MAX_ID = 2**63 - 1


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final, unmasked WebSocket frame (RFC 6455 5.2), as a server sends it. No extension is
    ever negotiated (see handshake), so a frame is the same bytes for every socket: built once
    per chunk and written to each socket as is."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    return header + payload


def text_frame(text: str) -> bytes:
    return ws_frame(text.encode())


PING_FRAME = ws_frame(b"", opcode=0x9)


def parse_last_id(raw: str | None) -> int | None:
    """``last_id`` from the query string: absent or empty means "start live, no replay"; else a
    non-negative 64-bit integer, or ValueError (the handshake answers 400)."""
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
        raise ValueError("last_id: a non-negative integer (the cursor of the last message received)")
    return int(raw)
