"""Findings: what a check produces (``FindingDraft``), writing them idempotently and their
``finding_created`` events.

A finding's dedup key is deterministic: its type plus what it is about (the shift, the tour
round, the site and hour, ...). Rows are inserted ON CONFLICT (tenant_id, dedup_key) DO
NOTHING, so re-auditing a window, or two audits racing, store each finding once; only the
rows an insert returns are new, and only they publish events and escalate."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.audit.types import LABELS, FindingType
from backend.audit.window import at, iso
from backend.enums import EventType, Severity
from backend.events import EventPublisher
from backend.models import AuditFinding


@dataclass(frozen=True)
class FindingDraft:
    type: FindingType
    severity: Severity
    site_id: int
    person_id: int | None
    start: float            # the window the finding is about (epoch seconds)
    end: float
    key: str                # dedup key, without the tenant (the unique index adds it)
    summary: str            # one sentence for operators
    evidence: dict[str, Any] = field(default_factory=dict)

    def row(self, tenant_id: int, now: datetime) -> dict[str, Any]:
        return {"tenant_id": tenant_id, "site_id": self.site_id, "person_id": self.person_id, "type": self.type.value,
                "severity": self.severity, "window_start": at(self.start), "window_end": at(self.end),
                "evidence": {"summary": self.summary, **self.evidence}, "dedup_key": self.key, "created_at": now}


@dataclass(frozen=True)
class StoredFinding:
    """A finding as stored (new or older), as correlation and escalation see it."""
    id: int
    type: str
    severity: Severity
    site_id: int
    person_id: int | None
    start: float
    end: float
    key: str
    evidence: dict[str, Any]

    @property
    def summary(self) -> str:
        return str(self.evidence.get("summary", self.type))


def _insert(session: Session) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)


_COLUMNS = (AuditFinding.id, AuditFinding.type, AuditFinding.severity, AuditFinding.site_id, AuditFinding.person_id,
            AuditFinding.window_start, AuditFinding.window_end, AuditFinding.dedup_key, AuditFinding.evidence)


def _stored(row: Any) -> StoredFinding:
    return StoredFinding(id=row.id, type=row.type, severity=Severity(row.severity), site_id=row.site_id,
                         person_id=row.person_id, start=row.window_start.timestamp(), end=row.window_end.timestamp(),
                         key=row.dedup_key, evidence=row.evidence or {})


def insert_findings(session: Session, tenant_id: int, drafts: list[FindingDraft], now: datetime) -> list[StoredFinding]:
    """Store the drafts; returns only those this call inserted (the rest existed already)."""
    if not drafts:
        return []
    unique = {d.key: d for d in drafts}   # one statement must not carry a key twice
    table = AuditFinding.__table__
    # Key order: concurrent audits take the unique index's locks in the same order (no deadlock).
    rows = [unique[key].row(tenant_id, now) for key in sorted(unique)]
    statement = (_insert(session)(table).on_conflict_do_nothing(index_elements=["tenant_id", "dedup_key"])
                 .returning(*(table.c[c.key] for c in _COLUMNS)))
    return [_stored(row) for row in session.execute(statement, rows)]


def findings_overlapping(session: Session, tenant_id: int, start: float, end: float) -> list[StoredFinding]:
    """Stored findings whose window overlaps [start, end] (new and older ones alike)."""
    f = AuditFinding
    rows = session.execute(sa.select(*_COLUMNS).where(
        f.tenant_id == tenant_id, f.window_end >= at(start), f.window_start <= at(end)).order_by(f.id))
    return [_stored(row) for row in rows]


def finding_event(tenant_id: int, finding: StoredFinding, site_name: str, person_name: str | None) -> dict[str, Any]:
    """A ``finding_created`` event row for ``EventPublisher.publish_many``."""
    kind = FindingType(finding.type)
    return {"tenant_id": tenant_id, "type": EventType.FINDING_CREATED, "site_id": finding.site_id,
            "person_id": finding.person_id, "severity": finding.severity,
            "data": {"finding_id": finding.id, "kind": kind.value, "label": LABELS[kind], "title": finding.summary,
                     "window_start": iso(finding.start), "window_end": iso(finding.end), "site_name": site_name,
                     "person_name": person_name, "evidence": finding.evidence}}


def publish_findings(session: Session, publisher: EventPublisher, tenant_id: int, findings: list[StoredFinding],
                     site_names: dict[int, str], person_names: dict[int, str]) -> None:
    publisher.publish_many(session, [
        finding_event(tenant_id, f, site_names.get(f.site_id, f"site {f.site_id}"),
                      person_names.get(f.person_id) if f.person_id is not None else None) for f in findings])
