"""The live feed's pieces: filters, the event table, its status line and empty states."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from backend.enums import InputType
from backend.queries.schemas import FeedItem, SiteOption
from components import ids

REFRESH_MS = 2000

TYPE_LABELS: dict[InputType, str] = {
    InputType.CHECK_IN: "Check-in",
    InputType.CHECK_OUT: "Check-out",
    InputType.LOCATION_PING: "Location ping",
    InputType.CHECKPOINT_SCAN: "Checkpoint scan",
    InputType.PHONE_ACTIVITY: "Phone activity",
    InputType.NOC_ALERT: "NOC alert",
}
TYPE_COLORS: dict[InputType, str] = {
    InputType.CHECK_IN: "success",
    InputType.CHECK_OUT: "secondary",
    InputType.LOCATION_PING: "info",
    InputType.CHECKPOINT_SCAN: "primary",
    InputType.PHONE_ACTIVITY: "light",
    InputType.NOC_ALERT: "danger",
}


def type_badge(type_: InputType) -> dbc.Badge:
    return dbc.Badge(TYPE_LABELS[type_], color=TYPE_COLORS[type_], className="feed-type",
                     text_color="dark" if TYPE_COLORS[type_] == "light" else None)


def feed_filters(sites: Sequence[SiteOption], site_locked: bool) -> dbc.Row:
    """Type multi-select and site dropdown. A site-scoped user's dropdown is fixed to its site."""
    type_options = [{"label": label, "value": type_.value} for type_, label in TYPE_LABELS.items()]
    site_choices = [{"label": site.label, "value": site.id} for site in sites]
    return dbc.Row([
        dbc.Col(dcc.Dropdown(id=ids.FEED_TYPE_FILTER, options=type_options, value=[], multi=True,
                             placeholder="All event types", searchable=False), md=6, lg=5),
        dbc.Col(dcc.Dropdown(id=ids.FEED_SITE_FILTER, options=site_choices,
                             value=sites[0].id if site_locked and sites else None,
                             clearable=not site_locked, disabled=site_locked,
                             placeholder="All sites"), md=6, lg=4),
    ], className="g-2 mb-2")


def _time_cell(item: FeedItem) -> html.Td:
    local = item.local_ts
    return html.Td([html.Span(local.strftime("%H:%M:%S"), className="feed-time"),
                    html.Small(f" {local.strftime('%d %b')} {local.tzname()}", className="text-muted")],
                   title=f"{item.ts.isoformat()} (UTC); {item.site_timezone or 'UTC'}", className="text-nowrap")


def _named(code: str | None, name: str | None) -> list[Any] | str:
    if code is None:
        return "—"
    return [name or code, html.Small(f" {code}", className="text-muted")]


def _data_attributes(**values: str) -> dict[str, Any]:
    # data-* attributes: browser tests and future scripts find rows by event key and type.
    return {f"data-{name}": value for name, value in values.items()}


def feed_row(item: FeedItem, new: bool) -> html.Tr:
    classes = "feed-row" + (" feed-row-new" if new else "") + (" feed-row-alert" if item.alert else "")
    return html.Tr([
        _time_cell(item),
        html.Td(type_badge(item.type)),
        html.Td(_named(item.site_code, item.site_name)),
        html.Td(_named(item.person_code, item.person_name)),
        html.Td(item.summary, className="feed-summary"),
    ], className=classes, **_data_attributes(key=item.key, type=item.type.value))


def feed_table(items: Sequence[FeedItem], new_keys: Collection[str] = ()) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th("Time (site)"), html.Th("Type"), html.Th("Site"),
                               html.Th("Person"), html.Th("What")]))
    body = html.Tbody([feed_row(item, item.key in new_keys) for item in items])
    return dbc.Table([head, body], id=ids.FEED_TABLE, hover=True, size="sm", responsive=True,
                     className="feed-table align-middle")


def feed_empty(filtered: bool) -> dbc.Alert:
    """Says what is missing and what to do about it."""
    if filtered:
        message = [html.Strong("No events match these filters. "),
                   "Clear the type or site filter to see every event of your sites."]
    else:
        message = [html.Strong("No events yet. "), "Devices and integrations post to ",
                   html.Code("POST /api/v1/events"), " with an API token (",
                   html.Code("flask --app app token create <tenant>"),
                   " creates one); new events appear here within seconds."]
    return dbc.Alert([html.I(className="bi bi-inbox me-2"), *message], id=ids.FEED_EMPTY,
                     color="secondary", className="mt-2")


def feed_list(items: Sequence[FeedItem], *, filtered: bool, new_keys: Collection[str] = ()) -> dbc.Table | dbc.Alert:
    return feed_table(items, new_keys) if items else feed_empty(filtered)


def feed_status(items: Sequence[FeedItem], limit: int) -> str:
    if not items:
        return ""
    newest = items[0].local_ts
    count = f"the latest {len(items)} events" if len(items) >= limit else (
        f"{len(items)} event" + ("s" if len(items) != 1 else ""))
    return f"Showing {count} · newest {newest:%H:%M:%S} {newest.tzname()} · updates live"


def feed_page(sites: Sequence[SiteOption], *, site_locked: bool) -> html.Div:
    """The page skeleton; the refresh callback fills the status line and the list."""
    return html.Div([
        html.Div([html.H4("Live feed", className="mb-0 me-3"),
                  html.Small(id=ids.FEED_STATUS, className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        feed_filters(sites, site_locked),
        html.Div(dbc.Spinner(color="secondary", size="sm"), id=ids.FEED_LIST),
        dcc.Interval(id=ids.FEED_TICK, interval=REFRESH_MS),
        dcc.Store(id=ids.FEED_SHOWN),
    ])
