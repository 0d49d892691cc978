"""The wall page over HTTP, as the browser drives it: a wallboard token opens it without a login
form; live events are patched into the feed (only the tenant's, names looked up inside it) and
ask for a tile refresh when they change tiles; a resync reloads the feed; the tile refresh
recolours the map with a patch while its sites stay the same."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from backend.enums import EventType, Role, Severity
from backend.events import envelope
from backend.runtime import Runtime
from components import ids
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from tests.factories import World
from tests.web import HTML, call_dash, callback_payload, logged_in_client, render_page

PATCH = "__dash_patch_update"


def _wallboard_client(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    response = client.get(f"/wall?kiosk=1&wallboard_token={world.wallboard_token}", headers=HTML)
    assert response.status_code == 302 and response.location == "/wall?kiosk=1", "the secret leaves the URL"
    return client


def _publish(runtime: Runtime, world: World, type_: EventType, site: str = "S1", **data: Any) -> dict[str, Any]:
    with runtime.transaction() as session:
        entry = runtime.events.publish(session, type_, world.tenant_id, site_id=world.site_ids[site],
                                       severity=Severity.HIGH, data=data)
        return envelope(entry) | {"time": entry.created_at.isoformat()}


def _live(app: Flask, events: list[dict[str, Any]], seq: int, state: Any, resync: Any = None,
          changed: str = f"{LIVE_EVENTS}.data") -> dict[str, Any]:
    data = {"seq": seq, "first_seq": seq - len(events) + 1, "cursor": 0, "events": events} if events else None
    return callback_payload(app, ids.WALL_FEED, {f"{LIVE_EVENTS}.data": data, f"{LIVE_RESYNC}.data": resync,
                                                f"{ids.WALL_FEED_STATE}.data": state, f"{ids.WALL_DIRTY}.data": 4},
                            changed=changed)


def test_a_wallboard_token_opens_the_wall_with_its_first_view(app: Flask, pg_runtime: Runtime, world: World) -> None:
    _publish(pg_runtime, world, EventType.ALERT_RECEIVED, kind="panic", message="Panic at the gate")
    client = _wallboard_client(app, world)
    assert client.get("/wall?kiosk=1", headers=HTML).status_code == 200
    page = render_page(app, client, "/wall")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for element in (ids.WALL_TICKETS_TILE, ids.WALL_ANOMALIES_TILE, ids.WALL_SITES_TILE, ids.WALL_GUARDS_TILE,
                    ids.WALL_TOURS_TILE, ids.WALL_MAP, ids.WALL_PERSONS, ids.WALL_OVERLAY):
        assert element in text
    assert "Panic alert" in text and "Panic at the gate" in text and f"Site 1 of {world.slug}" in text
    assert "No guard has a check-in scored" in text and "nobody is rostered now" in text


def test_live_events_are_patched_in_and_checked(app: Flask, pg_runtime: Runtime, world: World,
                                                other_world: World) -> None:
    client = logged_in_client(app, world.users[Role.OPERATOR])
    ticket = _publish(pg_runtime, world, EventType.TICKET_UPDATED, ticket_id=3, state="acknowledged",
                      change="acknowledged", title="No-show at S1", source="audit", type="no_show")
    foreign = _publish(pg_runtime, other_world, EventType.ALERT_RECEIVED, kind="panic", message="not yours")
    alert = _publish(pg_runtime, world, EventType.ALERT_RECEIVED, "S2", kind="intrusion", message="Door 4")

    first = call_dash(client, _live(app, [ticket, foreign], 2, {"seq": None, "ids": []})).json["response"]
    patch = first[ids.WALL_FEED]["children"]
    assert patch[PATCH] == PATCH
    operations = [op["operation"] for op in patch["operations"]]
    assert operations == ["Clear", "Prepend"], "the empty state goes, one row comes (not the other tenant's)"
    assert "Ticket #3 acknowledged" in str(patch) and "not yours" not in str(patch)
    assert first[ids.WALL_FEED_STATE]["data"] == {"seq": 2, "ids": [ticket["id"]]}
    assert first[ids.WALL_DIRTY]["data"] == 5, "a ticket change asks for a tile refresh"

    # An alert only joins the feed; what was shown already is not added twice.
    second = call_dash(client, _live(app, [ticket, alert], 3, first[ids.WALL_FEED_STATE]["data"])).json["response"]
    assert [op["operation"] for op in second[ids.WALL_FEED]["children"]["operations"]] == ["Prepend"]
    assert "Door 4" in str(second) and ids.WALL_DIRTY not in second
    assert second[ids.WALL_FEED_STATE]["data"]["ids"] == [alert["id"], ticket["id"]]

    # A resync reloads the feed from the log, newest first, and asks for the tiles too.
    resync = call_dash(client, _live(app, [], 3, second[ids.WALL_FEED_STATE]["data"],
                                     resync={"seq": 1, "reason": "connected"},
                                     changed=f"{LIVE_RESYNC}.data")).json["response"]
    rows = resync[ids.WALL_FEED]["children"]
    assert [row["props"]["data-id"] for row in rows] == [str(alert["id"]), str(ticket["id"])]
    assert resync[ids.WALL_DIRTY]["data"] == 5


def test_the_tile_refresh_patches_the_map_when_its_sites_stay(app: Flask, world: World) -> None:
    client = logged_in_client(app, world.users[Role.VIEWER])
    payload = callback_payload(app, ids.WALL_TILES, {f"{ids.WALL_REFRESH}.data": 1,
                                                    f"{ids.WALL_MAP_KEY}.data": None})
    first = call_dash(client, payload).json["response"]
    assert "data" in first[ids.WALL_MAP]["figure"], "an unknown structure: the whole figure"
    key = first[ids.WALL_MAP_KEY]["data"]
    assert key == [["Europe/Lisbon", [world.site_ids["S1"], world.site_ids["S2"]]]]
    payload = callback_payload(app, ids.WALL_TILES, {f"{ids.WALL_REFRESH}.data": 2, f"{ids.WALL_MAP_KEY}.data": key})
    second = call_dash(client, payload).json["response"]
    assert second[ids.WALL_MAP]["figure"][PATCH] == PATCH
    assert "Open tickets" in str(second[ids.WALL_TILES]["children"])


def test_anonymous_callbacks_get_nothing(app: Flask) -> None:
    payload = callback_payload(app, ids.WALL_TILES, {f"{ids.WALL_REFRESH}.data": 1})
    assert call_dash(app.test_client(), payload).status_code == 401
