"""Self-tuning baselines of site activity: per site x metric x hour of week (site-local).

**Samples.** Every audit cycle counts each site's activity over the last
``signal_window`` (60 min) up to its as-of instant: one sample per site and metric every 5
minutes, filed under the hour of week (Monday 00:00 = 0, in the site's time zone, DST-aware)
of the window's midpoint. An hour of week thus gets 12 samples a week.

**Centre and scale.** Robust: the median of the kept samples and 1.4826 x their median
absolute deviation (MAD; equals the standard deviation for normal data, ignores outliers).
Counts are low on small sites, where the MAD collapses to 0: the spread used is never below
the Poisson spread of the centre, ``sqrt(centre)``, nor below 1 (the count model for low
counts). ``z = (value - centre) / max(1.4826 MAD, sqrt(centre), 1)``.

**Anomaly.** Activity below baseline: ``z <= -threshold``. No anomaly while a profile has
fewer than ``min_samples`` (30) samples. The dynamic threshold::

    threshold = base (3.0)
                x stable_factor (0.85)      if samples > stable_samples (100): more sensitive
                x (1 + FP rate)             if FP rate > fp_limit (0.3): less sensitive
                capped at max_threshold (6.0)

**Incremental.** A profile keeps its newest ``keep`` (120) samples in ``state["v"]`` (a
bounded window, 10 weeks of one hour of week) and the epoch of the last sample it saw in
``state["last"]``; a cycle appends one value and recomputes the median/MAD of that window
(no rescans). A window already flagged (the site has an absence finding overlapping it, or
the sample itself is anomalous) is not learned: ``state["skipped"]`` counts those.
``sample_count`` counts every learned sample ever (stability), the window only the newest.
Sites without profiles are bootstrapped once from their history (``baseline_store``).

**Tuning.** Weekly, each (site, metric)'s false-positive rate is recomputed from the
dispositions of the tickets its findings opened, and with it every threshold (``tuning``)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from backend.audit.rules import BaselineRules
from backend.audit.signals import Metric

MAD_TO_SIGMA = 1.4826
MIN_SPREAD = 1.0


def fit(values: Sequence[float]) -> tuple[float, float]:
    """(median, 1.4826 x MAD) of the samples; (0, 0) without any. Plain Python: a profile's
    window is ~100 values, where numpy's per-call overhead costs more than the sorting."""
    if not len(values):
        return 0.0, 0.0
    centre = _median(sorted(values))
    return centre, MAD_TO_SIGMA * _median(sorted(abs(v - centre) for v in values))


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    return float(ordered[n // 2]) if n % 2 else float(ordered[n // 2 - 1] + ordered[n // 2]) / 2.0


def spread(centre: float, scale: float) -> float:
    """The scale a z-score divides by: the MAD scale, floored by the Poisson spread of the centre."""
    return max(scale, math.sqrt(max(centre, 0.0)), MIN_SPREAD)


def z_score(value: float, centre: float, scale: float) -> float:
    return (value - centre) / spread(centre, scale)


def dynamic_threshold(samples: int, fp_rate: float, rules: BaselineRules) -> float:
    threshold = rules.threshold
    if samples > rules.stable_samples:
        threshold *= rules.stable_factor
    if fp_rate > rules.fp_limit:
        threshold *= 1.0 + fp_rate
    return min(threshold, rules.max_threshold)


@dataclass(frozen=True)
class Assessment:
    value: float
    z: float
    threshold: float
    active: bool          # enough samples to judge
    anomalous: bool       # below baseline

    def band(self, centre: float, scale: float) -> tuple[float, float]:
        width = self.threshold * spread(centre, scale)
        return centre - width, centre + width


@dataclass(frozen=True)
class Profile:
    """One baseline_profiles row as the audit uses it (``id`` None: not stored yet)."""
    site_id: int
    metric: Metric
    hour_of_week: int
    id: int | None = None
    center: float = 0.0
    scale: float = 0.0
    sample_count: int = 0
    false_positive_rate: float = 0.0
    threshold: float = 3.0
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def last(self) -> float:
        """Epoch of the last sample this profile saw (learned or skipped); -1: none."""
        return float(self.state.get("last", -1.0))

    def assess(self, value: float, rules: BaselineRules) -> Assessment:
        threshold = dynamic_threshold(self.sample_count, self.false_positive_rate, rules)
        z = z_score(value, self.center, self.scale)
        active = self.sample_count >= rules.min_samples
        return Assessment(value=value, z=z, threshold=threshold, active=active, anomalous=active and z <= -threshold)

    def observe(self, value: float, at: float, learn: bool, rules: BaselineRules) -> "Profile":
        """The profile after seeing the sample at ``at``: learned (appended to the window and
        refitted) or, for a flagged window, only counted as skipped."""
        values = list(self.state.get("v", []))
        skipped = int(self.state.get("skipped", 0))
        count = self.sample_count
        centre, scale = self.center, self.scale
        if learn:
            values = (values + [compact(value)])[-rules.keep:]
            count += 1
            centre, scale = fit(values)
        else:
            skipped += 1
        return replace(self, center=centre, scale=scale, sample_count=count,
                       threshold=dynamic_threshold(count, self.false_positive_rate, rules),
                       state={"v": values, "last": at, "skipped": skipped})


def compact(value: float) -> float | int:
    """Counts as ints, other values to 2 decimals: the JSON window stays small."""
    return int(value) if float(value).is_integer() else round(float(value), 2)
