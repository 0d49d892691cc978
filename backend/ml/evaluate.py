"""What the model is worth: on a tenant's held-out (newest) days, precision / recall / PR-AUC
of the heuristic, of XGBoost (trained afresh exactly as ``ml train`` does, nothing stored), of
the active model if there is one, and of an unsupervised baseline (IsolationForest), with
recall per planted fraud kind. ``flask --app app ml eval`` / ``make eval`` print it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sklearn.ensemble import IsolationForest

from backend.ml.dataset import Dataset, build_dataset, time_split
from backend.ml.metrics import best_f1_threshold, binary_metrics, recall_by_kind
from backend.ml.service import _loadable_active, judge
from backend.ml.train import predict
from backend.models import utcnow
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES, SPECS
from backend.scoring.heuristic import heuristic_scores


@dataclass(frozen=True)
class ScorerReport:
    name: str
    precision: float
    recall: float
    f1: float
    pr_auc: float
    by_kind: dict[str, dict[str, float]]


@dataclass
class EvalReport:
    rows: int
    holdout_rows: int
    holdout_positives: int
    holdout_from: str
    scorers: list[ScorerReport] = field(default_factory=list)

    def lines(self) -> list[str]:
        kinds = sorted({k for s in self.scorers for k in s.by_kind})
        out = [f"held-out days from {self.holdout_from}: {self.holdout_rows:,} check-ins/outs, "
               f"{self.holdout_positives} labelled fraud (of {self.rows:,} in the training window)", ""]
        head = f"{'scorer':<22}{'precision':>10}{'recall':>8}{'F1':>7}{'PR-AUC':>8}"
        out.append(head + "".join(f"{k[:16]:>18}" for k in kinds))
        for s in self.scorers:
            cells = "".join(f"{_recall_cell(s.by_kind.get(k)):>18}" for k in kinds)
            out.append(f"{s.name:<22}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>7.3f}{s.pr_auc:>8.3f}" + cells)
        out.append("")
        out.append("per-kind columns: recall (flagged / cases) on the held-out days")
        return out


def _recall_cell(cell: dict[str, float] | None) -> str:
    return "-" if not cell else f"{cell['recall']:.2f} ({cell['flagged']:.0f}/{cell['cases']:.0f})"


def evaluate(runtime: Runtime, tenant_id: int, *, now: datetime | None = None) -> EvalReport:
    settings = runtime.settings
    now = now or utcnow()
    with runtime.read() as session:
        data = build_dataset(session, tenant_id, now, settings.ml_training_days)
        active = _loadable_active(session, tenant_id)
    split = time_split(data.t, settings.ml_holdout_fraction)
    hold = data.subset(split.holdout)
    report = EvalReport(rows=len(data), holdout_rows=len(hold), holdout_positives=int(hold.y.sum()),
                        holdout_from=datetime.fromtimestamp(split.holdout_start, UTC).isoformat(timespec="minutes"))
    anchor = settings.scoring_anomaly_threshold
    heuristic = heuristic_scores(hold.values, hold.context).score
    report.scorers.append(_report("heuristic", hold, heuristic, anchor))
    _status, metrics, booster = judge(data, None, settings)
    report.scorers.append(_report("xgboost (fresh)", hold, predict(booster, hold.matrix()), metrics["threshold"]))
    if active is not None:
        report.scorers.append(_report(f"xgboost active v{active.version}", hold,
                                      predict(active.booster, hold.matrix(names=active.features)), active.threshold))
    report.scorers.append(_isolation_forest(data, split.train, split.validation, hold))
    return report


def _report(name: str, hold: Dataset, score: np.ndarray, threshold: float) -> ScorerReport:
    m = binary_metrics(hold.y, score, threshold)
    return ScorerReport(name, m["precision"], m["recall"], m["f1"], m["pr_auc"],
                        recall_by_kind(hold.y, hold.kind, score >= threshold))


# The unsupervised baseline sees the raw signals only, not the rules' verdict.
_RAW_FEATURES = tuple(n for n in FEATURE_NAMES if n != "rule_score")


def _isolation_forest(data: Dataset, train: np.ndarray, validation: np.ndarray, hold: Dataset) -> ScorerReport:
    """Unsupervised: fit on the training days without labels; anomaly score = -score_samples;
    its threshold is the best-F1 cut on the validation slice (a fair comparison)."""
    def filled(rows: np.ndarray | None, source: Dataset) -> np.ndarray:
        m = source.matrix(rows, _RAW_FEATURES)
        return np.where(np.isnan(m), np.array([SPECS[n].fill for n in _RAW_FEATURES], dtype=np.float32), m)

    forest = IsolationForest(n_estimators=200, random_state=0, n_jobs=1).fit(filled(train, data))
    threshold = best_f1_threshold(data.y[validation], -forest.score_samples(filled(validation, data)))
    return _report("isolation forest", hold, -forest.score_samples(filled(None, hold)), threshold)
