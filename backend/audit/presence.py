"""Presence while on duty, from what the guard's phone reports:

| finding           | rule                                                                        | severity |
|-------------------|-----------------------------------------------------------------------------|----------|
| silent_device     | no telemetry at all (fix, phone activity, scan, punch) for ``silent``        | high     |
|                   | minutes between the clock-in and the clock-out (or the shift's end)          |          |
| low_at_work_share | under ``at_work_min_share`` of the location fixes inside the geofence        | high     |
|                   | (radius + ``geofence_margin``); judged ``at_work_after`` after the clock-in  |          |
|                   | and again at the end of the duty, on at least 4 fixes                        |          |

A silence is judged when it ends, or as soon as it has lasted ``silent`` minutes if it still
goes on (the finding says "ongoing"); each kind at most once per shift (dedup key
``<type>:shift:<id>``). Check-in-and-leave shows as a low at-work share; a phone switched off
or left in a car as a silent device."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.duties import Duties
from backend.audit.findings import FindingDraft
from backend.audit.names import Names
from backend.audit.reference import Reference
from backend.audit.rules import MINUTE, AuditRules
from backend.audit.sql import f8, fetch_arrays, i8, t8
from backend.audit.types import FindingType
from backend.audit.window import AuditWindow, at, iso
from backend.enums import Severity
from backend.models import AttendanceEvent, CheckpointScan, LocationPing, PhoneActivity
from backend.geo import haversine_m as distance_m

MIN_FIXES = 4   # fewer fixes say too little about where someone was


@dataclass(frozen=True)
class PersonSeries:
    """Per-person time series (sorted by person, then time) with O(log n) slicing."""
    person: np.ndarray
    ts: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    _runs: dict[int, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def of(cls, person: np.ndarray, ts: np.ndarray, **columns: np.ndarray) -> "PersonSeries":
        order = np.lexsort((ts, person))
        series = cls(person[order], ts[order], {k: v[order] for k, v in columns.items()})
        ids, first, counts = np.unique(series.person, return_index=True, return_counts=True)
        series._runs.update({int(p): (int(f), int(f + c)) for p, f, c in zip(ids, first, counts, strict=True)})
        return series

    def span(self, person_id: int, start: float, end: float) -> slice:
        """Indexes of the person's entries with start <= ts <= end."""
        lo, hi = self._runs.get(person_id, (0, 0))
        run = self.ts[lo:hi]
        return slice(lo + int(np.searchsorted(run, start, "left")), lo + int(np.searchsorted(run, end, "right")))


def load_telemetry(session: Session, tenant_id: int, start: float, end: float) -> PersonSeries:
    """Every report of the tenant's phones in [start, end]: one UNION ALL over the inputs."""
    branches = [sa.select(i8(m.person_id).label("person"), t8(m.ts).label("ts"))
                .where(m.tenant_id == tenant_id, m.ts >= at(start), m.ts <= at(end))
                for m in (LocationPing, PhoneActivity, CheckpointScan, AttendanceEvent)]
    union = sa.union_all(*branches).subquery("telemetry")
    person, ts = fetch_arrays(session, sa.select(union.c.person, union.c.ts), ["i8", "t8"])
    return PersonSeries.of(person, ts)


def telemetry_start(window: AuditWindow, rules: AuditRules) -> float:
    """How far back telemetry is read: a silence ending in the window began up to ``silent``
    before it; correlation looks ``correlation`` either side of an alert."""
    return window.since - max(rules.silent_s, 2 * rules.correlation_s)


def silent_devices(duties: Duties, telemetry: PersonSeries, window: AuditWindow, rules: AuditRules,
                   names: Names) -> list[FindingDraft]:
    drafts = []
    d = duties
    on = d.clock_in
    off = d.on_duty_until(window.as_of, rules.close_grace_s)
    floor = telemetry_start(window, rules)
    for i in np.flatnonzero(~np.isnan(on) & (off > window.since) & (off > on)).tolist():
        person = int(d.person_id[i])
        begin = max(float(on[i]), floor)   # earlier reports are not read: the silence is at least this long
        reports = telemetry.ts[telemetry.span(person, begin, float(off[i]))]
        edges = np.concatenate([[begin], reports, [float(off[i])]])
        gaps = np.diff(edges)
        hits = np.flatnonzero((gaps >= rules.silent_s) & window.due(edges[1:]))
        if not len(hits):
            continue
        k = int(hits[0])
        start, end = float(edges[k]), float(edges[k + 1])
        ongoing = k == len(gaps) - 1 and end >= window.as_of and np.isnan(d.clock_out[i]) and d.end[i] > window.as_of
        minutes = (end - start) / MINUTE
        site = int(d.site_id[i])
        drafts.append(FindingDraft(
            type=FindingType.SILENT_DEVICE, severity=Severity.HIGH, site_id=site, person_id=person, start=start,
            end=end, key=f"{FindingType.SILENT_DEVICE.value}:shift:{int(d.shift_id[i])}",
            summary=(f"Silent device: nothing from {names.person(person)}'s phone for {minutes:.0f} min"
                     f"{' and counting' if ongoing else ''} while on duty at {names.site(site)}"),
            evidence={"shift_id": int(d.shift_id[i]), "silent_from": iso(start), "silent_until": iso(end),
                      "minutes": round(minutes, 1), "ongoing": bool(ongoing), "clock_in": iso(float(on[i])),
                      "threshold_minutes": round(rules.silent_s / MINUTE)}))
    return drafts


def _at_work_spans(duties: Duties, window: AuditWindow, rules: AuditRules) -> list[tuple[int, float, float, str]]:
    """(duty, span start, span end, stage) of the at-work judgements due in this window: one
    ``at_work_after`` after the clock-in (while still on duty), one when the duty ends."""
    d = duties
    on = d.clock_in
    ended = np.where(np.isnan(d.clock_out), d.end + rules.close_grace_s, d.clock_out)
    duty_end = np.where(np.isnan(d.clock_out), d.end, d.clock_out)
    early = on + rules.at_work_after_s
    spans = [(i, float(on[i]), float(early[i]), "early") for i in np.flatnonzero(
        ~np.isnan(on) & window.due(early) & (early <= duty_end)).tolist()]
    spans += [(i, float(on[i]), float(duty_end[i]), "end") for i in np.flatnonzero(
        ~np.isnan(on) & window.due(ended) & (duty_end - on >= rules.at_work_after_s)).tolist()]
    return spans


def low_at_work_shares(session: Session, tenant_id: int, duties: Duties, reference: Reference, window: AuditWindow,
                       rules: AuditRules, names: Names) -> list[FindingDraft]:
    spans = _at_work_spans(duties, window, rules)
    if not spans:
        return []
    d = duties
    persons = sorted({int(d.person_id[i]) for i, *_ in spans})
    p = LocationPing
    person, ts, lat, lon = fetch_arrays(session, sa.select(
        i8(p.person_id), t8(p.ts), f8(p.lat), f8(p.lon),
    ).where(p.tenant_id == tenant_id, p.person_id.in_(persons),
            p.ts >= at(min(s for _, s, _, _ in spans)), p.ts <= at(max(e for _, _, e, _ in spans))),
        ["i8", "t8", "f8", "f8"])
    fixes = PersonSeries.of(person, ts, lat=lat, lon=lon)
    drafts = []
    for i, start, end, stage in spans:
        site = reference.sites.get(int(d.site_id[i]))
        if site is None:
            continue
        part = fixes.span(int(d.person_id[i]), start, end)
        n = part.stop - part.start
        if n < MIN_FIXES:
            continue
        dist = distance_m(np.full(n, site.lat), np.full(n, site.lon), fixes.columns["lat"][part],
                          fixes.columns["lon"][part])
        inside = int(np.count_nonzero(dist <= site.radius_m + rules.geofence_margin_m))
        share = inside / n
        if share >= rules.at_work_min_share:
            continue
        person = int(d.person_id[i])
        drafts.append(FindingDraft(
            type=FindingType.LOW_AT_WORK_SHARE, severity=Severity.HIGH, site_id=site.id, person_id=person,
            start=start, end=end, key=f"{FindingType.LOW_AT_WORK_SHARE.value}:shift:{int(d.shift_id[i])}",
            summary=(f"Mostly off site: only {share:.0%} of {names.person(person)}'s location fixes were at "
                     f"{site.name} in {(end - start) / MINUTE:.0f} min on duty"),
            evidence={"shift_id": int(d.shift_id[i]), "share": round(share, 3), "fixes": n, "inside": inside,
                      "farthest_m": round(float(dist.max())), "stage": stage,
                      "threshold": rules.at_work_min_share, "geofence_m": round(site.radius_m + rules.geofence_margin_m)}))
    return drafts
