"""Evaluation figures stored with every model version and printed by ``ml eval``."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve

PR_CURVE_POINTS = 50


def binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, Any]:
    """Precision, recall, F1 at ``threshold``, PR-AUC (average precision), the confusion
    matrix and a downsampled PR curve."""
    predicted = score >= threshold
    tp = int(np.sum(predicted & (y == 1)))
    fp = int(np.sum(predicted & (y == 0)))
    fn = int(np.sum(~predicted & (y == 1)))
    tn = int(np.sum(~predicted & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "pr_auc": round(pr_auc(y, score), 4), "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
            "pr_curve": pr_curve(y, score), "rows": int(len(y)), "positives": int(np.sum(y == 1))}


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(average_precision_score(y, score)) if np.any(y == 1) and np.any(y == 0) else 0.0


def pr_curve(y: np.ndarray, score: np.ndarray) -> list[dict[str, float]]:
    if not (np.any(y == 1) and np.any(y == 0)):
        return []
    precision, recall, thresholds = precision_recall_curve(y, score)
    picks = np.unique(np.linspace(0, len(thresholds) - 1, min(PR_CURVE_POINTS, len(thresholds))).astype(int))
    return [{"threshold": round(float(thresholds[i]), 4), "precision": round(float(precision[i]), 4),
             "recall": round(float(recall[i]), 4)} for i in picks]


def recall_by_kind(y: np.ndarray, kind: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in sorted({str(k) for k in kind[y == 1]}):
        cases = (kind == name) & (y == 1)
        hits = int(np.sum(predicted & cases))
        out[name] = {"cases": int(cases.sum()), "flagged": hits, "recall": round(hits / int(cases.sum()), 4)}
    return out


def best_f1_threshold(y: np.ndarray, score: np.ndarray, default: float = 0.5) -> float:
    """The decision threshold with the best F1 on (validation) data. Among the cut points that
    reach it, the middle one: the widest margin on both sides for data not seen yet. A cut
    point lies halfway between two neighbouring distinct scores."""
    if not np.any(y == 1):
        return default
    values = np.unique(score)
    if len(values) < 2:
        return default
    cuts = (values[1:] + values[:-1]) / 2
    order = np.argsort(score)
    sorted_y, sorted_score = y[order], score[order]
    # Positives and negatives at or above each cut, by cumulative counts from the top.
    above = len(score) - np.searchsorted(sorted_score, cuts, side="left")
    positives_above = np.cumsum(sorted_y[::-1])[above - 1]
    precision = positives_above / above
    recall = positives_above / sorted_y.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)
    return float(cuts[best[len(best) // 2]])
