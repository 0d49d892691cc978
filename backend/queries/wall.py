"""The wall display's reads: every KPI tile, the riskiest guards and sites, and the event feed,
in one service (``wall_view``), plus ``describe_live_events`` for events arriving on the socket.

Every query is bounded whatever the tenant's history: by a time window on a (tenant_id, ts)-style
index, by the open tickets, or by the roster of the last day. Risk is ``backend.queries.risk``'s
(one definition for every page); SLA states are ``backend.tickets.sla``'s.

Definitions the wall adds (README "Wall display"):
- anomalies, last hour: check-ins scored at or above the anomaly threshold, plus audit findings
  raised in the hour;
- sites at risk: sites whose risk (24 h) is at or above the risk threshold (the fraud ticket
  threshold: a score that opens a ticket);
- guards on duty: persons with a shift covering now whose latest punch since that shift's
  clock-in window opened (``CHECK_IN_EARLY_S`` before the start) is a check-in; shown against
  the persons rostered now;
- tour compliance: ``backend.queries.tours`` (rounds due in 24 h that the audit's tour checks
  find nothing wrong with), summed over the tours in view."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.duties import CHECK_IN_EARLY_S, MAX_SHIFT_S
from backend.audit.rules import AuditRules
from backend.auth.principal import Principal
from backend.config import Settings
from backend.enums import OPEN_TICKET_STATES, AttendanceKind, EventType, Severity, SlaState, TicketPriority
from backend.live.audience import Audience
from backend.live.envelopes import LiveEvent
from backend.models import AttendanceEvent, AuditFinding, EventLogEntry, FraudPrediction, Shift, Site, Ticket, utcnow
from backend.queries.event_text import describe
from backend.queries.risk import high_risk_persons, site_risks
from backend.queries.wall_schemas import TicketCounts, WallEvent, WallFeed, WallPerson, WallSite, WallTiles, WallView
from backend.queries.tours import tour_compliance
from backend.tickets.sla import sla_state_sql

ANOMALY_WINDOW = timedelta(hours=1)
TOP_PERSONS = 8
MAX_FEED = 100
MAX_LIVE_BATCH = 500          # events described per live callback (the bridge's window holds ≤ 500)


def wall_view(session: Session, principal: Principal, *, settings: Settings, feed_limit: int = 0,
              now: datetime | None = None) -> WallView:
    """Everything the wall shows, for the principal's tenant and site scope; with the latest
    ``feed_limit`` events of the feed when asked (the first view; later ones arrive live)."""
    now = now or utcnow()
    risky = settings.scoring_ticket_threshold
    sites = site_risks(session, principal, flag_score=settings.scoring_anomaly_threshold, now=now)
    on_duty, rostered = _guards_on_duty(session, principal, now)
    rounds_due, rounds_ok = _tour_rounds(session, principal, settings, now)
    tiles = WallTiles(
        tickets=_ticket_counts(session, principal, now),
        fraud_anomalies=_fraud_anomalies(session, principal, settings.scoring_anomaly_threshold, now),
        audit_findings=_recent_findings(session, principal, now),
        sites_at_risk=sum(1 for s in sites if s.risk is not None and s.risk >= risky), sites_total=len(sites),
        guards_on_duty=on_duty, guards_rostered=rostered, tour_rounds_due=rounds_due, tour_rounds_ok=rounds_ok,
        risk_threshold=risky)
    audience = Audience.of(principal, settings)
    persons = tuple(WallPerson(person_id=p.person_id, code=p.person_code,
                               name=None if audience.redacted else p.person_name, score=p.score,
                               flagged=p.flagged, site_name=p.site_name,
                               reasons=() if audience.redacted else p.reasons)
                    for p in high_risk_persons(session, principal, min_score=risky, now=now, limit=TOP_PERSONS))
    return WallView(
        tiles=tiles, persons=persons,
        sites=tuple(WallSite(site_id=s.site_id, code=s.site_code, name=s.site_name, timezone=s.site_timezone,
                             lat=s.lat, lon=s.lon, risk=s.risk, flagged=s.flagged, scored=s.scored) for s in sites),
        events=tuple(_latest_events(session, principal, audience, feed_limit)) if feed_limit > 0 else (),
        as_of=now)


def wall_feed(session: Session, principal: Principal, *, settings: Settings, limit: int = MAX_FEED,
              now: datetime | None = None) -> WallFeed:
    """The feed alone, newest first (a reload after a resync)."""
    audience = Audience.of(principal, settings)
    return WallFeed(events=tuple(_latest_events(session, principal, audience, limit)), as_of=now or utcnow())


def describe_live_events(session: Session, principal: Principal, envelopes: Iterable[Any], *,
                         settings: Settings) -> list[WallEvent]:
    """Feed lines for envelopes the browser relayed from the socket, in the given order.

    They come from the browser, so they are checked again: malformed ones, other tenants' and
    sites outside the principal's scope are dropped, viewers get the redacted variant, and
    site names are looked up inside the tenant only (a forged site id names nothing)."""
    audience = Audience.of(principal, settings)
    kept: list[dict[str, Any]] = []
    for raw in list(envelopes)[:MAX_LIVE_BATCH]:
        try:
            event = LiveEvent.from_stream(json.dumps(raw))
        except (TypeError, ValueError):
            continue
        if event is not None and audience.sees(event):
            kept.append(json.loads(event.text_for(audience.redacted)))
    return _wall_events(session, principal, kept)


# -- tiles -------------------------------------------------------------------------------------

def _ticket_counts(session: Session, principal: Principal, now: datetime) -> tuple[TicketCounts, ...]:
    t = Ticket
    state = sla_state_sql(t.priority, t.state, t.ack_due_at, t.resolve_due_at, now, t.ack_due_at.type).label("sla")
    query = (sa.select(t.priority, state, sa.func.count())
             .where(t.tenant_id == principal.tenant_id, t.state.in_(sorted(OPEN_TICKET_STATES)))
             .group_by(t.priority, state))
    if principal.site_id is not None:
        query = query.where(t.site_id == principal.site_id)
    counts: dict[TicketPriority, dict[str, int]] = {p: {} for p in TicketPriority}
    for priority, sla, count in session.execute(query):
        counts[TicketPriority(priority)][sla] = int(count)
    return tuple(TicketCounts(priority=p, on_time=c.get(SlaState.ON_TIME.value, 0),
                              due_soon=c.get(SlaState.DUE_SOON.value, 0), breached=c.get(SlaState.BREACHED.value, 0))
                 for p, c in counts.items())


def _fraud_anomalies(session: Session, principal: Principal, threshold: float, now: datetime) -> int:
    fp = FraudPrediction
    query = sa.select(sa.func.count()).where(fp.tenant_id == principal.tenant_id, fp.ts >= now - ANOMALY_WINDOW,
                                             fp.ts <= now, fp.score >= threshold)
    if principal.site_id is not None:
        query = query.where(fp.site_id == principal.site_id)
    return int(session.scalar(query) or 0)


def _recent_findings(session: Session, principal: Principal, now: datetime) -> int:
    f = AuditFinding
    query = sa.select(sa.func.count()).where(f.tenant_id == principal.tenant_id, f.created_at >= now - ANOMALY_WINDOW,
                                             f.created_at <= now)
    if principal.site_id is not None:
        query = query.where(f.site_id == principal.site_id)
    return int(session.scalar(query) or 0)


def _guards_on_duty(session: Session, principal: Principal, now: datetime) -> tuple[int, int]:
    """(on duty, rostered): two reads bounded by the shifts of the last day."""
    s = Shift
    shifts = sa.select(s.person_id, s.starts_at).where(
        s.tenant_id == principal.tenant_id, s.person_id.is_not(None), s.starts_at <= now,
        s.starts_at > now - timedelta(seconds=MAX_SHIFT_S), s.ends_at > now)
    if principal.site_id is not None:
        shifts = shifts.where(s.site_id == principal.site_id)
    # A guard on two overlapping shifts counts once; the earliest start opens the widest window.
    opens: dict[int, datetime] = {}
    for person_id, starts_at in session.execute(shifts):
        opened = starts_at - timedelta(seconds=CHECK_IN_EARLY_S)
        opens[person_id] = min(opens.get(person_id, opened), opened)
    if not opens:
        return 0, 0
    a = AttendanceEvent
    newest = sa.func.row_number().over(partition_by=a.person_id, order_by=(a.ts.desc(), a.id.desc()))
    latest = (sa.select(a.person_id, a.kind, a.ts, newest.label("rank"))
              .where(a.tenant_id == principal.tenant_id, a.person_id.in_(sorted(opens)),
                     a.ts >= min(opens.values()), a.ts <= now).subquery())
    on_duty = sum(1 for person_id, kind, ts in session.execute(
        sa.select(latest.c.person_id, latest.c.kind, latest.c.ts).where(latest.c.rank == 1))
        if AttendanceKind(kind) is AttendanceKind.CHECK_IN and ts >= opens[person_id])
    return on_duty, len(opens)


def _tour_rounds(session: Session, principal: Principal, settings: Settings, now: datetime) -> tuple[int, int]:
    """(rounds due, rounds compliant) over 24 h: ``backend.queries.tours``, the one definition."""
    tours = tour_compliance(session, principal.tenant_id, AuditRules.from_settings(settings), now,
                            site_ids=None if principal.site_id is None else [principal.site_id])
    return sum(t.due for t in tours), sum(t.compliant for t in tours)


# -- the feed ----------------------------------------------------------------------------------

def _latest_events(session: Session, principal: Principal, audience: Audience, limit: int) -> list[WallEvent]:
    """The audience's newest events from the log (what the socket would have sent), newest first."""
    entries = session.scalars(sa.select(EventLogEntry).where(audience.log_filter())
                              .order_by(EventLogEntry.id.desc()).limit(max(1, min(limit, MAX_FEED)))).all()
    return _wall_events(session, principal, [json.loads(LiveEvent.from_entry(e).text_for(audience.redacted))
                                             for e in entries])


def _wall_events(session: Session, principal: Principal, envelopes: Sequence[dict[str, Any]]) -> list[WallEvent]:
    site_ids = sorted({env["site"] for env in envelopes if env.get("site") is not None})
    sites = {row.id: (row.name, row.timezone) for row in session.execute(
        sa.select(Site.id, Site.name, Site.timezone).where(Site.tenant_id == principal.tenant_id,
                                                           Site.id.in_(site_ids)))} if site_ids else {}
    events = []
    for env in envelopes:
        event = _wall_event(env, sites)
        if event is not None:
            events.append(event)
    return events


def _wall_event(env: dict[str, Any], sites: dict[int, tuple[str, str]]) -> WallEvent | None:
    try:
        type_ = EventType(env["type"])
        time = datetime.fromisoformat(env["time"])
        severity = Severity(env["severity"]) if env.get("severity") else None
    except (KeyError, TypeError, ValueError):
        return None
    if time.tzinfo is None:
        return None
    title, summary = describe(type_, env.get("data"))
    site_id = env.get("site")
    name, timezone = sites.get(site_id, (None, None)) if site_id is not None else (None, None)
    return WallEvent(id=int(env["id"]), type=type_, severity=severity, time=time, title=title,
                     summary=summary, site_id=site_id if name else None, site_name=name,
                     site_timezone=timezone)

