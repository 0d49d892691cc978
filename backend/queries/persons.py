"""Persons: the list (search, with each person's risk of the last 24 h) and one person's
evidence: the 30-day score trend, every check-in with its score, anomalies and top reasons, the
person's tickets, and the same as a CSV file for HR.

Tenant in every query and join; a site-scoped principal sees the persons who belong to its
site (home site) or checked in there in the last ``PERSON_DAYS`` days, and of them only what
happened at its site. A person the principal may not see is "not found" (None), never a hint
that the id exists."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from backend.auth.principal import Principal
from backend.enums import AttendanceKind, FraudKind, Scorer, Severity, TicketPriority, TicketState
from backend.models import AttendanceAnomaly, AttendanceEvent, FraudPrediction, Person, Site, Ticket
from backend.queries.access import FRAUD_READER, may_export_evidence, require_role
from backend.queries.fraud import daily_scores
from backend.queries.fraud_schemas import (Anomaly, CheckIn, PersonDetail, PersonList, PersonSummary,
                                           PersonTicket, Reason, SiteArea)
from backend.queries.risk import person_risk_subquery, reason_texts
from backend.queries.scope import effective_site
from backend.scoring.catalog import SPECS

PERSON_DAYS = 30
LIST_LIMIT = 100
MAX_CHECKINS = 1000      # ~30 days of a guard punching in and out 15 times a day
MAX_TICKETS = 50
SEARCH_MAX = 100


def person_list(session: Session, principal: Principal, *, threshold: float, search: str = "",
                limit: int = LIST_LIMIT, now: datetime | None = None) -> PersonList:
    """Persons matching ``search`` (name or code, case-insensitive), riskiest first, then by name."""
    require_role(principal, FRAUD_READER)
    now = now or datetime.now(UTC)
    search = search.strip()[:SEARCH_MAX]
    _, site_id = effective_site(principal, None)
    risk = person_risk_subquery(principal, flag_score=threshold, site_id=site_id, now=now)
    query = (_summary_select(principal, risk)
             .where(Person.tenant_id == principal.tenant_id, _in_scope(principal, site_id, now))
             .order_by(sa.func.coalesce(risk.c.score, -1.0).desc(), Person.name, Person.id)
             .limit(limit + 1))
    if search:
        query = query.where(sa.or_(Person.name.icontains(search, autoescape=True),
                                   Person.code.icontains(search, autoescape=True)))
    rows = session.execute(query).all()
    return PersonList(persons=tuple(_summary(r) for r in rows[:limit]), truncated=len(rows) > limit,
                      search=search, threshold=threshold)


def person_detail(session: Session, principal: Principal, person_id: int, *, threshold: float,
                  days: int = PERSON_DAYS, now: datetime | None = None) -> PersonDetail | None:
    """One person's evidence, or None when there is no such person for this principal."""
    require_role(principal, FRAUD_READER)
    now = now or datetime.now(UTC)
    _, site_id = effective_site(principal, None)
    risk = person_risk_subquery(principal, flag_score=threshold, site_id=site_id, person_ids=[person_id], now=now)
    head = session.execute(
        _summary_select(principal, risk, Person.device_id)
        .where(Person.id == person_id, Person.tenant_id == principal.tenant_id,
               _in_scope(principal, site_id, now))).one_or_none()
    if head is None:
        return None
    checkins, sites = _checkins(session, principal, person_id, since=now - timedelta(days=days))
    trend = daily_scores(((c.local_ts.date(), 1, int(c.score >= threshold), c.score, c.score)
                          for c in checkins if c.score is not None),
                         first=(now - timedelta(days=days - 1)).date(), last=now.date())
    return PersonDetail(summary=_summary(head), device_id=head.device_id, threshold=threshold, days=days,
                        checkins=tuple(checkins), trend=tuple(trend),
                        tickets=tuple(_tickets(session, principal, person_id, site_id)),
                        sites=tuple(sites.values()), may_export=may_export_evidence(principal))


def person_checkins(session: Session, principal: Principal, person_id: int, *, event_ids: Sequence[int],
                    now: datetime | None = None, days: int = PERSON_DAYS) -> list[CheckIn]:
    """Just these check-ins of the person (the ones live events named), newest first."""
    require_role(principal, FRAUD_READER)
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    return _checkins(session, principal, person_id, since=since, event_ids=event_ids)[0] if event_ids else []


def _checkins(session: Session, principal: Principal, person_id: int, *, since: datetime,
              event_ids: Sequence[int] | None = None) -> tuple[list[CheckIn], dict[int, SiteArea]]:
    """The person's check-ins since ``since``, newest first, each with its score, reasons and
    anomalies, and the sites they happened at: one round trip, on the (tenant, person, ts) indexes."""
    tenant = principal.tenant_id
    _, site_id = effective_site(principal, None)
    ae, fp, an = AttendanceEvent, FraudPrediction, AttendanceAnomaly
    events = sa.select(ae).where(ae.tenant_id == tenant, ae.person_id == person_id, ae.ts >= since)
    if site_id is not None:
        events = events.where(ae.site_id == site_id)
    if event_ids is not None:
        events = events.where(ae.id.in_(list(event_ids)))
    e = events.order_by(ae.ts.desc(), ae.id.desc()).limit(MAX_CHECKINS).subquery("events")
    query = (
        sa.select(e, fp.score, fp.scorer, fp.model_version_id, fp.reasons,
                  an.type.label("anomaly_type"), an.severity.label("anomaly_severity"),
                  Site.code.label("site_code"), Site.name.label("site_name"), Site.timezone.label("site_timezone"),
                  Site.lat.label("site_lat"), Site.lon.label("site_lon"),
                  Site.geofence_radius_m.label("site_radius_m"))
        .join(Site, sa.and_(Site.id == e.c.site_id, Site.tenant_id == tenant))
        # Matched on the person's (tenant, person, ts) index and the event id: no reliance on
        # foreign keys or a unique index of fraud_predictions.
        .outerjoin(fp, sa.and_(fp.tenant_id == tenant, fp.person_id == e.c.person_id, fp.ts == e.c.ts,
                               fp.attendance_event_id == e.c.id))
        .outerjoin(an, sa.and_(an.tenant_id == tenant, an.attendance_event_id == e.c.id))
        .order_by(e.c.ts.desc(), e.c.id.desc(), an.type))
    rows: dict[int, Any] = {}
    anomalies: dict[int, list[Anomaly]] = {}
    sites: dict[int, SiteArea] = {}
    for row in session.execute(query):
        rows.setdefault(row.id, row)
        found = anomalies.setdefault(row.id, [])
        if row.anomaly_type is not None:
            found.append(Anomaly(type=FraudKind(row.anomaly_type), severity=Severity(row.anomaly_severity)))
        if row.site_id not in sites:
            sites[row.site_id] = SiteArea(site_id=row.site_id, name=row.site_name, lat=row.site_lat,
                                          lon=row.site_lon, radius_m=row.site_radius_m)
    return [_checkin(r, anomalies[event_id]) for event_id, r in rows.items()], sites


def _checkin(r: Any, anomalies: list[Anomaly]) -> CheckIn:
    return CheckIn(event_id=r.id, ts=r.ts, kind=AttendanceKind(r.kind), site_id=r.site_id, site_code=r.site_code,
                   site_name=r.site_name, site_timezone=r.site_timezone, lat=r.lat, lon=r.lon,
                   gps_accuracy_m=r.gps_accuracy_m, biometric_quality=r.biometric_quality,
                   mock_location=bool(r.mock_location), device_id=r.device_id, battery_pct=r.battery_pct,
                   signal_dbm=r.signal_dbm, score=r.score, scorer=Scorer(r.scorer) if r.scorer else None,
                   model_version_id=r.model_version_id, reasons=_reasons(r.reasons), anomalies=tuple(anomalies))


def _reasons(stored: Any) -> tuple[Reason, ...]:
    """Stored as [{"feature", "text", "weight"}, ...] (backend.scoring.reasons); junk is skipped."""
    if not isinstance(stored, list):
        return ()
    out = []
    for item in stored:
        if not (isinstance(item, dict) and isinstance(item.get("text"), str)):
            continue
        feature, weight = str(item.get("feature") or ""), item.get("weight")
        spec = SPECS.get(feature)
        out.append(Reason(feature=feature, text=item["text"], doc=spec.doc if spec else "",
                          weight=float(weight) if isinstance(weight, (int, float)) else 0.0))
    return tuple(out)


def _summary_select(principal: Principal, risk: sa.Subquery, *extra: Any) -> sa.Select[Any]:
    home = aliased(Site, name="home_site")
    return (sa.select(Person.id, Person.code, Person.name, Person.active, home.name.label("home_site_name"),
                      risk.c.score, risk.c.flagged, risk.c.scored, risk.c.reasons, *extra)
            .outerjoin(risk, risk.c.person_id == Person.id)
            .outerjoin(home, sa.and_(home.id == Person.home_site_id, home.tenant_id == principal.tenant_id)))


def _summary(row: Any) -> PersonSummary:
    reasons = reason_texts(row.reasons)
    return PersonSummary(person_id=row.id, code=row.code, name=row.name, active=bool(row.active),
                         home_site_name=row.home_site_name, risk=row.score, flagged=int(row.flagged or 0),
                         scored=int(row.scored or 0), top_reason=reasons[0] if reasons else None)


def _in_scope(principal: Principal, site_id: int | None, now: datetime) -> sa.ColumnElement[bool]:
    """A site-scoped principal's persons: home site there, or a check-in there lately."""
    if site_id is None:
        return sa.true()
    ae = AttendanceEvent
    checked_in_there = (sa.select(ae.id).where(ae.tenant_id == principal.tenant_id, ae.person_id == Person.id,
                                                ae.ts >= now - timedelta(days=PERSON_DAYS), ae.site_id == site_id)
                        .exists())
    return sa.or_(Person.home_site_id == site_id, checked_in_there)


def _tickets(session: Session, principal: Principal, person_id: int, site_id: int | None) -> list[PersonTicket]:
    query = (sa.select(Ticket.id, Ticket.title, Ticket.type, Ticket.state, Ticket.priority, Ticket.severity,
                       Ticket.disposition, Ticket.created_at, Site.name.label("site_name"),
                       Site.timezone.label("site_timezone"))
             .outerjoin(Site, sa.and_(Site.id == Ticket.site_id, Site.tenant_id == principal.tenant_id))
             .where(Ticket.tenant_id == principal.tenant_id, Ticket.person_id == person_id)
             .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MAX_TICKETS))
    if site_id is not None:
        query = query.where(Ticket.site_id == site_id)
    return [PersonTicket(id=r.id, title=r.title, type=r.type, state=TicketState(r.state),
                         priority=TicketPriority(r.priority), severity=Severity(r.severity),
                         disposition=r.disposition.value if r.disposition else None, created_at=r.created_at,
                         site_name=r.site_name, site_timezone=r.site_timezone)
            for r in session.execute(query)]
