"""Control messages to every web process's live channel, through a small Redis stream read by
the same listener (so a process that blips catches up on them too).

Today one kind: close the sockets of a principal (``u:<user id>`` or ``w:<wallboard token id>``,
``Principal.get_id()``): on logout, and for any service that deactivates a user or revokes a
token, so its sockets close at once instead of at the next periodic re-check."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)

CONTROL_STREAM_KEY = "noc:live:control"
CONTROL_STREAM_MAXLEN = 10_000
_FIELD = b"msg"


@dataclass(frozen=True)
class ClosePrincipal:
    principal_key: str
    reason: str


def close_principal_sockets(redis_client: redis.Redis, principal_key: str, reason: str) -> bool:
    """Ask every web process to close this principal's sockets. False when Redis is down (the
    periodic re-check still closes them if the principal became invalid; a plain logout's
    other-tab sockets then stay open until they reconnect)."""
    try:
        redis_client.xadd(CONTROL_STREAM_KEY, {_FIELD: json.dumps({"op": "close", "principal": principal_key,
                                                                  "reason": reason})},
                          maxlen=CONTROL_STREAM_MAXLEN, approximate=True)
        return True
    except redis.RedisError:
        log.warning("Redis unavailable: could not ask web processes to close sockets of %s", principal_key,
                    exc_info=True)
        return False


def parse_control(fields: dict[bytes, bytes]) -> ClosePrincipal | None:
    try:
        message = json.loads(fields[_FIELD])
    except (KeyError, ValueError):
        return None
    if not isinstance(message, dict) or message.get("op") != "close" or not isinstance(message.get("principal"), str):
        return None
    return ClosePrincipal(message["principal"], str(message.get("reason", "closed")))
