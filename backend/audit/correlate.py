"""Correlation: NOC alerts matched with findings and low-activity signals of the same site
(and person) within ±``correlation`` (15 min) become one incident.

**Matching.** An alert at time t matches
- a finding of the same site whose window [start, end] comes within the correlation window
  of t, if the finding is about the alert's person, or either has no person (a site alarm, a
  missed round);
- a *silence*: the alert's person was on duty at t and their phone reported nothing in
  [t - 15 min, t + 15 min] (for a site alarm: every guard on duty there was silent).
An alert is judged once t + 15 min is past (its whole window is known). Alerts of one site
and person within 30 min of each other, or sharing a finding, make one incident.

**Severity rule** (``incident_severity``). Two independent sources agreeing are worth more
than either: the incident is *one level above its most severe member* (alerts carry their
own severity, findings theirs, a silence counts as low), capped at critical. A
personal-safety alert (panic, duress, man down) matched with a silence or an absence finding
(no-show, silent device, mostly off site, ...) is always critical. So: "device offline"
(medium) + the guard's phone silent -> high; + a silent_device finding (high) -> critical.

**Idempotency.** The dedup key is ``incident:<site>:<first alert id>``, and a group whose
alerts or findings already belong to a stored incident makes no new one (its findings
escalate with that incident)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.duties import Duties
from backend.audit.findings import StoredFinding
from backend.audit.names import Names
from backend.audit.presence import PersonSeries
from backend.audit.sql import fetch_arrays, i8, t8
from backend.audit.types import ABSENCE_TYPES, RANK, most_severe, raised
from backend.audit.window import AuditWindow, at, iso
from backend.enums import AlertKind, Severity
from backend.models import Incident, NocAlert


SAFETY_ALERTS: frozenset[AlertKind] = frozenset({AlertKind.PANIC, AlertKind.DURESS, AlertKind.MAN_DOWN})
_KINDS = list(AlertKind)
_SEVERITIES = list(Severity)


@dataclass(frozen=True)
class Alert:
    id: int
    site_id: int
    person_id: int | None
    ts: float
    kind: AlertKind
    severity: Severity


@dataclass(frozen=True)
class Silence:
    person_ids: tuple[int, ...]
    start: float
    end: float
    silent_since: float      # the last report before, if within the telemetry read


@dataclass
class IncidentDraft:
    site_id: int
    person_id: int | None
    alerts: list[Alert]
    findings: list[StoredFinding]
    silences: list[Silence]
    severity: Severity = Severity.LOW
    summary: str = ""
    key: str = ""

    @property
    def start(self) -> float:
        return min([a.ts for a in self.alerts] + [f.start for f in self.findings] + [s.start for s in self.silences])

    @property
    def end(self) -> float:
        return max([a.ts for a in self.alerts] + [f.end for f in self.findings] + [s.end for s in self.silences])


@dataclass(frozen=True)
class StoredIncident:
    id: int
    key: str
    site_id: int
    person_id: int | None
    severity: Severity
    alert_ids: frozenset[int]
    finding_ids: frozenset[int]
    summary: str = ""
    start: float = 0.0
    end: float = 0.0


@dataclass
class Correlation:
    """What a cycle's correlation decided: incidents to create, and for every finding that
    belongs to an incident (new or stored), that incident (escalation follows it)."""
    new: list[IncidentDraft] = field(default_factory=list)
    finding_incident: dict[int, IncidentDraft | StoredIncident] = field(default_factory=dict)


def incident_severity(alerts: list[Alert], findings: list[StoredFinding], silences: list[Silence]) -> Severity:
    """The documented rule (module docstring)."""
    return _severity_rule([a.severity for a in alerts] + [f.severity for f in findings] + [Severity.LOW] * len(silences),
                          {a.kind for a in alerts}, bool(silences) or any(f.type in ABSENCE_TYPES for f in findings))


def _severity_rule(members: list[Severity], alert_kinds: set[AlertKind], absent: bool) -> Severity:
    if absent and alert_kinds & SAFETY_ALERTS:
        return Severity.CRITICAL
    return raised(most_severe(members))


def alert_range(window: AuditWindow, correlation_s: float) -> tuple[float, float]:
    """Alerts judged by a cycle: those whose ±window closed within its (since, as_of]."""
    return window.since - correlation_s, window.as_of - correlation_s


def load_alerts(session: Session, tenant_id: int, start: float, end: float) -> list[Alert]:
    a = NocAlert
    ids, sites, persons, ts, kinds, severities = fetch_arrays(session, sa.select(
        i8(a.id), i8(a.site_id), i8(sa.func.coalesce(a.person_id, -1)), t8(a.ts),
        i8(sa.case(*((a.kind == k.value, i) for i, k in enumerate(_KINDS)), else_=-1)),
        i8(sa.case(*((a.severity == s.value, i) for i, s in enumerate(_SEVERITIES)), else_=0)),
    ).where(a.tenant_id == tenant_id, a.ts > at(start), a.ts <= at(end)),
        ["i8", "i8", "i8", "t8", "i8", "i8"])
    return sorted((Alert(int(i), int(s), int(p) if p >= 0 else None, float(t), _KINDS[k], _SEVERITIES[v])
                   for i, s, p, t, k, v in zip(ids.tolist(), sites.tolist(), persons.tolist(), ts.tolist(),
                                               kinds.tolist(), severities.tolist(), strict=True) if k >= 0),
                  key=lambda alert: alert.id)


def load_incidents(session: Session, tenant_id: int, start: float, end: float) -> list[StoredIncident]:
    i = Incident
    rows = session.execute(sa.select(i.id, i.dedup_key, i.site_id, i.person_id, i.severity, i.alert_ids, i.signals,
                                     i.window_start, i.window_end)
                           .where(i.tenant_id == tenant_id, i.window_end >= at(start), i.window_start <= at(end)))
    return [StoredIncident(id=r.id, key=r.dedup_key, site_id=r.site_id, person_id=r.person_id,
                           severity=Severity(r.severity), alert_ids=frozenset(int(x) for x in r.alert_ids or ()),
                           finding_ids=frozenset(int(s["finding_id"]) for s in r.signals or ()
                                                 if s.get("kind") == "finding"),
                           summary=next((s.get("text", "") for s in r.signals or () if s.get("kind") == "summary"), ""),
                           start=r.window_start.timestamp(), end=r.window_end.timestamp())
            for r in rows]


class _Presence:
    """Who was on duty when, and whether their phones reported, around an instant."""

    def __init__(self, duties: Duties, telemetry: PersonSeries, floor: float) -> None:
        self.duties, self.telemetry, self.floor = duties, telemetry, floor
        self.until = np.where(np.isnan(duties.clock_out), duties.end, duties.clock_out)

    def on_duty(self, t: float, site_id: int | None = None, person_id: int | None = None) -> list[int]:
        d = self.duties
        hit = ~np.isnan(d.clock_in) & (d.clock_in <= t) & (t < self.until)
        if site_id is not None:
            hit &= d.site_id == site_id
        if person_id is not None:
            hit &= d.person_id == person_id
        return sorted({int(p) for p in d.person_id[hit].tolist()})

    def silence(self, persons: list[int], start: float, end: float) -> Silence | None:
        """All of ``persons`` reported nothing in [start, end] (None if anyone did)."""
        if not persons:
            return None
        since = []
        for person in persons:
            reported = self.telemetry.span(person, start, end)
            if reported.stop > reported.start:
                return None
            before = self.telemetry.ts[self.telemetry.span(person, self.floor, start)]
            since.append(float(before[-1]) if len(before) else self.floor)
        return Silence(tuple(persons), start, end, min(since))


def correlate(alerts: list[Alert], findings: list[StoredFinding], incidents: list[StoredIncident], duties: Duties,
              telemetry: PersonSeries, telemetry_floor: float, correlation_s: float, names: Names) -> Correlation:
    presence = _Presence(duties, telemetry, telemetry_floor)
    by_site: dict[int, list[StoredFinding]] = {}
    for f in findings:
        by_site.setdefault(f.site_id, []).append(f)
    matched: list[tuple[Alert, list[StoredFinding], Silence | None]] = []
    for a in alerts:
        members = [f for f in by_site.get(a.site_id, ()) if _compatible(a.person_id, f.person_id)
                   and f.start - correlation_s <= a.ts <= f.end + correlation_s]
        persons = presence.on_duty(a.ts, person_id=a.person_id) if a.person_id is not None \
            else presence.on_duty(a.ts, site_id=a.site_id)
        silence = presence.silence(persons, a.ts - correlation_s, a.ts + correlation_s)
        if members or silence:
            matched.append((a, members, silence))
    result = Correlation()
    stored_by_alert = {alert_id: inc for inc in incidents for alert_id in inc.alert_ids}
    stored_by_finding = {finding_id: inc for inc in incidents for finding_id in inc.finding_ids}
    for group in _groups(matched, correlation_s):
        group_alerts = [a for a, _, _ in group]
        group_findings = list({f.id: f for _, fs, _ in group for f in fs}.values())
        silences = [s for _, _, s in group if s is not None]
        stored = next((stored_by_alert[a.id] for a in group_alerts if a.id in stored_by_alert), None) or next(
            (stored_by_finding[f.id] for f in group_findings if f.id in stored_by_finding), None)
        if stored is not None:
            for f in group_findings:
                result.finding_incident.setdefault(f.id, stored)
            continue
        persons = {a.person_id for a in group_alerts} | {f.person_id for f in group_findings if f.person_id}
        persons.discard(None)
        draft = IncidentDraft(site_id=group_alerts[0].site_id, person_id=persons.pop() if len(persons) == 1 else None,
                              alerts=group_alerts, findings=group_findings, silences=silences)
        draft.severity = incident_severity(group_alerts, group_findings, silences)
        draft.key = f"incident:{draft.site_id}:{min(a.id for a in group_alerts)}"
        draft.summary = _summary(draft, names)
        result.new.append(draft)
        for f in group_findings:
            result.finding_incident.setdefault(f.id, draft)
    # A finding made after its incident (a silence reaching the silent-device threshold long
    # after the "device offline" alert) belongs to it: same site and person, overlapping.
    for f in findings:
        if f.id not in result.finding_incident:
            incident = next((inc for inc in incidents if inc.site_id == f.site_id and _compatible(inc.person_id, f.person_id)
                             and f.start - correlation_s <= inc.end and inc.start <= f.end + correlation_s), None)
            if incident is not None:
                result.finding_incident[f.id] = incident
    return result


def _compatible(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


def _groups(matched: list[tuple[Alert, list[StoredFinding], Silence | None]],
            correlation_s: float) -> list[list[tuple[Alert, list[StoredFinding], Silence | None]]]:
    """Union-find: alerts of one site and person within 2 x the window, or sharing a finding."""
    parent = list(range(len(matched)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (a, fa, _) in enumerate(matched):
        ids_a = {f.id for f in fa}
        for j in range(i):
            b, fb, _ = matched[j]
            same = a.site_id == b.site_id and a.person_id == b.person_id and abs(a.ts - b.ts) <= 2 * correlation_s
            if same or (a.site_id == b.site_id and ids_a & {f.id for f in fb}):
                parent[root(i)] = root(j)
    groups: dict[int, list[tuple[Alert, list[StoredFinding], Silence | None]]] = {}
    for i, item in enumerate(matched):
        groups.setdefault(root(i), []).append(item)
    return list(groups.values())


def _summary(draft: IncidentDraft, names: Names) -> str:
    alerts = " + ".join(sorted({a.kind.value.replace("_", " ") for a in draft.alerts}))
    parts = sorted({f.type.replace("_", " ") for f in draft.findings})
    if draft.silences:
        minutes = max((s.end - s.silent_since) / 60 for s in draft.silences)
        parts.append(f"phone silent {minutes:.0f} min")
    who = f"{names.person(draft.person_id)} at " if draft.person_id is not None else ""
    return f"{alerts.capitalize()} alert with {', '.join(parts)}: {who}{names.site(draft.site_id)}"


def incident_signals(draft: IncidentDraft) -> list[dict[str, Any]]:
    """What the incident row keeps: a summary (and the rule applied), then every member."""
    out: list[dict[str, Any]] = [{"kind": "summary", "text": draft.summary,
                                  "rule": "one level above the most severe member; personal-safety alert "
                                          "with an absence: critical"}]
    out += [{"kind": "alert", "alert_id": a.id, "alert_kind": a.kind.value, "severity": a.severity.value,
             "at": iso(a.ts), "person_id": a.person_id} for a in draft.alerts]
    out += [_finding_signal(f) for f in draft.findings]
    out += [{"kind": "silence", "person_ids": list(s.person_ids), "from": iso(s.start), "to": iso(s.end),
             "silent_since": iso(s.silent_since)} for s in draft.silences]
    return out


def attach_findings(session: Session, incident: StoredIncident, findings: list[StoredFinding]) -> Severity:
    """Add later findings to a stored incident (its members and, by the same rule, its
    severity, which only ever rises); returns the severity now. Row-locked: two audits adding
    to one incident serialise."""
    row = session.get(Incident, incident.id, with_for_update=True)
    assert row is not None
    known = {s.get("finding_id") for s in row.signals if s.get("kind") == "finding"}
    added = [f for f in findings if f.id not in known]
    if added:
        row.signals = [*row.signals, *(_finding_signal(f) for f in added)]
        members = [Severity(s["severity"]) if s["kind"] != "silence" else Severity.LOW
                   for s in row.signals if s["kind"] in ("alert", "finding", "silence")]
        severity = _severity_rule(
            members, {AlertKind(s["alert_kind"]) for s in row.signals if s["kind"] == "alert"},
            any(s["kind"] == "silence" or s.get("type") in ABSENCE_TYPES for s in row.signals))
        row.severity = max(Severity(row.severity), severity, key=RANK.__getitem__)
        row.window_start = min(row.window_start, at(min(f.start for f in added)))
        row.window_end = max(row.window_end, at(max(f.end for f in added)))
    return Severity(row.severity)


def _finding_signal(f: StoredFinding) -> dict[str, Any]:
    return {"kind": "finding", "finding_id": f.id, "type": f.type, "severity": f.severity.value,
            "summary": f.summary, "person_id": f.person_id}
