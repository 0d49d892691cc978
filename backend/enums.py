"""Every state and kind of the domain, as StrEnums (stored as their string values)."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Ordered from least to most privileged; see ``ROLE_RANK``."""
    VIEWER = "viewer"                      # wall displays: read-only
    OPERATOR = "operator"                  # NOC floor
    SECURITY_MANAGER = "security_manager"  # drills into sites and persons
    SUPERVISOR = "supervisor"              # acts on tickets
    ADMIN = "admin"                        # users, tokens, models


ROLE_RANK: dict[Role, int] = {role: rank for rank, role in enumerate(Role)}


class InputType(StrEnum):
    """The kinds of event devices and integrations send to the ingestion API."""
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    LOCATION_PING = "location_ping"
    CHECKPOINT_SCAN = "checkpoint_scan"
    PHONE_ACTIVITY = "phone_activity"
    NOC_ALERT = "noc_alert"


class AttendanceKind(StrEnum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"


class ScanMethod(StrEnum):
    NFC = "nfc"
    QR = "qr"
    BEACON = "beacon"
    MANUAL = "manual"


class PhoneActivityKind(StrEnum):
    SCREEN_ON = "screen_on"
    APP_FOREGROUND = "app_foreground"
    CALL = "call"
    STEPS = "steps"
    MOTION = "motion"


class AlertKind(StrEnum):
    DEVICE_OFFLINE = "device_offline"
    PANIC = "panic"
    DURESS = "duress"
    MAN_DOWN = "man_down"
    TAMPER = "tamper"
    LOW_BATTERY = "low_battery"
    GEOFENCE_EXIT = "geofence_exit"
    DOOR_FORCED = "door_forced"
    INTRUSION = "intrusion"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FraudKind(StrEnum):
    """Planted/detected fraud and misconduct patterns (ground truth and ticket types)."""
    BUDDY_PUNCHING = "buddy_punching"        # shared device / someone else clocks in
    GPS_SPOOFING = "gps_spoofing"            # mock-location flag, teleports
    OFF_ROSTER = "off_roster"                # punch with no shift around it
    GEOFENCE_VIOLATION = "geofence_violation"
    SCAN_STUFFING = "scan_stuffing"          # all tour checkpoints scanned within a minute
    CHECK_IN_AND_LEAVE = "check_in_and_leave"
    SILENT_DEVICE = "silent_device"
    NO_SHOW = "no_show"


class Scorer(StrEnum):
    HEURISTIC = "heuristic"
    MODEL = "model"


class TicketSource(StrEnum):
    FRAUD = "fraud"
    AUDIT = "audit"
    INCIDENT = "incident"
    SYSTEM = "system"


class TicketPriority(StrEnum):
    P1 = "p1"
    P2 = "p2"
    P3 = "p3"
    P4 = "p4"


class TicketState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_TICKET_STATES: frozenset[TicketState] = frozenset(
    {TicketState.OPEN, TicketState.ACKNOWLEDGED, TicketState.IN_PROGRESS})


class Disposition(StrEnum):
    CONFIRMED_FRAUD = "confirmed_fraud"
    FALSE_POSITIVE = "false_positive"
    BENIGN = "benign"
    NEEDS_INFO = "needs_info"


class EventType(StrEnum):
    """Types of the broadcast event log (what the live channel carries)."""
    ANOMALY_DETECTED = "anomaly_detected"
    TICKET_CREATED = "ticket_created"
    TICKET_UPDATED = "ticket_updated"
    FINDING_CREATED = "finding_created"
    INCIDENT_CORRELATED = "incident_correlated"
    ALERT_RECEIVED = "alert_received"
    MODEL_TRAINED = "model_trained"
    MODEL_ACTIVATED = "model_activated"
    MODEL_TRAINING = "model_training"     # progress of one queued training run (data.stage)
    SYSTEM = "system"


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"   # trained, passed gates, not (yet) active
    ACTIVE = "active"
    REJECTED = "rejected"     # failed a validation gate: stored, never activated
    RETIRED = "retired"


class TrainingStage(StrEnum):
    """Where a queued training run is (``model_training`` events, in this order); it ends in
    one of the last four."""
    QUEUED = "queued"
    LOADING_DATA = "loading_data"
    TRAINING = "training"
    EVALUATING = "evaluating"
    STORED = "stored"         # passed its gates, did not beat the active model: a candidate
    ACTIVATED = "activated"
    REJECTED = "rejected"     # a gate failed, or there was nothing to learn from
    FAILED = "failed"         # the job itself broke (see the worker's log)


FINAL_TRAINING_STAGES: frozenset[TrainingStage] = frozenset(
    {TrainingStage.STORED, TrainingStage.ACTIVATED, TrainingStage.REJECTED, TrainingStage.FAILED})


class SlaState(StrEnum):
    """Where a ticket stands against its SLA (backend/tickets/sla.py)."""
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"     # under a quarter of the current target's span left
    BREACHED = "breached"     # the current target passed (or a resolved ticket was late)
    MET = "met"               # resolved in time
