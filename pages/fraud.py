"""Fraud: live high-risk persons (score ≥ the anomaly threshold in the last 24 h), the score
distribution, the 30-day trend and where/when flagged check-ins cluster.

Anomaly events from the live socket patch the table (the person's row moves to its place,
highlighted) and the distribution; they also enable a throttle that rebuilds every aggregate
once, at most every few seconds. A resync, or a minute without events, rebuilds the view."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from backend.queries.access import FRAUD_READER, NotAllowed
from backend.queries.fraud import HIGH_RISK_LIMIT, fraud_overview, fraud_rows
from backend.queries.fraud_schemas import SCORE_BINS, FraudOverview, score_bin
from backend.web_context import current_runtime, read_as_current_user
from components import ids
from components.fraud import (access_denied, figures, fraud_page, fraud_status, new_flagged_events,
                              patch_distribution, patch_rows, risk_rows, row_key)
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC

dash.register_page(__name__, path="/fraud", name="Fraud", title="Fraud · NOC Intelligence", order=15,
                   min_role=FRAUD_READER)

FRESH_S = 30   # a row patched in by a live event stays highlighted across rebuilds this long


def _threshold() -> float:
    return current_runtime().settings.scoring_anomaly_threshold


def _state(view: FraudOverview, seq: int | None, fresh: dict[str, float]) -> dict[str, Any]:
    return {"order": [row_key(r) for r in view.high_risk], "bins": list(view.bins), "seq": seq,
            "as_of": datetime.now(UTC).isoformat(), "fresh": fresh}


def _valid(state: Any) -> bool:
    # The state comes back from the browser: patch only from a state of the shape we wrote.
    return (isinstance(state, dict) and isinstance(state.get("bins"), list) and len(state["bins"]) == SCORE_BINS
            and all(isinstance(b, int) for b in state["bins"]) and isinstance(state.get("order"), list)
            and all(isinstance(k, list) and len(k) == 3 and all(isinstance(v, (int, float)) for v in k)
                    for k in state["order"])
            and isinstance(state.get("fresh"), dict) and (state.get("seq") is None or isinstance(state["seq"], int)))


def layout(**_query: str) -> Any:
    try:
        view = read_as_current_user(fraud_overview, threshold=_threshold())
    except NotAllowed as exc:
        return access_denied(exc.needed, "Fraud detail")
    return fraud_page(view, _state(view, None, {}))


@callback(Output(ids.FRAUD_STATUS, "children"), Output(ids.FRAUD_TABLE_BODY, "children"),
          Output(ids.FRAUD_EMPTY, "is_open"), Output(ids.FRAUD_DISTRIBUTION, "figure"),
          Output(ids.FRAUD_TREND, "figure"), Output(ids.FRAUD_SITE_MAP, "figure"),
          Output(ids.FRAUD_SITE_HOURS, "figure"), Output(ids.FRAUD_STATE, "data"),
          Output(ids.FRAUD_REFRESH, "disabled"),
          Input(ids.FRAUD_REFRESH, "n_intervals"), Input(ids.FRAUD_SLOW_TICK, "n_intervals"),
          Input(LIVE_RESYNC, "data"), State(ids.FRAUD_STATE, "data"), prevent_initial_call=True)
def refresh(_throttled: Any, _slow: Any, _resync: Any, state: Any) -> tuple[Any, ...]:
    """Rebuilds the whole view (throttled after live events, on resync, and every minute)."""
    try:
        view = read_as_current_user(fraud_overview, threshold=_threshold())
    except NotAllowed:
        raise PreventUpdate from None
    now = time.time()
    fresh = {k: v for k, v in (state.get("fresh") or {}).items() if now - v < FRESH_S} if _valid(state) else {}
    seq = state.get("seq") if _valid(state) else None
    new = {int(k) for k in fresh}
    return (fraud_status(view), risk_rows(view.high_risk, view.threshold, new), not view.high_risk,
            *figures(view), _state(view, seq, fresh), True)


@callback(Output(ids.FRAUD_TABLE_BODY, "children", allow_duplicate=True),
          Output(ids.FRAUD_EMPTY, "is_open", allow_duplicate=True),
          Output(ids.FRAUD_DISTRIBUTION, "figure", allow_duplicate=True),
          Output(ids.FRAUD_STATE, "data", allow_duplicate=True),
          Output(ids.FRAUD_REFRESH, "disabled", allow_duplicate=True),
          Input(LIVE_EVENTS, "data"), State(ids.FRAUD_STATE, "data"), prevent_initial_call=True)
def on_live(data: Any, state: Any) -> tuple[Any, ...]:
    """Patches the rows of the persons that anomaly events name and the score bins."""
    if not _valid(state):
        raise PreventUpdate
    news = new_flagged_events(data, state)
    if news is None:
        raise PreventUpdate
    flagged, seq, gap = news
    state = {**state, "seq": seq}
    if gap:  # events were missed: the throttled rebuild brings the view back in line
        return no_update, no_update, no_update, state, False
    if not flagged:
        return no_update, no_update, no_update, state, no_update
    threshold = _threshold()
    try:
        rows = read_as_current_user(fraud_rows, person_ids=sorted({p for p, _, _ in flagged}), threshold=threshold)
    except NotAllowed:
        raise PreventUpdate from None
    body, order = patch_rows(state["order"], rows, threshold, HIGH_RISK_LIMIT)
    bins, changed = list(state["bins"]), set()
    for _, score, _ in flagged:
        if score is not None:
            bins[score_bin(score)] += 1
            changed.add(score_bin(score))
    now = time.time()
    fresh = {**state["fresh"], **{str(r.person_id): now for r in rows}}
    return (body, False if order else no_update, patch_distribution(bins, changed) if changed else no_update,
            {**state, "order": order, "bins": bins, "fresh": fresh}, False)
