"""The cold-start scorer: documented rules over the same features the model reads, used until
a tenant has an active model (and whenever the model cannot be loaded).

Each rule that fires contributes a weight in (0, 1); the score combines them as a noisy OR,
``1 - prod(1 - w)``: one strong rule flags a check-in on its own, weak ones only together.
With the anomaly threshold at 0.5 and tickets at 0.8 (settings):

==========================================  ======  ==================  =========================
rule (feature)                              weight  points at           strong alone?
==========================================  ======  ==================  =========================
mock-location flag set                      0.90    gps_spoofing        ticket
implied travel >= 150 km/h from a recent    0.85    gps_spoofing        ticket
fix (velocity_kmh)
GPS fix reported at <= 3 m                  0.25    gps_spoofing        with another rule
>= 500 m outside the geofence               0.85    geofence_violation  ticket
150-500 m outside the geofence              0.35    geofence_violation  with another rule
another person punched from the same phone  0.90    buddy_punching      ticket
in the 15 min before, face match < 0.7
(or none)
... with a good face match (a borrowed      0.25    buddy_punching      with another rule
phone, mostly honest)
punched from a phone not the person's own   0.25    buddy_punching      with another rule
face match < 0.6                            0.35    buddy_punching      with another rule
no rostered shift within 4 h                0.75    off_roster          anomaly
check-out: < 50% of the duty's location     0.80    check_in_and_leave  ticket
fixes on site (at least 4 fixes)
check-out: farthest fix >= 1 km away        0.30    check_in_and_leave  with another rule
confirmed fraud cases in the last 30 days   0.15    (history)           with others
3+ rule-breaking punches in a row before    0.20    (history)           with others
==========================================  ======  ==================  =========================

Reasons are the fired rules' sentences (``backend.scoring.reasons``), strongest first."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backend.scoring.catalog import FEATURE_NAMES

Values = dict[str, np.ndarray]
Test = Callable[[Values, Values], np.ndarray]     # (feature values, context) -> fires per row


@dataclass(frozen=True)
class Rule:
    feature: str            # the feature whose sentence explains the rule
    weight: float
    fires: Test


def _at_least(feature: str, bound: float) -> Test:
    return lambda v, c: np.nan_to_num(v[feature], nan=-np.inf) >= bound


def _below(feature: str, bound: float) -> Test:
    return lambda v, c: np.nan_to_num(v[feature], nan=np.inf) < bound


def _between(feature: str, low: float, high: float) -> Test:
    return lambda v, c: (v[feature] >= low) & (v[feature] < high)


def _mostly_away(v: Values, c: Values) -> np.ndarray:
    """Under half the duty's fixes on site, out of at least 4 (a share of 2 fixes says little)."""
    hours = np.maximum(np.nan_to_num(c["duty_minutes"], nan=0.0) / 60.0, 0.25)
    fixes = np.nan_to_num(v["location_update_frequency"], nan=0.0) * hours
    return (np.nan_to_num(v["at_work_share"], nan=1.0) < 0.5) & (fixes >= 3.5)


def _shared_phone(poor_face: bool) -> Test:
    """Another person punched from this phone in the 15 min before; with a poor (or no) face
    match that is buddy punching, with the guard's own face mostly a borrowed phone."""
    def fires(v: Values, c: Values) -> np.ndarray:
        shared = np.nan_to_num(v["shared_device_minutes"], nan=np.inf) <= 15
        poor = np.nan_to_num(v["biometric_quality_score"], nan=0.0) < 0.7
        return shared & (poor if poor_face else ~poor)
    return fires


RULES: tuple[Rule, ...] = (
    Rule("mock_location", 0.90, _at_least("mock_location", 1)),
    Rule("velocity_kmh", 0.85, _at_least("velocity_kmh", 150)),
    Rule("gps_accuracy", 0.25, _below("gps_accuracy", 3.05)),
    Rule("geofence_distance_meters", 0.85, _at_least("geofence_distance_meters", 500)),
    Rule("geofence_distance_meters", 0.35, _between("geofence_distance_meters", 150, 500)),
    Rule("shared_device_minutes", 0.90, _shared_phone(poor_face=True)),
    Rule("shared_device_minutes", 0.25, _shared_phone(poor_face=False)),
    Rule("foreign_device", 0.25, _at_least("foreign_device", 1)),
    Rule("biometric_quality_score", 0.35, _below("biometric_quality_score", 0.6)),
    Rule("off_roster_minutes", 0.75, _at_least("off_roster_minutes", 180)),   # 4 h away (beyond the 1 h grace)
    Rule("at_work_share", 0.80, _mostly_away),
    Rule("duty_max_distance_meters", 0.30, _at_least("duty_max_distance_meters", 1000)),
    Rule("historical_fraud_rate", 0.15, _at_least("historical_fraud_rate", 1e-9)),
    Rule("consecutive_violations", 0.20, _at_least("consecutive_violations", 3)),
)


@dataclass(frozen=True)
class HeuristicResult:
    score: np.ndarray      # per row, in [0, 1]
    weights: np.ndarray    # rows x FEATURE_NAMES: the weight of the strongest fired rule on each feature


def heuristic_scores(values: Values, context: Values) -> HeuristicResult:
    """Scores of rows given their features (``FeatureBatch.values``; ``rule_score`` not
    needed) and context."""
    n = len(values["is_check_out"])
    keep = np.ones(n)
    weights = np.zeros((n, len(FEATURE_NAMES)))
    for rule in RULES:
        hits = rule.fires(values, context)
        keep *= np.where(hits, 1.0 - rule.weight, 1.0)
        column = FEATURE_NAMES.index(rule.feature)
        weights[:, column] = np.maximum(weights[:, column], np.where(hits, rule.weight, 0.0))
    return HeuristicResult(score=1.0 - keep, weights=weights)
