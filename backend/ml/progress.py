"""Queued training runs: one at a time per tenant, and their progress as live events.

A run holds a Redis key per tenant (``SET NX`` with a TTL a little past the job timeout) whose
value says which run and job it is and the stage reached, so a page loaded mid-run shows where
it is. Each stage is published as a ``model_training`` event (``data``: run, stage, trigger,
by, version and message when known). The key is released when the job ends; a key whose job
RQ no longer runs (a worker killed hard) is taken over by the next run instead of blocking
retraining until the TTL."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

from backend.enums import EventType, TrainingStage
from backend.models import utcnow
from backend.runtime import Runtime

RUN_KEY_PREFIX = "noc:ml:training:"   # + tenant id -> the running run (JSON)
_DEAD_JOB_STATES = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})
# Deletes the key only if it still holds this run (a run never releases its successor's key).
_RELEASE = """
local value = redis.call('GET', KEYS[1])
if value and cjson.decode(value)['run'] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def run_key(tenant_id: int) -> str:
    return f"{RUN_KEY_PREFIX}{tenant_id}"


@dataclass(frozen=True)
class TrainingRun:
    """A queued or running training of one tenant."""
    tenant_id: int
    run_id: str
    job_id: str
    trigger: str
    by: str
    stage: TrainingStage
    started_at: datetime

    def as_json(self) -> str:
        return json.dumps({"run": self.run_id, "job": self.job_id, "trigger": self.trigger, "by": self.by,
                           "stage": self.stage.value, "started_at": self.started_at.isoformat()})

    @classmethod
    def from_json(cls, tenant_id: int, raw: bytes | str) -> "TrainingRun | None":
        try:
            value = json.loads(raw)
            return cls(tenant_id=tenant_id, run_id=str(value["run"]), job_id=str(value["job"]),
                       trigger=str(value["trigger"]), by=str(value["by"]), stage=TrainingStage(value["stage"]),
                       started_at=datetime.fromisoformat(value["started_at"]))
        except (ValueError, KeyError, TypeError):
            return None


def new_run(tenant_id: int, trigger: str, by: str) -> TrainingRun:
    run_id = uuid.uuid4().hex[:12]
    return TrainingRun(tenant_id=tenant_id, run_id=run_id, job_id=f"train-{tenant_id}-{run_id}", trigger=trigger,
                       by=by, stage=TrainingStage.QUEUED, started_at=utcnow())


def claim(runtime: Runtime, run: TrainingRun, ttl_s: int) -> TrainingRun | None:
    """Take the tenant's run slot for ``run``: None when it is taken, else ``run``. A slot held
    by a job RQ has finished with (or lost) is taken over."""
    key = run_key(run.tenant_id)
    for _ in range(2):
        if runtime.redis.set(key, run.as_json(), nx=True, ex=ttl_s):
            return run
        holder = current_run(runtime, run.tenant_id)
        if holder is not None and _job_alive(runtime.redis, holder.job_id):
            return None
        # The holder is gone: drop its key (only if unchanged meanwhile) and try once more.
        if holder is not None:
            release(runtime, holder)
        else:
            runtime.redis.delete(key)
    return None


def current_run(runtime: Runtime, tenant_id: int) -> TrainingRun | None:
    raw = runtime.redis.get(run_key(tenant_id))
    return TrainingRun.from_json(tenant_id, raw) if raw is not None else None


def release(runtime: Runtime, run: TrainingRun) -> None:
    runtime.redis.eval(_RELEASE, 1, run_key(run.tenant_id), run.run_id)


def _job_alive(connection: redis.Redis, job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status not in _DEAD_JOB_STATES


@dataclass(frozen=True)
class Progress:
    """What a queued job reports through: stage events, and the stage kept in the run's key."""
    runtime: Runtime
    run: TrainingRun

    def stage(self, stage: TrainingStage, **data: Any) -> None:
        """Publish a stage now, in a transaction of its own (it goes live at once)."""
        with self.runtime.transaction() as session:
            self.publish(session, stage, **data)

    def publish(self, session: Session, stage: TrainingStage, **data: Any) -> None:
        """Publish a stage inside the caller's transaction (the final stage commits with the
        version it announces: a page that hears it finds the version listed)."""
        self.runtime.events.publish(session, EventType.MODEL_TRAINING, self.run.tenant_id, data={
            "run": self.run.run_id, "stage": stage.value, "trigger": self.run.trigger, "by": self.run.by, **data})
        # Only while the run still holds its key (KEEPTTL: its expiry stays).
        current = current_run(self.runtime, self.run.tenant_id)
        if current is not None and current.run_id == self.run.run_id:
            self.runtime.redis.set(run_key(self.run.tenant_id), replace(self.run, stage=stage).as_json(),
                                   xx=True, keepttl=True)
