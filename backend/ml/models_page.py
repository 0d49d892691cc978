"""The Models page's services: what it shows, and the admin actions (retrain, activate, roll
back). Each checks the principal's role here, not only by hiding buttons, and works in the
principal's tenant only.

Retraining is queued (``jobs.enqueue_training``: one run per tenant at a time); its progress
and result reach the page as ``model_training`` / ``model_trained`` events over the socket."""
from __future__ import annotations

from datetime import datetime

from backend.auth.principal import Principal
from backend.enums import ModelStatus
from backend.ml.jobs import enqueue_training
from backend.ml.progress import current_run
from backend.ml.queries import model_detail, recent_histogram, rollback_target, versions
from backend.ml.registry import RegistryError, activate, rollback
from backend.ml.schemas import MANAGE_ROLE, VIEW_ROLE, ActionResult, ModelsForbidden, ModelsView, TrainingStatus
from backend.models import utcnow
from backend.runtime import Runtime

UI_TRIGGER = "ui"


def can_view(principal: Principal) -> bool:
    return principal.at_least(VIEW_ROLE)


def can_manage(principal: Principal) -> bool:
    # Site-scoped admins change nothing tenant-wide: the model scores every site.
    return principal.at_least(MANAGE_ROLE) and principal.site_id is None


def _require_view(principal: Principal) -> None:
    if not can_view(principal):
        raise ModelsForbidden(f"the {principal.role.value} role may not see the fraud models")


def _require_manage(principal: Principal) -> None:
    if not can_manage(principal):
        raise ModelsForbidden("only tenant-wide admins may retrain, activate or roll back models")


def _actor(principal: Principal) -> str:
    return f"{principal.name} (user {principal.user_id})" if principal.user_id is not None else principal.name


def models_view(runtime: Runtime, principal: Principal, version: int | None = None,
                now: datetime | None = None) -> ModelsView:
    """The versions, the figures of ``version`` (default: the active one, else the newest) and
    the tenant's training run, if one is queued or running."""
    _require_view(principal)
    with runtime.read() as session:
        found = versions(session, principal.tenant_id)
        rows = [row for row, _metrics, _id in found]
        active = next((row.version for row in rows if row.status is ModelStatus.ACTIVE), None)
        wanted = version if any(r.version == version for r in rows) else (active or (rows[0].version if rows else None))
        shown = next((model_detail(session, principal, row, metrics, model_id, now or utcnow())
                      for row, metrics, model_id in found if row.version == wanted), None)
    run = current_run(runtime, principal.tenant_id)
    training = TrainingStatus(run_id=run.run_id, stage=run.stage, trigger=run.trigger, by=run.by,
                              started_at=run.started_at) if run is not None else None
    return ModelsView(versions=tuple(rows), active_version=active, shown=shown, rollback_to=rollback_target(rows),
                      can_manage=can_manage(principal), training=training)


def recent_scores(runtime: Runtime, principal: Principal, version: int | None,
                  now: datetime | None = None) -> tuple[int, ...] | None:
    """The last days' score histogram of ``version`` (default: the active one); None when
    there is no such version or it stored no training histogram to compare with."""
    _require_view(principal)
    with runtime.read() as session:
        found = versions(session, principal.tenant_id)
        active = next((row.version for row, _m, _i in found if row.status is ModelStatus.ACTIVE), None)
        wanted = version or active
        for row, metrics, model_id in found:
            if row.version == wanted and metrics.get("training_score_histogram"):
                return recent_histogram(session, principal, model_id, now or utcnow())
    return None


def start_retrain(runtime: Runtime, principal: Principal) -> ActionResult:
    """Queue a training of the principal's tenant; refused while one is queued or running."""
    _require_manage(principal)
    run = enqueue_training(runtime, principal.tenant_id, trigger=UI_TRIGGER, by=_actor(principal))
    if run is None:
        return ActionResult(ok=False, message="A training is already queued or running: wait for its result.")
    return ActionResult(ok=True, message="Training queued.", run_id=run.run_id)


def activate_version(runtime: Runtime, principal: Principal, version: int) -> ActionResult:
    """Make ``version`` the active model (never one that failed its gates from the UI: the CLI's
    ``--force`` is for that)."""
    _require_manage(principal)
    try:
        with runtime.transaction() as session:
            row = activate(session, runtime.events, principal.tenant_id, version, by=_actor(principal))
            return ActionResult(ok=True, message=f"Model v{row.version} is active.", version=row.version)
    except RegistryError as exc:
        return ActionResult(ok=False, message=f"Not activated: {exc}.")


def roll_back(runtime: Runtime, principal: Principal) -> ActionResult:
    """Re-activate the version that was active before the current one."""
    _require_manage(principal)
    try:
        with runtime.transaction() as session:
            row = rollback(session, runtime.events, principal.tenant_id)
            return ActionResult(ok=True, message=f"Rolled back: model v{row.version} is active.", version=row.version)
    except RegistryError as exc:
        return ActionResult(ok=False, message=f"Not rolled back: {exc}.")
