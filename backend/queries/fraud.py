"""The fraud overview: who is high-risk now, how the last 24 h's scores spread, the 30-day trend,
and where and when flagged check-ins cluster (site map, site × hour of day).

Risk is ``backend.queries.risk`` (the one definition). The aggregates read ``fraud_predictions``
by its (tenant_id, ts) index and group in SQL: one row per score bin, one row per (site, UTC
hour) with check-ins; days and hours are then made site-local here, because SQLite has no time
zones (zones with half-hour offsets are placed to the hour)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.auth.principal import Principal
from backend.models import FraudPrediction, Site
from backend.queries.access import FRAUD_READER, require_role
from backend.queries.fraud_schemas import SCORE_BINS, DailyScores, FraudOverview, SiteHourCell
from backend.queries.risk import RISK_WINDOW, PersonRisk, high_risk_persons, site_risks
from backend.queries.schemas import site_zone
from backend.queries.scope import effective_site
from backend.sql_functions import hour_number

TREND_DAYS = 30
HIGH_RISK_LIMIT = 50


def fraud_overview(session: Session, principal: Principal, *, threshold: float, now: datetime | None = None,
                   days: int = TREND_DAYS, limit: int = HIGH_RISK_LIMIT) -> FraudOverview:
    """Everything the fraud page shows, for the principal's tenant and site scope."""
    require_role(principal, FRAUD_READER)
    now = now or datetime.now(UTC)
    _, site_id = effective_site(principal, None)
    hours = _site_hours(session, principal, site_id, threshold, since=now - timedelta(days=days))
    return FraudOverview(
        threshold=threshold,
        high_risk=tuple(high_risk_persons(session, principal, min_score=threshold, now=now, limit=limit)),
        bins=_score_bins(session, principal, site_id, since=now - RISK_WINDOW),
        trend=tuple(daily_scores(((_local(hour, tz).date(), n, flagged, top, total)
                                  for _, _, tz, hour, n, flagged, top, total in hours),
                                 first=(now - timedelta(days=days - 1)).date(), last=now.date())),
        site_hours=_site_hour_cells(hours),
        sites=tuple(site_risks(session, principal, flag_score=threshold, now=now)),
        days=days)


def fraud_rows(session: Session, principal: Principal, *, person_ids: Collection[int], threshold: float,
               now: datetime | None = None) -> list[PersonRisk]:
    """The high-risk rows of just these persons (the ones live events named), to patch the table."""
    require_role(principal, FRAUD_READER)
    return high_risk_persons(session, principal, min_score=threshold, person_ids=person_ids, now=now,
                             limit=len(person_ids) or 1)


def daily_scores(rows: Iterable[tuple[date, int, int, float, float]], *, first: date,
                 last: date) -> list[DailyScores]:
    """Per day from ``first`` to ``last`` (empty days included), from (day, scored, flagged,
    max, sum) parts; a day outside the range (a site ahead of UTC) widens it."""
    parts: dict[date, list[float]] = defaultdict(lambda: [0, 0, float("-inf"), 0.0])
    for day, scored, flagged, top, total in rows:
        acc = parts[day]
        acc[0] += scored
        acc[1] += flagged
        acc[2] = max(acc[2], top)
        acc[3] += total
    first = min([first, *parts])
    last = max([last, *parts])
    out = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        scored, flagged, top, total = parts.get(day, (0, 0, None, 0.0))
        out.append(DailyScores(day=day, scored=int(scored), flagged=int(flagged),
                               max_score=top if scored else None, mean_score=total / scored if scored else None))
    return out


def _local(hour: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC).astimezone(site_zone(timezone))


def _score_bins(session: Session, principal: Principal, site_id: int | None, *, since: datetime) -> tuple[int, ...]:
    fp = FraudPrediction
    edges = [i / SCORE_BINS for i in range(SCORE_BINS)]
    columns = [sa.func.coalesce(sa.func.sum(sa.case((fp.score >= lo, 1), else_=0)), 0) for lo in edges]
    query = sa.select(*columns).where(fp.tenant_id == principal.tenant_id, fp.ts >= since)
    if site_id is not None:
        query = query.where(fp.site_id == site_id)
    at_least = [int(v) for v in session.execute(query).one()]  # cumulative: scores ≥ each lower edge
    return tuple(at_least[i] - (at_least[i + 1] if i + 1 < SCORE_BINS else 0) for i in range(SCORE_BINS))


def _site_hours(session: Session, principal: Principal, site_id: int | None, threshold: float, *,
                since: datetime) -> list[tuple[int, str, str, int, int, int, float, float]]:
    """(site id, name, time zone, UTC hour number, scored, flagged, max, sum) per site and hour
    with scores; flagged: at or above ``threshold``."""
    fp = FraudPrediction
    hour = hour_number(fp.ts)
    grouped = (sa.select(fp.site_id, hour.label("hour"), sa.func.count().label("scored"),
                         sa.func.sum(sa.case((fp.score >= threshold, 1), else_=0)).label("flagged"),
                         sa.func.max(fp.score).label("top"), sa.func.sum(fp.score).label("total"))
               .where(fp.tenant_id == principal.tenant_id, fp.ts >= since)
               .group_by(fp.site_id, hour))
    if site_id is not None:
        grouped = grouped.where(fp.site_id == site_id)
    g = grouped.subquery("site_hours")
    query = (sa.select(g.c.site_id, Site.name, Site.timezone, g.c.hour, g.c.scored, g.c.flagged, g.c.top, g.c.total)
             .join(Site, sa.and_(Site.id == g.c.site_id, Site.tenant_id == principal.tenant_id)))
    return [(r.site_id, r.name, r.timezone, int(r.hour), int(r.scored), int(r.flagged), float(r.top),
             float(r.total)) for r in session.execute(query)]


def _site_hour_cells(hours: Iterable[tuple[int, str, str, int, int, int, float, float]]) -> tuple[SiteHourCell, ...]:
    """Per site and site-local hour of the day, summed over the days."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    names: dict[int, str] = {}
    for site_id, name, tz, hour, scored, flagged, _, _ in hours:
        names[site_id] = name
        acc = cells[(site_id, _local(hour, tz).hour)]
        acc[0] += scored
        acc[1] += flagged
    return tuple(SiteHourCell(site_id=site_id, site_name=names[site_id], hour=h, scored=n, flagged=f)
                 for (site_id, h), (n, f) in sorted(cells.items(), key=lambda c: (names[c[0][0]], c[0])))
