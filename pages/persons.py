"""Persons: everyone of the user's sites, searchable by name or code, riskiest first, each
linking to the person's page. Anomaly events refresh the list (throttled)."""
from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from backend.queries.access import FRAUD_READER, NotAllowed
from backend.queries.persons import SEARCH_MAX, person_list
from backend.web_context import current_runtime, read_as_current_user
from components import ids
from components.fraud import access_denied, flagged_events
from components.live import new_live_events
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from components.persons import persons_page, persons_status, persons_table

dash.register_page(__name__, path="/persons", name="Persons", title="Persons · NOC Intelligence", order=18,
                   min_role=FRAUD_READER)


def _search(value: Any) -> str:
    return value[:SEARCH_MAX] if isinstance(value, str) else ""


def layout(q: str = "", **_query: str) -> Any:
    try:
        listing = read_as_current_user(person_list, threshold=current_runtime().settings.scoring_anomaly_threshold,
                                       search=_search(q))
    except NotAllowed as exc:
        return access_denied(exc.needed, "The persons list")
    return persons_page(listing)


@callback(Output(ids.PERSONS_LIST, "children"), Output(ids.PERSONS_STATUS, "children"),
          Output(ids.PERSONS_REFRESH, "disabled"),
          Input(ids.PERSONS_SEARCH, "value"), Input(ids.PERSONS_REFRESH, "n_intervals"), Input(LIVE_RESYNC, "data"),
          prevent_initial_call=True)
def refresh(search: Any, _throttled: Any, _resync: Any) -> tuple[Any, Any, bool]:
    try:
        listing = read_as_current_user(person_list, threshold=current_runtime().settings.scoring_anomaly_threshold,
                                       search=_search(search))
    except NotAllowed:
        raise PreventUpdate from None
    return persons_table(listing), persons_status(listing), True


@callback(Output(ids.PERSONS_REFRESH, "disabled", allow_duplicate=True), Output(ids.PERSONS_LIVE_SEQ, "data"),
          Input(LIVE_EVENTS, "data"), State(ids.PERSONS_LIVE_SEQ, "data"), prevent_initial_call=True)
def on_live(data: Any, last_seq: Any) -> tuple[Any, Any]:
    """A new anomaly changes someone's risk: enable the throttled refresh."""
    events, seq, gap = new_live_events(data if isinstance(data, dict) else None,
                                       last_seq if isinstance(last_seq, int) else None)
    if seq == last_seq:
        raise PreventUpdate
    return (False if gap or flagged_events(events) else no_update), seq
