"""The whole domain of DESIGN.md as SQLAlchemy 2 models (one module per area)."""
from backend.models.base import Base, utcnow
from backend.models.inputs import (AttendanceEvent, CheckpointScan, LocationPing, NocAlert,
                                   PhoneActivity, Shift, Tour, UnscoredAttendance)
from backend.models.intelligence import (AttendanceAnomaly, AuditFinding, BaselineProfile,
                                         FraudPrediction, GroundTruth, Incident, ModelVersion)
from backend.models.tenancy import ApiToken, Checkpoint, Client, Person, Site, Tenant, User, WallboardToken
from backend.models.work import EventLogEntry, Ticket, TicketComment, TicketHistory

__all__ = [
    "Base", "utcnow",
    "Tenant", "Client", "Site", "Checkpoint", "Person", "User", "ApiToken", "WallboardToken",
    "AttendanceEvent", "LocationPing", "CheckpointScan", "PhoneActivity", "NocAlert", "Shift", "Tour",
    "UnscoredAttendance",
    "FraudPrediction", "AttendanceAnomaly", "BaselineProfile", "AuditFinding", "Incident",
    "ModelVersion", "GroundTruth",
    "Ticket", "TicketComment", "TicketHistory", "EventLogEntry",
]
