"""The Models page's services and callbacks: what each role sees and may do, tenant isolation,
one retrain at a time, and a queued retrain run by a real RQ worker with its progress events."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from rq import SimpleWorker
from rq.job import Job

import workers.ml
from backend.auth.principal import Principal
from backend.enums import EventType, ModelStatus, Role, Scorer, TrainingStage
from backend.ml.jobs import enqueue_training
from backend.ml.models_page import activate_version, models_view, recent_scores, roll_back, start_retrain
from backend.ml.progress import current_run, run_key
from backend.ml.registry import activate, store_version
from backend.ml.schemas import HISTOGRAM_BINS, ModelsForbidden
from backend.models import AttendanceEvent, EventLogEntry, FraudPrediction, utcnow
from backend.queues import QueueName
from backend.runtime import Runtime
from components import ids
from components.shell import nav_links
from tests.factories import World
from tests.scoring.conftest import SMALL, seed
from tests.web import call_dash, callback_payload, logged_in_client, render_page


def _principal(world: World, role: Role, site_id: int | None = None) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=role, name=f"{role.value} user", user_id=1, site_id=site_id)


def _metrics(precision: float, trigger: str = "test") -> dict[str, Any]:
    """What training stores (backend.ml.service.judge), small."""
    return {"precision": precision, "recall": 0.9, "f1": 0.9, "pr_auc": 0.95, "threshold": 0.42, "trigger": trigger,
            "confusion": {"tp": 9, "fp": 1, "fn": 1, "tn": 189},
            "pr_curve": [{"threshold": t / 10, "precision": 0.5 + t / 20, "recall": 1 - t / 10} for t in range(10)],
            "gates": {"precision": {"value": precision, "min": 0.85, "passed": precision >= 0.85}},
            "gates_passed": precision >= 0.85, "rows": {"total": 200},
            "holdout_from": "2026-11-10T00:00:00+00:00",
            "training_score_histogram": [100] + [0] * (HISTOGRAM_BINS - 2) + [10]}


def _store(runtime: Runtime, world: World, n: int) -> list[int]:
    """``n`` versions (v1 active), with artifacts and importance; returns their row ids."""
    ids_: list[int] = []
    with runtime.transaction() as session:
        for i in range(n):
            row = store_version(session, world.tenant_id, status=ModelStatus.CANDIDATE, metrics=_metrics(0.9 + i / 100),
                                importance={"gps_accuracy": 0.6, "velocity_kmh": 0.4}, artifact=b"{}",
                                trained_at=utcnow() - timedelta(days=n - i))
            ids_.append(row.id)
        activate(session, runtime.events, world.tenant_id, 1, by="test")
    return ids_


def _predict(runtime: Runtime, world: World, model_id: int, scores: list[float], *, site: str = "S1",
             age: timedelta = timedelta(hours=1)) -> None:
    """Scored check-ins of the world's first person at ``site``."""
    with runtime.transaction() as session:
        for score in scores:
            ts = utcnow() - age
            event = AttendanceEvent(tenant_id=world.tenant_id, client_event_id=f"e-{score}-{ts.timestamp()}-{site}",
                                    person_id=world.person_ids["P1"], site_id=world.site_ids[site], kind="check_in",
                                    ts=ts, received_at=ts, lat=38.7, lon=-9.14)
            session.add(event)
            session.flush()
            session.add(FraudPrediction(tenant_id=world.tenant_id, attendance_event_id=event.id,
                                        person_id=world.person_ids["P1"], site_id=world.site_ids[site], ts=ts,
                                        score=score, scorer=Scorer.MODEL, model_version_id=model_id))


@pytest.fixture
def ml_queue(pg_runtime: Runtime) -> Iterator[None]:
    pg_runtime.queues[QueueName.ML].empty()
    yield
    pg_runtime.queues[QueueName.ML].empty()


def test_the_view_lists_versions_with_the_figures_of_the_active_one(pg_runtime: Runtime, world: World) -> None:
    model_ids = _store(pg_runtime, world, 3)
    _predict(pg_runtime, world, model_ids[0], [0.01, 0.02, 0.55, 1.0])
    _predict(pg_runtime, world, model_ids[0], [0.03], site="S2")
    _predict(pg_runtime, world, model_ids[0], [0.9], age=timedelta(days=8))   # older than the window
    _predict(pg_runtime, world, model_ids[1], [0.7])                          # another version's
    manager = _principal(world, Role.SECURITY_MANAGER)

    view = models_view(pg_runtime, manager)
    assert [row.version for row in view.versions] == [3, 2, 1] and view.active_version == 1
    assert not view.can_manage and view.training is None and view.rollback_to is None
    assert [row.status for row in view.versions] == [ModelStatus.CANDIDATE, ModelStatus.CANDIDATE, ModelStatus.ACTIVE]
    assert view.versions[0].precision == pytest.approx(0.92) and view.versions[0].rows == 200
    shown = view.shown
    assert shown is not None and shown.version == 1 and shown.threshold == 0.42
    assert shown.confusion is not None and shown.confusion.tp == 9 and len(shown.pr_curve) == 10
    assert shown.importance == (("gps_accuracy", 0.6), ("velocity_kmh", 0.4))
    assert [g.name for g in shown.gates] == ["precision"] and shown.gates[0].passed
    assert shown.training_histogram[0] == 100 and len(shown.training_histogram) == HISTOGRAM_BINS
    recent = shown.recent_histogram
    assert len(recent) == HISTOGRAM_BINS and sum(recent) == 5, "last 7 days, this version only, both sites"
    assert recent[0] == 3 and recent[11] == 1 and recent[-1] == 1, "1.0 falls in the last bin"

    other = models_view(pg_runtime, manager, version=2)
    assert other.shown is not None and other.shown.version == 2 and sum(other.shown.recent_histogram) == 1
    assert models_view(pg_runtime, manager, version=99).shown.version == 1, "an unknown version shows the active"
    site_scoped = models_view(pg_runtime, _principal(world, Role.SECURITY_MANAGER, site_id=world.site_ids["S2"]))
    assert sum(site_scoped.shown.recent_histogram) == 1 and site_scoped.shown.recent_site_scoped
    assert recent_scores(pg_runtime, manager, None) == recent


def test_roles_see_and_change_only_what_they_may(pg_runtime: Runtime, world: World, ml_queue: None) -> None:
    _store(pg_runtime, world, 2)
    for role in (Role.VIEWER, Role.OPERATOR):
        with pytest.raises(ModelsForbidden):
            models_view(pg_runtime, _principal(world, role))
    for role in (Role.SECURITY_MANAGER, Role.SUPERVISOR):
        assert not models_view(pg_runtime, _principal(world, role)).can_manage
        for action, args in ((start_retrain, ()), (activate_version, (2,)), (roll_back, ())):
            with pytest.raises(ModelsForbidden):
                action(pg_runtime, _principal(world, role), *args)
    scoped_admin = _principal(world, Role.ADMIN, site_id=world.site_ids["S1"])
    assert not models_view(pg_runtime, scoped_admin).can_manage
    with pytest.raises(ModelsForbidden):
        activate_version(pg_runtime, scoped_admin, 2)

    admin = _principal(world, Role.ADMIN)
    assert models_view(pg_runtime, admin).can_manage
    done = activate_version(pg_runtime, admin, 2)
    assert done.ok and done.version == 2 and models_view(pg_runtime, admin).active_version == 2
    assert models_view(pg_runtime, admin).rollback_to == 1
    back = roll_back(pg_runtime, admin)
    assert back.ok and back.version == 1 and models_view(pg_runtime, admin).active_version == 1
    refused = activate_version(pg_runtime, admin, 7)
    assert not refused.ok and "no model version 7" in refused.message


def test_a_second_tenant_sees_and_changes_nothing_of_the_first(pg_runtime: Runtime, world: World,
                                                               other_world: World, ml_queue: None) -> None:
    model_ids = _store(pg_runtime, world, 2)
    _predict(pg_runtime, world, model_ids[0], [0.1])
    stranger = _principal(other_world, Role.ADMIN)
    view = models_view(pg_runtime, stranger)
    assert view.versions == () and view.shown is None and view.active_version is None
    assert recent_scores(pg_runtime, stranger, 1) is None
    assert not activate_version(pg_runtime, stranger, 2).ok
    assert not roll_back(pg_runtime, stranger).ok
    assert models_view(pg_runtime, _principal(world, Role.ADMIN)).active_version == 1, "unchanged"
    assert start_retrain(pg_runtime, stranger).ok
    assert current_run(pg_runtime, world.tenant_id) is None, "the other tenant's run is its own"
    assert models_view(pg_runtime, _principal(world, Role.ADMIN)).training is None


def test_one_retrain_at_a_time_and_a_dead_run_does_not_block(pg_runtime: Runtime, world: World, ml_queue: None) -> None:
    admin = _principal(world, Role.ADMIN)
    first = start_retrain(pg_runtime, admin)
    assert first.ok and first.run_id
    second = start_retrain(pg_runtime, admin)
    assert not second.ok and "already queued or running" in second.message
    assert enqueue_training(pg_runtime, world.tenant_id, trigger="weekly") is None, "the cron skips it too"
    run = current_run(pg_runtime, world.tenant_id)
    assert run is not None and run.run_id == first.run_id and run.stage is TrainingStage.QUEUED
    assert models_view(pg_runtime, admin).training.stage is TrainingStage.QUEUED
    assert pg_runtime.redis.ttl(run_key(world.tenant_id)) > 1800

    # The worker running it was killed hard and RQ forgot the job: the slot is taken over.
    Job.fetch(run.job_id, connection=pg_runtime.redis).delete()
    third = start_retrain(pg_runtime, admin)
    assert third.ok and third.run_id != first.run_id


def _events(runtime: Runtime, tenant_id: int, *types: EventType) -> list[EventLogEntry]:
    with runtime.read() as session:
        return list(session.scalars(sa.select(EventLogEntry).where(
            EventLogEntry.tenant_id == tenant_id, EventLogEntry.type.in_(types)).order_by(EventLogEntry.id)))


def test_a_queued_retrain_runs_on_a_worker_and_reports_each_stage(pg_runtime: Runtime, ml_queue: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed(pg_runtime, SMALL)
    monkeypatch.setattr(workers.ml, "get_runtime", lambda: pg_runtime)
    admin = Principal(tenant_id=seeded.tenant_id, role=Role.ADMIN, name="Ada", user_id=5)
    started = start_retrain(pg_runtime, admin)
    assert started.ok

    SimpleWorker([pg_runtime.queues[QueueName.ML]], connection=pg_runtime.redis).work(burst=True)

    stages = [(e.data["stage"], e.data["run"]) for e in _events(pg_runtime, seeded.tenant_id, EventType.MODEL_TRAINING)]
    assert stages == [(s.value, started.run_id) for s in (
        TrainingStage.QUEUED, TrainingStage.LOADING_DATA, TrainingStage.TRAINING, TrainingStage.EVALUATING,
        TrainingStage.ACTIVATED)]
    final = _events(pg_runtime, seeded.tenant_id, EventType.MODEL_TRAINING)[-1]
    assert final.data["version"] == 1 and final.data["by"] == "Ada (user 5)" and final.data["trigger"] == "ui"
    assert [e.type for e in _events(pg_runtime, seeded.tenant_id, EventType.MODEL_TRAINED,
                                    EventType.MODEL_ACTIVATED)] == [EventType.MODEL_TRAINED, EventType.MODEL_ACTIVATED]
    assert current_run(pg_runtime, seeded.tenant_id) is None, "the slot is free again"
    view = models_view(pg_runtime, admin)
    assert [row.version for row in view.versions] == [1] and view.active_version == 1
    assert view.versions[0].trigger == "ui" and view.shown.training_histogram


def test_a_failing_job_reports_failed_and_frees_the_slot(pg_runtime: Runtime, world: World, ml_queue: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers.ml, "get_runtime", lambda: pg_runtime)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("database went away")
    monkeypatch.setattr(workers.ml, "train_model_service", broken)
    assert start_retrain(pg_runtime, _principal(world, Role.ADMIN)).ok
    SimpleWorker([pg_runtime.queues[QueueName.ML]], connection=pg_runtime.redis).work(burst=True)
    stages = [e.data["stage"] for e in _events(pg_runtime, world.tenant_id, EventType.MODEL_TRAINING)]
    assert stages == [TrainingStage.QUEUED.value, TrainingStage.FAILED.value]
    assert current_run(pg_runtime, world.tenant_id) is None


def test_a_training_without_labels_ends_rejected_with_the_reason(pg_runtime: Runtime, world: World, ml_queue: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers.ml, "get_runtime", lambda: pg_runtime)
    assert start_retrain(pg_runtime, _principal(world, Role.ADMIN)).ok
    SimpleWorker([pg_runtime.queues[QueueName.ML]], connection=pg_runtime.redis).work(burst=True)
    final = _events(pg_runtime, world.tenant_id, EventType.MODEL_TRAINING)[-1]
    assert final.data["stage"] == TrainingStage.REJECTED.value and "labelled fraud" in final.data["message"]
    row = models_view(pg_runtime, _principal(world, Role.ADMIN)).versions[0]
    assert row.status is ModelStatus.REJECTED and row.error and not row.activatable


# -- over HTTP, as the browser drives it ------------------------------------------------------

def test_the_page_and_its_callbacks_per_role(app: Flask, pg_runtime: Runtime, world: World, ml_queue: None) -> None:
    _store(pg_runtime, world, 2)
    operator = logged_in_client(app, world.users[Role.OPERATOR])
    denied = render_page(app, operator, "/models").get_data(as_text=True)
    assert ids.MODELS_DENIED in denied and ids.MODELS_VERSIONS_TABLE not in denied

    manager = logged_in_client(app, world.users[Role.SECURITY_MANAGER])
    page = render_page(app, manager, "/models").get_data(as_text=True)
    assert ids.MODELS_VERSIONS_TABLE in page and ids.MODELS_FIG_PR in page and ids.MODELS_RETRAIN not in page
    retrain = callback_payload(app, ids.MODELS_ACTION_RESULT, {f"{ids.MODELS_RETRAIN}.n_clicks": 1},
                               input_id=ids.MODELS_RETRAIN)
    assert "Not allowed" in str(call_dash(manager, retrain).json["response"])
    assert current_run(pg_runtime, world.tenant_id) is None, "the server refused, not just the UI"

    admin = logged_in_client(app, world.users[Role.ADMIN])
    page = render_page(app, admin, "/models").get_data(as_text=True)
    assert ids.MODELS_RETRAIN in page and ids.MODELS_CONFIRM_ACTIVATE in page
    assert "Training queued" in str(call_dash(admin, retrain).json["response"])
    assert "already queued or running" in str(call_dash(admin, retrain).json["response"])
    activate_ = callback_payload(app, ids.MODELS_ACTION_RESULT,
                                 {f"{ids.MODELS_CONFIRM_ACTIVATE}.submit_n_clicks": 1,
                                  f"{ids.MODELS_VERSION_PICK}.value": 2}, input_id=ids.MODELS_CONFIRM_ACTIVATE)
    assert "Model v2 is active" in str(call_dash(admin, activate_).json["response"])
    tampered = {**activate_, "state": [{**activate_["state"][0], "value": "2; drop"}]}
    assert call_dash(admin, tampered).status_code == 204, "a non-integer version is ignored"

    # A model event heard over the socket re-renders the page with the stage it announced.
    event = {"id": 1, "type": "model_training", "tenant": world.tenant_id, "site": None,
             "data": {"run": "r1", "stage": "evaluating", "trigger": "ui", "by": "Ada"}}
    refresh = callback_payload(app, ids.MODELS_BODY, {f"{ids.MODELS_LIVE}.data": {"seq": 3, "gap": False,
                                                                                   "events": [event]},
                                                      f"{ids.MODELS_VERSION_PICK}.value": None},
                               changed=f"{ids.MODELS_LIVE}.data")
    response = call_dash(admin, refresh).json["response"]
    assert "Evaluating the gates" in str(response[ids.MODELS_PROGRESS]) and response[ids.MODELS_VERSION_PICK]["value"] == 2
    assert "Not allowed" not in str(response) and ids.MODELS_VERSIONS_TABLE in str(response[ids.MODELS_BODY])
    assert call_dash(operator, refresh).status_code == 204, "a denied role's refresh returns nothing"

    anonymous = app.test_client()
    assert call_dash(anonymous, refresh).status_code == 401


def test_the_menu_links_the_page_for_managers_and_up_only(world: World) -> None:
    registry = {"feed": {"name": "Live feed", "relative_path": "/"},
                "models": {"name": "Models", "relative_path": "/models", "min_role": "security_manager"}}
    for role, linked in ((Role.VIEWER, False), (Role.OPERATOR, False), (Role.SECURITY_MANAGER, True),
                         (Role.ADMIN, True)):
        names = [item.children.children for item in nav_links(registry, _principal(world, role))]
        assert ("Models" in names) is linked and "Live feed" in names


def test_the_recent_score_distribution_is_patched_into_its_trace(app: Flask, pg_runtime: Runtime, world: World) -> None:
    model_ids = _store(pg_runtime, world, 1)
    _predict(pg_runtime, world, model_ids[0], [0.01, 0.02, 0.03, 0.99])
    manager = logged_in_client(app, world.users[Role.SECURITY_MANAGER])
    tick = callback_payload(app, ids.MODELS_FIG_SCORES, {f"{ids.MODELS_TICK}.n_intervals": 1,
                                                         f"{ids.MODELS_VERSION_PICK}.value": 1})
    patch = call_dash(manager, tick).json["response"][ids.MODELS_FIG_SCORES]["figure"]
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    operations = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}
    assert operations[("data", 1, "y")][0] == 0.75 and operations[("data", 1, "y")][-1] == 0.25
    assert operations[("data", 1, "name")] == "last 7 days (4 check-ins)"
    unknown = callback_payload(app, ids.MODELS_FIG_SCORES, {f"{ids.MODELS_TICK}.n_intervals": 2,
                                                            f"{ids.MODELS_VERSION_PICK}.value": 9})
    assert call_dash(manager, unknown).status_code == 204
