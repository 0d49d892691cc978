"""The fraud overview: who is high-risk now, how the last 24 h's scores spread, the 30-day trend,
and where and when flagged check-ins cluster (site map, site × hour of day).

Risk is ``backend.queries.risk`` (the one definition). The aggregates read ``fraud_predictions``
by its (tenant_id, ts) index and group in SQL by UTC hour — per time zone for the trend, per
site for the flagged heatmap — so a few thousand rows come back however many check-ins there
are; days and hours are made site-local here, because SQLite has no time zones (zones with
half-hour offsets are placed to the hour)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.auth.principal import Principal
from backend.models import FraudPrediction, Site
from backend.queries.access import FRAUD_READER, require_role
from backend.queries.fraud_schemas import SCORE_BINS, DailyScores, FraudOverview, SiteHourCell
from backend.queries.risk import RISK_WINDOW, high_risk_persons, site_risks
from backend.queries.risk_schemas import PersonRisk
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
    since = now - timedelta(days=days)
    return FraudOverview(
        threshold=threshold,
        high_risk=tuple(high_risk_persons(session, principal, min_score=threshold, now=now, limit=limit)),
        bins=_score_bins(session, principal, site_id, since=now - RISK_WINDOW),
        trend=tuple(daily_scores(_zone_hours(session, principal, site_id, threshold, since=since),
                                 first=(now - timedelta(days=days - 1)).date(), last=now.date())),
        site_hours=_flagged_site_hours(session, principal, site_id, threshold, since=since),
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


@lru_cache(maxsize=8192)
def _local(hour: int, timezone: str) -> tuple[date, int]:
    """(site-local date, hour of day) of a UTC hour number in a time zone (cached: a 30-day
    window has 720 hours per zone, however many sites and check-ins)."""
    local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(site_zone(timezone))
    return local.date(), local.hour


def _score_bins(session: Session, principal: Principal, site_id: int | None, *, since: datetime) -> tuple[int, ...]:
    fp = FraudPrediction
    edges = [i / SCORE_BINS for i in range(SCORE_BINS)]
    columns = [sa.func.coalesce(sa.func.sum(sa.case((fp.score >= lo, 1), else_=0)), 0) for lo in edges]
    query = sa.select(*columns).where(fp.tenant_id == principal.tenant_id, fp.ts >= since)
    if site_id is not None:
        query = query.where(fp.site_id == site_id)
    at_least = [int(v) for v in session.execute(query).one()]  # cumulative: scores ≥ each lower edge
    return tuple(at_least[i] - (at_least[i + 1] if i + 1 < SCORE_BINS else 0) for i in range(SCORE_BINS))


def _zone_hours(session: Session, principal: Principal, site_id: int | None, threshold: float, *,
                since: datetime) -> list[tuple[date, int, int, float, float]]:
    """(site-local day, scored, flagged, max, sum) per time zone and UTC hour: at most 24 rows
    per zone and day, however many check-ins."""
    fp = FraudPrediction
    hour = hour_number(fp.ts)
    query = (sa.select(Site.timezone, hour.label("hour"), sa.func.count().label("scored"),
                       sa.func.sum(sa.case((fp.score >= threshold, 1), else_=0)).label("flagged"),
                       sa.func.max(fp.score).label("top"), sa.func.sum(fp.score).label("total"))
             .join(Site, sa.and_(Site.id == fp.site_id, Site.tenant_id == principal.tenant_id))
             .where(fp.tenant_id == principal.tenant_id, fp.ts >= since)
             .group_by(Site.timezone, hour))
    if site_id is not None:
        query = query.where(fp.site_id == site_id)
    return [(_local(r.hour, r.timezone)[0], r.scored, int(r.flagged), float(r.top), float(r.total))
            for r in session.execute(query)]


def _flagged_site_hours(session: Session, principal: Principal, site_id: int | None, threshold: float, *,
                        since: datetime) -> tuple[SiteHourCell, ...]:
    """Flagged check-ins per site and site-local hour of the day (only flagged rows are read)."""
    fp = FraudPrediction
    hour = hour_number(fp.ts)
    grouped = (sa.select(fp.site_id, hour.label("hour"), sa.func.count().label("flagged"))
               .where(fp.tenant_id == principal.tenant_id, fp.ts >= since, fp.score >= threshold)
               .group_by(fp.site_id, hour))
    if site_id is not None:
        grouped = grouped.where(fp.site_id == site_id)
    g = grouped.subquery("flagged_hours")
    query = (sa.select(g.c.site_id, Site.name, Site.timezone, g.c.hour, g.c.flagged)
             .join(Site, sa.and_(Site.id == g.c.site_id, Site.tenant_id == principal.tenant_id)))
    cells: dict[tuple[int, int], int] = defaultdict(int)
    names: dict[int, str] = {}
    for r in session.execute(query):
        names[r.site_id] = r.name
        cells[(r.site_id, _local(r.hour, r.timezone)[1])] += r.flagged
    return tuple(SiteHourCell(site_id=site, site_name=names[site], hour=h, flagged=n)
                 for (site, h), n in sorted(cells.items(), key=lambda c: (names[c[0][0]], c[0])))
