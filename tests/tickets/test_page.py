"""The tickets page over HTTP, as the browser drives it: the layout per role, the queue's
filters and tenant isolation, actions through the Dash callback (roles refused by the service,
another tenant's ticket unreachable, a stale version answered with the fresh state), bulk
acknowledge, and live events patching rows."""
from __future__ import annotations

import json
from typing import Any

import pytest
from dash._utils import split_callback_id
from flask import Flask
from flask.testing import FlaskClient

from backend.enums import Role, TicketPriority, TicketState
from backend.runtime import Runtime
from backend.tickets import actions
from components import ids
from components.live_ids import LIVE_EVENTS
from tests.factories import World
from tests.tickets.builders import open_ticket, principal
from tests.web import call_dash, callback_payload, dash_app, logged_in_client, render_page


def _prop_id(component_id: Any, prop: str) -> str:
    key = json.dumps(component_id, sort_keys=True, separators=(",", ":")) if isinstance(component_id, dict) \
        else component_id
    return f"{key}.{prop}"


def _callback_key(app: Flask, first_output: str, first_input: Any) -> str:
    """The callback whose first output is ``first_output`` and first input ``first_input`` (an id
    or a pattern's type)."""
    for key, spec in dash_app(app).callback_map.items():
        outputs = split_callback_id(key)
        first = (outputs if isinstance(outputs, list) else [outputs])[0]["id"]
        name = first.split("@")[0] if isinstance(first, str) else first.get("type")
        input_id = spec["inputs"][0]["id"]
        input_name = json.loads(input_id).get("type") if input_id.startswith("{") else input_id
        if name == first_output and input_name == first_input:
            return key
    raise AssertionError(f"no callback {first_output} <- {first_input}")


def _call(app: Flask, client: FlaskClient, first_output: str, first_input: str,
          inputs: list[Any], state: list[Any], changed: str, outputs: list[Any] | None = None) -> dict[str, Any]:
    key = _callback_key(app, first_output, first_input)
    response = call_dash(client, {"output": key, "outputs": outputs or split_callback_id(key), "inputs": inputs,
                                  "state": state, "changedPropIds": [changed]})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_json()["response"]


def _refresh(app: Flask, client: FlaskClient, *, states: list[str] | None = None, site: int | None = None,
             mine: bool = False) -> dict[str, Any]:
    values = [states if states is not None else ["open", "acknowledged", "in_progress"], [], site, mine]
    inputs = [{"id": f, "property": "value", "value": v} for f, v in zip(
        (ids.TICKETS_STATE_FILTER, ids.TICKETS_PRIORITY_FILTER, ids.TICKETS_SITE_FILTER, ids.TICKETS_MINE_FILTER),
        values)]
    inputs += [{"id": ids.TICKETS_DEBOUNCE, "property": "n_intervals", "value": None},
               {"id": ids.TICKETS_CLOCK, "property": "n_intervals", "value": None},
               {"id": "live-resync", "property": "data", "value": None}]
    return _call(app, client, ids.TICKETS_LIST, ids.TICKETS_STATE_FILTER, inputs, [[]],
                 f"{ids.TICKETS_STATE_FILTER}.value")


def _act(app: Flask, client: FlaskClient, action: str, ticket_id: int, version: int,
         **fields: Any) -> dict[str, Any]:
    button = {"type": ids.TICKETS_ACTION, "action": action}
    field_values = [{"id": {"type": ids.TICKETS_FIELD, "field": name}, "property": "value", "value": value}
                    for name, value in fields.items()]
    return _call(app, client, ids.TICKETS_DETAIL_BODY, ids.TICKETS_ACTION,
                 [[{"id": button, "property": "n_clicks", "value": 1}]],
                 [field_values, {"id": ids.TICKETS_DETAIL_SHOWN, "property": "data",
                                 "value": {"ticket": ticket_id, "version": version}}],
                 _prop_id(button, "n_clicks"))


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _ticket_ids(component: Any) -> list[int]:
    """data-ticket of every row in a rendered component tree (JSON)."""
    found: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props", node)
            if "data-ticket" in props and node.get("type") == "Tr":
                found.append(int(props["data-ticket"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(component)
    return found


def _state(runtime: Runtime, ticket_id: int) -> TicketState:
    from backend.models import Ticket
    with runtime.read() as session:
        return session.get_one(Ticket, ticket_id).state


@pytest.mark.parametrize("role", list(Role))
def test_the_page_renders_for_every_role_with_actions_only_for_supervisors_and_up(
        app: Flask, pg_runtime: Runtime, world: World, role: Role) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    client = logged_in_client(app, world.users[role])
    page = render_page(app, client, "/tickets")
    assert page.status_code == 200
    layout = _text(page.get_json())
    assert ids.TICKETS_STATE_FILTER in layout and ids.TICKETS_DETAIL in layout
    acts = role in (Role.SUPERVISOR, Role.ADMIN)
    assert (ids.TICKETS_BULK_ACK in layout) is acts
    assert ("read-only" in layout) is not acts

    queue = _refresh(app, client)
    assert _ticket_ids(queue[ids.TICKETS_LIST]["children"]) == [ticket_id]
    assert (ids.TICKETS_ROW_CHECK in _text(queue)) is acts
    if role is Role.VIEWER:  # a wall display sees what happened, not who
        assert "Guard 1" not in _text(queue) and "Suspected gps spoofing" in _text(queue)
    else:
        assert f"Guard 1 of {world.slug}" in _text(queue)

    detail = _call(app, client, ids.TICKETS_DETAIL_BODY, ids.TICKETS_SELECTED,
                   [{"id": ids.TICKETS_SELECTED, "property": "data", "value": ticket_id},
                    {"id": ids.TICKETS_DETAIL_STALE, "property": "data", "value": None},
                    {"id": "live-resync", "property": "data", "value": None}], [],
                   f"{ids.TICKETS_SELECTED}.data")
    assert detail[ids.TICKETS_DETAIL]["is_open"] is True
    assert (ids.TICKETS_ACTION in _text(detail[ids.TICKETS_DETAIL_BODY])) is acts
    assert "History" in _text(detail[ids.TICKETS_DETAIL_BODY])

    # A direct POST to the action callback is refused by the service for the roles below.
    answer = _act(app, client, "acknowledge", ticket_id, 1)
    expected = TicketState.ACKNOWLEDGED if acts else TicketState.OPEN
    assert _state(pg_runtime, ticket_id) is expected
    if not acts:
        assert "Only supervisors and admins can act" in _text(answer[ids.TICKETS_DETAIL_ALERT])


def test_filters_come_from_the_url_and_the_queue_filters(app: Flask, pg_runtime: Runtime, world: World) -> None:
    p1 = open_ticket(pg_runtime, world, priority=TicketPriority.P1, site="S2")
    p3 = open_ticket(pg_runtime, world, priority=TicketPriority.P3)
    client = logged_in_client(app, world.users[Role.SUPERVISOR])
    page = _text(render_page(app, client, "/tickets").get_json())
    assert '"value": ["open", "acknowledged", "in_progress"]' in page  # the default view: open ones
    assert _ticket_ids(_refresh(app, client)[ids.TICKETS_LIST]) == [p1, p3]  # most urgent first

    search = f"?state=all&priority=p1&site={world.site_ids['S2']}&mine=1&ticket={p1}"
    shared = _text(call_dash(client, callback_payload(app, "_pages_content", {
        "_pages_location.pathname": "/tickets", "_pages_location.search": search})).get_json())
    assert '"value": []' in shared and '"value": ["p1"]' in shared  # all states; P1
    assert f'"value": {world.site_ids["S2"]}' in shared and f'"data": {p1}' in shared

    queue = _refresh(app, client, site=world.site_ids["S2"])
    assert _ticket_ids(queue[ids.TICKETS_LIST]) == [p1]
    assert queue[ids.TICKETS_QUERY]["data"] == f"?site={world.site_ids['S2']}"
    mine = _refresh(app, client, mine=True)
    assert "No tickets match these filters" in _text(mine)
    _act(app, client, "assign_me", p3, 1)
    assert _ticket_ids(_refresh(app, client, mine=True)[ids.TICKETS_LIST]) == [p3]
    bad = _refresh(app, client, states=["nonsense", 3], site="DROP TABLE")  # browser input: ignored
    assert _ticket_ids(bad[ids.TICKETS_LIST]) == [p1, p3]


def test_another_tenant_sees_nothing_and_cannot_act(app: Flask, pg_runtime: Runtime, world: World,
                                                    other_world: World) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    outsider = logged_in_client(app, other_world.users[Role.ADMIN])
    queue = _refresh(app, outsider, states=[])
    assert _ticket_ids(queue) == [] and "No tickets yet" in _text(queue)
    detail = _call(app, outsider, ids.TICKETS_DETAIL_BODY, ids.TICKETS_SELECTED,
                   [{"id": ids.TICKETS_SELECTED, "property": "data", "value": ticket_id},
                    {"id": ids.TICKETS_DETAIL_STALE, "property": "data", "value": None},
                    {"id": "live-resync", "property": "data", "value": None}], [], f"{ids.TICKETS_SELECTED}.data")
    assert "does not exist or is outside your sites" in _text(detail) and "GPS" not in _text(detail)
    for action, fields in (("acknowledge", {}), ("resolve", {"disposition": "benign", "note": ""}),
                           ("comment", {"comment": "hi"})):
        answer = _act(app, outsider, action, ticket_id, 1, **fields)
        assert "does not exist" in _text(answer[ids.TICKETS_DETAIL_ALERT])
    assert _state(pg_runtime, ticket_id) is TicketState.OPEN


def test_actions_through_the_page_and_a_conflict_shows_the_fresh_state(app: Flask, pg_runtime: Runtime,
                                                                       world: World) -> None:
    ticket_id = open_ticket(pg_runtime, world)
    client = logged_in_client(app, world.users[Role.SUPERVISOR])
    admin = principal(pg_runtime, world, Role.ADMIN)
    with pg_runtime.transaction() as session:  # someone else acknowledges first
        actions.acknowledge(session, pg_runtime.events, admin, ticket_id, 1)

    answer = _act(app, client, "resolve", ticket_id, 1, disposition="benign", note="", assignee=None, comment="")
    alert = _text(answer[ids.TICKETS_DETAIL_ALERT])
    assert f"Ticket #{ticket_id} was changed by {admin.name} — showing the current state." in alert
    assert answer[ids.TICKETS_DETAIL_SHOWN]["data"] == {"ticket": ticket_id, "version": 2}
    assert '"data-state": "acknowledged"' in _text(answer[ids.TICKETS_DETAIL_BODY])

    refused = _act(app, client, "resolve", ticket_id, 2, disposition="needs_info", note=" ")
    assert "Write a note" in _text(refused[ids.TICKETS_DETAIL_ALERT])
    done = _act(app, client, "resolve", ticket_id, 2, disposition="false_positive", note="Camera shows him there.")
    assert "Saved." in _text(done[ids.TICKETS_DETAIL_ALERT])
    assert _state(pg_runtime, ticket_id) is TicketState.RESOLVED
    assert "Camera shows him there." in _text(done[ids.TICKETS_DETAIL_BODY])
    commented = _act(app, client, "comment", ticket_id, 3, comment="Closed with the client.")
    assert "Closed with the client." in _text(commented[ids.TICKETS_DETAIL_BODY])


def _bulk_outputs(*tickets: int) -> list[Any]:
    # For an ALL-pattern output the browser names every matching component.
    return [{"id": ids.TICKETS_ALERT, "property": "children"},
            [{"id": {"type": ids.TICKETS_ROW_CHECK, "ticket": t}, "property": "value"} for t in tickets]]


def test_bulk_acknowledge_through_the_page(app: Flask, pg_runtime: Runtime, world: World) -> None:
    first, second = open_ticket(pg_runtime, world), open_ticket(pg_runtime, world)
    client = logged_in_client(app, world.users[Role.SUPERVISOR])
    checks = [{"id": {"type": ids.TICKETS_ROW_CHECK, "ticket": t}, "property": "value", "value": True}
              for t in (first, second)]
    answer = _call(app, client, ids.TICKETS_ALERT, ids.TICKETS_BULK_ACK,
                   [{"id": ids.TICKETS_BULK_ACK, "property": "n_clicks", "value": 1}],
                   [checks, {"id": ids.TICKETS_SHOWN, "property": "data",
                             "value": {"ids": [first, second], "versions": {str(first): 1, str(second): 1}}}],
                   f"{ids.TICKETS_BULK_ACK}.n_clicks", outputs=_bulk_outputs(first, second))
    assert "Acknowledged 2 tickets." in _text(answer[ids.TICKETS_ALERT])
    assert _state(pg_runtime, first) is _state(pg_runtime, second) is TicketState.ACKNOWLEDGED
    operator = logged_in_client(app, world.users[Role.OPERATOR])
    third = open_ticket(pg_runtime, world)
    refused = _call(app, operator, ids.TICKETS_ALERT, ids.TICKETS_BULK_ACK,
                    [{"id": ids.TICKETS_BULK_ACK, "property": "n_clicks", "value": 1}],
                    [[{**checks[0], "id": {"type": ids.TICKETS_ROW_CHECK, "ticket": third}}],
                     {"id": ids.TICKETS_SHOWN, "property": "data", "value": {"ids": [third], "versions": {
                         str(third): 1}}}], f"{ids.TICKETS_BULK_ACK}.n_clicks", outputs=_bulk_outputs(third))
    assert "Only supervisors" in _text(refused) and _state(pg_runtime, third) is TicketState.OPEN


def test_live_events_patch_the_rows_they_touch(app: Flask, pg_runtime: Runtime, world: World) -> None:
    kept, dropped = open_ticket(pg_runtime, world), open_ticket(pg_runtime, world)
    client = logged_in_client(app, world.users[Role.OPERATOR])
    boss = principal(pg_runtime, world, Role.SUPERVISOR)
    with pg_runtime.transaction() as session:
        actions.comment(session, pg_runtime.events, boss, kept, "on it")
        actions.acknowledge(session, pg_runtime.events, boss, dropped, 1)

    def events(*changes: tuple[int, int]) -> list[dict[str, Any]]:
        return [{"id": 100 + n, "type": "ticket_updated", "data": {"ticket_id": t, "version": v}}
                for n, (t, v) in enumerate(changes)]

    def live(data: dict[str, Any], shown: dict[str, Any], detail: Any = None,
             states: list[str] | None = None) -> dict[str, Any]:
        return _call(app, client, ids.TICKETS_SEQ, LIVE_EVENTS,
                     [{"id": LIVE_EVENTS, "property": "data", "value": data}],
                     [{"id": ids.TICKETS_SEQ, "property": "data", "value": 0},
                      {"id": ids.TICKETS_SHOWN, "property": "data", "value": shown},
                      {"id": ids.TICKETS_DETAIL_SHOWN, "property": "data", "value": detail},
                      {"id": ids.TICKETS_STATE_FILTER, "property": "value", "value": states or ["open"]},
                      {"id": ids.TICKETS_PRIORITY_FILTER, "property": "value", "value": []},
                      {"id": ids.TICKETS_SITE_FILTER, "property": "value", "value": None},
                      {"id": ids.TICKETS_MINE_FILTER, "property": "value", "value": False}, []],
                     f"{LIVE_EVENTS}.data")

    shown = {"ids": [dropped, kept], "versions": {str(dropped): 1, str(kept): 1}}
    data = {"seq": 2, "first_seq": 1, "events": events((kept, 2), (dropped, 2))}
    answer = live(data, shown, detail={"ticket": kept, "version": 1})
    patch = answer[ids.TICKETS_BODY]["children"]
    operations = patch["operations"]
    assert [op["operation"] for op in operations] == ["Assign", "Delete"]
    assert operations[0]["location"] == [1] and _ticket_ids(operations[0]["params"]["value"]) == [kept]
    assert operations[1]["location"] == [0]  # acknowledged: no longer matches "open"
    assert answer[ids.TICKETS_SHOWN]["data"] == {"ids": [kept], "versions": {str(kept): 2}}
    assert answer[ids.TICKETS_DETAIL_STALE]["data"] == 2 and answer[ids.TICKETS_SEQ]["data"] == 2
    assert ids.TICKETS_DEBOUNCE not in answer  # nothing new to fetch

    # An event the page already shows changes nothing; a new ticket schedules one refresh.
    same = live(data, {"ids": [kept], "versions": {str(kept): 2}}, states=["open"])
    assert ids.TICKETS_BODY not in same
    created = live({"seq": 1, "first_seq": 1, "events": [{"id": 7, "type": "ticket_created",
                                                          "data": {"ticket_id": 999999, "version": 1}}]}, shown)
    assert created[ids.TICKETS_DEBOUNCE]["disabled"] is False and ids.TICKETS_BODY not in created
