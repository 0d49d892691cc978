"""The Models page's pieces: status line, admin toolbar, training progress, version table,
figure grid, empty and denied states, and the page skeleton. Times are shown in UTC (a model
is tenant-wide: no site's zone applies)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from backend.enums import ModelStatus, Role, TrainingStage
from backend.ml.schemas import ModelDetail, ModelsView, TrainingStatus, VersionRow
from components import ids
from components.model_figures import (confusion_figure, importance_figure, pr_curve_figure,
                                      score_distribution_figure, themed)

WHO_MAY_VIEW = "security managers, supervisors and admins"   # backend.ml.schemas.VIEW_ROLE and up
SCORES_REFRESH_MS = 30_000   # the 7-day distribution is an aggregate: re-read at most this often

STATUS_COLORS: dict[ModelStatus, str] = {ModelStatus.ACTIVE: "success", ModelStatus.CANDIDATE: "info",
                                         ModelStatus.REJECTED: "danger", ModelStatus.RETIRED: "secondary"}
STAGE_LABELS: dict[TrainingStage, str] = {
    TrainingStage.QUEUED: "Queued: waiting for an ml worker",
    TrainingStage.LOADING_DATA: "Loading labelled check-ins",
    TrainingStage.TRAINING: "Training",
    TrainingStage.EVALUATING: "Evaluating the gates on the held-out days",
    TrainingStage.STORED: "Stored as a candidate: it passed the gates but does not beat the active model",
    TrainingStage.ACTIVATED: "Activated: check-ins are now scored by it",
    TrainingStage.REJECTED: "Rejected: it failed a validation gate",
    TrainingStage.FAILED: "Failed",
}
_RUNNING = (TrainingStage.QUEUED, TrainingStage.LOADING_DATA, TrainingStage.TRAINING, TrainingStage.EVALUATING)
_RESULT_COLORS = {TrainingStage.STORED: "info", TrainingStage.ACTIVATED: "success",
                  TrainingStage.REJECTED: "warning", TrainingStage.FAILED: "danger"}


def utc(ts: datetime | None) -> str:
    return f"{ts:%Y-%m-%d %H:%M} UTC" if ts is not None else "—"


def _figure(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "—"


def status_badge(status: ModelStatus) -> dbc.Badge:
    return dbc.Badge(status.value, color=STATUS_COLORS[status], className="models-status-badge")


def models_status(view: ModelsView) -> str:
    active = next((row for row in view.versions if row.version == view.active_version), None)
    if active is None:
        return "No active model: check-ins are scored by the heuristic rules."
    return (f"Scoring with model v{active.version} · trained {utc(active.trained_at)} · precision "
            f"{_figure(active.precision)} · recall {_figure(active.recall)} · PR-AUC {_figure(active.pr_auc)} "
            "· times in UTC")


def admin_toolbar(view: ModelsView) -> list[Any]:
    """Retrain, activate the shown version, roll back; each refused by the server for non-admins
    too. Activate and roll back ask for confirmation first."""
    if not view.can_manage:
        return []
    shown = next((row for row in view.versions if view.shown and row.version == view.shown.version), None)
    training = view.training is not None and not view.training.finished
    can_activate = shown is not None and shown.activatable
    return [
        dbc.Button([html.I(className="bi bi-arrow-repeat me-1"), "Retrain now"], id=ids.MODELS_RETRAIN,
                   color="primary", size="sm", className="me-2", disabled=training,
                   title="A training is running" if training else "Queue a training on the labelled history"),
        dcc.ConfirmDialogProvider(
            dbc.Button([html.I(className="bi bi-check2-circle me-1"),
                        f"Activate v{shown.version}" if shown else "Activate"],
                       id=ids.MODELS_ACTIVATE, color="success", outline=True, size="sm", className="me-2",
                       disabled=not can_activate),
            id=ids.MODELS_CONFIRM_ACTIVATE,
            message=(f"Activate model v{shown.version}? Every new check-in will be scored by it." if shown else "")),
        dcc.ConfirmDialogProvider(
            dbc.Button([html.I(className="bi bi-arrow-counterclockwise me-1"),
                        f"Roll back to v{view.rollback_to}" if view.rollback_to else "Roll back"],
                       id=ids.MODELS_ROLLBACK, color="warning", outline=True, size="sm",
                       disabled=view.rollback_to is None),
            id=ids.MODELS_CONFIRM_ROLLBACK,
            message=f"Roll back to model v{view.rollback_to}?" if view.rollback_to else ""),
    ]


def action_result(ok: bool, message: str) -> dbc.Alert:
    return dbc.Alert(message, color="success" if ok else "warning", className="py-1 px-2 mb-0 small",
                     dismissable=True)


def training_progress(status: TrainingStatus | None) -> Any:
    """The run's stage as a bar while it runs; its result once it ended."""
    if status is None:
        return []
    who = f" · started by {status.by}" if status.by else ""
    if status.stage in _RUNNING:
        step = _RUNNING.index(status.stage) + 1
        return html.Div([
            html.Div([html.Strong(STAGE_LABELS[status.stage]), html.Small(f" · step {step} of 5{who}",
                                                                          className="text-muted")]),
            dbc.Progress(value=step * 20, striped=True, animated=True, className="mt-1", style={"height": "8px"}),
        ], className="models-progress-running", **{"data-stage": status.stage.value})
    text = STAGE_LABELS[status.stage]
    if status.version is not None:
        text = f"v{status.version}: {text}"
    if status.message:
        text = f"{text} ({status.message})"
    return html.Div(dbc.Alert([html.I(className="bi bi-flag me-2"), text], color=_RESULT_COLORS[status.stage],
                              className="py-2 mb-0"), **{"data-stage": status.stage.value})


def _version_row(row: VersionRow, shown: int | None) -> html.Tr:
    outcome = row.error or ("gates passed" if row.gates_passed else "gates failed" if row.gates_passed is False else "")
    return html.Tr([
        html.Td(f"v{row.version}"), html.Td(status_badge(row.status)), html.Td(utc(row.trained_at)),
        html.Td(row.trigger or "—"), html.Td(_figure(row.precision)), html.Td(_figure(row.recall)),
        html.Td(_figure(row.f1)), html.Td(_figure(row.pr_auc)),
        html.Td(f"{row.rows:,}" if row.rows is not None else "—"),
        html.Td(outcome, className="small"),
        html.Td("" if row.has_artifact else "artifact pruned", className="small text-muted"),
    ], className="models-version-row" + (" table-active" if row.version == shown else ""),
        **{"data-version": str(row.version), "data-status": row.status.value})


def versions_table(view: ModelsView) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th(h) for h in ("Version", "Status", "Trained (UTC)", "Trigger", "Precision",
                                                    "Recall", "F1", "PR-AUC", "Rows", "Outcome", "")]))
    shown = view.shown.version if view.shown else None
    body = html.Tbody([_version_row(row, shown) for row in view.versions])
    return dbc.Table([head, body], id=ids.MODELS_VERSIONS_TABLE, hover=True, size="sm", responsive=True,
                     className="models-table align-middle")


def version_options(view: ModelsView) -> list[dict[str, Any]]:
    return [{"label": f"v{row.version} · {row.status.value} · {utc(row.trained_at)}", "value": row.version}
            for row in view.versions]


def figure_grid(detail: ModelDetail) -> dbc.Row:
    config = {"displaylogo": False, "displayModeBar": False}

    def cell(id_: str, figure: go.Figure) -> dbc.Col:
        return dbc.Col(dcc.Graph(id=id_, figure=themed(figure), config=config), lg=6, className="mb-3")

    return dbc.Row([cell(ids.MODELS_FIG_PR, pr_curve_figure(detail)),
                    cell(ids.MODELS_FIG_CONFUSION, confusion_figure(detail)),
                    cell(ids.MODELS_FIG_IMPORTANCE, importance_figure(detail)),
                    cell(ids.MODELS_FIG_SCORES, score_distribution_figure(detail))])


def models_empty(view: ModelsView) -> dbc.Alert:
    """No version yet: what scores meanwhile, and how to get a model."""
    how = ("Press “Retrain now” above" if view.can_manage
           else "An admin can press “Retrain now” on this page") + " or run "
    return dbc.Alert([
        html.I(className="bi bi-cpu me-2"), html.Strong("No model trained yet. "),
        "Check-ins are scored by the heuristic rules meanwhile. ", how,
        html.Code("flask --app app ml train --tenant <slug>"),
        ". Training needs labelled fraud: fraud tickets resolved as confirmed fraud or false positive "
        "(or the demo world's planted cases).",
    ], id=ids.MODELS_EMPTY, color="secondary", className="mt-2")


def models_body(view: ModelsView) -> list[Any]:
    if not view.versions or view.shown is None:
        return [models_empty(view)]
    return [figure_grid(view.shown), html.H6("Versions", className="mt-2"), versions_table(view)]


def models_denied(role: Role) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-lock me-2"),
                      f"The Models page is for {WHO_MAY_VIEW}; you are signed in as "
                      f"{role.value.replace('_', ' ')}."], id=ids.MODELS_DENIED, color="secondary", className="mt-2")


def models_page(view: ModelsView) -> html.Div:
    """The skeleton, filled with ``view``; callbacks re-render the parts on model events."""
    shown = view.shown.version if view.shown else None
    return html.Div([
        html.Div([html.H4("Models", className="mb-0 me-3"),
                  html.Small(models_status(view), id=ids.MODELS_STATUS, className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        html.Div([html.Div(admin_toolbar(view), id=ids.MODELS_ADMIN, className="d-flex align-items-center"),
                  html.Div(id=ids.MODELS_ACTION_RESULT, className="ms-3")],
                 className="d-flex align-items-center flex-wrap mb-2"),
        html.Div(training_progress(view.training), id=ids.MODELS_PROGRESS, className="mb-2"),
        dbc.Row(dbc.Col(dcc.Dropdown(id=ids.MODELS_VERSION_PICK, options=version_options(view), value=shown,
                                     clearable=False, searchable=False, placeholder="No versions yet"),
                        md=6, lg=4), className="mb-2"),
        html.Div(models_body(view), id=ids.MODELS_BODY),
        dcc.Store(id=ids.MODELS_LIVE), dcc.Store(id=ids.MODELS_LIVE_SEQ),
        dcc.Interval(id=ids.MODELS_TICK, interval=SCORES_REFRESH_MS),
    ])
