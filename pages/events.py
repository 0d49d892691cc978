"""Events: the event log, searchable by type, site, person and time. The search lives in the
URL (``/events?type=finding_created&site=12&person=G0042&since=2026-11-21T08:00``), so it can
be shared; changing a filter writes the URL and the page re-renders from it. Older pages by
keyset (``before=<id>``). On the newest page, new matching events are prepended live."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import dash
from dash import Input, Output, Patch, State, callback, html, no_update
from dash.exceptions import PreventUpdate

from backend.queries.event_log import search_events
from backend.queries.event_schemas import EventPage, EventQuery
from backend.queries.feed import site_options
from backend.web_context import current_principal, current_runtime, read_as_current_user
from components import ids
from components.events import event_rows, events_empty, events_page, events_pager, events_status
from components.live import new_live_events
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC

dash.register_page(__name__, path="/events", name="Events", title="Events · NOC Intelligence", order=60)


def layout(**query: Any) -> html.Div:
    criteria = EventQuery.from_query(query)
    sites = read_as_current_user(site_options)
    return events_page(criteria, sites, site_locked=current_principal().site_id is not None)


def _criteria(query_text: Any) -> EventQuery:
    text = query_text if isinstance(query_text, str) else ""
    return EventQuery.from_query(parse_qs(text.lstrip("?"), keep_blank_values=False))


@callback(Output(ids.EVENTS_LOCATION, "search"),
          Input(ids.EVENTS_TYPE_FILTER, "value"), Input(ids.EVENTS_SITE_FILTER, "value"),
          Input(ids.EVENTS_PERSON_FILTER, "value"), Input(ids.EVENTS_SINCE, "value"), Input(ids.EVENTS_UNTIL, "value"),
          State(ids.EVENTS_QUERY, "data"), prevent_initial_call=True)
def search(types: Any, site: Any, person: Any, since: Any, until: Any, current: Any) -> str:
    """A changed filter becomes the URL (a new search starts on the newest page); the page
    router then renders the page from it. Browser input is parsed like a URL: junk drops out."""
    criteria = EventQuery.from_query({
        "type": [t for t in types or () if isinstance(t, str)] if isinstance(types, list) else None,
        "site": str(site) if isinstance(site, int) and not isinstance(site, bool) else None,
        "person": person, "since": since, "until": until})
    text = criteria.to_query()
    if text == (current if isinstance(current, str) else ""):
        raise PreventUpdate
    return text


def _view(page: EventPage, seq: Any, added: int = 0) -> dict[str, Any]:
    return {"newest": page.items[0].id if page.items else 0, "count": len(page.items),
            "live": page.query.before is None, "seq": seq, "added": added}


@callback(Output(ids.EVENTS_BODY, "children"), Output(ids.EVENTS_TABLE_WRAP, "hidden"),
          Output(ids.EVENTS_EMPTY, "children"), Output(ids.EVENTS_PAGER, "children"),
          Output(ids.EVENTS_STATUS, "children"), Output(ids.EVENTS_SHOWN, "data"),
          Input(ids.EVENTS_QUERY, "data"), Input(LIVE_RESYNC, "data"), State(LIVE_EVENTS, "data"))
def show(query_text: Any, _resync: Any, live: dict[str, Any] | None) -> tuple[Any, ...]:
    criteria = _criteria(query_text)
    page = read_as_current_user(search_events, criteria, settings=current_runtime().settings)
    # Live events up to now are in the page already (or older than it): follow from here.
    seq = live.get("seq") if isinstance(live, dict) else None
    return (event_rows(page.items), not page.items, None if page.items else events_empty(page), events_pager(page),
            events_status(len(page.items), newest_page=criteria.before is None), _view(page, seq))


@callback(Output(ids.EVENTS_BODY, "children", allow_duplicate=True),
          Output(ids.EVENTS_TABLE_WRAP, "hidden", allow_duplicate=True),
          Output(ids.EVENTS_EMPTY, "children", allow_duplicate=True),
          Output(ids.EVENTS_STATUS, "children", allow_duplicate=True),
          Output(ids.EVENTS_SHOWN, "data", allow_duplicate=True),
          Input(LIVE_EVENTS, "data"), State(ids.EVENTS_QUERY, "data"), State(ids.EVENTS_SHOWN, "data"),
          prevent_initial_call=True)
def live(data: dict[str, Any] | None, query_text: Any, shown: dict[str, Any] | None) -> tuple[Any, ...]:
    """On the newest page: the matching events newer than the newest shown, prepended. The
    search itself decides what matches (one indexed read: id > newest), so live rows obey
    exactly the filters and visibility rules the page does."""
    if not isinstance(shown, dict) or not shown.get("live"):
        raise PreventUpdate
    events, seq, _gap = new_live_events(data, shown.get("seq"))
    newest = shown.get("newest")
    if not events or not isinstance(newest, int) or (seq is not None and seq == shown.get("seq")):
        raise PreventUpdate
    page = read_as_current_user(search_events, _criteria(query_text), settings=current_runtime().settings,
                                after=newest)
    if not page.items:
        return no_update, no_update, no_update, no_update, {**shown, "seq": seq}
    rows = event_rows(page.items, new=True)
    count, added = shown.get("count", 0) + len(rows), shown.get("added", 0) + len(rows)
    if shown.get("count"):
        body: Any = Patch()
        for row in reversed(rows):   # oldest first, so the newest ends on top
            body.prepend(row)
    else:
        body = rows
    return (body, False, None, events_status(count, newest_page=True, added=added),
            {**shown, "newest": page.items[0].id, "count": count, "added": added, "seq": seq})
