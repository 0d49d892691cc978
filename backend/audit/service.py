"""``run_audit``: one audit cycle of one tenant, all its sites at once.

1. Sites without baselines are bootstrapped from their history (once; own transaction).
2. Read (no write transaction held): reference data, duties, telemetry, scans, alerts,
   signals, baselines; every check computes its findings as drafts.
3. Write, in one short transaction: findings ON CONFLICT DO NOTHING (only new rows publish
   ``finding_created``), correlation with NOC alerts -> incidents (new ones publish
   ``incident_correlated``), baseline observations (compare-and-set), escalation to tickets.

Idempotent: findings and incidents have deterministic dedup keys, baselines learn a window
once, and only new rows publish and escalate; re-running a window creates nothing, and two
audits racing store everything once. Statements per cycle: about 20 whatever the number of
sites (set-based reads of all sites at once), plus a few per ticket opened."""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.audit.activity import Change, assess_activity
from backend.audit.baseline_store import (analyze_profiles, bootstrap_profiles, insert_profiles, save_observations,
                                         sites_without_profiles)
from backend.audit.correlate import (Alert, Correlation, IncidentDraft, StoredIncident, alert_range, attach_findings,
                                     correlate, incident_signals, load_alerts, load_incidents)
from backend.audit.duties import Duties, load_duties
from backend.audit.escalate import escalate
from backend.audit.findings import (FindingDraft, StoredFinding, findings_overlapping, insert_findings,
                                    publish_findings)
from backend.audit.names import Names
from backend.audit.presence import PersonSeries, load_telemetry, low_at_work_shares, silent_devices, telemetry_start
from backend.audit.reference import Reference, load_reference, person_names
from backend.audit.rules import AuditRules
from backend.audit.schedule_checks import shift_findings
from backend.audit.signals import METRICS, count_signals
from backend.audit.tour_checks import tour_findings
from backend.audit.types import ABSENCE_TYPES
from backend.audit.window import AuditWindow, at, audit_window, iso
from backend.enums import EventType
from backend.events import EventPublisher
from backend.models import Incident, utcnow
from backend.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditResult:
    tenant_id: int
    window_end: str
    findings: int                  # new this run
    incidents: int                 # new this run
    tickets: int                   # ticket openings/occurrences filed
    bootstrapped_sites: int
    baselines_observed: int
    sites: int
    seconds: float
    by_type: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    """What the read phase found; the write phase stores it (and correlates, with what it read)."""
    window: AuditWindow
    names: Names
    drafts: list[FindingDraft]
    changes: list[Change]
    alerts: list[Alert]
    incidents: list[StoredIncident]
    duties: Duties
    telemetry: PersonSeries
    telemetry_floor: float


def run_audit(runtime: Runtime, tenant_id: int, window_end: datetime | float, *, lookback_s: float | None = None,
              rules: AuditRules | None = None, now: datetime | None = None) -> AuditResult:
    """Audit every site of the tenant for the cycle ending at ``window_end`` (aligned down to
    the interval). ``lookback_s`` widens the deadlines re-checked (a backfill)."""
    started = time.perf_counter()
    rules = rules or AuditRules.from_settings(runtime.settings)
    now = now or utcnow()
    window = audit_window(window_end, rules, lookback_s)
    reference, bootstrapped = _bootstrap_missing(runtime, tenant_id, window, rules, now)
    with runtime.read() as session:
        plan = _plan(session, tenant_id, reference, window, rules)
    with runtime.transaction() as session:
        new, incidents, tickets = _store(session, runtime.events, tenant_id, plan, rules, now)
    result = AuditResult(tenant_id=tenant_id, window_end=iso(window.window_end), findings=len(new),
                         incidents=incidents, tickets=tickets, bootstrapped_sites=bootstrapped,
                         baselines_observed=len(plan.changes), sites=len(plan.names.reference.sites),
                         seconds=round(time.perf_counter() - started, 3),
                         by_type=dict(Counter(f.type for f in new)))
    log.info("audit tenant %d window %s: %d findings, %d incidents, %d tickets in %.2f s", tenant_id,
             result.window_end, result.findings, result.incidents, result.tickets, result.seconds)
    return result


def _bootstrap_missing(runtime: Runtime, tenant_id: int, window: AuditWindow, rules: AuditRules,
                       now: datetime) -> tuple[Reference, int]:
    """The tenant's reference data, after bootstrapping the baselines of sites that have none."""
    with runtime.read() as session:
        reference = load_reference(session, tenant_id)
        missing = sites_without_profiles(session, tenant_id, reference.sites)
        if not missing:
            return reference, 0
        # Learned in the read session, written in short transactions: on SQLite a writer
        # lock held through seconds of reading would stall ingestion.
        written = 0
        for profiles in bootstrap_profiles(session, tenant_id, [reference.sites[s] for s in missing], window.as_of,
                                           rules):
            with runtime.transaction() as write:
                written += insert_profiles(write, tenant_id, profiles, now)
    with runtime.transaction() as write:
        analyze_profiles(write)
    log.info("tenant %d: bootstrapped %d baseline profiles of %d sites", tenant_id, written, len(missing))
    return reference, len(missing)


def _plan(session: Session, tenant_id: int, reference: Reference, window: AuditWindow, rules: AuditRules) -> _Plan:
    names = Names(reference)
    duties = load_duties(session, tenant_id, window, rules)
    alerts = load_alerts(session, tenant_id, *alert_range(window, rules.correlation_s))
    names.persons = person_names(session, tenant_id, {int(p) for p in duties.person_id.tolist() if p >= 0}
                                 | {a.person_id for a in alerts if a.person_id is not None})
    floor = telemetry_start(window, rules)
    telemetry = load_telemetry(session, tenant_id, floor, window.as_of)
    drafts = shift_findings(duties, window, rules, names)
    drafts += silent_devices(duties, telemetry, window, rules, names)
    drafts += low_at_work_shares(session, tenant_id, duties, reference, window, rules, names)
    drafts += tour_findings(session, tenant_id, reference, window, rules, names)
    _add_person_signals(session, tenant_id, window, drafts)
    # Windows already flagged (an absence overlapping this cycle's activity window) are not learned.
    overlapping = findings_overlapping(session, tenant_id, window.signal_start, window.as_of)
    flagged = {f.site_id for f in overlapping if f.type in ABSENCE_TYPES} | {
        d.site_id for d in drafts if d.type in ABSENCE_TYPES and d.end >= window.signal_start}
    activity = assess_activity(session, tenant_id, reference, window, rules, flagged, names)
    drafts += activity.findings
    # Stored incidents the alerts or findings of this cycle may belong to (a silence found now may
    # have begun hours ago, when its "device offline" alert made an incident).
    earliest = min([d.start for d in drafts], default=window.since) - rules.correlation_s
    incidents = load_incidents(session, tenant_id, min(window.since - 4 * rules.correlation_s, earliest), window.as_of)
    return _Plan(window=window, names=names, drafts=drafts, changes=activity.changes, alerts=alerts,
                 incidents=incidents, duties=duties, telemetry=telemetry, telemetry_floor=floor)


def _add_person_signals(session: Session, tenant_id: int, window: AuditWindow, drafts: list[FindingDraft]) -> None:
    """Findings about a person that reach into this cycle's activity window carry what that
    person's phone did in it (real counts, one GROUP BY for everyone)."""
    current = [d for d in drafts if d.person_id is not None and d.end >= window.signal_start]
    if not current:
        return
    activity = count_signals(session, tenant_id, window.signal_start, window.as_of, by="person",
                             keys={d.person_id for d in current if d.person_id is not None}).table()
    for d in current:
        d.evidence["last_hour"] = {m.value: v for m, v in activity.get(d.person_id or 0, dict.fromkeys(METRICS, 0.0)).items()}


def _store(session: Session, publisher: EventPublisher, tenant_id: int, plan: _Plan, rules: AuditRules,
           now: datetime) -> tuple[list[StoredFinding], int, int]:
    window, names = plan.window, plan.names
    new = insert_findings(session, tenant_id, plan.drafts, now)
    publish_findings(session, publisher, tenant_id, new, names.site_names(), names.persons)
    # Every finding the alerts could match, stored ones included (and ones a concurrent audit just stored).
    findings = findings_overlapping(session, tenant_id, window.since - 2 * rules.correlation_s, window.as_of)
    correlation = correlate(plan.alerts, findings, plan.incidents, plan.duties, plan.telemetry, plan.telemetry_floor,
                            rules.correlation_s, names)
    created = _insert_incidents(session, publisher, tenant_id, correlation, names, now)
    _attach_new_findings(session, correlation, new)
    save_observations(session, tenant_id, plan.changes, now)
    tickets = escalate(session, publisher, tenant_id, new, created, correlation.finding_incident, rules, now)
    return new, len(created), tickets


def _insert_incidents(session: Session, publisher: EventPublisher, tenant_id: int, correlation: Correlation,
                      names: Names, now: datetime) -> list[tuple[int, IncidentDraft]]:
    """Store the new incidents; returns (id, draft) of those this call inserted. Drafts a
    concurrent audit stored first are remapped to the stored incident for escalation."""
    if not correlation.new:
        return []
    table = Incident.__table__
    rows = [{"tenant_id": tenant_id, "site_id": d.site_id, "person_id": d.person_id, "severity": d.severity,
             "window_start": at(d.start), "window_end": at(d.end), "signals": incident_signals(d),
             "alert_ids": [a.id for a in d.alerts], "dedup_key": d.key, "created_at": now}
            for d in sorted(correlation.new, key=lambda d: d.key)]
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
    inserted = {row.dedup_key: row.id for row in session.execute(
        insert.on_conflict_do_nothing(index_elements=["tenant_id", "dedup_key"])
        .returning(table.c.id, table.c.dedup_key), rows)}
    created = [(inserted[d.key], d) for d in correlation.new if d.key in inserted]
    lost = [d for d in correlation.new if d.key not in inserted]
    if lost:
        stored = {r.dedup_key: r for r in session.execute(sa.select(Incident.id, Incident.dedup_key, Incident.severity)
                                                          .where(Incident.tenant_id == tenant_id,
                                                                 Incident.dedup_key.in_([d.key for d in lost])))}
        for d in lost:
            row = stored[d.key]
            replacement = StoredIncident(id=row.id, key=d.key, site_id=d.site_id, person_id=d.person_id,
                                         severity=d.severity, alert_ids=frozenset(a.id for a in d.alerts),
                                         finding_ids=frozenset(f.id for f in d.findings), summary=d.summary)
            for fid, incident in list(correlation.finding_incident.items()):
                if incident is d:
                    correlation.finding_incident[fid] = replacement
    publisher.publish_many(session, [_incident_event(tenant_id, incident_id, d, names) for incident_id, d in created])
    return created


def _attach_new_findings(session: Session, correlation: Correlation, new: list[StoredFinding]) -> None:
    """New findings belonging to stored incidents become their members (the incident's
    severity follows the rule); escalation then sees the incident as it is now."""
    by_incident: dict[int, tuple[StoredIncident, list[StoredFinding]]] = {}
    for f in new:
        incident = correlation.finding_incident.get(f.id)
        if isinstance(incident, StoredIncident):
            by_incident.setdefault(incident.id, (incident, []))[1].append(f)
    for incident_id in sorted(by_incident):   # id order: concurrent audits lock incidents alike
        incident, findings = by_incident[incident_id]
        updated = replace(incident, severity=attach_findings(session, incident, findings))
        for f in findings:
            correlation.finding_incident[f.id] = updated


def _incident_event(tenant_id: int, incident_id: int, draft: IncidentDraft, names: Names) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "type": EventType.INCIDENT_CORRELATED, "site_id": draft.site_id,
            "person_id": draft.person_id, "severity": draft.severity,
            "data": {"incident_id": incident_id, "title": draft.summary, "window_start": iso(draft.start),
                     "window_end": iso(draft.end), "alert_ids": [a.id for a in draft.alerts],
                     "alert_kinds": sorted({a.kind.value for a in draft.alerts}),
                     "finding_ids": [f.id for f in draft.findings],
                     "finding_types": sorted({f.type for f in draft.findings}),
                     "silent": bool(draft.silences), "site_name": names.site(draft.site_id),
                     "person_name": names.person(draft.person_id) if draft.person_id is not None else None}}
