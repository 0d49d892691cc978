"""The live feed's read service (on PostgreSQL and on the embedded SQLite) and its refresh
callback (re-renders only on change, marks only new rows)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from backend.auth.principal import Principal
from backend.enums import InputType, Role
from backend.ingest.results import ItemStatus
from backend.ingest.service import ingest_events
from backend.models import Site
from backend.queries.feed import latest_events, site_options
from backend.runtime import Runtime
from components import ids
from tests.factories import World, make_world
from tests.sample_events import sample_events
from tests.web import call_dash, callback_payload, logged_in_client


def _ingest(runtime: Runtime, world: World, items: list[dict[str, Any]]) -> None:
    result = ingest_events(runtime, world.tenant_id, items)
    assert result.count(ItemStatus.ACCEPTED) == len(items), [i.to_json() for i in result.items]


def _viewer(world: World, site_id: int | None = None) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=Role.VIEWER, name="test", user_id=0, site_id=site_id)


@contextmanager
def _statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN IMMEDIATE
            seen.append(statement)

    sa.event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", count)


def test_latest_events_newest_first_across_tables_with_names_and_summaries(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    now = datetime.now(UTC)
    _ingest(any_runtime, world, sample_events("S1", "P1", at=now - timedelta(minutes=1))
            + sample_events("S2", "P2", at=now))
    with any_runtime.sessions() as session, _statements(any_runtime) as selects:
        items = latest_events(session, _viewer(world))
    assert len(selects) == 1, "one query, names joined in (no N+1)"
    assert [item.ts for item in items] == sorted((item.ts for item in items), reverse=True)
    assert all(item.ts.tzinfo is not None for item in items)
    assert len(items) == 12 and len({item.key for item in items}) == 12
    newest = items[0]
    assert newest.type is InputType.CHECK_OUT and newest.site_code == "S2" and newest.person_code == "P2"
    assert newest.site_name == f"Site 2 of {world.slug}" and newest.person_name == f"Guard 2 of {world.slug}"
    by_type = {item.type: item for item in items if item.site_code == "S2"}
    assert by_type[InputType.CHECK_IN].summary == "check-in · 38.7012, -9.1401 · ±8 m · mock location!"
    assert by_type[InputType.CHECK_IN].alert
    assert by_type[InputType.LOCATION_PING].summary == "ping · 38.7013, -9.1402 · ±12 m"
    assert by_type[InputType.CHECKPOINT_SCAN].summary == "scan · Checkpoint 1 (S2-CP1) · nfc"
    assert by_type[InputType.PHONE_ACTIVITY].summary == "phone · steps 120"
    assert by_type[InputType.NOC_ALERT].summary.startswith("PANIC · critical · Panic button ")
    assert by_type[InputType.NOC_ALERT].alert and not by_type[InputType.CHECK_OUT].alert


def test_filters_by_type_and_site_and_limits(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    _ingest(any_runtime, world, sample_events("S1", "P1") + sample_events("S2", "P2") + sample_events("S1", "P3"))
    s1, s2 = world.site_ids["S1"], world.site_ids["S2"]
    with any_runtime.sessions() as session:
        viewer = _viewer(world)
        assert len(latest_events(session, viewer, types=[])) == 18, "no types = every type"
        check_ins = latest_events(session, viewer, types=[InputType.CHECK_IN])
        assert [item.type for item in check_ins] == [InputType.CHECK_IN] * 3, "check-in without check-out"
        mixed = latest_events(session, viewer, types=[InputType.CHECK_OUT, InputType.NOC_ALERT], site_id=s1)
        assert sorted(item.type for item in mixed) == [InputType.CHECK_OUT] * 2 + [InputType.NOC_ALERT] * 2
        assert {item.site_id for item in mixed} == {s1}
        assert len(latest_events(session, viewer, limit=5)) == 5
        assert [item.site_id for item in latest_events(session, _viewer(world, s2))] == [s2] * 6
        assert latest_events(session, _viewer(world, s2), site_id=s1) == []
        assert [option.code for option in site_options(session, viewer)] == ["S1", "S2"]


def test_times_convert_to_the_sites_time_zone(pg_runtime: Runtime, world: World) -> None:
    with pg_runtime.transaction() as session:
        session.execute(sa.update(Site).where(Site.id == world.site_ids["S2"]).values(timezone="Asia/Tokyo"))
    at = (datetime.now(UTC) - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    _ingest(pg_runtime, world, [{**sample_events("S2")[-1], "ts": at.isoformat()}])
    with pg_runtime.sessions() as session:
        (item,) = latest_events(session, _viewer(world))
    assert item.ts == at and item.site_timezone == "Asia/Tokyo"
    assert item.local_ts.utcoffset() == timedelta(hours=9) and item.local_ts.hour == 21  # Tokyo has no DST


def _feed_payload(app: Flask, shown: Any = None, types: list[str] | None = None) -> dict[str, Any]:
    return callback_payload(app, ids.FEED_LIST, {f"{ids.FEED_TICK}.n_intervals": 3,
                                                f"{ids.FEED_TYPE_FILTER}.value": types or [],
                                                f"{ids.FEED_SHOWN}.data": shown})


def test_the_refresh_callback_renders_only_changes_and_marks_new_rows(app: Flask, pg_runtime: Runtime,
                                                                      world: World) -> None:
    client = logged_in_client(app, world.users[Role.OPERATOR])
    first = call_dash(client, _feed_payload(app)).json["response"]
    assert first[ids.FEED_LIST]["children"]["props"]["id"] == ids.FEED_EMPTY
    shown = first[ids.FEED_SHOWN]["data"]

    assert call_dash(client, _feed_payload(app, shown)).status_code == 204, "nothing changed: no update"

    _ingest(pg_runtime, world, sample_events("S1", at=datetime.now(UTC) - timedelta(minutes=1))[:2])
    second = call_dash(client, _feed_payload(app, shown)).json["response"]
    assert "feed-row-new" in str(second[ids.FEED_LIST]) and len(second[ids.FEED_SHOWN]["data"]["keys"]) == 2
    shown = second[ids.FEED_SHOWN]["data"]

    _ingest(pg_runtime, world, sample_events("S2")[:1])
    third = call_dash(client, _feed_payload(app, shown)).json["response"]
    rows = third[ids.FEED_LIST]["children"]["props"]["children"][1]["props"]["children"]
    assert ["feed-row-new" in row["props"]["className"] for row in rows] == [True, False, False]

    # A filter change is a fresh view: nothing is "new" in it.
    filtered = call_dash(client, _feed_payload(app, third[ids.FEED_SHOWN]["data"], ["check_in"])).json["response"]
    assert "feed-row-new" not in str(filtered[ids.FEED_LIST])
