"""Reads for the UI: a site's activity against its baselines, and recent findings. Every
query takes the principal: its tenant always, and a site-scoped principal sees its own site
only (another site reads as "not found": None or nothing)."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.baseline_store import site_profiles
from backend.audit.baselines import spread, z_score
from backend.audit.rules import BaselineRules
from backend.audit.schemas import AnomalousWindow, FindingItem, MetricSeries, SignalPoint, SiteSignals
from backend.audit.signals import METRICS, count_signals
from backend.audit.types import LABELS, RANK, FindingType
from backend.audit.window import at, hour_of_week
from backend.auth.principal import Principal
from backend.enums import Severity
from backend.models import AuditFinding, Person, Site, utcnow

MAX_HOURS = 24 * 14
MAX_FINDINGS = 500
METRIC_LABELS = {"check_ins": "Check-ins", "pings": "Location fixes", "movement": "Steps",
                 "phone_activity": "Phone activity", "scans": "Checkpoint scans"}


def _visible_site(session: Session, principal: Principal, site_id: int) -> Site | None:
    if principal.site_id is not None and principal.site_id != site_id:
        return None
    return session.scalar(sa.select(Site).where(Site.id == site_id, Site.tenant_id == principal.tenant_id))


def site_signals_vs_baseline(session: Session, principal: Principal, site_id: int, hours: int = 48, *,
                             now: datetime | None = None, min_samples: int = BaselineRules.min_samples
                             ) -> SiteSignals | None:
    """The site's activity per completed hour over the last ``hours`` (at most two weeks),
    each against its hour of week's baseline: centre and band (centre -/+ the profile's stored
    dynamic threshold x spread), and the anomalous windows (runs of hours with a metric below
    its band on a baseline of ``min_samples`` or more), with the findings that flagged them."""
    site = _visible_site(session, principal, site_id)
    if site is None:
        return None
    hours = max(1, min(hours, MAX_HOURS))
    end = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    signals = count_signals(session, principal.tenant_id, start.timestamp(), end.timestamp(), bucket_s=3600,
                            keys=[site_id])
    values = {(int(m), float(b)): float(v) for m, b, v in zip(signals.metric.tolist(), signals.bucket.tolist(),
                                                             signals.value.tolist(), strict=True)}
    profiles = site_profiles(session, principal.tenant_id, site_id)
    starts = [start.timestamp() + 3600 * k for k in range(hours)]
    series = []
    flagged: dict[float, list[str]] = {}
    for m, metric in enumerate(METRICS):
        points = []
        for t in starts:
            value = values.get((m, t), 0.0)
            profile = profiles.get((site_id, metric, hour_of_week(t + 1800, site.timezone)))
            if profile is None:
                points.append(SignalPoint(at(t), value, None, None, None, 0, False, False))
                continue
            width = profile.threshold * spread(profile.center, profile.scale)
            active = profile.sample_count >= min_samples
            anomalous = active and z_score(value, profile.center, profile.scale) <= -profile.threshold
            points.append(SignalPoint(at(t), value, profile.center, max(profile.center - width, 0.0),
                                      profile.center + width, profile.sample_count, active, anomalous))
            if anomalous:
                flagged.setdefault(t, []).append(metric.value)
        series.append(MetricSeries(metric.value, METRIC_LABELS[metric.value], tuple(points)))
    return SiteSignals(site_id=site.id, site_name=site.name, timezone=site.timezone, start=start, end=end,
                       series=tuple(series),
                       anomalous_windows=_windows(session, principal.tenant_id, site_id, flagged, start, end))


def _windows(session: Session, tenant_id: int, site_id: int, flagged: dict[float, list[str]], start: datetime,
             end: datetime) -> tuple[AnomalousWindow, ...]:
    """Runs of consecutive flagged hours, with the activity findings overlapping each."""
    f = AuditFinding
    findings = session.execute(sa.select(f.id, f.window_start, f.window_end).where(
        f.tenant_id == tenant_id, f.site_id == site_id, f.type == FindingType.ACTIVITY_BELOW_BASELINE.value,
        f.window_end >= start, f.window_start <= end)).all()
    runs: list[tuple[float, float, set[str]]] = []
    for t in sorted(flagged):
        if runs and runs[-1][1] == t:
            runs[-1] = (runs[-1][0], t + 3600, runs[-1][2] | set(flagged[t]))
        else:
            runs.append((t, t + 3600, set(flagged[t])))
    return tuple(AnomalousWindow(at(lo), at(hi), tuple(sorted(metrics)), tuple(
        r.id for r in findings if r.window_end.timestamp() >= lo and r.window_start.timestamp() <= hi))
        for lo, hi, metrics in runs)


def recent_findings(session: Session, principal: Principal, *, site_id: int | None = None,
                    since: datetime | None = None, types: Collection[str] | None = None,
                    min_severity: Severity | None = None, limit: int = 100) -> list[FindingItem]:
    """The tenant's findings, newest window first: optionally of one site, since a time, of
    some types, at or above a severity. A site-scoped principal sees its own site only."""
    if principal.site_id is not None:
        if site_id not in (None, principal.site_id):
            return []
        site_id = principal.site_id
    f = AuditFinding
    query = (sa.select(f, Site.name.label("site_name"), Site.timezone.label("site_timezone"),
                       Person.code.label("person_code"), Person.name.label("person_name"))
             .join(Site, sa.and_(Site.id == f.site_id, Site.tenant_id == principal.tenant_id))
             .outerjoin(Person, sa.and_(Person.id == f.person_id, Person.tenant_id == principal.tenant_id))
             .where(f.tenant_id == principal.tenant_id))
    if site_id is not None:
        query = query.where(f.site_id == site_id)
    if since is not None:
        query = query.where(f.window_end >= since)
    if types:
        query = query.where(f.type.in_(sorted(types)))
    if min_severity is not None:
        query = query.where(f.severity.in_([s for s in Severity if RANK[s] >= RANK[min_severity]]))
    query = query.order_by(f.window_end.desc(), f.id.desc()).limit(max(1, min(limit, MAX_FINDINGS)))
    items = []
    for row in session.execute(query):
        finding: AuditFinding = row[0]
        kind = FindingType(finding.type) if finding.type in FindingType._value2member_map_ else None
        items.append(FindingItem(
            id=finding.id, type=finding.type, label=LABELS[kind] if kind else finding.type,
            severity=str(finding.severity), site_id=finding.site_id, site_name=row.site_name,
            site_timezone=row.site_timezone, person_id=finding.person_id,
            person_name=f"{row.person_code} {row.person_name}" if row.person_code else None,
            window_start=finding.window_start, window_end=finding.window_end,
            summary=str((finding.evidence or {}).get("summary", finding.type)), created_at=finding.created_at,
            evidence=finding.evidence or {}))
    return items
