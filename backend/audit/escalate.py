"""Escalation: high and critical findings and incidents open tickets (``backend.tickets``).

At most one open ticket per (site, finding type) in ``ticket_dedup`` (4 h): the dedup key
is ``audit:<site>:<type>`` with a 4-hour window, so a repeat adds an occurrence to the open
ticket (race-free: two audits escalating the same key open one ticket). A finding that
belongs to a correlated incident goes to the incident's ticket
(``audit:<site>:correlated_incident``) instead of one of its own: one item, not two. Only
new rows escalate (a re-run escalates nothing), and findings older than ``ticket_max_age``
(a backfill, the seeded history) open none."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from backend.audit.correlate import IncidentDraft, StoredIncident
from backend.audit.findings import StoredFinding
from backend.audit.rules import AuditRules
from backend.audit.types import ESCALATED, INCIDENT_TYPE, LABELS, RANK, FindingType
from backend.audit.window import at
from backend.enums import Role, Severity, TicketPriority, TicketSource
from backend.events import EventPublisher
from backend.tickets import TicketSpec, open_or_add_occurrences

PRIORITY: dict[Severity, TicketPriority] = {Severity.CRITICAL: TicketPriority.P1, Severity.HIGH: TicketPriority.P2}
ASSIGNEE = Role.SUPERVISOR   # audits are operations: supervisors act on them


def ticket_key(site_id: int, type_: str) -> str:
    return f"audit:{site_id}:{type_}"


def baseline_metrics(findings: list[StoredFinding]) -> list[str]:
    """The baselines (metrics of the site) behind these findings: weekly tuning reads them
    back from the tickets' dispositions."""
    return sorted({metric for f in findings if f.type == FindingType.ACTIVITY_BELOW_BASELINE
                   for metric in f.evidence.get("metrics", {})})


def _finding_spec(tenant_id: int, f: StoredFinding, rules: AuditRules) -> TicketSpec:
    kind = FindingType(f.type)
    return TicketSpec(
        tenant_id=tenant_id, source=TicketSource.AUDIT, type=kind.value, dedup_key=ticket_key(f.site_id, kind.value),
        title=f.summary, priority=PRIORITY[f.severity], severity=f.severity, site_id=f.site_id, person_id=f.person_id,
        details={"finding_id": f.id, "finding_type": kind.value, "label": LABELS[kind], "summary": f.summary,
                 "baseline_metrics": baseline_metrics([f]), "evidence": f.evidence},
        occurred_at=at(f.end), dedup_window=timedelta(seconds=rules.ticket_dedup_s), assignee_role=ASSIGNEE)


def _incident_spec(tenant_id: int, incident_id: int, draft: IncidentDraft, rules: AuditRules) -> TicketSpec:
    return TicketSpec(
        tenant_id=tenant_id, source=TicketSource.INCIDENT, type=INCIDENT_TYPE,
        dedup_key=ticket_key(draft.site_id, INCIDENT_TYPE), title=draft.summary, priority=PRIORITY[draft.severity],
        severity=draft.severity, site_id=draft.site_id, person_id=draft.person_id,
        details={"incident_id": incident_id, "summary": draft.summary, "alert_ids": [a.id for a in draft.alerts],
                 "alert_kinds": sorted({a.kind.value for a in draft.alerts}),
                 "finding_ids": [f.id for f in draft.findings], "finding_types": sorted({f.type for f in draft.findings}),
                 "baseline_metrics": baseline_metrics(draft.findings)},
        occurred_at=at(draft.end), dedup_window=timedelta(seconds=rules.ticket_dedup_s), assignee_role=ASSIGNEE)


def _joining_spec(tenant_id: int, f: StoredFinding, incident: StoredIncident, rules: AuditRules) -> TicketSpec:
    """A new finding of an older incident: an occurrence on the incident's ticket."""
    severity = max(f.severity, incident.severity, key=RANK.__getitem__)
    return TicketSpec(
        tenant_id=tenant_id, source=TicketSource.INCIDENT, type=INCIDENT_TYPE,
        dedup_key=ticket_key(f.site_id, INCIDENT_TYPE), title=incident.summary or f.summary,
        priority=PRIORITY[severity], severity=severity, site_id=f.site_id, person_id=f.person_id,
        details={"incident_id": incident.id, "finding_id": f.id, "finding_type": f.type, "summary": f.summary,
                 "baseline_metrics": baseline_metrics([f])},
        occurred_at=at(f.end), dedup_window=timedelta(seconds=rules.ticket_dedup_s), assignee_role=ASSIGNEE)


def escalate(session: Session, publisher: EventPublisher, tenant_id: int, new_findings: list[StoredFinding],
             new_incidents: list[tuple[int, IncidentDraft]],
             finding_incident: dict[int, IncidentDraft | StoredIncident], rules: AuditRules,
             now: datetime) -> int:
    """Open or add to tickets for this cycle's new rows; returns how many specs were filed."""
    oldest = now.timestamp() - rules.ticket_max_age_s
    specs = [_incident_spec(tenant_id, incident_id, draft, rules) for incident_id, draft in new_incidents
             if draft.severity in ESCALATED and draft.end >= oldest]
    for f in new_findings:
        incident = finding_incident.get(f.id)
        if f.end < oldest or (isinstance(incident, IncidentDraft) and incident.severity in ESCALATED):
            continue   # too old, or carried by the new incident's own ticket
        if isinstance(incident, StoredIncident) and (incident.severity in ESCALATED or f.severity in ESCALATED):
            specs.append(_joining_spec(tenant_id, f, incident, rules))
        elif f.severity in ESCALATED:
            specs.append(_finding_spec(tenant_id, f, rules))
    open_or_add_occurrences(session, publisher, specs, now=now)
    return len(specs)
