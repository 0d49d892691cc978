"""The tickets page's pieces: filters, the queue table (badges, SLA, age in the site's time
zone, bulk selection), the detail offcanvas (facts, actions, comments, history), the messages
of actions, and the empty states. Pure factories over backend/queries/ticket_schemas.py."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from backend.enums import Disposition, SlaState, TicketPriority, TicketState
from backend.queries.ticket_schemas import (BulkAcknowledgeResult, TicketDetail, TicketFilters, TicketHistoryEntry,
                                            TicketPageSetup, TicketQueue, TicketRow)
from components import ids

DEBOUNCE_MS = 2000       # a live burst refreshes the queue at most this often
CLOCK_MS = 30_000        # ages and SLA states move on even without events

PRIORITY_COLORS = {TicketPriority.P1: "danger", TicketPriority.P2: "warning", TicketPriority.P3: "info",
                   TicketPriority.P4: "secondary"}
STATE_COLORS = {TicketState.OPEN: "danger", TicketState.ACKNOWLEDGED: "warning",
                TicketState.IN_PROGRESS: "info", TicketState.RESOLVED: "success", TicketState.CLOSED: "secondary"}
SLA_LOOK = {SlaState.ON_TIME: ("success", "on time"), SlaState.DUE_SOON: ("warning", "due soon"),
            SlaState.BREACHED: ("danger", "breached"), SlaState.MET: ("secondary", "met")}
DISPOSITION_LABELS = {Disposition.CONFIRMED_FRAUD: "Confirmed fraud", Disposition.FALSE_POSITIVE: "False positive",
                      Disposition.BENIGN: "Benign", Disposition.NEEDS_INFO: "Needs info (keeps it open)"}


def _words(value: str) -> str:
    return value.replace("_", " ")


def priority_badge(priority: TicketPriority) -> dbc.Badge:
    return dbc.Badge(priority.value.upper(), color=PRIORITY_COLORS[priority], className="ticket-priority",
                     text_color="dark" if priority is TicketPriority.P2 else None)


def state_badge(state: TicketState) -> dbc.Badge:
    return dbc.Badge(_words(state.value), color=STATE_COLORS[state], className="ticket-state",
                     text_color="dark" if state is TicketState.ACKNOWLEDGED else None)


def age(delta: timedelta) -> str:
    """'45 s', '12 min', '3 h 20 min', '4 d 2 h'."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _local(row: TicketRow, when: datetime, with_date: bool = True) -> str:
    local = row.local(when)
    return local.strftime("%d %b %H:%M ") + (local.tzname() or "") if with_date else \
        local.strftime("%H:%M ") + (local.tzname() or "")


def sla_badge(row: TicketRow, as_of: datetime) -> html.Span:
    color, label = SLA_LOOK[row.sla_state]
    detail = ""
    if row.sla_due_at is not None and row.sla_state is not SlaState.MET:
        left = row.sla_due_at - as_of
        detail = f" · {row.sla_target} {'in ' + age(left) if left.total_seconds() > 0 else age(-left) + ' ago'}"
    title = f"{row.sla_target} due {_local(row, row.sla_due_at)}" if row.sla_due_at else "no SLA"
    return html.Span([dbc.Badge(label, color=color, className="ticket-sla",
                                text_color="dark" if row.sla_state is SlaState.DUE_SOON else None),
                      html.Small(detail, className="text-muted")], title=title, className="text-nowrap")


def _named(code: str | None, name: str | None, empty: str = "—") -> list[Any] | str:
    if name is None and code is None:
        return empty
    return [name or code or "", html.Small(f" {code}", className="text-muted") if code else ""]


def _row_data(row: TicketRow) -> dict[str, Any]:
    # data-* attributes: browser tests (and scripts) find rows by ticket id and state.
    return {"data-ticket": str(row.id), "data-state": row.state.value, "data-version": str(row.version)}


def ticket_row(row: TicketRow, as_of: datetime, *, checked: bool = False, can_act: bool = False) -> html.Tr:
    check = html.Td(dbc.Checkbox(id={"type": ids.TICKETS_ROW_CHECK, "ticket": row.id}, value=checked,
                                 disabled=row.state is not TicketState.OPEN), className="ticket-check") \
        if can_act else None
    person = "hidden on wall displays" if row.redacted else _named(row.person_code, row.person_name)
    cells = [
        check,
        html.Td(priority_badge(row.priority)),
        html.Td([html.Button(row.title, id={"type": ids.TICKETS_ROW_OPEN, "ticket": row.id},
                             className="btn btn-link p-0 text-start ticket-open", n_clicks=0),
                 html.Small(f" #{row.id}" + (f" · ×{row.occurrences}" if row.occurrences > 1 else ""),
                            className="text-muted")]),
        html.Td(state_badge(row.state)),
        html.Td(sla_badge(row, as_of)),
        html.Td(_named(row.site_code, row.site_name)),
        html.Td(person),
        html.Td(row.assignee_name or html.Span("unassigned", className="text-muted")),
        html.Td([html.Span(age(as_of - row.created_at)), html.Br(),
                 html.Small(_local(row, row.created_at), className="text-muted")],
                title=f"opened {row.created_at.isoformat()} (UTC); {row.site_timezone or 'UTC'}",
                className="text-nowrap"),
    ]
    return html.Tr([c for c in cells if c is not None], className=f"ticket-row ticket-{row.state.value}",
                   **_row_data(row))


def tickets_table(queue: TicketQueue, *, checked: Collection[int] = (), can_act: bool = False) -> dbc.Table:
    heads = ["", "Priority", "Ticket", "State", "SLA", "Site", "Person", "Assignee", "Age (site time)"]
    if can_act:
        heads[0] = dbc.Checkbox(id=ids.TICKETS_CHECK_ALL, value=False)
    else:
        heads = heads[1:]
    head = html.Thead(html.Tr([html.Th(h) for h in heads]))
    body = html.Tbody([ticket_row(row, queue.as_of, checked=row.id in checked, can_act=can_act)
                       for row in queue.rows], id=ids.TICKETS_BODY)
    return dbc.Table([head, body], id=ids.TICKETS_TABLE, hover=True, size="sm", responsive=True,
                     className="tickets-table align-middle")


def tickets_empty(queue: TicketQueue) -> dbc.Alert:
    """Says what is missing and what to do about it."""
    if queue.any_tickets:
        message = [html.Strong("No tickets match these filters. "),
                   "Clear the state, priority, site or “assigned to me” filter to see more."]
    else:
        message = [html.Strong("No tickets yet. "),
                   "Tickets open by themselves when fraud scoring flags a check-in or a site audit raises a high "
                   "or critical finding; they appear here live. Nothing to do until then."]
    return dbc.Alert([html.I(className="bi bi-inbox me-2"), *message], id=ids.TICKETS_EMPTY, color="secondary",
                     className="mt-2")


def tickets_list(queue: TicketQueue, *, checked: Collection[int] = (), can_act: bool = False) -> Any:
    return tickets_table(queue, checked=checked, can_act=can_act) if queue.rows else tickets_empty(queue)


def tickets_status(queue: TicketQueue) -> str:
    if not queue.rows:
        return ""
    shown = f"{len(queue.rows)} of {queue.matched}" if queue.matched > len(queue.rows) else str(len(queue.rows))
    return f"{shown} ticket{'s' if queue.matched != 1 else ''} · most urgent first · updates live"


def shown_store(queue: TicketQueue) -> dict[str, Any]:
    """What the table shows, in order: the live callback patches rows by this index."""
    return {"ids": [row.id for row in queue.rows], "versions": {str(row.id): row.version for row in queue.rows}}


# -- filters and page ------------------------------------------------------------------------

def tickets_filters(setup: TicketPageSetup, filters: TicketFilters) -> dbc.Row:
    states = [{"label": _words(s.value), "value": s.value} for s in TicketState]
    priorities = [{"label": p.value.upper(), "value": p.value} for p in TicketPriority]
    sites = [{"label": site.label, "value": site.id} for site in setup.sites]
    site_value = setup.sites[0].id if setup.site_locked and setup.sites else filters.site_id
    return dbc.Row([
        dbc.Col(dcc.Dropdown(id=ids.TICKETS_STATE_FILTER, options=states, value=[s.value for s in filters.states],
                             multi=True, placeholder="All states", searchable=False), md=4, lg=3),
        dbc.Col(dcc.Dropdown(id=ids.TICKETS_PRIORITY_FILTER, options=priorities,
                             value=[p.value for p in filters.priorities], multi=True, placeholder="All priorities",
                             searchable=False), md=3, lg=2),
        dbc.Col(dcc.Dropdown(id=ids.TICKETS_SITE_FILTER, options=sites, value=site_value,
                             clearable=not setup.site_locked, disabled=setup.site_locked,
                             placeholder="All sites"), md=3, lg=3),
        dbc.Col(dbc.Switch(id=ids.TICKETS_MINE_FILTER, label="Assigned to me", value=filters.mine),
                md=2, className="d-flex align-items-center"),
    ], className="g-2 mb-2")


def bulk_bar(can_act: bool) -> html.Div:
    if not can_act:
        return html.Div(id=ids.TICKETS_BULK_BAR)
    return html.Div([
        dbc.Button([html.I(className="bi bi-check2-all me-1"), "Acknowledge selected"], id=ids.TICKETS_BULK_ACK,
                   color="warning", size="sm", disabled=True, className="me-2"),
        html.Small("Select open tickets to acknowledge them together.", id=ids.TICKETS_BULK_COUNT,
                   className="text-muted"),
    ], id=ids.TICKETS_BULK_BAR, className="d-flex align-items-center mb-2")


def tickets_page(setup: TicketPageSetup, filters: TicketFilters, selected: int | None) -> html.Div:
    """The skeleton; callbacks fill the queue and the detail."""
    return html.Div([
        html.Div([html.H4("Tickets", className="mb-0 me-3"),
                  html.Small(id=ids.TICKETS_STATUS, className="text-muted"),
                  html.Small("read-only: supervisors and admins act on tickets", className="ms-auto text-muted")
                  if not setup.can_act else None],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        tickets_filters(setup, filters),
        bulk_bar(setup.can_act),
        html.Div(id=ids.TICKETS_ALERT),
        html.Div(dbc.Spinner(color="secondary", size="sm"), id=ids.TICKETS_LIST),
        dbc.Offcanvas([html.Div(id=ids.TICKETS_DETAIL_ALERT), html.Div(id=ids.TICKETS_DETAIL_BODY)],
                      id=ids.TICKETS_DETAIL, is_open=False, placement="end", scrollable=True,
                      title="Ticket", className="ticket-detail"),
        dcc.Store(id=ids.TICKETS_SHOWN), dcc.Store(id=ids.TICKETS_SEQ), dcc.Store(id=ids.TICKETS_QUERY),
        dcc.Store(id=ids.TICKETS_URL_SYNCED), dcc.Store(id=ids.TICKETS_SELECTED, data=selected),
        dcc.Store(id=ids.TICKETS_DETAIL_SHOWN), dcc.Store(id=ids.TICKETS_DETAIL_STALE),
        dcc.Interval(id=ids.TICKETS_DEBOUNCE, interval=DEBOUNCE_MS, disabled=True),
        dcc.Interval(id=ids.TICKETS_CLOCK, interval=CLOCK_MS),
    ])


# -- the detail ------------------------------------------------------------------------------

def _action(name: str, label: Any, color: str, **kwargs: Any) -> dbc.Button:
    return dbc.Button(label, id={"type": ids.TICKETS_ACTION, "action": name}, color=color, size="sm", n_clicks=0,
                      **kwargs)


def _field(name: str) -> dict[str, str]:
    return {"type": ids.TICKETS_FIELD, "field": name}


def _facts(detail: TicketDetail) -> dbc.ListGroup:
    t = detail.ticket
    facts = [
        ("State", [state_badge(t.state)] + ([f" · {_words(t.disposition.value)}"] if t.disposition else [])),
        ("SLA", sla_badge(t, detail.as_of)),
        ("Site", _named(t.site_code, t.site_name)),
        ("Person", "hidden on wall displays" if t.redacted else _named(t.person_code, t.person_name)),
        ("Assignee", t.assignee_name or "unassigned"),
        ("Opened", f"{_local(t, t.created_at)} · {age(detail.as_of - t.created_at)} ago"),
        ("Source", f"{t.source.value} · {_words(t.type)}" + (f" · {t.occurrences} occurrences"
                                                              if t.occurrences > 1 else "")),
    ]
    return dbc.ListGroup([dbc.ListGroupItem([html.Small(label, className="text-muted d-block"), html.Div(value)])
                          for label, value in facts], flush=True, className="mb-3")


def _actions(detail: TicketDetail) -> html.Div | None:
    t = detail.ticket
    if not detail.can_act:
        return None
    parts: list[Any] = []
    if t.is_open:
        if t.state is TicketState.OPEN:
            parts.append(_action("acknowledge", [html.I(className="bi bi-check2 me-1"), "Acknowledge"], "warning",
                                 className="me-2 mb-2"))
        users = [{"label": f"{u.name} ({_words(u.role.value)})", "value": u.id} for u in detail.assignable]
        parts.append(dbc.InputGroup([
            dbc.Select(id=_field("assignee"), options=users, value=t.assignee_id, placeholder="Assign to…"),
            _action("assign", "Assign", "secondary"),
            _action("assign_me", "Assign to me", "outline-secondary", disabled=t.assignee_id == detail.my_user_id),
        ], size="sm", className="mb-3"))
        parts.append(html.Div([
            html.Small("Resolve with a disposition", className="text-muted d-block mb-1"),
            dbc.RadioItems(id=_field("disposition"), inline=False,
                           options=[{"label": label, "value": d.value} for d, label in DISPOSITION_LABELS.items()]),
            dbc.Textarea(id=_field("note"), placeholder="Note (required for “needs info”: what is missing?)",
                         rows=2, maxLength=2000, className="my-2"),
            _action("resolve", [html.I(className="bi bi-flag me-1"), "Resolve"], "success"),
        ], className="mb-3"))
    parts.append(html.Div([
        dbc.Textarea(id=_field("comment"), placeholder="Add a comment", rows=2, maxLength=2000, className="mb-2"),
        _action("comment", [html.I(className="bi bi-chat-left-text me-1"), "Comment"], "primary"),
    ], className="mb-3"))
    return html.Div(parts, className="ticket-actions")


def _history_item(t: TicketRow, entry: TicketHistoryEntry) -> html.Li:
    change = ""
    if entry.from_state and entry.to_state and entry.from_state != entry.to_state:
        change = f" {_words(entry.from_state.value)} → {_words(entry.to_state.value)}"
    return html.Li([html.Small(_local(t, entry.created_at), className="text-muted me-2"),
                    html.Strong(_words(entry.action)), change,
                    html.Span(f" · {entry.summary}" if entry.summary else ""),
                    html.Small(f" — {entry.actor or 'system'}", className="text-muted")],
                   className="ticket-history-item", **{"data-action": entry.action})


def ticket_detail_body(detail: TicketDetail) -> html.Div:
    t = detail.ticket
    comments: Any = [html.Div([html.Small(f"{c.author} · {_local(t, c.created_at)}", className="text-muted d-block"),
                               html.Div(c.body, className="ticket-comment-body")], className="ticket-comment mb-2")
                     for c in detail.comments] or html.Small(
        "Hidden on wall displays." if t.redacted else "No comments yet.", className="text-muted")
    return html.Div([
        html.H5([priority_badge(t.priority), " ", t.title], className="mb-1"),
        html.Small(f"#{t.id} · version {t.version}", className="text-muted d-block mb-3"),
        _facts(detail),
        _actions(detail),
        html.H6("Comments"), html.Div(comments, id=ids.TICKETS_COMMENTS, className="mb-3"),
        html.H6("History"),
        html.Ul([_history_item(t, h) for h in detail.history], id=ids.TICKETS_HISTORY,
                className="list-unstyled small"),
    ], **_row_data(t))


def detail_missing(ticket_id: int) -> dbc.Alert:
    return dbc.Alert(f"Ticket #{ticket_id} does not exist or is outside your sites. Pick one from the queue.",
                     color="secondary")


def detail_shown(detail: TicketDetail) -> dict[str, int]:
    return {"ticket": detail.ticket.id, "version": detail.ticket.version}


# -- messages of actions --------------------------------------------------------------------

def conflict_alert(message: str) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-arrow-repeat me-2"), message], color="warning", dismissable=True,
                     className="ticket-conflict")


def refusal_alert(message: str) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-exclamation-triangle me-2"), message], color="danger",
                     dismissable=True, className="ticket-refused")


def done_alert(message: str) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-check2 me-2"), message], color="success", dismissable=True,
                     duration=4000, className="ticket-done")


def bulk_result_alert(result: BulkAcknowledgeResult) -> dbc.Alert:
    parts = [f"Acknowledged {len(result.acknowledged)} ticket{'s' if len(result.acknowledged) != 1 else ''}."]
    if result.conflicts:
        parts.append(f"{len(result.conflicts)} changed meanwhile (#{', #'.join(map(str, result.conflicts))}): "
                     "look again and retry.")
    if result.not_open:
        parts.append(f"{len(result.not_open)} no longer open.")
    if result.missing:
        parts.append(f"{len(result.missing)} not found.")
    color = "success" if not result.skipped else "warning"
    return dbc.Alert(" ".join(parts), color=color, dismissable=True, className="tickets-bulk-result")


# -- live events -> what to change ------------------------------------------------------------

TICKET_EVENT_TYPES = frozenset({"ticket_created", "ticket_updated"})
MAX_PATCHED = 20  # more changed rows than this in one go: refresh the queue instead


@dataclass(frozen=True)
class LivePlan:
    patch_ids: tuple[int, ...]     # shown rows to re-read and patch (or drop if they no longer match)
    refresh: bool                  # the queue may have new rows: refresh it (debounced)
    detail_stale: bool             # the open ticket changed


def _newer(version: Any, seen: Any) -> bool:
    return not isinstance(version, int) or not isinstance(seen, int) or version > seen


def live_plan(events: list[dict[str, Any]], shown: dict[str, Any] | None, detail: dict[str, Any] | None,
              gap: bool) -> LivePlan:
    """What the ticket events among ``events`` mean for the page. An event whose ``version`` the
    page already shows (its own action) changes nothing; viewers' events carry no version."""
    shown_versions: dict[str, int] = (shown or {}).get("versions") or {}
    patch: list[int] = []
    refresh, stale = gap or shown is None, False
    for event in events:
        data = event.get("data") if isinstance(event, dict) else None
        if event.get("type") not in TICKET_EVENT_TYPES or not isinstance(data, dict):
            continue
        ticket_id, version = data.get("ticket_id"), data.get("version")
        if not isinstance(ticket_id, int):
            continue
        if detail and detail.get("ticket") == ticket_id and _newer(version, detail.get("version")):
            stale = True
        if str(ticket_id) in shown_versions:
            if _newer(version, shown_versions[str(ticket_id)]) and ticket_id not in patch:
                patch.append(ticket_id)
        else:
            refresh = True  # a new ticket, or one that may now match the filters
    if len(patch) > MAX_PATCHED:
        return LivePlan((), True, stale)
    return LivePlan(tuple(patch), refresh, stale)
