"""The active fraud model of a tenant, loaded from its UBJSON artifact and kept warm.

A scoring worker (non-forking) keeps one ``ModelCache`` per runtime. Every batch asks the
database which version is active (one indexed read); a different version than the cached
one is loaded (~2 ms), so activating or rolling back a model reaches every worker at its next
batch without a restart or a signal. A missing or unreadable artifact is reported once per
process and version, and the tenant is scored by the heuristic meanwhile."""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
import xgboost as xgb
from sqlalchemy.orm import Session

from backend.enums import ModelStatus
from backend.models import ModelVersion
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES, FEATURE_VERSION
from backend.scoring.features import FeatureBatch
from backend.scoring.sql import Query, param


@dataclass(frozen=True)
class LoadedModel:
    version_id: int
    version: int
    booster: xgb.Booster
    features: tuple[str, ...]
    threshold: float          # decision threshold on the raw probability, chosen at training

    def probabilities(self, batch: FeatureBatch) -> np.ndarray:
        if not len(batch):
            return np.zeros(0)
        return np.asarray(self.booster.inplace_predict(batch.matrix(self.features)), dtype=np.float64)

    def contributions(self, batch: FeatureBatch, rows: np.ndarray, *, exact: bool) -> np.ndarray:
        """Per-feature contributions (log-odds) of ``rows``: exact TreeSHAP (~1 ms a row) or
        the Saabas approximation (~10 us a row). Columns in ``features`` order (bias dropped)."""
        if not len(rows):
            return np.zeros((0, len(self.features)))
        matrix = batch.matrix(self.features)[rows]
        # nthread=1: a DMatrix with the default thread count costs ~10 ms to build, even for one row.
        data = xgb.DMatrix(matrix, missing=np.nan, feature_names=list(self.features), nthread=1)
        contribs = self.booster.predict(data, pred_contribs=True, approx_contribs=not exact, validate_features=False)
        return np.asarray(contribs)[:, :-1]


def to_score(probability: np.ndarray, threshold: float, anchor: float) -> np.ndarray:
    """The product score of a model probability: piecewise linear, with the model's decision
    threshold mapped onto the anomaly threshold ``anchor`` (and 0 -> 0, 1 -> 1). Monotone, so
    ranking metrics are unchanged, and "score >= anchor" means "the model flags it" whatever
    threshold training chose."""
    t = float(np.clip(threshold, 1e-6, 1 - 1e-6))
    return np.where(probability < t, probability / t * anchor, anchor + (probability - t) / (1 - t) * (1 - anchor))


def load_model(version_id: int, version: int, artifact: bytes | None, metrics: dict[str, object]) -> LoadedModel:
    """Raises ValueError when the artifact is missing or unreadable, or does not match what
    the version's metrics say about it."""
    if not artifact:
        raise ValueError("the model version has no artifact")
    features = tuple(metrics.get("features") or ())  # type: ignore[call-overload]
    threshold = metrics.get("threshold")
    if metrics.get("feature_version") != FEATURE_VERSION:
        raise ValueError(f"it was trained on feature definitions v{metrics.get('feature_version')}, these are "
                         f"v{FEATURE_VERSION}: retrain it")
    if not features or set(features) - set(FEATURE_NAMES):
        raise ValueError(f"the model's features {features!r} are not all computed by this version")
    if not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise ValueError(f"the model's decision threshold {threshold!r} is invalid")
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(artifact))
    except xgb.core.XGBoostError as exc:
        raise ValueError(f"the artifact is not a readable XGBoost model: {str(exc).splitlines()[0]}") from exc
    if booster.num_features() != len(features):
        raise ValueError(f"the artifact has {booster.num_features()} features, its metrics list {len(features)}")
    # One thread: a worker scores batches back to back; more workers scale out, not threads.
    booster.set_param({"nthread": 1})
    return LoadedModel(version_id, version, booster, features, float(threshold))


_ACTIVE = Query(lambda: sa.select(ModelVersion.id, ModelVersion.version).where(
    ModelVersion.tenant_id == param("tenant"), ModelVersion.status == ModelStatus.ACTIVE))


@dataclass(frozen=True)
class ModelState:
    model: LoadedModel | None
    failure: str | None = None      # set once, when this process first fails to load a version
    version: int | None = None      # the active version (even when it failed to load)


class ModelCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[int, LoadedModel] = {}   # tenant -> model
        self._failed: set[int] = set()              # version ids that failed to load here

    def active(self, session: Session, tenant_id: int) -> ModelState:
        rows = _ACTIVE.rows(session, tenant=tenant_id)
        row = rows[0] if rows else None
        if row is None:
            return ModelState(None)
        version_id, version = row
        with self._lock:
            cached = self._loaded.get(tenant_id)
            if cached is not None and cached.version_id == version_id:
                return ModelState(cached, version=version)
            if version_id in self._failed:
                return ModelState(None, version=version)
        artifact, metrics = session.execute(sa.select(ModelVersion.artifact, ModelVersion.metrics)
                                            .where(ModelVersion.id == version_id)).one()
        try:
            model = load_model(version_id, version, artifact, metrics or {})
        except ValueError as exc:
            with self._lock:
                self._failed.add(version_id)
                self._loaded.pop(tenant_id, None)
            return ModelState(None, failure=f"fraud model v{version} cannot be used ({exc}); "
                                            f"scoring falls back to the heuristic", version=version)
        with self._lock:
            self._loaded[tenant_id] = model
        return ModelState(model, version=version)


_caches: weakref.WeakKeyDictionary[Runtime, ModelCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def model_cache(runtime: Runtime) -> ModelCache:
    """The process's cache for this runtime (tests run several databases in one process)."""
    with _caches_lock:
        cache = _caches.get(runtime)
        if cache is None:
            cache = _caches[runtime] = ModelCache()
        return cache
