"""The event module: log row (monotonic id) + Redis stream after commit; nothing on rollback;
a Redis outage loses nothing from the log."""
from __future__ import annotations

import json

import pytest
import redis
import sqlalchemy as sa

from backend.config import Settings
from backend.enums import EventType, Severity
from backend.events import EVENT_STREAM_KEY, EventPublisher
from backend.models import EventLogEntry
from backend.runtime import Runtime
from tests.factories import World, make_world


def _stream_events_after(client: redis.Redis, last_id: str) -> list[dict]:
    return [json.loads(fields[b"event"]) for _id, fields in client.xrange(EVENT_STREAM_KEY, min=f"({last_id}")]


def _stream_tip(client: redis.Redis) -> str:
    entries = client.xrevrange(EVENT_STREAM_KEY, count=1)
    return entries[0][0].decode() if entries else "0-0"


@pytest.mark.parametrize("runtime_name", ["pg_runtime", "sqlite_runtime"])
def test_published_events_reach_the_log_and_the_stream_after_commit(
        runtime_name: str, request: pytest.FixtureRequest) -> None:
    runtime: Runtime = request.getfixturevalue(runtime_name)
    world = make_world(runtime)
    tip = _stream_tip(runtime.redis)
    with runtime.transaction() as session:
        first = runtime.events.publish(session, EventType.SYSTEM, world.tenant_id, data={"n": 1})
        second = runtime.events.publish(session, EventType.ALERT_RECEIVED, world.tenant_id,
                                        site_id=world.site_ids["S1"], severity=Severity.HIGH, data={"n": 2})
        assert _stream_events_after(runtime.redis, tip) == []  # not before the commit
    assert second.id > first.id
    live = _stream_events_after(runtime.redis, tip)
    assert [(e["id"], e["type"], e["tenant"], e["data"]["n"]) for e in live] == [
        (first.id, "system", world.tenant_id, 1), (second.id, "alert_received", world.tenant_id, 2)]
    assert live[1]["site"] == world.site_ids["S1"] and live[1]["severity"] == "high"


def test_a_rolled_back_transaction_publishes_nothing(pg_runtime: Runtime, world: World) -> None:
    tip = _stream_tip(pg_runtime.redis)
    with pytest.raises(RuntimeError):
        with pg_runtime.transaction() as session:
            pg_runtime.events.publish(session, EventType.SYSTEM, world.tenant_id, data={"doomed": True})
            raise RuntimeError("the caller's work failed")
    assert _stream_events_after(pg_runtime.redis, tip) == []
    with pg_runtime.transaction() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(EventLogEntry).where(
            EventLogEntry.tenant_id == world.tenant_id))
    assert count == 0


def test_redis_down_keeps_the_event_in_the_log(pg_runtime: Runtime, pg_settings: Settings) -> None:
    world = make_world(pg_runtime)
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    publisher = EventPublisher(unreachable, stream_maxlen=1000)
    with pg_runtime.transaction() as session:
        entry = publisher.publish(session, EventType.SYSTEM, world.tenant_id, data={"while": "redis down"})
    with pg_runtime.transaction() as session:
        stored = session.get(EventLogEntry, entry.id)
    assert stored is not None and stored.data == {"while": "redis down"}


def test_bulk_publish_keeps_order_and_ids(pg_runtime: Runtime, world: World) -> None:
    tip = _stream_tip(pg_runtime.redis)
    with pg_runtime.transaction() as session:
        entries = pg_runtime.events.publish_many(session, [
            {"tenant_id": world.tenant_id, "type": EventType.ALERT_RECEIVED, "data": {"i": i}} for i in range(5)])
    assert [e["data"]["i"] for e in entries] == list(range(5))
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    assert [e["data"]["i"] for e in _stream_events_after(pg_runtime.redis, tip)] == list(range(5))
