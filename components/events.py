"""The event log page's pieces: the search form (filled from the URL), the result table with
its live rows, the pager and the empty states."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from backend.enums import EventType
from backend.queries.event_schemas import EventItem, EventPage, EventQuery
from backend.queries.schemas import SiteOption
from components import ids
from components.event_parts import event_clock, event_what
from components.sites import person_href, severity_badge, site_href

TYPE_LABELS: dict[EventType, str] = {
    EventType.ANOMALY_DETECTED: "Anomaly", EventType.TICKET_CREATED: "Ticket opened",
    EventType.TICKET_UPDATED: "Ticket updated", EventType.FINDING_CREATED: "Finding",
    EventType.INCIDENT_CORRELATED: "Incident", EventType.ALERT_RECEIVED: "NOC alert",
    EventType.MODEL_TRAINED: "Model trained", EventType.MODEL_ACTIVATED: "Model activated",
    EventType.MODEL_TRAINING: "Model training", EventType.SYSTEM: "System",
}
TYPE_COLORS: dict[EventType, str] = {
    EventType.ANOMALY_DETECTED: "warning", EventType.TICKET_CREATED: "primary", EventType.TICKET_UPDATED: "info",
    EventType.FINDING_CREATED: "secondary", EventType.INCIDENT_CORRELATED: "danger",
    EventType.ALERT_RECEIVED: "danger", EventType.MODEL_TRAINED: "success", EventType.MODEL_ACTIVATED: "success",
    EventType.MODEL_TRAINING: "light", EventType.SYSTEM: "light",
}


def _minute(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M") if value is not None else None


def events_filters(query: EventQuery, sites: Sequence[SiteOption], *, site_locked: bool) -> dbc.Form:
    """Type, site, person and time range; the times are wall-clock times of the chosen site
    (UTC without one). Searching writes them into the URL."""
    zone = next((s.timezone for s in sites if s.id == query.site_id), None)
    return dbc.Form(dbc.Row([
        dbc.Col(dcc.Dropdown(id=ids.EVENTS_TYPE_FILTER, multi=True, searchable=False, placeholder="All event types",
                             options=[{"label": label, "value": t.value} for t, label in TYPE_LABELS.items()],
                             value=[t.value for t in query.types]), md=6, lg=3),
        dbc.Col(dcc.Dropdown(id=ids.EVENTS_SITE_FILTER, placeholder="All sites",
                             options=[{"label": s.label, "value": s.id} for s in sites],
                             value=sites[0].id if site_locked and sites else query.site_id,
                             clearable=not site_locked, disabled=site_locked), md=6, lg=3),
        dbc.Col(dbc.Input(id=ids.EVENTS_PERSON_FILTER, placeholder="Person: code or name", value=query.person or "",
                          type="search", debounce=True, maxLength=100), md=4, lg=2),
        dbc.Col(dbc.InputGroup([dbc.InputGroupText("from"),
                                dbc.Input(id=ids.EVENTS_SINCE, type="datetime-local", value=_minute(query.since),
                                          debounce=True)], size="sm"), md=4, lg=2),
        dbc.Col(dbc.InputGroup([dbc.InputGroupText("to"),
                                dbc.Input(id=ids.EVENTS_UNTIL, type="datetime-local", value=_minute(query.until),
                                          debounce=True)], size="sm"), md=4, lg=2),
        dbc.Col(html.Small(f"Times in {zone or 'UTC'}" + ("" if zone else " (choose a site for its local time)"),
                           className="text-muted"), width=12),
    ], className="g-2 mb-2 align-items-center"))


def type_badge(type_: EventType) -> dbc.Badge:
    color = TYPE_COLORS[type_]
    return dbc.Badge(TYPE_LABELS[type_], color=color, text_color="dark" if color in ("light", "warning") else None,
                     className="events-type")


def event_row(item: EventItem, new: bool = False) -> html.Tr:
    site = dcc.Link(item.site_name, href=site_href(item.site_id)) if item.site_id and item.site_name else "—"
    person = (dcc.Link(item.person_name, href=person_href(item.person_id))
              if item.person_id is not None and item.person_name else "—")
    return html.Tr([
        html.Td(event_clock(item.local_time, item.created_at, "%d %b %H:%M:%S", "text-nowrap")),
        html.Td(type_badge(item.type)),
        html.Td(severity_badge(item.severity)),
        html.Td(site),
        html.Td(person),
        html.Td(event_what(item.title, item.summary), className="events-summary"),
    ], className="events-row" + (" events-row-new" if new else ""),
        **{"data-id": str(item.id), "data-type": item.type.value})


def event_rows(items: Sequence[EventItem], new: bool = False) -> list[html.Tr]:
    return [event_row(i, new) for i in items]


def events_table() -> html.Div:
    """The result table (hidden while empty); its body gets the rows, live ones prepended."""
    head = html.Thead(html.Tr([html.Th("Time (site)"), html.Th("Type"), html.Th("Severity"), html.Th("Site"),
                               html.Th("Person"), html.Th("What")]))
    table = dbc.Table([head, html.Tbody([], id=ids.EVENTS_BODY)], id=ids.EVENTS_TABLE, size="sm", hover=True,
                      responsive=True, className="events-table align-middle")
    return html.Div(table, id=ids.EVENTS_TABLE_WRAP, hidden=True)


def events_empty(page: EventPage) -> dbc.Alert:
    """Says what is missing and what to do."""
    query = page.query
    if page.unknown_site:
        message = [html.Strong("Unknown site. "), "It does not exist or is not one of your sites: choose another."]
    elif query.person and page.matched_persons == 0:
        message = [html.Strong(f"No person matches “{query.person}”. "), "Search by part of a code (G0042) or a name."]
    elif query.before is not None:
        message = [html.Strong("No older events. "), "This is the end of the log (events are kept 90 days)."]
    elif query.filtered:
        message = [html.Strong("No events match this search. "),
                   "Widen the time range or clear a filter; new matching events appear here live."]
    else:
        message = [html.Strong("No events yet. "), "Alerts, anomalies, findings, incidents and tickets are logged "
                   "here as they happen (the audit runs every 5 minutes)."]
    return dbc.Alert([html.I(className="bi bi-journal-text me-2"), *message], color="secondary",
                     className="events-empty-state")


def events_pager(page: EventPage) -> html.Div:
    """Newest / older links (keyset: an older page starts below the last id shown)."""
    links = []
    if page.query.before is not None:
        links.append(dcc.Link([html.I(className="bi bi-chevron-double-up me-1"), "Newest"],
                              href="/events" + page.query.newest().to_query(), id=ids.EVENTS_NEWEST,
                              className="btn btn-sm btn-outline-secondary me-2"))
    if page.older is not None:
        links.append(dcc.Link(["Older", html.I(className="bi bi-chevron-down ms-1")],
                              href="/events" + page.query.older_than(page.older).to_query(), id=ids.EVENTS_OLDER,
                              className="btn btn-sm btn-outline-secondary"))
    return html.Div(links, className="mt-2")


def events_status(shown: int, *, newest_page: bool, added: int = 0) -> str:
    if not shown:
        return "updates live" if newest_page else ""
    where = "newest first · updates live" if newest_page else "older page (live updates on the newest page)"
    extra = f" · {added} new since opened" if added else ""
    return f"{shown} event{'s' if shown != 1 else ''} · {where}{extra}"


def events_page(query: EventQuery, sites: Sequence[SiteOption], *, site_locked: bool) -> html.Div:
    return html.Div([
        html.Div([html.H4("Events", className="mb-0 me-3"), html.Small(id=ids.EVENTS_STATUS, className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        events_filters(query, sites, site_locked=site_locked),
        html.Div(dbc.Spinner(color="secondary", size="sm"), id=ids.EVENTS_EMPTY),
        events_table(),
        html.Div(id=ids.EVENTS_PAGER),
        dcc.Location(id=ids.EVENTS_LOCATION, refresh="callback-nav"),
        dcc.Store(id=ids.EVENTS_QUERY, data=query.to_query()), dcc.Store(id=ids.EVENTS_SHOWN),
    ])
