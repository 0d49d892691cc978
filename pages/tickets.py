"""Tickets: the queue (filters in the URL), the detail with actions, history and comments, bulk
acknowledge; patched live from the socket. Supervisors and admins act; others read."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, Patch, State, callback, clientside_callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from backend.queries.ticket_schemas import TICKET_PARAM, TicketDetail, TicketFilters, parse_id
from backend.queries.tickets import ticket_detail, ticket_queue, ticket_rows, tickets_page_setup
from backend.tickets import actions
from backend.web_context import write_as_current_user, read_as_current_user
from components import ids
from components.live import new_live_events
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from components.tickets import (bulk_result_alert, conflict_alert, detail_missing, detail_shown, done_alert,
                                live_plan, refusal_alert, shown_store, ticket_detail_body, ticket_row, tickets_list,
                                tickets_page, tickets_status)

dash.register_page(__name__, path="/tickets", name="Tickets", title="Tickets · NOC Intelligence", order=40)

ROW_CHECKS = {"type": ids.TICKETS_ROW_CHECK, "ticket": ALL}
FILTERS = (ids.TICKETS_STATE_FILTER, ids.TICKETS_PRIORITY_FILTER, ids.TICKETS_SITE_FILTER, ids.TICKETS_MINE_FILTER)
_FILTER_PROPS = ("value", "value", "value", "value")


def layout(**query: Any) -> html.Div:
    setup = read_as_current_user(tickets_page_setup)
    return tickets_page(setup, TicketFilters.from_query(query), parse_id(query.get(TICKET_PARAM)))


def _checked() -> set[int]:
    """Ticket ids whose bulk checkbox is ticked (the callback's one ALL-pattern State)."""
    checks = next((entry for entry in ctx.states_list if isinstance(entry, list)), [])
    return {item["id"]["ticket"] for item in checks
            if item.get("value") is True and isinstance(item["id"].get("ticket"), int)}


@callback(Output(ids.TICKETS_LIST, "children"), Output(ids.TICKETS_STATUS, "children"),
          Output(ids.TICKETS_SHOWN, "data"), Output(ids.TICKETS_QUERY, "data"),
          Output(ids.TICKETS_DEBOUNCE, "disabled"),
          *(Input(f, p) for f, p in zip(FILTERS, _FILTER_PROPS)),
          Input(ids.TICKETS_DEBOUNCE, "n_intervals"), Input(ids.TICKETS_CLOCK, "n_intervals"),
          Input(LIVE_RESYNC, "data"), State(ROW_CHECKS, "value"))
def refresh(states: Any, priorities: Any, site: Any, mine: Any, *_triggers: Any) -> tuple[Any, ...]:
    """The whole queue: on filter changes, a live burst (debounced), the clock, a resync."""
    filters = TicketFilters.from_inputs(states, priorities, site, mine)
    queue = read_as_current_user(ticket_queue, filters)
    return (tickets_list(queue, checked=_checked(), can_act=queue.can_act), tickets_status(queue),
            shown_store(queue), filters.to_query(), True)


@callback(Output(ids.TICKETS_SEQ, "data"), Output(ids.TICKETS_BODY, "children", allow_duplicate=True),
          Output(ids.TICKETS_SHOWN, "data", allow_duplicate=True),
          Output(ids.TICKETS_DEBOUNCE, "disabled", allow_duplicate=True), Output(ids.TICKETS_DETAIL_STALE, "data"),
          Input(LIVE_EVENTS, "data"), State(ids.TICKETS_SEQ, "data"), State(ids.TICKETS_SHOWN, "data"),
          State(ids.TICKETS_DETAIL_SHOWN, "data"), *(State(f, p) for f, p in zip(FILTERS, _FILTER_PROPS)),
          State(ROW_CHECKS, "value"), prevent_initial_call=True)
def live(data: Any, last_seq: Any, shown: Any, detail: Any, states: Any, priorities: Any, site: Any, mine: Any,
         _checks: Any) -> tuple[Any, ...]:
    """Ticket events: re-read and patch the shown rows they touch (dash.Patch), drop rows that
    left the filters, schedule one queue refresh for new tickets, refresh an open detail."""
    fresh, seq, gap = new_live_events(data, last_seq if isinstance(last_seq, int) else None)
    plan = live_plan(fresh, shown if isinstance(shown, dict) else None,
                     detail if isinstance(detail, dict) else None, gap)
    body, new_shown = no_update, no_update
    if plan.patch_ids:
        update = read_as_current_user(ticket_rows, TicketFilters.from_inputs(states, priorities, site, mine),
                                      list(plan.patch_ids))
        order: list[int] = list(shown["ids"])
        body, checked, gone = Patch(), _checked(), []
        for ticket_id, row in update.rows.items():
            index = order.index(ticket_id)
            if row is None:
                gone.append(index)
            else:
                body[index] = ticket_row(row, update.as_of, checked=ticket_id in checked, can_act=update.can_act)
                shown["versions"][str(ticket_id)] = row.version
        for index in sorted(gone, reverse=True):
            del body[index]
            shown["versions"].pop(str(order.pop(index)), None)
        new_shown = {"ids": order, "versions": shown["versions"]}
    return (seq, body, new_shown, False if plan.refresh else no_update,
            seq if plan.detail_stale else no_update)


@callback(Output(ids.TICKETS_SELECTED, "data"),
          Input({"type": ids.TICKETS_ROW_OPEN, "ticket": ALL}, "n_clicks"), Input(ids.TICKETS_DETAIL, "is_open"),
          State(ids.TICKETS_SELECTED, "data"), prevent_initial_call=True)
def select(_clicks: Any, is_open: Any, selected: Any) -> Any:
    """A row's title opens its detail; closing the panel forgets it."""
    if ctx.triggered_id == ids.TICKETS_DETAIL:
        if is_open or selected is None:
            raise PreventUpdate
        return None
    if isinstance(ctx.triggered_id, dict) and ctx.triggered and ctx.triggered[0]["value"]:
        return parse_id(ctx.triggered_id.get("ticket"))
    raise PreventUpdate  # rows re-rendered (n_clicks 0): not a click


@callback(Output(ids.TICKETS_DETAIL_BODY, "children"), Output(ids.TICKETS_DETAIL, "is_open"),
          Output(ids.TICKETS_DETAIL_SHOWN, "data"), Output(ids.TICKETS_DETAIL_ALERT, "children"),
          Input(ids.TICKETS_SELECTED, "data"), Input(ids.TICKETS_DETAIL_STALE, "data"), Input(LIVE_RESYNC, "data"))
def show_detail(selected: Any, _stale: Any, _resync: Any) -> tuple[Any, ...]:
    ticket_id = parse_id(selected)
    if ticket_id is None:  # closed (the panel closed itself) or nothing asked in the URL
        return [], no_update, None, None
    detail = read_as_current_user(ticket_detail, ticket_id)
    # A live refresh keeps the message of the user's last action; opening a ticket clears it.
    alert = None if ctx.triggered_id in (None, ids.TICKETS_SELECTED) else no_update
    if detail is None:
        return detail_missing(ticket_id), True, None, alert
    return ticket_detail_body(detail), True, detail_shown(detail), alert


# One service per action; all take (ticket id, version the user saw, the form's fields).
_ACTIONS: dict[str, tuple[Callable[[int, Any, dict[str, Any]], TicketDetail], str]] = {
    "acknowledge": (lambda t, v, f: write_as_current_user(actions.acknowledge, t, v), "Acknowledged."),
    "assign": (lambda t, v, f: write_as_current_user(actions.assign, t, v, parse_id(f.get("assignee"))), "Assigned."),
    "assign_me": (lambda t, v, f: write_as_current_user(actions.assign_to_me, t, v), "Assigned to you."),
    "resolve": (lambda t, v, f: write_as_current_user(actions.resolve, t, v, f.get("disposition"), f.get("note")),
                "Saved."),
    "comment": (lambda t, v, f: write_as_current_user(actions.comment, t, f.get("comment")), "Comment added."),
}


@callback(Output(ids.TICKETS_DETAIL_BODY, "children", allow_duplicate=True),
          Output(ids.TICKETS_DETAIL_SHOWN, "data", allow_duplicate=True),
          Output(ids.TICKETS_DETAIL_ALERT, "children", allow_duplicate=True),
          Input({"type": ids.TICKETS_ACTION, "action": ALL}, "n_clicks"),
          State({"type": ids.TICKETS_FIELD, "field": ALL}, "value"), State(ids.TICKETS_DETAIL_SHOWN, "data"),
          prevent_initial_call=True)
def act(_clicks: Any, _fields: Any, shown: Any) -> tuple[Any, ...]:
    """An action button of the open ticket. The service checks the role and the scope; a
    conflict shows the ticket as it is now."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not (ctx.triggered and ctx.triggered[0]["value"]):
        raise PreventUpdate  # the buttons were (re)rendered, not clicked
    chosen = _ACTIONS.get(trigger.get("action"))
    ticket_id = parse_id(shown.get("ticket")) if isinstance(shown, dict) else None
    if chosen is None or ticket_id is None:
        raise PreventUpdate
    fields = {item["id"]["field"]: item.get("value") for item in ctx.states_list[0]}
    run, done = chosen
    try:
        detail = run(ticket_id, shown.get("version"), fields)
    except actions.TicketConflict as conflict:
        return ticket_detail_body(conflict.fresh), detail_shown(conflict.fresh), conflict_alert(str(conflict))
    except actions.TicketActionError as refused:
        return no_update, no_update, refusal_alert(str(refused))
    return ticket_detail_body(detail), detail_shown(detail), done_alert(done)


@callback(Output(ids.TICKETS_ALERT, "children"), Output(ROW_CHECKS, "value", allow_duplicate=True),
          Input(ids.TICKETS_BULK_ACK, "n_clicks"), State(ROW_CHECKS, "value"), State(ids.TICKETS_SHOWN, "data"),
          prevent_initial_call=True)
def bulk_acknowledge(clicks: Any, values: Any, shown: Any) -> tuple[Any, ...]:
    if not clicks:
        raise PreventUpdate
    versions = shown.get("versions") or {} if isinstance(shown, dict) else {}
    chosen = {ticket_id: versions.get(str(ticket_id)) for ticket_id in sorted(_checked())}
    keep = [no_update] * len(values or [])
    try:
        result = write_as_current_user(actions.bulk_acknowledge, chosen)
    except actions.TicketActionError as refused:
        return refusal_alert(str(refused)), keep
    return bulk_result_alert(result), [False] * len(values or [])


clientside_callback(ClientsideFunction(namespace="nocTickets", function_name="syncUrl"),
                    Output(ids.TICKETS_URL_SYNCED, "data"),
                    Input(ids.TICKETS_QUERY, "data"), Input(ids.TICKETS_SELECTED, "data"))
clientside_callback(ClientsideFunction(namespace="nocTickets", function_name="checkAll"),
                    Output(ROW_CHECKS, "value", allow_duplicate=True),
                    Input(ids.TICKETS_CHECK_ALL, "value"), State(ROW_CHECKS, "disabled"), prevent_initial_call=True)
clientside_callback(ClientsideFunction(namespace="nocTickets", function_name="selection"),
                    Output(ids.TICKETS_BULK_COUNT, "children"), Output(ids.TICKETS_BULK_ACK, "disabled"),
                    Input(ROW_CHECKS, "value"))
