"""``flask --app app ml …``: train, list, activate, roll back and evaluate fraud models."""
from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from backend.events import EventPublisher
from backend.ml.evaluate import evaluate
from backend.ml.registry import RegistryError, activate, list_versions, rollback
from backend.ml.service import train_model
from backend.models import ModelVersion
from backend.runtime import Runtime
from backend.simulator import DEMO_SLUG
from backend.tenancy import tenant_by_slug

ml_cli = AppGroup("ml", help="Fraud models: train, list, activate, roll back, evaluate.")
_tenant_option = click.option("--tenant", "slug", default=DEMO_SLUG, show_default=True, help="Tenant slug.")


def _runtime() -> Runtime:
    return current_app.extensions["noc_runtime"]


def _tenant_id(slug: str) -> int:
    with _runtime().read() as session:
        tenant = tenant_by_slug(session, slug)
    if tenant is None:
        raise click.BadParameter(f"no tenant with slug {slug!r}", param_hint="--tenant")
    return tenant.id


@ml_cli.command("train")
@_tenant_option
def ml_train(slug: str) -> None:
    """Train now; activate if the gates pass and it beats the active model."""
    outcome = train_model(_runtime(), _tenant_id(slug), trigger="cli")
    click.echo(outcome.summary())
    for name, gate in (outcome.metrics.get("gates") or {}).items():
        click.echo(f"  gate {name:<9} {gate['value']:.3f} >= {gate['min']}: {'pass' if gate['passed'] else 'FAIL'}")
    comparison = outcome.metrics.get("comparison") or {}
    if comparison.get("active_version") is not None:
        click.echo(f"  active v{comparison['active_version']} PR-AUC on the same days: "
                   f"{comparison['active_pr_auc']:.3f}")


@ml_cli.command("list")
@_tenant_option
def ml_list(slug: str) -> None:
    """Model versions, newest first."""
    tenant_id = _tenant_id(slug)
    with _runtime().read() as session:
        for v in list_versions(session, tenant_id):
            m = v.metrics or {}
            figures = m.get("error") or (f"precision {m.get('precision', 0):.3f} recall {m.get('recall', 0):.3f} "
                                         f"F1 {m.get('f1', 0):.3f} PR-AUC {m.get('pr_auc', 0):.3f}")
            click.echo(f"v{v.version:<4} {v.status.value:<10} {v.trained_at:%Y-%m-%d %H:%M}  "
                       f"{'artifact' if v.artifact else 'no artifact':<12} {figures}")


@ml_cli.command("activate")
@click.argument("version", type=int)
@_tenant_option
@click.option("--force", is_flag=True, help="Also activate a version that failed its gates.")
def ml_activate(version: int, slug: str, force: bool) -> None:
    """Make VERSION the active model (workers switch at their next batch)."""
    active = _switch_model(slug, lambda session, events, tenant_id: activate(
        session, events, tenant_id, version, by="cli", allow_rejected=force))
    click.echo(f"model v{active} is active")


@ml_cli.command("rollback")
@_tenant_option
def ml_rollback(slug: str) -> None:
    """Re-activate the version that was active before the current one."""
    active = _switch_model(slug, rollback)
    click.echo(f"rolled back: model v{active} is active")


def _switch_model(slug: str, change: Callable[[Session, EventPublisher, int], ModelVersion]) -> int:
    """Run a registry change (activate / roll back) in one transaction and return the version
    now active; the registry's refusal is the command's error message."""
    runtime = _runtime()
    tenant_id = _tenant_id(slug)
    try:
        with runtime.transaction() as session:
            return change(session, runtime.events, tenant_id).version
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


@ml_cli.command("eval")
@_tenant_option
def ml_eval(slug: str) -> None:
    """Heuristic vs XGBoost vs IsolationForest on the held-out days, with recall per kind."""
    click.echo("\n".join(evaluate(_runtime(), _tenant_id(slug)).lines()))
