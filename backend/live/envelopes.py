"""One event on its way to sockets: parsed once for routing, encoded once per variant.

Viewers (wall displays) get the *redacted* variant of person-level fraud events: the person id
is dropped and ``data`` keeps only an allow-list of keys, so a field added to anomaly events
later stays hidden from viewers until someone decides it is safe (README "Live channel")."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from backend.enums import EventType, TicketSource
from backend.live.protocol import encode_entry, encode_event
from backend.models import EventLogEntry

PERSON_LEVEL_TYPES = frozenset({EventType.ANOMALY_DETECTED.value})
TICKET_TYPES = frozenset({EventType.TICKET_CREATED.value, EventType.TICKET_UPDATED.value})
# What a viewer still sees of a person-level event: what happened, when and how bad, not who
# nor why (no score, reasons, features, names; a ticket's title may name the guard).
VIEWER_DATA_KEYS = frozenset({"kind", "kinds", "type", "types", "anomaly_types", "severity", "priority", "state",
                              "source", "change", "occurrences", "punch", "ts",
                              "ticket_id", "finding_id", "incident_id", "alert_id"})


def is_person_level(env: dict[str, Any]) -> bool:
    """Anomalies (fraud scores, reasons) and fraud tickets are about one person's conduct."""
    if env["type"] in PERSON_LEVEL_TYPES:
        return True
    data = env.get("data")
    return env["type"] in TICKET_TYPES and isinstance(data, dict) and data.get("source") == TicketSource.FRAUD.value


def redact(env: dict[str, Any]) -> dict[str, Any]:
    data = env.get("data") if isinstance(env.get("data"), dict) else {}
    return {**env, "person": None, "data": {k: v for k, v in data.items() if k in VIEWER_DATA_KEYS}}


def for_audience(env: dict[str, Any], redacted: bool) -> dict[str, Any]:
    """The envelope as a (viewer, when ``redacted``) socket receives it (``LiveEvent.text_for``,
    which caches the encoded text): pages that show events from the log apply this very rule,
    so they never show a viewer more than the socket does."""
    return redact(env) if redacted and is_person_level(env) else env


class LiveEvent:
    """An envelope with its routing fields pulled out, its full JSON text and (on demand) the
    viewer text. Shared by every socket it goes to; never mutated after construction except
    for the lazily cached redacted text (a benign race: two threads would compute equal strings)."""

    __slots__ = ("id", "tenant", "site", "type", "text", "published_at", "_env", "_viewer_text")

    def __init__(self, env: dict[str, Any], text: str) -> None:
        self.id: int = env["id"]
        self.tenant: int = env["tenant"]
        self.site: int | None = env.get("site")
        self.type: str = env["type"]
        self.text = text
        self.published_at = _epoch(env.get("time"))
        self._env = env
        self._viewer_text: str | None = None

    @classmethod
    def from_stream(cls, raw: bytes | str) -> "LiveEvent | None":
        """From a stream entry's ``event`` field, as published; None for anything malformed
        (logged by the caller): one bad entry must not stop the listener."""
        try:
            env = json.loads(raw)
            text = raw.decode() if isinstance(raw, bytes) else raw
        except (ValueError, UnicodeDecodeError):
            return None
        if not (isinstance(env, dict) and _is_int(env.get("id")) and _is_int(env.get("tenant"))
                and isinstance(env.get("type"), str) and (env.get("site") is None or _is_int(env.get("site")))):
            return None
        return cls(env, text)

    @classmethod
    def from_entry(cls, entry: EventLogEntry) -> "LiveEvent":
        text = encode_entry(entry)
        return cls(json.loads(text), text)

    def text_for(self, redacted: bool) -> str:
        if not redacted or not is_person_level(self._env):
            return self.text
        if self._viewer_text is None:
            self._viewer_text = encode_event(for_audience(self._env, redacted=True))
        return self._viewer_text


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _epoch(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else None
    except ValueError:
        return None
