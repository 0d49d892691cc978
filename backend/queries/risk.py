"""Risk: who and where is risky right now, from the fraud scores of a recent window.

One definition for every page (wall tiles and map, fraud page, sites table, site page):
- a person's risk is the highest fraud score of their check-ins in the window, with the reasons
  of that highest-scoring check-in (the evidence a manager reads first);
- a site's risk is the highest fraud score of a check-in at the site in the window, with how
  many check-ins were flagged (score ≥ the anomaly threshold) out of how many were scored.
The maximum, not a mean: one spoofed check-in is what a manager must see, and a mean would hide
it among a hundred honest ones. Both read ``fraud_predictions`` by (tenant_id, ts)."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.auth.principal import Principal
from backend.enums import Scorer
from backend.models import FraudPrediction, Person, Site
from backend.queries.risk_schemas import PersonRisk, SiteRisk
from backend.queries.scope import effective_site

RISK_WINDOW = timedelta(hours=24)
MAX_PERSONS = 500


def _window_start(now: datetime | None, window: timedelta) -> datetime:
    return (now or datetime.now(timezone.utc)) - window


def reason_texts(reasons: Any) -> tuple[str, ...]:
    # Stored as [{"feature", "text", "weight"}, ...] (backend.scoring.reasons); tolerate junk.
    if not isinstance(reasons, list):
        return ()
    return tuple(r["text"] for r in reasons if isinstance(r, dict) and isinstance(r.get("text"), str))


def person_risk_subquery(principal: Principal, *, flag_score: float, site_id: int | None = None,
                         min_score: float | None = None, person_ids: Collection[int] | None = None,
                         now: datetime | None = None, window: timedelta = RISK_WINDOW) -> sa.Subquery:
    """One row per person with a score in the window (``site_id``: at that site): ``person_id``,
    ``score`` (the highest), ``ts``/``site_id``/``scorer``/``reasons`` of that check-in, ``flagged``
    (scores ≥ ``flag_score``), ``scored`` and ``last_flagged_at``. ``min_score`` drops lower scores
    first; ``person_ids`` keeps only those persons. For composing: the caller joins names (tenant
    in every join) and orders, and applies the principal's site scope through ``site_id``
    (``effective_site``)."""
    fp = FraudPrediction
    person = (fp.person_id,)
    is_flagged = fp.score >= flag_score
    ranked = (sa.select(fp.person_id, fp.site_id, fp.score, fp.ts, fp.scorer, fp.reasons,
                        sa.func.row_number().over(partition_by=person, order_by=(fp.score.desc(), fp.ts.desc()))
                        .label("rank"),
                        sa.func.sum(sa.case((is_flagged, 1), else_=0)).over(partition_by=person).label("flagged"),
                        sa.func.count().over(partition_by=person).label("scored"),
                        sa.func.max(sa.case((is_flagged, fp.ts))).over(partition_by=person).label("last_flagged_at"))
              .where(fp.tenant_id == principal.tenant_id, fp.ts >= _window_start(now, window)))
    if min_score is not None:
        ranked = ranked.where(fp.score >= min_score)
    if site_id is not None:
        ranked = ranked.where(fp.site_id == site_id)
    if person_ids is not None:
        ranked = ranked.where(fp.person_id.in_(sorted(set(person_ids))))
    top = ranked.subquery("ranked")
    return sa.select(top).where(top.c.rank == 1).subquery("person_risk")


def high_risk_persons(session: Session, principal: Principal, *, min_score: float,
                      site_id: int | None = None, person_ids: Collection[int] | None = None,
                      now: datetime | None = None, window: timedelta = RISK_WINDOW,
                      limit: int = 50) -> list[PersonRisk]:
    """Persons with a check-in scored ≥ ``min_score`` in the window, riskiest first
    (``person_ids``: only these, e.g. the ones a live event just named)."""
    allowed, site_id = effective_site(principal, site_id)
    if not allowed or (person_ids is not None and not person_ids):
        return []
    top = person_risk_subquery(principal, flag_score=min_score, min_score=min_score, site_id=site_id,
                               person_ids=person_ids, now=now, window=window)
    query = (sa.select(top, Person.code, Person.name, Site.name.label("site_name"),
                       Site.timezone.label("site_timezone"))
             .join(Person, sa.and_(Person.id == top.c.person_id, Person.tenant_id == principal.tenant_id))
             .join(Site, sa.and_(Site.id == top.c.site_id, Site.tenant_id == principal.tenant_id))
             .order_by(top.c.score.desc(), top.c.flagged.desc(), top.c.person_id)
             .limit(max(1, min(limit, MAX_PERSONS))))
    return [PersonRisk(person_id=r.person_id, person_code=r.code, person_name=r.name, score=r.score,
                       flagged=r.flagged, last_flagged_at=r.last_flagged_at, scored_at_ts=r.ts,
                       scorer=Scorer(r.scorer), reasons=reason_texts(r.reasons), site_id=r.site_id,
                       site_name=r.site_name, site_timezone=r.site_timezone)
            for r in session.execute(query)]


def site_risks(session: Session, principal: Principal, *, flag_score: float, site_id: int | None = None,
               now: datetime | None = None, window: timedelta = RISK_WINDOW) -> list[SiteRisk]:
    """Every active site the principal may see (only ``site_id`` when given), with its risk in
    the window (None if nothing was scored there), riskiest first."""
    allowed, site_id = effective_site(principal, site_id)
    if not allowed:
        return []
    fp = FraudPrediction
    scores = (sa.select(fp.site_id, sa.func.max(fp.score).label("risk"), sa.func.count().label("scored"),
                        sa.func.sum(sa.case((fp.score >= flag_score, 1), else_=0)).label("flagged"))
              .where(fp.tenant_id == principal.tenant_id, fp.ts >= _window_start(now, window))
              .group_by(fp.site_id))
    if site_id is not None:
        scores = scores.where(fp.site_id == site_id)
    scores = scores.subquery("scores")
    query = (sa.select(Site.id, Site.code, Site.name, Site.timezone, Site.lat, Site.lon,
                       scores.c.risk, scores.c.scored, scores.c.flagged)
             .outerjoin(scores, scores.c.site_id == Site.id)
             .where(Site.tenant_id == principal.tenant_id, Site.active.is_(True))
             .order_by(sa.func.coalesce(scores.c.risk, -1.0).desc(), Site.name, Site.id))
    if site_id is not None:
        query = query.where(Site.id == site_id)
    return [SiteRisk(site_id=r.id, site_code=r.code, site_name=r.name, site_timezone=r.timezone,
                     lat=r.lat, lon=r.lon, risk=r.risk, flagged=int(r.flagged or 0), scored=int(r.scored or 0))
            for r in session.execute(query)]
