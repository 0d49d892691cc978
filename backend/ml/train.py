"""Fitting the fraud model: gradient-boosted trees (XGBoost ``hist``) on the feature matrix.

Class imbalance (a few percent of check-ins are fraud): ``scale_pos_weight`` = negatives /
positives of the training part, so both classes weigh the same in the loss. Early stopping
on the validation slice's log loss (not PR-AUC: when the classes separate, PR-AUC peaks at
the first trees and would stop a model that is right but not yet confident; log loss keeps
rewarding confidence, so scores of clear cases end up near 1). The decision threshold is the
best-F1 cut on that slice (``metrics.best_f1_threshold``), never on the holdout the gates
judge."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb

from backend.ml.metrics import best_f1_threshold

PARAMS: dict[str, Any] = {
    "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "max_depth": 4,
    "eta": 0.1, "subsample": 0.9, "colsample_bytree": 0.9, "min_child_weight": 1.0, "max_bin": 256, "seed": 0,
}
MAX_ROUNDS = 300
EARLY_STOPPING_ROUNDS = 30
ROUNDS_WITHOUT_VALIDATION = 150
# Below this many rows one thread is faster: per-round thread synchronisation costs more than
# the split finding it shares (measured ~10x slower on 2 busy cores for 14k rows).
MULTI_THREAD_ROWS = 200_000


@dataclass(frozen=True)
class Fitted:
    booster: xgb.Booster
    threshold: float
    rounds: int
    params: dict[str, Any]


def fit(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *,
        feature_names: tuple[str, ...], threads: int = 0) -> Fitted:
    """``threads`` 0: one below ``MULTI_THREAD_ROWS`` training rows, else every core."""
    positives = int(np.sum(y_train == 1))
    if positives == 0 or positives == len(y_train):
        raise ValueError("the training part needs both fraud and honest check-ins")
    if threads == 0:
        threads = 1 if len(y_train) < MULTI_THREAD_ROWS else (os.cpu_count() or 1)
    params = {**PARAMS, "scale_pos_weight": (len(y_train) - positives) / positives, "nthread": threads}
    names = list(feature_names)
    train = xgb.DMatrix(x_train, label=y_train, missing=np.nan, feature_names=names, nthread=threads)
    validating = len(y_val) > 0 and 0 < int(np.sum(y_val == 1)) < len(y_val)
    if validating:
        validation = xgb.DMatrix(x_val, label=y_val, missing=np.nan, feature_names=names, nthread=threads)
        booster = xgb.train(params, train, num_boost_round=MAX_ROUNDS, evals=[(validation, "validation")],
                            early_stopping_rounds=EARLY_STOPPING_ROUNDS, verbose_eval=False)
        booster = booster[: booster.best_iteration + 1]
        threshold = best_f1_threshold(y_val, predict(booster, x_val))
    else:
        booster = xgb.train(params, train, num_boost_round=ROUNDS_WITHOUT_VALIDATION, verbose_eval=False)
        threshold = 0.5
    threshold = float(np.clip(threshold, 1e-4, 1 - 1e-4))
    booster.set_attr(decision_threshold=repr(threshold))
    return Fitted(booster=booster, threshold=threshold, rounds=booster.num_boosted_rounds(), params=params)


def predict(booster: xgb.Booster, x: np.ndarray) -> np.ndarray:
    return np.asarray(booster.inplace_predict(x), dtype=np.float64) if len(x) else np.zeros(0)


def importance(booster: xgb.Booster) -> dict[str, float]:
    """Share of the total gain per feature (features never split on are left out)."""
    gain = booster.get_score(importance_type="total_gain")
    total = sum(gain.values()) or 1.0
    return {name: round(value / total, 4) for name, value in sorted(gain.items(), key=lambda kv: -kv[1])}
