"""Live feed: the latest ingested events of the user's tenant (and site scope), filterable by
type and site, refreshed every ~2 s."""
from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, html
from dash.exceptions import PreventUpdate

from backend.enums import InputType
from backend.queries.feed import latest_events, site_options
from backend.web_context import current_principal, read_as_current_user
from components import ids
from components.feed import feed_list, feed_page, feed_status

dash.register_page(__name__, path="/", name="Live feed", title="Live feed · NOC Intelligence", order=0)

FEED_LIMIT = 100
_TYPE_VALUES = frozenset(t.value for t in InputType)


def layout(**_query: str) -> html.Div:
    sites = read_as_current_user(site_options)
    return feed_page(sites, site_locked=current_principal().site_id is not None)


def _types(values: Any) -> list[InputType]:
    # Callback inputs come from the browser: ignore anything that is not a known type.
    return sorted(InputType(v) for v in values or () if isinstance(v, str) and v in _TYPE_VALUES)


def _site(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# The one refresh callback. Its trigger (the interval) is what the live socket store replaces
# later; the rest stays. It re-renders only when the shown events or filters change.
@callback(Output(ids.FEED_LIST, "children"), Output(ids.FEED_STATUS, "children"),
          Output(ids.FEED_SHOWN, "data"),
          Input(ids.FEED_TICK, "n_intervals"), Input(ids.FEED_TYPE_FILTER, "value"),
          Input(ids.FEED_SITE_FILTER, "value"),
          State(ids.FEED_SITE_FILTER, "disabled"), State(ids.FEED_SHOWN, "data"))
def refresh(_tick: int | None, type_values: Any, site_value: Any, site_locked: bool | None,
            shown: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    types, site_id = _types(type_values), _site(site_value)
    items = read_as_current_user(latest_events, types=types, site_id=site_id, limit=FEED_LIMIT)
    now_shown: dict[str, Any] = {"filters": [[t.value for t in types], site_id], "keys": [item.key for item in items]}
    if now_shown == shown:
        raise PreventUpdate  # nothing new: the browser keeps the DOM as it is (HTTP 204)
    # Rows that arrived since the last render stand out; a filter change is a fresh view.
    same_view = shown is not None and shown.get("filters") == now_shown["filters"]
    new_keys = set(now_shown["keys"]) - set(shown["keys"]) if same_view and shown else set()
    filtered = bool(types) or (site_id is not None and not site_locked)
    return (feed_list(items, filtered=filtered, new_keys=new_keys), feed_status(items, FEED_LIMIT),
            now_shown)
