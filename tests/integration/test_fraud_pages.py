"""The fraud, persons and person pages over HTTP as the browser drives them: who sees what
(roles, tenants), the live patches and throttled rebuilds, and the evidence CSV route."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from backend.enums import FraudKind, Role
from backend.runtime import Runtime
from components import ids
from components.live_ids import LIVE_EVENTS
from tests.factories import World
from tests.fraud_data import scored_checkin
from tests.web import HTML, call_dash, callback_payload, logged_in_client, render_page

REASON = "mock-location flag set"


def _seed(runtime: Runtime, world: World) -> int:
    now = datetime.now(UTC)
    scored_checkin(runtime, world, "P2", "S2", now - timedelta(hours=5), 0.3)
    return scored_checkin(runtime, world, "P1", "S1", now - timedelta(hours=1), 0.93, (REASON, "checked in at 03:10"),
                          anomalies=(FraudKind.GPS_SPOOFING,), mock_location=True)


def _page(app: Flask, client: Any, path: str) -> str:
    response = render_page(app, client, path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.dumps(response.json)  # Dash's own JSON escapes "/"


def _event(world: World, person: str, event_id: int, score: float, seq_id: int = 1) -> dict[str, Any]:
    return {"id": seq_id, "type": "anomaly_detected", "time": datetime.now(UTC).isoformat(),
            "tenant": world.tenant_id, "site": world.site_ids["S1"], "person": world.person_ids[person],
            "severity": "high", "data": {"attendance_event_id": event_id, "score": score, "reasons": [REASON]}}


def _live(events: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    return {"seq": seq, "first_seq": seq - len(events) + 1, "cursor": events[-1]["id"], "events": events}


def test_roles_and_tenants_see_only_what_they_may(app: Flask, pg_runtime: Runtime, world: World,
                                                  other_world: World) -> None:
    _seed(pg_runtime, world)
    p1 = world.person_ids["P1"]
    operator = logged_in_client(app, world.users[Role.OPERATOR])
    fraud = _page(app, operator, "/fraud")
    assert ids.FRAUD_TABLE in fraud and f"Guard 1 of {world.slug}" in fraud and REASON in fraud
    assert f"/persons/{p1}" in fraud and f"Guard 2 of {world.slug}" not in fraud, "0.3 is below the threshold"
    persons = _page(app, operator, "/persons")
    assert f"Guard 2 of {world.slug}" in persons and f"/persons/{p1}" in persons
    person = _page(app, operator, f"/persons/{p1}")
    assert REASON in person and "gps spoofing" in person and ids.PERSON_EXPORT not in person

    viewer = logged_in_client(app, world.users[Role.VIEWER])
    for path in ("/fraud", "/persons", f"/persons/{p1}"):
        body = _page(app, viewer, path)
        assert ids.ACCESS_DENIED in body and "Guard 1" not in body and REASON not in body, path
    shell = json.dumps(viewer.get("/_dash-layout").json)
    assert '"/fraud"' not in shell and '"/persons"' not in shell, "no dead-end links for viewers"
    assert '"/fraud"' in json.dumps(operator.get("/_dash-layout").json)

    manager = logged_in_client(app, world.users[Role.SECURITY_MANAGER])
    assert f"/exports/persons/{p1}/evidence.csv" in _page(app, manager, f"/persons/{p1}")

    stranger = logged_in_client(app, other_world.users[Role.ADMIN])
    for path in ("/fraud", "/persons"):
        body = _page(app, stranger, path)
        assert world.slug not in body and REASON not in body, path
    for path in (f"/persons/{p1}", "/persons/abc", "/persons/-1", "/persons/99999999999999999999"):
        body = _page(app, stranger, path)
        assert ids.PERSON_NOT_FOUND in body and world.slug not in body, path


def test_fraud_table_is_patched_by_live_events_and_rebuilt_by_the_throttle(app: Flask, pg_runtime: Runtime,
                                                                           world: World) -> None:
    _seed(pg_runtime, world)
    client = logged_in_client(app, world.users[Role.OPERATOR])
    layout = json.loads(_page(app, client, "/fraud"))
    state = _find(layout, ids.FRAUD_STATE)["props"]["data"]
    assert [k[0] for k in state["order"]] == [world.person_ids["P1"]] and state["seq"] is None

    # P3 gets flagged: their row is inserted below P1 (0.93), highlighted, and the bin counts.
    event_id = scored_checkin(pg_runtime, world, "P3", "S1", datetime.now(UTC), 0.71, ("same device as G. One",))
    live = _live([_event(world, "P3", event_id, 0.71)], seq=4)
    out = call_dash(client, callback_payload(app, ids.FRAUD_EMPTY, {f"{LIVE_EVENTS}.data": live,
                                                                     f"{ids.FRAUD_STATE}.data": state},
                                             changed=f"{LIVE_EVENTS}.data")).json["response"]
    ops = out[ids.FRAUD_TABLE_BODY]["children"]["operations"]
    assert [op["operation"] for op in ops] == ["Insert"] and ops[0]["params"]["index"] == 1
    assert "fraud-row-new" in json.dumps(ops[0]) and "same device as G. One" in json.dumps(ops[0])
    assert out[ids.FRAUD_DISTRIBUTION]["figure"]["operations"][0]["location"] == ["data", 0, "y", 14]
    new_state = out[ids.FRAUD_STATE]["data"]
    assert new_state["seq"] == 4 and [k[0] for k in new_state["order"]] == [world.person_ids[p] for p in ("P1", "P3")]
    assert out[ids.FRAUD_REFRESH]["disabled"] is False, "the aggregates refresh once, a few seconds later"

    # The same window again: nothing new, no update.
    again = callback_payload(app, ids.FRAUD_EMPTY, {f"{LIVE_EVENTS}.data": live, f"{ids.FRAUD_STATE}.data": new_state},
                             changed=f"{LIVE_EVENTS}.data")
    assert call_dash(client, again).status_code == 204

    # The throttle's tick rebuilds everything from the database and switches itself off.
    rebuilt = call_dash(client, callback_payload(app, ids.FRAUD_STATUS, {f"{ids.FRAUD_REFRESH}.n_intervals": 1,
                                                                         f"{ids.FRAUD_STATE}.data": new_state},
                                                 changed=f"{ids.FRAUD_REFRESH}.n_intervals")).json["response"]
    assert rebuilt[ids.FRAUD_REFRESH]["disabled"] is True and "2 high-risk" in rebuilt[ids.FRAUD_STATUS]["children"]
    rows = rebuilt[ids.FRAUD_TABLE_BODY]["children"]
    assert ["fraud-row-new" in r["props"]["className"] for r in rows] == [False, True], "P3 stays highlighted"
    assert sum(rebuilt[ids.FRAUD_DISTRIBUTION]["figure"]["data"][0]["y"]) == 3
    heat = rebuilt[ids.FRAUD_SITE_HOURS]["figure"]["data"][0]
    assert sum(map(sum, heat["z"])) == 2 and len(rebuilt[ids.FRAUD_SITE_MAP]["figure"]["data"][0]["x"]) == 2

    # A tampered state from the browser is not patched from.
    bad = callback_payload(app, ids.FRAUD_EMPTY, {f"{LIVE_EVENTS}.data": live,
                                                 f"{ids.FRAUD_STATE}.data": {**state, "bins": "x"}},
                           changed=f"{LIVE_EVENTS}.data")
    assert call_dash(client, bad).status_code == 204


def test_person_page_prepends_live_checkins_and_the_search_filters(app: Flask, pg_runtime: Runtime,
                                                                   world: World) -> None:
    _seed(pg_runtime, world)
    p1 = world.person_ids["P1"]
    client = logged_in_client(app, world.users[Role.SUPERVISOR])
    state = _find(json.loads(_page(app, client, f"/persons/{p1}")), ids.PERSON_STATE)["props"]["data"]
    event_id = scored_checkin(pg_runtime, world, "P1", "S2", datetime.now(UTC), 0.88, ("checked in 2.4 km outside",))
    live = _live([_event(world, "P2", 999, 0.9, 1), _event(world, "P1", event_id, 0.88, 2)], seq=2)
    out = call_dash(client, callback_payload(app, ids.PERSON_TIMELINE_EMPTY, {f"{LIVE_EVENTS}.data": live,
                                                                              f"{ids.PERSON_STATE}.data": state},
                                             changed=f"{LIVE_EVENTS}.data")).json["response"]
    [op] = out[ids.PERSON_TIMELINE_BODY]["children"]["operations"]
    assert op["operation"] == "Prepend" and "checked in 2.4 km outside" in json.dumps(op)
    assert out[ids.PERSON_STATE]["data"]["shown"][-1] == event_id and out[ids.PERSON_REFRESH]["disabled"] is False

    found = call_dash(client, callback_payload(app, ids.PERSONS_STATUS, {f"{ids.PERSONS_SEARCH}.value": "guard 2"},
                                               changed=f"{ids.PERSONS_SEARCH}.value")).json["response"]
    listed = json.dumps(found[ids.PERSONS_LIST])
    assert f"Guard 2 of {world.slug}" in listed and f"Guard 1 of {world.slug}" not in listed


def test_evidence_csv_route(app: Flask, pg_runtime: Runtime, world: World, other_world: World) -> None:
    _seed(pg_runtime, world)
    url = f"/exports/persons/{world.person_ids['P1']}/evidence.csv"
    manager = logged_in_client(app, world.users[Role.SECURITY_MANAGER])
    response = manager.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="evidence-P1-')
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["reason_1"] == REASON and row["fraud_score"] == "0.93"

    assert logged_in_client(app, world.users[Role.OPERATOR]).get(url).status_code == 403
    assert logged_in_client(app, other_world.users[Role.ADMIN]).get(url).status_code == 404
    assert manager.get("/exports/persons/0/evidence.csv").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(url, headers={"Accept": "text/csv"}).status_code == 401
    assert anonymous.get(url, headers=HTML).headers["Location"].startswith("/login?next=/exports/persons/")


def _find(node: Any, id_: str) -> Any:
    """The component with ``id_`` in a rendered layout (JSON)."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == id_:
            return node
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find(child, id_)
        if found is not None:
            return found
    return None
