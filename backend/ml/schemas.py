"""What the Models page reads and what its actions answer: plain, frozen values.

Components import these (and only these) from the ML package, so this module stays free of
SQLAlchemy, Redis and Dash."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.enums import FINAL_TRAINING_STAGES, ModelStatus, Role, TrainingStage

# Who may look at the models, and who may retrain, activate and roll back.
VIEW_ROLE = Role.SECURITY_MANAGER
MANAGE_ROLE = Role.ADMIN
HISTOGRAM_BINS = 20      # score bins over [0, 1] (the training histogram has the same)
RECENT_DAYS = 7


class ModelsForbidden(PermissionError):
    """The principal's role may not see the models, or may not change them."""


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One trained version with its headline figures on the held-out days."""
    version: int
    status: ModelStatus
    trained_at: datetime                # UTC
    activated_at: datetime | None
    trigger: str | None                 # manual, ui, weekly, cli, start, …
    precision: float | None
    recall: float | None
    f1: float | None
    pr_auc: float | None
    rows: int | None                    # labelled check-ins it learnt from (all splits)
    gates_passed: bool | None           # None: training did not get as far as the gates
    error: str | None                   # why training could not run
    has_artifact: bool                  # only the newest artifacts are kept: else not activatable

    @property
    def activatable(self) -> bool:
        return self.has_artifact and self.status in (ModelStatus.CANDIDATE, ModelStatus.RETIRED)


@dataclass(frozen=True, slots=True)
class PrPoint:
    recall: float
    precision: float
    threshold: float


@dataclass(frozen=True, slots=True)
class Confusion:
    tp: int
    fp: int
    fn: int
    tn: int


@dataclass(frozen=True, slots=True)
class Gate:
    name: str
    value: float
    minimum: float
    passed: bool


@dataclass(frozen=True, slots=True)
class ModelDetail:
    """The figures of one version: PR curve, confusion matrix and gates on its held-out days,
    feature importance, and its score distribution in training against the last days."""
    version: int
    status: ModelStatus
    threshold: float | None
    holdout_from: datetime | None
    pr_curve: tuple[PrPoint, ...]
    confusion: Confusion | None
    gates: tuple[Gate, ...]
    importance: tuple[tuple[str, float], ...]      # (feature, share of the gain), largest first
    training_histogram: tuple[int, ...]            # HISTOGRAM_BINS counts (empty: not stored)
    recent_histogram: tuple[int, ...]              # HISTOGRAM_BINS counts of the last RECENT_DAYS
    recent_site_scoped: bool                       # recent counts cover the principal's one site


@dataclass(frozen=True, slots=True)
class TrainingStatus:
    """A training run's stage: the tenant's queued or running one (from the server), or the
    latest ``model_training`` event a page heard (then ``version``/``message`` may say how it
    ended)."""
    run_id: str
    stage: TrainingStage
    trigger: str
    by: str
    started_at: datetime | None = None
    version: int | None = None
    message: str | None = None

    @property
    def finished(self) -> bool:
        return self.stage in FINAL_TRAINING_STAGES

    @classmethod
    def from_event(cls, event: Any) -> "TrainingStatus | None":
        """From a ``model_training`` envelope as the browser hands it back (untrusted: anything
        malformed is None)."""
        data = event.get("data") if isinstance(event, dict) and event.get("type") == "model_training" else None
        if not isinstance(data, dict) or data.get("stage") not in _STAGE_VALUES:
            return None
        version, message = data.get("version"), data.get("message")
        return cls(run_id=str(data.get("run") or ""), stage=TrainingStage(data["stage"]),
                   trigger=str(data.get("trigger") or ""), by=str(data.get("by") or ""),
                   version=version if isinstance(version, int) and not isinstance(version, bool) else None,
                   message=message[:300] if isinstance(message, str) else None)


_STAGE_VALUES = frozenset(stage.value for stage in TrainingStage)


@dataclass(frozen=True, slots=True)
class ModelsView:
    """Everything the Models page shows at once."""
    versions: tuple[VersionRow, ...]               # newest first
    active_version: int | None                     # None: the heuristic scores check-ins
    shown: ModelDetail | None                      # the version whose figures are shown
    rollback_to: int | None                        # what a rollback would re-activate
    can_manage: bool                               # retrain / activate / roll back allowed
    training: TrainingStatus | None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a retrain / activate / rollback request came to, in words for the user."""
    ok: bool
    message: str
    run_id: str | None = None
    version: int | None = None
