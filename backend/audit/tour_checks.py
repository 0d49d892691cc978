"""Guard tours: every scheduled round of every tour, judged once its slot is over.

A round scheduled at S (every ``interval_minutes`` between the tour's site-local hours) owns
the scans of its tour in [S - grace, S + interval - grace); it is judged at the end of that
slot. Scans without a tour count for the tour of their site that lists their checkpoint.

| finding                  | rule                                                               | severity             |
|--------------------------|--------------------------------------------------------------------|----------------------|
| missed_tour_round        | no scan in the slot                                                | medium               |
| late_tour_round          | first scan more than ``grace`` after S                             | low                  |
| incomplete_tour_round    | some of the tour's checkpoints not scanned                         | low; medium if half+ |
| scan_stuffing            | two scans at most ``stuffing_gap`` apart whose tags are farther     | high                 |
|                          | apart than ``walk_speed`` covers in that time                      |                      |
| scan_far_from_checkpoint | a scan's fix more than ``scan_far`` from its tag                   | medium; high for QR  |

Scan stuffing, as the issue states it, is "the shortest gap between a round's scans ≤ 1 min";
honest patrols have such gaps too (neighbouring tags 20 m apart), so the gap must also be
physically impossible to walk: copies of the tags scanned in the guard house are seconds apart
for tags 50-300 m apart (5-50 m/s). Dedup key: ``<type>:tour:<tour id>:<S epoch>``."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.findings import FindingDraft
from backend.audit.names import Names
from backend.audit.reference import Reference, TourInfo
from backend.audit.rules import MINUTE, AuditRules
from backend.audit.sql import f8, fetch_arrays, i8, t8
from backend.audit.types import FindingType
from backend.audit.window import AuditWindow, at, iso
from backend.enums import ScanMethod, Severity
from backend.models import CheckpointScan
from backend.geo import haversine_m as distance_m
# The tour schedule's one definition (site-local hours, overnight tours, DST), shared with the demo world.
from backend.local_time import round_times

_SPAN = 4e9   # > any epoch second until 2096: (tour id, time) packs into one exact float


@dataclass(frozen=True)
class Round:
    tour: TourInfo
    scheduled: float

    @property
    def slot(self) -> tuple[float, float]:
        grace, interval = self.tour.grace_minutes * MINUTE, self.tour.interval_minutes * MINUTE
        return self.scheduled - grace, self.scheduled + interval - grace


def due_rounds(reference: Reference, window: AuditWindow) -> list[Round]:
    rounds = []
    for tour in reference.tours:
        shift = (tour.interval_minutes - tour.grace_minutes) * MINUTE   # slot end - S
        timezone = reference.sites[tour.site_id].timezone
        for s in round_times(tour.active_from, tour.active_to, tour.interval_minutes, timezone,
                             window.since - shift, window.as_of - shift + 1.0):
            if window.due(s + shift):
                rounds.append(Round(tour, s))
    return rounds


@dataclass(frozen=True)
class Scans:
    id: np.ndarray
    tour: np.ndarray
    checkpoint: np.ndarray
    person: np.ndarray
    ts: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    qr: np.ndarray
    tag_lat: np.ndarray   # where the scanned checkpoint is (NaN: unknown checkpoint)
    tag_lon: np.ndarray


def _load_scans(session: Session, tenant_id: int, reference: Reference, start: float, end: float) -> Scans:
    c = CheckpointScan
    columns = fetch_arrays(session, sa.select(
        i8(c.id), i8(sa.func.coalesce(c.tour_id, -1)), i8(c.checkpoint_id), i8(c.person_id), t8(c.ts),
        f8(c.lat), f8(c.lon), i8(sa.case((c.method == ScanMethod.QR.value, 1), else_=0)),
    ).where(c.tenant_id == tenant_id, c.ts >= at(start), c.ts < at(end)),
        ["i8", "i8", "i8", "i8", "t8", "f8", "f8", "i8"])
    tags = [reference.checkpoints.get(cp, (np.nan, np.nan)) for cp in columns[2].tolist()]
    tag = np.array(tags, dtype=np.float64).reshape(-1, 2)
    return Scans(*columns, tag_lat=tag[:, 0], tag_lon=tag[:, 1])


def tour_findings(session: Session, tenant_id: int, reference: Reference, window: AuditWindow, rules: AuditRules,
                  names: Names) -> list[FindingDraft]:
    rounds = due_rounds(reference, window)
    if not rounds:
        return []
    scans = _load_scans(session, tenant_id, reference, min(r.slot[0] for r in rounds), max(r.slot[1] for r in rounds))
    # Scans without a tour: the tour of their site listing their checkpoint.
    tour_of_checkpoint = {cp: t.id for t in reversed(reference.tours) for cp in t.checkpoint_ids}
    tour = np.array([t if t >= 0 else tour_of_checkpoint.get(int(cp), -1)
                     for t, cp in zip(scans.tour.tolist(), scans.checkpoint.tolist(), strict=True)], dtype=np.int64)
    order = np.lexsort((scans.ts, tour))
    key = tour[order] * _SPAN + scans.ts[order]     # tour-major, then time: one sorted float key
    drafts: list[FindingDraft] = []
    for r in rounds:
        lo, hi = r.slot
        left, right = np.searchsorted(key, [r.tour.id * _SPAN + lo, r.tour.id * _SPAN + hi], "left")
        drafts.extend(_judge_round(r, order[left:right], scans, rules, names))
    return drafts


def _draft(r: Round, kind: FindingType, severity: Severity, person: int | None, start: float, end: float,
           summary: str, **evidence: object) -> FindingDraft:
    return FindingDraft(type=kind, severity=severity, site_id=r.tour.site_id, person_id=person, start=start, end=end,
                        key=f"{kind.value}:tour:{r.tour.id}:{int(r.scheduled)}", summary=summary,
                        evidence={"tour_id": r.tour.id, "tour": r.tour.name, "scheduled": iso(r.scheduled), **evidence})


def _judge_round(r: Round, idx: np.ndarray, scans: Scans, rules: AuditRules, names: Names) -> list[FindingDraft]:
    site = r.tour.site_id
    label = f"{r.tour.name} round of {names.local(site, r.scheduled)} at {names.site(site)}"
    lo, hi = r.slot
    if not len(idx):
        return [_draft(r, FindingType.MISSED_TOUR_ROUND, Severity.MEDIUM, None, lo, hi,
                       f"Missed tour round: nobody scanned the {label}")]
    ts, checkpoints = scans.ts[idx], scans.checkpoint[idx]
    person = Counter(scans.person[idx].tolist()).most_common(1)[0][0]
    who = names.person(person)
    first, last = float(ts[0]), float(ts[-1])
    out = []
    grace = r.tour.grace_minutes * MINUTE
    if first > r.scheduled + grace:
        out.append(_draft(r, FindingType.LATE_TOUR_ROUND, Severity.LOW, person, r.scheduled, first,
                          f"Late tour round: {who} started the {label} {(first - r.scheduled) / MINUTE:.0f} min late",
                          minutes_late=round((first - r.scheduled) / MINUTE, 1)))
    expected = set(r.tour.checkpoint_ids)
    missing = sorted(expected - set(checkpoints.tolist()))
    if expected and missing:
        severity = Severity.MEDIUM if len(missing) * 2 >= len(expected) else Severity.LOW
        out.append(_draft(r, FindingType.INCOMPLETE_TOUR_ROUND, severity, person, first, last,
                          f"Incomplete tour round: {who} scanned {len(expected) - len(missing)} of {len(expected)} "
                          f"checkpoints of the {label}", missing_checkpoint_ids=missing, expected=len(expected)))
    out.extend(_stuffing(r, idx, scans, rules, label, who, person))
    out.extend(_far_scans(r, idx, scans, rules, label, who, person))
    return out


def _stuffing(r: Round, idx: np.ndarray, scans: Scans, rules: AuditRules, label: str, who: str,
              person: int) -> list[FindingDraft]:
    if len(idx) < 2:
        return []
    ts, cps, lat, lon = scans.ts[idx], scans.checkpoint[idx], scans.tag_lat[idx], scans.tag_lon[idx]
    gaps = np.diff(ts)
    legs = np.nan_to_num(distance_m(lat[:-1], lon[:-1], lat[1:], lon[1:]), nan=0.0)   # unknown tags: no leg
    speed = legs / np.maximum(gaps, 1.0)
    impossible = (gaps <= rules.stuffing_gap_s) & (cps[1:] != cps[:-1]) & (speed > rules.walk_speed_mps)
    if not impossible.any():
        return []
    fastest = float(np.nanmax(np.where(impossible, speed, np.nan)))
    return [_draft(r, FindingType.SCAN_STUFFING, Severity.HIGH, person, float(ts[0]), float(ts[-1]),
                   f"Scan stuffing: {who} scanned the {label} at {fastest:.0f} m/s between tags "
                   f"({len(idx)} scans in {(ts[-1] - ts[0]) / MINUTE:.1f} min)",
                   scans=len(idx), shortest_gap_s=round(float(gaps.min()), 1), fastest_leg_mps=round(fastest, 1),
                   round_span_s=round(float(ts[-1] - ts[0]), 1), impossible_legs=int(impossible.sum()),
                   walk_speed_mps=rules.walk_speed_mps)]


def _far_scans(r: Round, idx: np.ndarray, scans: Scans, rules: AuditRules, label: str, who: str,
               person: int) -> list[FindingDraft]:
    dist = distance_m(scans.tag_lat[idx], scans.tag_lon[idx], scans.lat[idx], scans.lon[idx])
    far = np.nan_to_num(dist, nan=0.0) > rules.scan_far_m
    if not far.any():
        return []
    qr = bool((scans.qr[idx][far] == 1).any())
    worst = float(np.nanmax(dist[far]))
    return [_draft(r, FindingType.SCAN_FAR_FROM_CHECKPOINT, Severity.HIGH if qr else Severity.MEDIUM, person,
                   float(scans.ts[idx][far].min()), float(scans.ts[idx][far].max()),
                   f"Scan far from its checkpoint: {who} scanned {int(far.sum())} tag(s) of the {label} up to "
                   f"{worst:.0f} m from where they are{' (QR: a copied code?)' if qr else ''}",
                   far_scans=int(far.sum()), farthest_m=round(worst), qr=qr,
                   scan_ids=[int(s) for s in scans.id[idx][far].tolist()], threshold_m=rules.scan_far_m)]
