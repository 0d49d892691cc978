"""The sites table and a site's page.

The table is a few bounded round trips whatever the number of sites: the risk
(``backend.queries.risk``, the one definition), one statement for every site's newest input
(one index probe per site and input table: the (tenant_id, site_id, ts) indexes), one grouped
count of open tickets (the (tenant_id, state, priority) index), and tour compliance
(``backend.queries.tours``: the reference data and the window's scans). The site page adds its
own reads, each bounded by the site and a time window: signals against baselines and findings
(``backend.audit.queries``), incidents, tickets, who is on site (roster and punches) with their
risk, tours.

Who sees what: the principal's tenant, and a site-scoped principal its own site only (another
site, or an unknown one, reads as None: "not found", never "forbidden", so ids leak nothing).
Viewers (wall displays) get no person-level fraud details, as on the live channel
(``backend.live.audience``): no person scores, and fraud tickets without their title."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.queries import recent_findings, site_signals_vs_baseline
from backend.audit.rules import AuditRules
from backend.auth.principal import Principal
from backend.config import Settings
from backend.enums import OPEN_TICKET_STATES, AttendanceKind, TicketPriority, TicketSource
from backend.live.audience import Audience
from backend.models import (AttendanceEvent, CheckpointScan, Incident, LocationPing, NocAlert, Person,
                            PhoneActivity, Shift, Site, Ticket, utcnow)
from backend.queries.risk import high_risk_persons, site_risks
from backend.queries.scope import effective_site
from backend.queries.site_schemas import IncidentItem, PersonOnSite, SiteDetail, SiteRow, TicketItem, TourCompliance
from backend.queries.tours import site_compliance, tour_compliance

DETAIL_WINDOW = timedelta(days=7)     # findings, incidents and closed tickets shown on a site page
PRESENCE_WINDOW = timedelta(hours=24)  # punches that put a person "on site"
SIGNAL_HOURS = 48
MAX_ITEMS = 50
MAX_SHIFT = timedelta(hours=24)        # bounds the roster's index range scan
_INPUTS = (AttendanceEvent, LocationPing, CheckpointScan, PhoneActivity, NocAlert)
_OPEN = sorted(s.value for s in OPEN_TICKET_STATES)


def sites_overview(session: Session, principal: Principal, *, settings: Settings,
                   now: datetime | None = None) -> list[SiteRow]:
    """Every active site the principal may see, riskiest first."""
    return _site_rows(session, principal, settings, now or utcnow(), None)


def _site_rows(session: Session, principal: Principal, settings: Settings, now: datetime,
               site_id: int | None, tours: list[TourCompliance] | None = None) -> list[SiteRow]:
    """``tours``: the sites' tour compliance when the caller has it already."""
    risks = site_risks(session, principal, flag_score=settings.scoring_anomaly_threshold, site_id=site_id, now=now)
    if not risks:
        return []
    ids = [r.site_id for r in risks]
    cities, last = _newest_inputs(session, principal.tenant_id, ids)
    tickets = _open_tickets(session, principal.tenant_id, ids)
    if tours is None:
        tours = tour_compliance(session, principal.tenant_id, AuditRules.from_settings(settings), now, site_ids=ids)
    by_site: dict[int, list[TourCompliance]] = {}
    for tour in tours:
        by_site.setdefault(tour.site_id, []).append(tour)
    rows = []
    for r in risks:
        counts = tickets.get(r.site_id, {})
        site_tours = by_site.get(r.site_id, [])
        rows.append(SiteRow(
            site_id=r.site_id, code=r.site_code, name=r.site_name, city=cities.get(r.site_id),
            timezone=r.site_timezone, risk=r.risk, flagged=r.flagged, scored=r.scored,
            open_tickets=sum(counts.values()), open_by_priority={p: counts.get(p, 0) for p in TicketPriority},
            compliance=site_compliance(site_tours), rounds_due=sum(t.due for t in site_tours),
            last_activity=last.get(r.site_id)))
    return rows


def _newest_inputs(session: Session, tenant_id: int, site_ids: list[int]
                   ) -> tuple[dict[int, str | None], dict[int, datetime | None]]:
    """Each site's city and newest input of any kind: per input table a correlated
    ``ORDER BY ts DESC LIMIT 1`` (one backward index probe per site on both databases; a
    GROUP BY would read every row of the tenant)."""
    newest = [sa.select(m.ts).where(m.tenant_id == tenant_id, m.site_id == Site.id)
              .order_by(m.ts.desc()).limit(1).scalar_subquery().label(m.__tablename__) for m in _INPUTS]
    rows = session.execute(sa.select(Site.id, Site.city, *newest)
                           .where(Site.tenant_id == tenant_id, Site.id.in_(site_ids))).all()
    cities = {row[0]: row[1] for row in rows}
    last = {row[0]: max((t for t in row[2:] if t is not None), default=None) for row in rows}
    return cities, last


def _open_tickets(session: Session, tenant_id: int, site_ids: list[int]) -> dict[int, dict[TicketPriority, int]]:
    t = Ticket
    rows = session.execute(sa.select(t.site_id, t.priority, sa.func.count())
                           .where(t.tenant_id == tenant_id, t.state.in_(_OPEN), t.site_id.in_(site_ids))
                           .group_by(t.site_id, t.priority))
    out: dict[int, dict[TicketPriority, int]] = {}
    for site_id, priority, count in rows:
        out.setdefault(site_id, {})[TicketPriority(priority)] = int(count)
    return out


# -- the site page --------------------------------------------------------------------------

def site_detail(session: Session, principal: Principal, site_id: int, *, settings: Settings,
                now: datetime | None = None, with_signals: bool = True) -> SiteDetail | None:
    """Everything the site page shows, or None when the principal may not see the site (or
    it does not exist). ``with_signals=False`` skips the hourly signals (live refreshes keep
    the figure they have)."""
    now = now or utcnow()
    allowed, _ = effective_site(principal, site_id)
    site = session.execute(sa.select(Site.lat, Site.lon, Site.geofence_radius_m).where(
        Site.id == site_id, Site.tenant_id == principal.tenant_id, Site.active.is_(True))).first() if allowed else None
    if site is None:
        return None
    tours = tour_compliance(session, principal.tenant_id, AuditRules.from_settings(settings), now, site_ids=[site_id])
    [summary] = _site_rows(session, principal, settings, now, site_id, tours)
    hidden = Audience.of(principal, settings).redacted
    since = now - DETAIL_WINDOW
    return SiteDetail(
        summary=summary, lat=site.lat, lon=site.lon, geofence_radius_m=site.geofence_radius_m,
        signals=site_signals_vs_baseline(session, principal, site_id, SIGNAL_HOURS, now=now) if with_signals else None,
        findings=tuple(recent_findings(session, principal, site_id=site_id, since=since, limit=MAX_ITEMS)),
        incidents=_incidents(session, principal.tenant_id, site_id, since),
        tickets=_tickets(session, principal.tenant_id, site_id, since, hidden),
        persons=_persons_on_site(session, principal, site_id, now, hidden), tours=tuple(tours),
        scores_hidden=hidden, generated_at=now, flag_score=settings.scoring_anomaly_threshold, since=since)


def _person_join(column: sa.ColumnElement[int | None], tenant_id: int) -> sa.ColumnElement[bool]:
    # The tenant in the join: a row pointing at another tenant's person never shows its name.
    return sa.and_(Person.id == column, Person.tenant_id == tenant_id)


def _incidents(session: Session, tenant_id: int, site_id: int, since: datetime) -> tuple[IncidentItem, ...]:
    i = Incident
    rows = session.execute(
        sa.select(i, Person.code, Person.name).outerjoin(Person, _person_join(i.person_id, tenant_id))
        .where(i.tenant_id == tenant_id, i.site_id == site_id, i.window_end >= since)
        .order_by(i.window_end.desc(), i.id.desc()).limit(MAX_ITEMS))
    out = []
    for incident, code, name in rows:
        signals = [s for s in incident.signals or () if isinstance(s, dict)]
        title = next((str(s.get("text")) for s in signals if s.get("kind") == "summary"), "Correlated incident")
        out.append(IncidentItem(
            id=incident.id, severity=str(incident.severity), title=title, window_start=incident.window_start,
            window_end=incident.window_end, person_id=incident.person_id,
            person_name=f"{code} {name}" if code else None, alerts=len(incident.alert_ids or ()),
            findings=sum(1 for s in signals if s.get("kind") == "finding")))
    return tuple(out)


def _tickets(session: Session, tenant_id: int, site_id: int, since: datetime, hidden: bool) -> tuple[TicketItem, ...]:
    """Open tickets of the site (most urgent first), then those closed in the window."""
    t = Ticket
    is_open = t.state.in_(_OPEN)
    rows = session.execute(
        sa.select(t.id, t.title, t.priority, t.severity, t.state, t.source, t.created_at, t.occurrences,
                  t.person_id, Person.code, Person.name)
        .outerjoin(Person, _person_join(t.person_id, tenant_id))
        .where(t.tenant_id == tenant_id, t.site_id == site_id, sa.or_(is_open, t.updated_at >= since))
        .order_by(sa.case((is_open, 0), else_=1), t.priority, t.created_at.desc(), t.id.desc()).limit(MAX_ITEMS))
    out = []
    for r in rows:
        fraud = r.source == TicketSource.FRAUD.value
        conceal = hidden and fraud   # as the live channel redacts fraud tickets for viewers
        out.append(TicketItem(
            id=r.id, title="Fraud ticket" if conceal else r.title, priority=TicketPriority(r.priority),
            severity=str(r.severity), state=str(r.state), source=str(r.source), created_at=r.created_at,
            occurrences=r.occurrences, person_id=None if conceal else r.person_id,
            person_name=None if conceal or not r.code else f"{r.code} {r.name}"))
    return tuple(out)


def _persons_on_site(session: Session, principal: Principal, site_id: int, now: datetime,
                     hidden: bool) -> tuple[PersonOnSite, ...]:
    """Rostered at the site now, or punched there in the last 24 h; with their risk."""
    tenant_id = principal.tenant_id
    s = Shift
    shifts = session.execute(sa.select(s.person_id, sa.func.max(s.ends_at)).where(
        s.tenant_id == tenant_id, s.site_id == site_id, s.starts_at <= now, s.starts_at > now - MAX_SHIFT,
        s.ends_at > now, s.person_id.is_not(None)).group_by(s.person_id)).all()
    on_shift = {person_id: ends for person_id, ends in shifts}
    a = AttendanceEvent
    newest = sa.func.row_number().over(partition_by=a.person_id, order_by=(a.ts.desc(), a.id.desc()))
    punches = sa.select(a.person_id, a.kind, a.ts, newest.label("rank")).where(
        a.tenant_id == tenant_id, a.site_id == site_id, a.ts > now - PRESENCE_WINDOW, a.ts <= now).subquery()
    last_punch = {r.person_id: (r.kind, r.ts) for r in session.execute(
        sa.select(punches.c.person_id, punches.c.kind, punches.c.ts).where(punches.c.rank == 1))}
    ids = set(on_shift) | set(last_punch)
    if not ids:
        return ()
    names = {r.id: (r.code, r.name) for r in session.execute(
        sa.select(Person.id, Person.code, Person.name).where(Person.tenant_id == tenant_id, Person.id.in_(sorted(ids))))}
    risks = {} if hidden else {r.person_id: r for r in high_risk_persons(
        session, principal, min_score=0.0, person_ids=ids, now=now, limit=len(ids))}
    out = []
    for person_id in ids & set(names):
        punch = last_punch.get(person_id)
        risk = risks.get(person_id)
        out.append(PersonOnSite(
            person_id=person_id, code=names[person_id][0], name=names[person_id][1],
            on_shift=person_id in on_shift, shift_end=on_shift.get(person_id),
            last_punch=AttendanceKind(punch[0]).value if punch else None, last_punch_at=punch[1] if punch else None,
            risk=risk.score if risk else None, reasons=risk.reasons if risk else ()))
    # Riskiest first, then who is on shift, then by name.
    out.sort(key=lambda p: (-(p.risk if p.risk is not None else -1.0), not p.on_shift, p.name, p.person_id))
    return tuple(out)

