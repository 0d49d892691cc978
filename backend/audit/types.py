"""What an audit can find, how severe each kind is, and severity arithmetic.

Finding types are strings in ``audit_findings.type`` (a VARCHAR: adding one needs no DDL) and
the ``type`` of the tickets they open."""
from __future__ import annotations

from enum import StrEnum

from backend.enums import FraudKind, Severity


class FindingType(StrEnum):
    # Shifts (attendance against the roster).
    NO_SHOW = "no_show"                                # rostered guard never clocked in
    UNCOVERED_POST = "uncovered_post"                  # a shift nobody is rostered on has started
    LATE_CLOCK_IN = "late_clock_in"
    EARLY_CLOCK_OUT = "early_clock_out"
    SHIFT_NOT_CLOSED = "shift_not_closed"              # clocked in, never clocked out
    # Presence while on duty.
    SILENT_DEVICE = "silent_device"                    # no telemetry at all for N minutes
    LOW_AT_WORK_SHARE = "low_at_work_share"            # most location fixes outside the geofence
    # Guard tours.
    MISSED_TOUR_ROUND = "missed_tour_round"
    LATE_TOUR_ROUND = "late_tour_round"
    INCOMPLETE_TOUR_ROUND = "incomplete_tour_round"
    SCAN_STUFFING = "scan_stuffing"                    # tags scanned faster than anyone walks
    SCAN_FAR_FROM_CHECKPOINT = "scan_far_from_checkpoint"  # a copied/replayed code
    # Site activity against its own baseline.
    ACTIVITY_BELOW_BASELINE = "activity_below_baseline"


# Ticket type of correlated incidents (findings + NOC alerts); not a finding type.
INCIDENT_TYPE = "correlated_incident"

# Findings that mean "nobody (or not the rostered guard) was really there": a site's activity
# sample overlapping one of them is a flagged window and is not learned by its baselines, and a
# personal-safety alert matched with one of them makes a critical incident.
ABSENCE_TYPES: frozenset[FindingType] = frozenset({
    FindingType.NO_SHOW, FindingType.UNCOVERED_POST, FindingType.SILENT_DEVICE,
    FindingType.LOW_AT_WORK_SHARE, FindingType.ACTIVITY_BELOW_BASELINE})

# The planted misconduct (demo world ground truth) each finding type detects.
DETECTS: dict[FindingType, FraudKind] = {
    FindingType.NO_SHOW: FraudKind.NO_SHOW,
    FindingType.SILENT_DEVICE: FraudKind.SILENT_DEVICE,
    FindingType.SCAN_STUFFING: FraudKind.SCAN_STUFFING,
    FindingType.LOW_AT_WORK_SHARE: FraudKind.CHECK_IN_AND_LEAVE,
}

LABELS: dict[FindingType, str] = {
    FindingType.NO_SHOW: "No-show", FindingType.UNCOVERED_POST: "Uncovered post",
    FindingType.LATE_CLOCK_IN: "Late clock-in", FindingType.EARLY_CLOCK_OUT: "Early clock-out",
    FindingType.SHIFT_NOT_CLOSED: "Shift never closed", FindingType.SILENT_DEVICE: "Silent device",
    FindingType.LOW_AT_WORK_SHARE: "Mostly off site", FindingType.MISSED_TOUR_ROUND: "Missed tour round",
    FindingType.LATE_TOUR_ROUND: "Late tour round", FindingType.INCOMPLETE_TOUR_ROUND: "Incomplete tour round",
    FindingType.SCAN_STUFFING: "Scan stuffing", FindingType.SCAN_FAR_FROM_CHECKPOINT: "Scan far from its checkpoint",
    FindingType.ACTIVITY_BELOW_BASELINE: "Activity below baseline",
}

SEVERITY_ORDER: tuple[Severity, ...] = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
RANK: dict[Severity, int] = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}
ESCALATED: frozenset[Severity] = frozenset({Severity.HIGH, Severity.CRITICAL})


def most_severe(severities: list[Severity]) -> Severity:
    return max(severities, key=RANK.__getitem__, default=Severity.LOW)


def raised(severity: Severity, levels: int = 1) -> Severity:
    """``levels`` steps up, capped at critical."""
    return SEVERITY_ORDER[min(RANK[severity] + levels, len(SEVERITY_ORDER) - 1)]
