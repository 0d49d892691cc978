"""Scores, reasons and anomaly types for a batch: by the active model when there is one, else
by the heuristic. Scores share one scale: >= the anomaly threshold means flagged.

Model reasons come from per-row feature contributions: exact TreeSHAP for the flagged rows of
a batch (up to ``scoring_exact_explain_max`` of them; ~1 ms a row), the Saabas approximation
(~10 us a row) for the other rows scoring at least ``scoring_explain_min_score``. Lower scores
carry no reasons: nothing about them is worth a sentence, and a backlog scores at full speed."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.config import Settings
from backend.enums import FraudKind, Scorer
from backend.scoring.catalog import FEATURE_NAMES, SPECS
from backend.scoring.features import FeatureBatch
from backend.scoring.heuristic import heuristic_scores
from backend.scoring.model import LoadedModel, to_score
from backend.scoring.reasons import DESCRIBERS, MAX_REASONS, Reason, RowView, explain, fraud_kinds, remarkable


@dataclass
class Scored:
    score: np.ndarray
    scorer: Scorer
    model: LoadedModel | None
    reasons: list[list[Reason]]          # per row, at most MAX_REASONS
    kinds: list[list[FraudKind]]         # per row: the fraud kinds found, strongest first
    names: dict[int, str]                # person id -> name, for the persons the batch cites


def score_batch(batch: FeatureBatch, model: LoadedModel | None, settings: Settings) -> Scored:
    """Pure computation on a loaded batch (no database: the worker's compute stage)."""
    anchor = settings.scoring_anomaly_threshold
    n = len(batch)
    names_order = [name for name in FEATURE_NAMES if name in DESCRIBERS]
    rem = remarkable(batch.values)
    worth = np.column_stack([rem[name] for name in names_order]) if n else np.zeros((0, len(names_order)), bool)
    if model is not None:
        score = to_score(model.probabilities(batch), model.threshold, anchor)
        weights = _model_weights(model, batch, score, anchor, settings, names_order)
        scorer = Scorer.MODEL
    else:
        result = heuristic_scores(batch.values, batch.context)
        score, weights, scorer = result.score, result.weights[:, [FEATURE_NAMES.index(f) for f in names_order]], \
            Scorer.HEURISTIC
    flagged = score >= anchor
    names = batch.names
    # Only rows worth explaining with a remarkable, positively weighted feature get sentences.
    explained = (score >= settings.scoring_explain_min_score)[:, None]
    candidate = np.where(worth & (weights > 0) & explained, weights, 0.0)
    reasons: list[list[Reason]] = [[] for _ in range(n)]
    kinds: list[list[FraudKind]] = [[] for _ in range(n)]
    rows = np.flatnonzero(candidate.max(axis=1, initial=0.0) > 0)
    row_candidates = candidate[rows]
    order = np.argsort(-row_candidates, axis=1)   # per row: feature positions, strongest first
    ranked_weights = np.take_along_axis(row_candidates, order, axis=1).tolist()
    for i, positions, row_weights, values, context in zip(rows.tolist(), order.tolist(), ranked_weights,
                                                           batch.rows(rows), _contexts(batch, rows)):
        ranked = [(names_order[j], w) for j, w in zip(positions, row_weights) if w > 0]
        described = explain(ranked, RowView(values, context, names))
        reasons[i] = described[:MAX_REASONS]
        kinds[i] = fraud_kinds(described)
    for i in np.flatnonzero(flagged).tolist():
        if not kinds[i]:
            # Flagged on values without a sentence: the strongest contributing feature's kind.
            strongest = [names_order[j] for j in np.argsort(-weights[i]) if weights[i, j] > 0]
            kinds[i] = [k for k in (SPECS[f].kind for f in strongest) if k is not None][:1]
    return Scored(score=score, scorer=scorer, model=model, reasons=reasons, kinds=kinds, names=names)


def _model_weights(model: LoadedModel, batch: FeatureBatch, score: np.ndarray, anchor: float, settings: Settings,
                   names_order: list[str]) -> np.ndarray:
    """Rows x ``names_order`` contributions (log-odds; 0 for rows not worth explaining and
    for features the model lacks)."""
    n = len(batch)
    contributions = np.zeros((n, len(model.features)))
    exact = np.flatnonzero(score >= anchor)[:settings.scoring_exact_explain_max]
    contributions[exact] = model.contributions(batch, exact, exact=True)
    approximate = np.setdiff1d(np.flatnonzero(score >= settings.scoring_explain_min_score), exact)
    contributions[approximate] = model.contributions(batch, approximate, exact=False)
    out = np.zeros((n, len(names_order)))
    for j, name in enumerate(names_order):
        if name in model.features:
            out[:, j] = contributions[:, model.features.index(name)]
    if "rule_score" in model.features:
        # The rules' score has no sentence of its own: credit its contribution to the features
        # of the rules that fired, in proportion to their weights.
        rules = heuristic_scores(batch.values, batch.context).weights[:, [FEATURE_NAMES.index(f) for f in names_order]]
        total = rules.sum(axis=1, keepdims=True)
        share = np.divide(rules, total, out=np.zeros_like(rules), where=total > 0)
        out += share * contributions[:, [model.features.index("rule_score")]]
    return out


def _contexts(batch: FeatureBatch, rows: np.ndarray) -> list[dict[str, object]]:
    """The context the reasons cite, per row of ``rows`` (NaN -> None)."""
    columns = {key: [None if value != value else value for value in column[rows].tolist()]   # NaN != NaN
               for key, column in batch.context.items()}
    return [dict(zip(columns, values)) for values in zip(*columns.values())] if columns else [{} for _ in rows]
