"""The documented list of fraud features: names, meaning, the fraud kind each one points at,
and the value a model that cannot take missing values uses instead of NaN.

The order of ``FEATURES`` is the column order of every feature matrix (training and scoring);
a trained model stores the names (and ``FEATURE_VERSION``) it was trained on, so it never reads
misaligned or redefined columns. Computed by ``backend.scoring.features`` (one definition, used by
training and scoring alike)."""
from __future__ import annotations

from dataclasses import dataclass

from backend.enums import FraudKind


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    doc: str
    kind: FraudKind | None   # the misconduct a high-risk value of this feature points at
    fill: float              # stand-in for NaN (missing) where a model needs one (IsolationForest)


FEATURES: tuple[FeatureSpec, ...] = (
    # -- the twelve features of the seeds ------------------------------------------------
    FeatureSpec("biometric_quality_score", "face/fingerprint match quality 0..1 reported by the device "
                "(NaN: no biometric check)", FraudKind.BUDDY_PUNCHING, 0.9),
    FeatureSpec("gps_accuracy", "reported horizontal GPS accuracy in metres; mock-location apps report "
                "implausibly perfect fixes of 1-3 m", FraudKind.GPS_SPOOFING, 10.0),
    FeatureSpec("geofence_distance_meters", "metres outside the site's geofence (0 inside)",
                FraudKind.GEOFENCE_VIOLATION, 0.0),
    FeatureSpec("time_of_day_anomaly_score", "1 - share (Laplace-smoothed) of the person's check-ins (or "
                "check-outs) of the last 30 days within ±90 min of this one's site-local time of day",
                None, 0.5),
    FeatureSpec("day_of_week_pattern_score", "how rarely the person punched on this site-local weekday in "
                "the last 30 days: 1 - 7 x smoothed share (0 = usual or uniform, 1 = never)", None, 0.0),
    FeatureSpec("velocity_kmh", "highest travel speed implied by any of the person's location fixes and "
                "punches of the 2 h before to this position (time gap at least 2 min; NaN: no fix)",
                FraudKind.GPS_SPOOFING, 0.0),
    FeatureSpec("historical_fraud_rate", "the person's confirmed fraud cases (ground truth, confirmed "
                "tickets) known at least 12 h before, over the last 30 days, per check-in in that span",
                None, 0.0),
    FeatureSpec("consecutive_violations", "how many of the person's latest punches (30 days, at most 10) "
                "in a row broke a rule: mock location, another phone, face match < 0.6, or > 100 m "
                "outside the geofence", None, 0.0),
    FeatureSpec("tour_completion_rate", "check-out: the site's tour scans during the duty over the scans "
                "its tours expect in that time, capped at 1 (NaN: check-in, or no tour due)",
                FraudKind.CHECK_IN_AND_LEAVE, 1.0),
    FeatureSpec("phone_signal_strength", "mobile signal in dBm at the punch", None, -90.0),
    FeatureSpec("battery_level", "battery % at the punch", None, 70.0),
    FeatureSpec("location_update_frequency", "the person's location fixes per hour: during the duty for "
                "a check-out, in the hour before for a check-in", FraudKind.CHECK_IN_AND_LEAVE, 2.0),
    # -- what the planted patterns need to be detectable at all --------------------------
    FeatureSpec("is_check_out", "1 for a check-out, 0 for a check-in", None, 0.0),
    FeatureSpec("mock_location", "1 if the device flagged the fix as coming from a mock-location app",
                FraudKind.GPS_SPOOFING, 0.0),
    FeatureSpec("foreign_device", "1 if the punch came from a phone other than the person's registered "
                "one", FraudKind.BUDDY_PUNCHING, 0.0),
    FeatureSpec("shared_device_minutes", "minutes since another person punched from the same phone "
                "(12 h look-back; NaN: nobody)", FraudKind.BUDDY_PUNCHING, 720.0),
    FeatureSpec("off_roster_minutes", "minutes from the punch to the person's nearest rostered shift beyond "
                "a 60 min grace (0 inside a shift or within an hour of one; capped at 1380)",
                FraudKind.OFF_ROSTER, 0.0),
    FeatureSpec("at_work_share", "check-out: share of the person's location fixes since the matching "
                "check-in that were on site (geofence + 100 m) (NaN: check-in, or no fixes)",
                FraudKind.CHECK_IN_AND_LEAVE, 1.0),
    FeatureSpec("duty_max_distance_meters", "check-out: farthest fix of the duty outside the geofence, "
                "in metres (NaN: check-in, or no fixes)", FraudKind.CHECK_IN_AND_LEAVE, 0.0),
    # The heuristic's rules are domain thresholds (500 m, 150 km/h, 4 h off the roster, ...):
    # as a feature the model learns how far to trust them, which steadies it when labels are
    # few (small tenants, first weeks). Its contribution is credited back to the fired rules'
    # features when explaining a score (backend.scoring.scorer).
    FeatureSpec("rule_score", "the heuristic's score of the punch (backend.scoring.heuristic)", None, 0.0),
)

# Bumped whenever a definition above changes: a model trained on other definitions is not
# used (the heuristic scores, a system event asks for a retrain) instead of being skewed.
FEATURE_VERSION = 2

FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURES)
SPECS: dict[str, FeatureSpec] = {spec.name: spec for spec in FEATURES}

# The column order of each version, for reading stored predictions (``fraud_predictions.features``
# is a plain array): when bumping FEATURE_VERSION, keep the old version's names here.
# Version 0: a prediction stored without features.
FEATURE_NAMES_BY_VERSION: dict[int, tuple[str, ...]] = {0: (), FEATURE_VERSION: FEATURE_NAMES}


def feature_dict(values: list[float | None], version: int) -> dict[str, float | None]:
    """A stored prediction's features by name."""
    return dict(zip(FEATURE_NAMES_BY_VERSION[version], values, strict=True))

# Kinds a single check-in/out can show (the others are about shifts and tours: site audits).
PER_EVENT_KINDS: tuple[FraudKind, ...] = (FraudKind.BUDDY_PUNCHING, FraudKind.GPS_SPOOFING,
                                          FraudKind.OFF_ROSTER, FraudKind.GEOFENCE_VIOLATION,
                                          FraudKind.CHECK_IN_AND_LEAVE)
