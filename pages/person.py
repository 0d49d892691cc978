"""One person: the evidence a security manager takes to HR — the 30-day score trend, the
check-in trail, every check-in with its score, anomalies and top reasons, the person's
tickets, and the CSV export (security manager and above).

A bad id, another tenant's person, or one outside the user's site scope shows "not found".
This person's anomaly events prepend their check-ins to the timeline at once (a Patch) and
enable a throttled rebuild of the rest."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from backend.exports import evidence_url
from backend.queries.access import FRAUD_READER, NotAllowed
from backend.queries.fraud_schemas import PersonDetail
from backend.queries.persons import person_checkins, person_detail
from backend.web_context import current_runtime, read_as_current_user
from components import ids
from components.fraud import access_denied, new_flagged_events
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from components.persons import (checkin_rows, person_figures, person_header, person_not_found, person_page,
                                prepend_checkins, tickets_body)

dash.register_page(__name__, path_template="/persons/<person_id>", name="Person",
                   title="Person · NOC Intelligence", nav=False, min_role=FRAUD_READER)

FRESH_S = 30
_ID = re.compile(r"\d{1,18}")


def _threshold() -> float:
    return current_runtime().settings.scoring_anomaly_threshold


def _person_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    return int(value) if isinstance(value, str) and _ID.fullmatch(value) else None


def _export_url(detail: PersonDetail) -> str | None:
    return evidence_url(detail.summary.person_id) if detail.may_export else None


def _state(detail: PersonDetail, seq: int | None, fresh: dict[str, float]) -> dict[str, Any]:
    return {"person_id": detail.summary.person_id, "seq": seq, "as_of": datetime.now(UTC).isoformat(),
            "shown": [c.event_id for c in detail.checkins], "fresh": fresh}


def _valid(state: Any) -> bool:
    return (isinstance(state, dict) and _person_id(state.get("person_id")) is not None
            and (state.get("seq") is None or isinstance(state["seq"], int)) and isinstance(state.get("as_of"), str)
            and isinstance(state.get("shown"), list) and isinstance(state.get("fresh"), dict))


def layout(person_id: str | None = None, **_query: str) -> Any:
    pid = _person_id(person_id)
    if pid is None:
        return person_not_found()
    try:
        detail = read_as_current_user(person_detail, pid, threshold=_threshold())
    except NotAllowed as exc:
        return access_denied(exc.needed, "A person's fraud evidence")
    if detail is None:
        return person_not_found()
    return person_page(detail, _export_url(detail), _state(detail, None, {}))


@callback(Output(ids.PERSON_HEADER, "children"), Output(ids.PERSON_TREND, "figure"),
          Output(ids.PERSON_TRAIL, "figure"), Output(ids.PERSON_TIMELINE_BODY, "children"),
          Output(ids.PERSON_TIMELINE_EMPTY, "is_open"), Output(ids.PERSON_TICKETS, "children"),
          Output(ids.PERSON_STATE, "data"), Output(ids.PERSON_REFRESH, "disabled"),
          Input(ids.PERSON_REFRESH, "n_intervals"), Input(ids.PERSON_SLOW_TICK, "n_intervals"),
          Input(LIVE_RESYNC, "data"), State(ids.PERSON_STATE, "data"), prevent_initial_call=True)
def refresh(_throttled: Any, _slow: Any, _resync: Any, state: Any) -> tuple[Any, ...]:
    if not _valid(state):
        raise PreventUpdate
    try:
        detail = read_as_current_user(person_detail, state["person_id"], threshold=_threshold())
    except NotAllowed:
        raise PreventUpdate from None
    if detail is None:
        raise PreventUpdate
    now = time.time()
    fresh = {k: v for k, v in state["fresh"].items() if isinstance(v, (int, float)) and now - v < FRESH_S}
    trend, trail = person_figures(detail)
    return (person_header(detail, _export_url(detail)), trend, trail,
            checkin_rows(detail, new={int(k) for k in fresh if k.isdigit()}), not detail.checkins,
            tickets_body(detail.tickets), _state(detail, state["seq"], fresh), True)


@callback(Output(ids.PERSON_TIMELINE_BODY, "children", allow_duplicate=True),
          Output(ids.PERSON_TIMELINE_EMPTY, "is_open", allow_duplicate=True),
          Output(ids.PERSON_STATE, "data", allow_duplicate=True),
          Output(ids.PERSON_REFRESH, "disabled", allow_duplicate=True),
          Input(LIVE_EVENTS, "data"), State(ids.PERSON_STATE, "data"), prevent_initial_call=True)
def on_live(data: Any, state: Any) -> tuple[Any, ...]:
    """This person's anomaly events: their check-ins go on top of the timeline now."""
    if not _valid(state):
        raise PreventUpdate
    news = new_flagged_events(data, state, person_id=state["person_id"])
    if news is None:
        raise PreventUpdate
    flagged, seq, gap = news
    state = {**state, "seq": seq}
    shown = set(state["shown"])
    wanted = sorted({d["attendance_event_id"] for _, _, d in flagged
                     if isinstance(d.get("attendance_event_id"), int) and d["attendance_event_id"] not in shown})
    if gap or (flagged and not wanted):
        return no_update, no_update, state, False
    if not wanted:
        return no_update, no_update, state, no_update
    try:
        checkins = read_as_current_user(person_checkins, state["person_id"], event_ids=wanted)
    except NotAllowed:
        raise PreventUpdate from None
    if not checkins:
        return no_update, no_update, state, False
    now = time.time()
    state = {**state, "shown": [*state["shown"], *(c.event_id for c in checkins)],
             "fresh": {**state["fresh"], **{str(c.event_id): now for c in checkins}}}
    return prepend_checkins(checkins, _threshold()), False, state, False
