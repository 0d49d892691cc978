"""The live feed: the latest ingested inputs of a tenant across the typed input tables.

One round trip: a UNION ALL of one branch per table, each branch ``ORDER BY ts DESC LIMIT n``
on its (tenant_id, ts) or (tenant_id, site_id, ts) index, so the database reads at most
``n`` rows per table however large the tenant; site, person and checkpoint names are joined
once, onto the merged top ``n`` only (no N+1)."""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from backend.auth.principal import Principal
from backend.enums import AttendanceKind, InputType
from backend.models import (AttendanceEvent, Checkpoint, CheckpointScan, LocationPing, NocAlert,
                            Person, PhoneActivity, Site)
from backend.queries.schemas import FeedItem, SiteOption
from backend.queries.scope import effective_site

MAX_LIMIT = 500

# The columns every branch of the union yields, with their SQL types. A branch leaves out what
# its table lacks and gets a typed NULL (PostgreSQL needs the types to line the union up).
_UNION_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "type": sa.String(32), "row_id": sa.BigInteger(), "site_id": sa.BigInteger(),
    "person_id": sa.BigInteger(), "lat": sa.Float(), "lon": sa.Float(), "accuracy_m": sa.Float(),
    "mock_location": sa.Boolean(), "detail": sa.String(32), "severity": sa.String(32),
    "amount": sa.Float(), "message": sa.String(1000), "checkpoint_id": sa.BigInteger(),
}

_InputModel = type[AttendanceEvent] | type[LocationPing] | type[CheckpointScan] | type[PhoneActivity] | type[NocAlert]


def _as_text(column: Any) -> ColumnElement[str]:
    # Enum columns become plain strings so every branch's "type"/"detail" has one SQL type.
    return sa.cast(column, sa.String(32))


def _constant(value: InputType) -> ColumnElement[str]:
    return sa.cast(sa.literal(value.value), sa.String(32))


# Per table: which InputTypes it holds and how its columns map onto the union's columns.
_BRANCHES: tuple[tuple[_InputModel, frozenset[InputType], Callable[[], Mapping[str, Any]]], ...] = (
    (AttendanceEvent, frozenset({InputType.CHECK_IN, InputType.CHECK_OUT}), lambda: {
        "type": _as_text(AttendanceEvent.kind), "lat": AttendanceEvent.lat, "lon": AttendanceEvent.lon,
        "accuracy_m": AttendanceEvent.gps_accuracy_m, "mock_location": AttendanceEvent.mock_location,
        "amount": AttendanceEvent.biometric_quality}),
    (LocationPing, frozenset({InputType.LOCATION_PING}), lambda: {
        "type": _constant(InputType.LOCATION_PING), "lat": LocationPing.lat, "lon": LocationPing.lon,
        "accuracy_m": LocationPing.accuracy_m, "mock_location": LocationPing.mock_location,
        "amount": LocationPing.speed_mps}),
    (CheckpointScan, frozenset({InputType.CHECKPOINT_SCAN}), lambda: {
        "type": _constant(InputType.CHECKPOINT_SCAN), "lat": CheckpointScan.lat, "lon": CheckpointScan.lon,
        "detail": _as_text(CheckpointScan.method), "checkpoint_id": CheckpointScan.checkpoint_id}),
    (PhoneActivity, frozenset({InputType.PHONE_ACTIVITY}), lambda: {
        "type": _constant(InputType.PHONE_ACTIVITY), "detail": _as_text(PhoneActivity.activity),
        "amount": PhoneActivity.value}),
    (NocAlert, frozenset({InputType.NOC_ALERT}), lambda: {
        "type": _constant(InputType.NOC_ALERT), "detail": _as_text(NocAlert.kind),
        "severity": _as_text(NocAlert.severity), "message": NocAlert.message}),
)


def _branch(model: _InputModel, columns: Mapping[str, Any], tenant_id: int, site_id: int | None,
            kinds: Collection[InputType] | None, limit: int) -> sa.Select[Any]:
    given = {"row_id": model.id, "site_id": model.site_id, "person_id": model.person_id, **columns}
    selected = [given[name].label(name) if name in given else sa.cast(sa.null(), type_).label(name)
                for name, type_ in _UNION_COLUMNS.items()]
    query = sa.select(*selected, model.ts.label("ts")).where(model.tenant_id == tenant_id)
    if site_id is not None:
        query = query.where(model.site_id == site_id)
    if kinds is not None:  # only the attendance table holds more than one type
        query = query.where(AttendanceEvent.kind.in_([AttendanceKind(k.value) for k in kinds]))
    # Wrapped in a subquery: SQLite allows no ORDER BY/LIMIT on a bare member of a UNION.
    return sa.select(query.order_by(model.ts.desc()).limit(limit).subquery())


def latest_events(session: Session, principal: Principal, *, types: Collection[InputType] | None = None,
                  site_id: int | None = None, limit: int = 100) -> list[FeedItem]:
    """The principal's tenant's latest ingested inputs, newest first. ``types`` empty or None
    means every type; ``site_id`` None means every site the principal may see. Events without a
    site (some pings and phone activity) show only when no site applies: neither a filter nor
    the principal's site scope."""
    limit = max(1, min(limit, MAX_LIMIT))
    allowed, site_id = effective_site(principal, site_id)
    wanted = frozenset(InputType(t) for t in types) if types else frozenset(InputType)
    branches = []
    for model, holds, columns in _BRANCHES:
        chosen = holds & wanted
        if allowed and chosen:
            kinds = chosen if chosen != holds else None
            branches.append(_branch(model, columns(), principal.tenant_id, site_id, kinds, limit))
    if not branches:
        return []
    union = sa.union_all(*branches).subquery("feed")
    # Names joined on the merged rows only; the tenant in each join condition means a row that
    # somehow references another tenant's site or person can never leak that name.
    query = (
        sa.select(union, Site.code.label("site_code"), Site.name.label("site_name"),
                  Site.timezone.label("site_timezone"), Person.code.label("person_code"),
                  Person.name.label("person_name"), Checkpoint.code.label("checkpoint_code"),
                  Checkpoint.name.label("checkpoint_name"))
        .outerjoin(Site, sa.and_(Site.id == union.c.site_id, Site.tenant_id == principal.tenant_id))
        .outerjoin(Person, sa.and_(Person.id == union.c.person_id, Person.tenant_id == principal.tenant_id))
        .outerjoin(Checkpoint, sa.and_(Checkpoint.id == union.c.checkpoint_id,
                                       Checkpoint.tenant_id == principal.tenant_id))
        .order_by(union.c.ts.desc(), union.c.type, union.c.row_id.desc())
        .limit(limit)
    )
    return [_feed_item(row) for row in session.execute(query).mappings()]


def site_options(session: Session, principal: Principal) -> list[SiteOption]:
    """The sites the principal may filter the feed by (its one site when site-scoped)."""
    query = sa.select(Site.id, Site.code, Site.name, Site.timezone).where(
        Site.tenant_id == principal.tenant_id, Site.active.is_(True)).order_by(Site.name, Site.id)
    if principal.site_id is not None:
        query = query.where(Site.id == principal.site_id)
    return [SiteOption(id=r.id, code=r.code, name=r.name, timezone=r.timezone)
            for r in session.execute(query)]


# -- one line per event --------------------------------------------------------------------

def _position(row: sa.RowMapping) -> list[str]:
    if row["lat"] is None or row["lon"] is None:
        return []
    parts = [f"{row['lat']:.4f}, {row['lon']:.4f}"]
    if row["accuracy_m"] is not None:
        parts.append(f"±{row['accuracy_m']:.0f} m")
    return parts


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def _summary(type_: InputType, row: sa.RowMapping) -> str:
    parts: list[str]
    if type_ in (InputType.CHECK_IN, InputType.CHECK_OUT):
        parts = [type_.value.replace("_", "-"), *_position(row)]
        if row["amount"] is not None:
            parts.append(f"biometric {row['amount']:.2f}")
    elif type_ is InputType.LOCATION_PING:
        parts = ["ping", *_position(row)]
        if row["amount"] is not None:
            parts.append(f"{row['amount']:.1f} m/s")
    elif type_ is InputType.CHECKPOINT_SCAN:
        checkpoint = row["checkpoint_name"] or "unknown checkpoint"
        parts = ["scan", f"{checkpoint} ({row['checkpoint_code']})" if row["checkpoint_code"] else checkpoint,
                 _words(row["detail"])]
    elif type_ is InputType.PHONE_ACTIVITY:
        parts = ["phone", _words(row["detail"]) + (f" {row['amount']:g}" if row["amount"] is not None else "")]
    else:
        parts = [_words(row["detail"]).upper(), row["severity"] or ""]
        if row["message"]:
            parts.append(row["message"])
    if row["mock_location"]:
        parts.append("mock location!")
    return " · ".join(p for p in parts if p)


def _feed_item(row: sa.RowMapping) -> FeedItem:
    type_ = InputType(row["type"])
    return FeedItem(
        key=f"{type_.value}:{row['row_id']}", type=type_, ts=row["ts"], summary=_summary(type_, row),
        site_id=row["site_id"], site_code=row["site_code"], site_name=row["site_name"],
        site_timezone=row["site_timezone"], person_code=row["person_code"], person_name=row["person_name"],
        alert=type_ is InputType.NOC_ALERT or bool(row["mock_location"]),
    )
