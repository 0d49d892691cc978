"""Models: the active fraud model and past versions with their figures; admins retrain,
activate and roll back. Model events from the socket re-render the page (a new version
changes every figure); training progress arrives the same way."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, Patch, State, callback, clientside_callback, html, no_update
from dash.exceptions import PreventUpdate

from backend.ml.models_page import activate_version, models_view, recent_scores, roll_back, start_retrain
from backend.ml.schemas import ActionResult, ModelsForbidden, ModelsView, TrainingStatus
from backend.web_context import act_as_current_user, current_principal
from components import ids
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from components.model_figures import RECENT_TRACE, recent_trace_name, shares
from components.models import (action_result, admin_toolbar, models_body, models_denied, models_page, models_status,
                               training_progress, version_options)

dash.register_page(__name__, path="/models", name="Models", title="Models · NOC Intelligence", order=90,
                   min_role="security_manager")


def layout(**_query: str) -> html.Div:
    try:
        return models_page(act_as_current_user(models_view))
    except ModelsForbidden:
        return models_denied(current_principal().role)


def _version(value: Any) -> int | None:
    # From the browser: a version number or nothing.
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _latest_training(events: Any) -> TrainingStatus | None:
    """The newest ``model_training`` stage among the events the bridge handed over."""
    stages = [s for s in (TrainingStatus.from_event(e) for e in events or ()) if s is not None]
    return stages[-1] if stages else None


# Only model events reach the server: the filter runs in the browser (assets/models.js).
clientside_callback(ClientsideFunction(namespace="nocModels", function_name="pick"),
                    Output(ids.MODELS_LIVE, "data"), Output(ids.MODELS_LIVE_SEQ, "data"),
                    Input(LIVE_EVENTS, "data"), State(ids.MODELS_LIVE_SEQ, "data"))


@callback(Output(ids.MODELS_STATUS, "children"), Output(ids.MODELS_ADMIN, "children"),
          Output(ids.MODELS_PROGRESS, "children"), Output(ids.MODELS_VERSION_PICK, "options"),
          Output(ids.MODELS_VERSION_PICK, "value"), Output(ids.MODELS_BODY, "children"),
          Input(ids.MODELS_LIVE, "data"), Input(LIVE_RESYNC, "data"), Input(ids.MODELS_VERSION_PICK, "value"),
          prevent_initial_call=True)
def refresh(live: Any, _resync: Any, picked: Any) -> tuple[Any, ...]:
    """Re-read the page on a model event, a resync or another version picked."""
    try:
        view: ModelsView = act_as_current_user(models_view, _version(picked))
    except ModelsForbidden:
        raise PreventUpdate from None
    heard = _latest_training(live.get("events") if isinstance(live, dict) else None)
    trigger = dash.ctx.triggered_id
    # The stage: what the socket just said, else the server's run; a finished run's result
    # stays on screen until the next run (a resync with nothing running clears it).
    if heard is not None and trigger == ids.MODELS_LIVE:
        progress: Any = training_progress(heard)
    elif view.training is not None or trigger == LIVE_RESYNC:
        progress = training_progress(view.training)
    else:
        progress = no_update
    shown = view.shown.version if view.shown else None
    return (models_status(view), admin_toolbar(view), progress, version_options(view), shown, models_body(view))


@callback(Output(ids.MODELS_FIG_SCORES, "figure"), Input(ids.MODELS_TICK, "n_intervals"),
          State(ids.MODELS_VERSION_PICK, "value"), prevent_initial_call=True)
def refresh_recent_scores(_tick: int | None, picked: Any) -> Patch:
    """The 7-day distribution is an aggregate: re-counted every few seconds at most, and only
    its trace is patched (the training side never changes)."""
    counts = act_as_current_user(recent_scores, _version(picked))
    if counts is None:
        raise PreventUpdate
    patch = Patch()
    patch["data"][RECENT_TRACE]["y"] = shares(counts)
    patch["data"][RECENT_TRACE]["name"] = recent_trace_name(counts)
    return patch


def _act(service: Callable[..., ActionResult], *args: Any) -> Any:
    """Run one admin action as the signed-in user; the answer says what it came to."""
    try:
        result = act_as_current_user(service, *args)
    except ModelsForbidden as exc:
        return action_result(False, f"Not allowed: {exc}.")
    return action_result(result.ok, result.message)


@callback(Output(ids.MODELS_ACTION_RESULT, "children", allow_duplicate=True),
          Input(ids.MODELS_RETRAIN, "n_clicks"), prevent_initial_call=True)
def retrain(n_clicks: int | None) -> Any:
    if not n_clicks:
        raise PreventUpdate
    return _act(start_retrain)


@callback(Output(ids.MODELS_ACTION_RESULT, "children", allow_duplicate=True),
          Input(ids.MODELS_CONFIRM_ACTIVATE, "submit_n_clicks"), State(ids.MODELS_VERSION_PICK, "value"),
          prevent_initial_call=True)
def activate(submitted: int | None, picked: Any) -> Any:
    version = _version(picked)
    if not submitted or version is None:
        raise PreventUpdate
    return _act(activate_version, version)


@callback(Output(ids.MODELS_ACTION_RESULT, "children", allow_duplicate=True),
          Input(ids.MODELS_CONFIRM_ROLLBACK, "submit_n_clicks"), prevent_initial_call=True)
def rollback(submitted: int | None) -> Any:
    if not submitted:
        raise PreventUpdate
    return _act(roll_back)
