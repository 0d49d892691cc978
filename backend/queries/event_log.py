"""Searching the event log: by type(s), site, person (part of a code or name) and time, newest
first, a page at a time.

Keyset pagination on the log's monotonic id (``id < before ORDER BY id DESC LIMIT n``): a
page costs the same however deep, and events arriving meanwhile never shift a page. The plain
and type/time searches walk the (tenant_id, id) index backwards; a site search may use
(tenant_id, site_id, created_at). Names are joined on the page's rows only (no N+1).

Who sees what is the live channel's rule (``backend.live.audience.Audience``): the tenant; a
site-scoped user its site and the tenant-wide events; viewers get person-level fraud events
without the person and with only the allow-listed data (``backend.live.envelopes.redact``), and
a viewer's person search never matches those events (it would say who they were about). Each
row reads as ``backend.queries.event_text`` describes it, like the wall's feed."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from backend.auth.principal import Principal
from backend.config import Settings
from backend.enums import EventType, TicketSource
from backend.live.audience import Audience
from backend.live.envelopes import PERSON_LEVEL_TYPES, TICKET_TYPES, for_audience
from backend.models import EventLogEntry, Person, Site
from backend.queries.event_schemas import EventItem, EventPage, EventQuery, span_utc
from backend.queries.event_text import describe
from backend.queries.scope import effective_site

PAGE_SIZE = 50
MAX_PAGE = 200


def _person_level() -> ColumnElement[bool]:
    """SQL twin of ``envelopes.is_person_level``: anomalies, and fraud tickets."""
    e = EventLogEntry
    fraud_ticket = sa.and_(e.type.in_([EventType(t) for t in TICKET_TYPES]),
                           e.data["source"].as_string() == TicketSource.FRAUD.value)
    return sa.or_(e.type.in_([EventType(t) for t in PERSON_LEVEL_TYPES]), fraud_ticket)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _persons_matching(tenant_id: int, text: str) -> sa.Select[Any]:
    pattern = _like(text)
    return sa.select(Person.id).where(Person.tenant_id == tenant_id, sa.or_(
        Person.code.ilike(pattern, escape="\\"), Person.name.ilike(pattern, escape="\\")))


def search_events(session: Session, principal: Principal, query: EventQuery, *, settings: Settings,
                  after: int | None = None, limit: int = PAGE_SIZE) -> EventPage:
    """A page of the log matching ``query``, newest first. ``after`` (the newest id a page
    shows) asks for what is newer than it instead: the live view's new events."""
    limit = max(1, min(limit, MAX_PAGE))
    audience = Audience.of(principal, settings)
    e = EventLogEntry
    where: list[ColumnElement[bool]] = [audience.log_filter()]
    timezone = None
    if query.site_id is not None:
        allowed, _ = effective_site(principal, query.site_id)
        timezone = session.scalar(sa.select(Site.timezone).where(
            Site.id == query.site_id, Site.tenant_id == principal.tenant_id)) if allowed else None
        if timezone is None:
            return EventPage(items=(), query=query, older=None, site_timezone=None, unknown_site=True)
        where.append(e.site_id == query.site_id)
    if query.types:
        where.append(e.type.in_(query.types))
    matched = None
    if query.person:
        persons = _persons_matching(principal.tenant_id, query.person)
        matched = session.scalar(sa.select(sa.func.count()).select_from(persons.subquery()))
        where.append(e.person_id.in_(persons))
        if audience.redacted:
            where.append(sa.not_(_person_level()))
    since, until = span_utc(query.since, query.until, timezone)
    if since is not None:
        where.append(e.created_at >= since)
    if until is not None:
        where.append(e.created_at < until)
    if after is not None:
        where.append(e.id > after)
    elif query.before is not None:
        where.append(e.id < query.before)
    page = sa.select(e).where(*where).order_by(e.id.desc()).limit(limit + 1).subquery()
    rows = session.execute(
        sa.select(page, Site.code.label("site_code"), Site.name.label("site_name"),
                  Site.timezone.label("site_timezone"), Person.code.label("person_code"),
                  Person.name.label("person_name"))
        .outerjoin(Site, sa.and_(Site.id == page.c.site_id, Site.tenant_id == principal.tenant_id))
        .outerjoin(Person, sa.and_(Person.id == page.c.person_id, Person.tenant_id == principal.tenant_id))
        .order_by(page.c.id.desc())).mappings().all()
    items = tuple(_item(row, audience.redacted) for row in rows[:limit])
    older = items[-1].id if len(rows) > limit and after is None else None
    return EventPage(items=items, query=query, older=older, site_timezone=timezone, matched_persons=matched)


def _item(row: sa.RowMapping, redacted: bool) -> EventItem:
    env = {"type": str(row["type"]), "person": row["person_id"],
           "data": row["data"] if isinstance(row["data"], dict) else {}}
    env = for_audience(env, redacted)
    title, summary = describe(EventType(row["type"]), env["data"])
    shown_person = env["person"] is not None
    return EventItem(
        id=row["id"], type=EventType(row["type"]), severity=str(row["severity"]) if row["severity"] else None,
        created_at=row["created_at"], site_id=row["site_id"], site_code=row["site_code"],
        site_name=row["site_name"], site_timezone=row["site_timezone"],
        person_id=env["person"], person_code=row["person_code"] if shown_person else None,
        person_name=row["person_name"] if shown_person else None, title=title, summary=summary)

