"""Why a check-in scored what it did, in plain sentences a security manager can act on.

Each feature has a describer: when its value is remarkable (vectorised, so a batch finds the
few rows worth explaining at once) and the sentence, which may cite the row's context (who
else used the phone, how far and fast the teleport was). A positive model contribution from
an ordinary value never becomes a "reason". The scorers rank candidate features (XGBoost: contributions; heuristic: rule
weights); ``top_reasons`` keeps the first three that have something to say."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.enums import FraudKind
from backend.scoring.catalog import SPECS
from backend.scoring.features import OFF_ROSTER_GRACE_MIN

MAX_REASONS = 3
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Reason:
    feature: str
    text: str
    weight: float                 # contribution to the score (log-odds for the model, rule weight for the heuristic)
    kind: FraudKind | None

    def as_json(self) -> dict[str, Any]:
        return {"feature": self.feature, "text": self.text, "weight": round(self.weight, 4),
                "kind": self.kind.value if self.kind else None}


@dataclass(frozen=True)
class RowView:
    """What the describers read about one event."""
    values: dict[str, float | None]
    context: dict[str, Any]
    names: dict[int, str]         # person id -> name

    def punch(self) -> str:
        return "checked out" if self.values.get("is_check_out") else "checked in"


def short_name(name: str | None) -> str:
    """"Jane Smith" -> "J. Smith" (reasons name colleagues briefly)."""
    if not name:
        return "another guard"
    parts = name.split()
    return name if len(parts) < 2 else f"{parts[0][0]}. {' '.join(parts[1:])}"


def _distance(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def _duration(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


@dataclass(frozen=True)
class Describer:
    """When a value is worth a sentence (vectorised over a column; NaN never is) and the
    sentence for one row."""
    remarkable: Callable[[np.ndarray, np.ndarray], np.ndarray]   # (values, is_check_out) -> bool
    text: Callable[[float, RowView], str]


def _at_least(bound: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda v, out: np.nan_to_num(v, nan=-np.inf) >= bound


def _below(bound: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda v, out: np.nan_to_num(v, nan=np.inf) < bound


def _shared_device(v: float, row: RowView) -> str:
    who = short_name(row.names.get(row.context.get("shared_device_person", -1)))
    return f"same device as {who} {v:.0f} min earlier"


def _foreign_device(v: float, row: RowView) -> str:
    owner = row.context.get("device_owner", -1)
    return f"used {short_name(row.names[owner])}'s phone" if owner in row.names else "used a phone that is not theirs"


def _velocity(v: float, row: RowView) -> str:
    km, minutes = row.context.get("velocity_km"), row.context.get("velocity_minutes")
    if km is not None and minutes is not None:
        return f"{km:.1f} km from a fix {minutes:.0f} min earlier ({v:.0f} km/h)"
    return f"implied travel at {v:.0f} km/h"


def _accuracy(v: float, row: RowView) -> str:
    return f"implausibly exact GPS fix ({v:.1f} m)" if v <= 3.05 else f"poor GPS fix ({v:.0f} m)"


def _off_roster(v: float, row: RowView) -> str:
    minutes = v + OFF_ROSTER_GRACE_MIN    # the feature counts beyond the grace
    return "no rostered shift within 24 h" if minutes >= 1440 else f"no rostered shift within {_duration(minutes)}"


def _history_rate(v: float, row: RowView) -> str:
    cases = row.context.get("case_count") or 0
    return f"{cases:.0f} confirmed fraud case{'s' if cases != 1 else ''} in the last 30 days"


def _time_of_day(v: float, row: RowView) -> str:
    minute = row.context.get("local_minute")
    when = f" ({int(minute) // 60:02d}:{int(minute) % 60:02d})" if minute is not None else ""
    return f"unusual time of day for this guard{when}"


def _weekday(v: float, row: RowView) -> str:
    day = row.context.get("weekday")
    return f"unusual day for this guard ({_WEEKDAYS[int(day)]})" if day is not None else "unusual day for this guard"


DESCRIBERS: dict[str, Describer] = {
    "geofence_distance_meters": Describer(_at_least(100),
                                          lambda v, r: f"{r.punch()} {_distance(v)} outside the geofence"),
    "shared_device_minutes": Describer(lambda v, out: np.nan_to_num(v, nan=np.inf) <= 60, _shared_device),
    "foreign_device": Describer(_at_least(1), _foreign_device),
    "velocity_kmh": Describer(_at_least(120), _velocity),
    "gps_accuracy": Describer(lambda v, out: (np.nan_to_num(v, nan=10) <= 3.05) | (np.nan_to_num(v, nan=0) >= 100),
                              _accuracy),
    "biometric_quality_score": Describer(_below(0.65), lambda v, r: f"poor face match ({v:.2f})"),
    "off_roster_minutes": Describer(_at_least(60), _off_roster),
    "at_work_share": Describer(_below(0.75),
                               lambda v, r: f"only {v:.0%} of location fixes during the shift were on site"),
    "duty_max_distance_meters": Describer(_at_least(500),
                                          lambda v, r: f"was {_distance(v)} from the site during the shift"),
    "tour_completion_rate": Describer(_below(0.5), lambda v, r: f"only {v:.0%} of the site's tour scans were done "
                                                                  "during the shift"),
    "location_update_frequency": Describer(lambda v, out: (out >= 1) & (np.nan_to_num(v, nan=np.inf) < 1),
                                           lambda v, r: f"only {v:.1f} location updates per hour during the shift"),
    "historical_fraud_rate": Describer(_at_least(1e-9), _history_rate),
    "consecutive_violations": Describer(_at_least(2), lambda v, r: f"{v:.0f} previous punches in a row broke a rule"),
    "time_of_day_anomaly_score": Describer(_at_least(0.8), _time_of_day),
    "day_of_week_pattern_score": Describer(_at_least(0.8), _weekday),
    "mock_location": Describer(_at_least(1), lambda v, r: "mock-location flag set"),
    "battery_level": Describer(_below(10), lambda v, r: f"battery at {v:.0f}%"),
    "phone_signal_strength": Describer(_below(-115), lambda v, r: f"weak mobile signal ({v:.0f} dBm)"),
}


def remarkable(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per feature with a describer: which rows have a value worth a sentence."""
    out = values["is_check_out"]
    return {name: d.remarkable(values[name], out) for name, d in DESCRIBERS.items()}


def explain(ranked: Iterable[tuple[str, float]], row: RowView) -> list[Reason]:
    """Sentences for ``ranked`` (feature, weight), strongest first: features the caller found
    ``remarkable`` for this row."""
    return [Reason(name, DESCRIBERS[name].text(float(row.values[name] or 0.0), row), weight, SPECS[name].kind)
            for name, weight in ranked]


def fraud_kinds(reasons: Iterable[Reason]) -> list[FraudKind]:
    """The kinds the reasons point at, strongest first, without repeats."""
    kinds: list[FraudKind] = []
    for reason in reasons:
        if reason.kind is not None and reason.kind not in kinds:
            kinds.append(reason.kind)
    return kinds
