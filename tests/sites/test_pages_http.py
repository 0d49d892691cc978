"""The sites, site and events pages driven over HTTP as the browser does (the Dash callback
endpoint): what each role and tenant gets back, the not-found state, URL searches, live
prepends, and that nothing answers without a login."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dash._utils import split_callback_id
from flask import Flask

from backend.auth.users import create_user
from backend.enums import EventType, Role, TicketPriority
from backend.runtime import Runtime
from components import ids
from components.live_ids import LIVE_EVENTS
from tests.factories import PASSWORD, World
from tests.sites.builders import finding, log_event, score, ticket
from tests.web import call_dash, callback_payload, dash_app, logged_in_client, render_page


def _response(client: Any, app: Flask, output: str, values: dict[str, Any], changed: str | None = None) -> Any:
    reply = call_dash(client, callback_payload(app, output, values, changed))
    assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
    return reply.json["response"]


def _live_payload(app: Flask, output: str, values: dict[str, Any]) -> dict[str, Any]:
    """The payload of the callback that writes ``output`` from the live store (pages have a
    second callback writing the same outputs: tests.web.callback_payload would pick the first)."""
    spec_key = next(k for k, spec in dash_app(app).callback_map.items()
                    if output in k and any(i["id"] == LIVE_EVENTS for i in spec["inputs"]))
    spec = dash_app(app).callback_map[spec_key]

    def with_values(deps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**dep, "value": values.get(f"{dep['id']}.{dep['property']}")} for dep in deps]

    return {"output": spec_key, "outputs": split_callback_id(spec_key), "inputs": with_values(spec["inputs"]),
            "state": with_values(spec["state"]), "changedPropIds": [f"{LIVE_EVENTS}.data"]}


def _sites(app: Flask, client: Any) -> list[dict[str, Any]]:
    response = _response(client, app, ids.SITES_STATUS, {f"{ids.SITES_TICK}.n_intervals": None})
    return response[ids.SITES_TABLE]["data"]


def _site(app: Flask, client: Any, site_id: int) -> dict[str, Any]:
    return _response(client, app, ids.SITE_HEADER, {f"{ids.SITE_ID}.data": site_id}, f"{ids.SITE_ID}.data")


def test_sites_table_and_site_page_per_tenant_role_and_scope(app: Flask, pg_runtime: Runtime, world: World,
                                                             other_world: World) -> None:
    now = datetime.now(UTC)
    score(pg_runtime, world, "P1", "S1", now - timedelta(hours=1), 0.93, "mock-location flag set")
    ticket(pg_runtime, world, "S1", TicketPriority.P1, at=now - timedelta(hours=1))
    finding(pg_runtime, world, "S1", "no_show", person="P2", at=now - timedelta(hours=2),
            summary="No-show: Guard 2 never clocked in")
    with pg_runtime.transaction() as session:
        create_user(session, world.tenant_id, f"s2@{world.slug}.test", "S2 guard lead", PASSWORD, Role.OPERATOR,
                    site_id=world.site_ids["S2"])
    manager = logged_in_client(app, world.users[Role.SECURITY_MANAGER])

    rows = _sites(app, manager)
    assert [r["code"] for r in rows] == ["S1", "S2"]
    assert rows[0]["site"] == f"[Site 1 of {world.slug}](/sites/{world.site_ids['S1']})"
    assert (rows[0]["risk"], rows[0]["open"], rows[0]["p1"]) == (0.93, 1, 1) and rows[1]["risk"] is None

    page = _site(app, manager, world.site_ids["S1"])
    assert page[ids.SITE_BODY]["hidden"] is False and page[ids.SITE_NOT_FOUND]["children"] is None
    assert f"Site 1 of {world.slug}" in str(page[ids.SITE_HEADER]) and "0.93" in str(page[ids.SITE_HEADER])
    assert "No-show: Guard 2 never clocked in" in str(page[ids.SITE_FINDINGS])
    assert f"/persons/{world.person_ids['P1']}" in str(page[ids.SITE_PERSONS]), "persons link to their page"
    assert page[ids.SITE_SIGNALS]["figure"]["data"], "the signals figure is drawn"

    # A finding published for this site arrives on the socket: prepended, and (an activity
    # finding) its window shaded on the figure, both as patches; another site's is ignored.
    s1 = world.site_ids["S1"]
    env = {"id": 10**9, "type": "finding_created", "site": s1, "person": None, "severity": "high",
           "time": now.isoformat(), "data": {"finding_id": 10**9, "kind": "activity_below_baseline",
                                             "label": "Activity below baseline", "title": "Quiet site",
                                             "window_start": (now - timedelta(hours=1)).isoformat(),
                                             "window_end": now.isoformat(), "evidence": {"metrics": {"pings": {}}}}}
    elsewhere = {**env, "id": 10**9 + 1, "site": world.site_ids["S2"]}
    reply = call_dash(manager, _live_payload(app, ids.SITE_FINDINGS, {
        f"{LIVE_EVENTS}.data": {"seq": 2, "first_seq": 1, "events": [env, elsewhere]},
        f"{ids.SITE_ID}.data": s1, f"{ids.SITE_SEQ}.data": 0, f"{ids.SITE_SHOWN}.data": page[ids.SITE_SHOWN]["data"]}))
    live = reply.json["response"]
    [prepend] = live[ids.SITE_FINDINGS]["children"]["operations"]
    assert prepend["operation"] == "Prepend" and "Quiet site" in str(prepend["params"]["value"])
    [shade] = live[ids.SITE_SIGNALS]["figure"]["operations"]
    assert shade["operation"] == "Append" and shade["location"] == ["layout", "shapes"]
    assert live[ids.SITE_DIRTY]["data"] is True, "the rest of the page is re-read on the next check"

    viewer = logged_in_client(app, world.users[Role.VIEWER])
    assert "hidden" in str(_site(app, viewer, world.site_ids["S1"])[ids.SITE_PERSONS])

    scoped = logged_in_client(app, f"s2@{world.slug}.test")
    assert [r["code"] for r in _sites(app, scoped)] == ["S2"]
    outsider = logged_in_client(app, other_world.users[Role.ADMIN])
    assert all(world.slug not in r["site"] for r in _sites(app, outsider))
    for client in (scoped, outsider):
        denied = _site(app, client, world.site_ids["S1"])
        assert denied[ids.SITE_BODY]["hidden"] is True and "Site not found" in str(denied[ids.SITE_NOT_FOUND])
        assert "Site 1" not in str(denied)

    # The path is parsed strictly: anything but digits is not a site.
    layout = render_page(app, manager, "/sites/12abc").get_data(as_text=True)
    assert "Site not found" in layout


def test_events_search_from_the_url_and_live_prepend(app: Flask, pg_runtime: Runtime, world: World,
                                                     other_world: World) -> None:
    now = datetime.now(UTC)
    alert = log_event(pg_runtime, world, EventType.ALERT_RECEIVED, site="S1", person="P1", at=now - timedelta(minutes=5),
                      kind="panic", message="Panic button")
    log_event(pg_runtime, world, EventType.FINDING_CREATED, site="S2", at=now - timedelta(minutes=4), title="A finding")
    log_event(pg_runtime, other_world, EventType.ALERT_RECEIVED, site="S1", at=now, kind="panic")
    operator = logged_in_client(app, world.users[Role.OPERATOR])

    # Filters become the URL (a new search starts on the newest page).
    written = _response(operator, app, ids.EVENTS_LOCATION, {
        f"{ids.EVENTS_TYPE_FILTER}.value": ["alert_received", "nonsense"], f"{ids.EVENTS_SITE_FILTER}.value": 7,
        f"{ids.EVENTS_PERSON_FILTER}.value": "G00", f"{ids.EVENTS_QUERY}.data": "?before=9"})
    assert written[ids.EVENTS_LOCATION]["search"] == "?type=alert_received&site=7&person=G00"

    shown = _response(operator, app, ids.EVENTS_PAGER, {f"{ids.EVENTS_QUERY}.data": "?type=alert_received"},
                      f"{ids.EVENTS_QUERY}.data")
    rows = shown[ids.EVENTS_BODY]["children"]
    assert [r["props"]["data-id"] for r in rows] == [str(alert)], "only this tenant's alerts"
    assert shown[ids.EVENTS_TABLE_WRAP]["hidden"] is False and shown[ids.EVENTS_SHOWN]["data"]["newest"] == alert

    # A new matching event arrives on the socket: prepended with a Patch; a non-matching one is not.
    fresh = log_event(pg_runtime, world, EventType.ALERT_RECEIVED, site="S2", at=now, kind="tamper")
    log_event(pg_runtime, world, EventType.SYSTEM, at=now, notice="not an alert")
    live = {"seq": 5, "first_seq": 4, "events": [{"id": fresh, "type": "alert_received"}, {"id": fresh + 1}]}
    reply = call_dash(operator, _live_payload(app, ids.EVENTS_STATUS, {
        f"{LIVE_EVENTS}.data": live, f"{ids.EVENTS_QUERY}.data": "?type=alert_received",
        f"{ids.EVENTS_SHOWN}.data": {**shown[ids.EVENTS_SHOWN]["data"], "seq": 3}}))
    patched = reply.json["response"]
    body = patched[ids.EVENTS_BODY]["children"]
    assert body["__dash_patch_update"] == "__dash_patch_update"
    [operation] = body["operations"]
    assert operation["operation"] == "Prepend" and operation["params"]["value"]["props"]["data-id"] == str(fresh)
    assert patched[ids.EVENTS_SHOWN]["data"]["newest"] == fresh and "1 new" in patched[ids.EVENTS_STATUS]["children"]

    # An older page does not take live rows.
    older = {**patched[ids.EVENTS_SHOWN]["data"], "live": False}
    assert call_dash(operator, _live_payload(app, ids.EVENTS_STATUS, {
        f"{LIVE_EVENTS}.data": {**live, "seq": 6}, f"{ids.EVENTS_SHOWN}.data": older})).status_code == 204


def test_nothing_answers_without_a_login(app: Flask, world: World) -> None:
    anonymous = app.test_client()
    for output, values in ((ids.SITES_STATUS, {f"{ids.SITES_TICK}.n_intervals": None}),
                           (ids.SITE_HEADER, {f"{ids.SITE_ID}.data": world.site_ids["S1"]}),
                           (ids.EVENTS_PAGER, {f"{ids.EVENTS_QUERY}.data": ""})):
        assert call_dash(anonymous, callback_payload(app, output, values)).status_code == 401
