"""Known fraud: the planted ground truth of the demo world (or imported confirmed cases) and
the dispositions supervisors give fraud tickets. Read by the features (a person's history of
confirmed cases) and by training (the labels).

A fraud ticket names its check-ins: ``details.attendance_event_id`` (the first) and one per
occurrence in its history rows (``data.attendance_event_id``)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.enums import Disposition, TicketSource
from backend.models import AttendanceEvent, GroundTruth, Ticket, TicketHistory
from backend.scoring.sql import Query, at_epoch, i8, in_list, in_values, param, t8


def _cases_select() -> sa.Select[Any]:
    gt = GroundTruth
    truth = (sa.select(i8(gt.person_id).label("person"), t8(gt.window_end).label("known"))
             .where(gt.tenant_id == param("tenant"), gt.person_id.is_not(None), in_list(gt.person_id, "persons", _BIG),
                    gt.window_end >= at_epoch(param("since")), gt.window_end < at_epoch(param("until"))))
    ticket_event = Ticket.details["attendance_event_id"].as_integer()
    tickets = (sa.select(i8(Ticket.person_id), t8(Ticket.resolved_at))
               .where(Ticket.tenant_id == param("tenant"), Ticket.source == TicketSource.FRAUD.value,
                      Ticket.disposition == Disposition.CONFIRMED_FRAUD.value, Ticket.person_id.is_not(None),
                      Ticket.resolved_at.is_not(None), in_list(Ticket.person_id, "persons", _BIG),
                      Ticket.resolved_at >= at_epoch(param("since")), Ticket.resolved_at < at_epoch(param("until")),
                      ~sa.exists().where(gt.tenant_id == Ticket.tenant_id, gt.attendance_event_id == ticket_event)))
    union = sa.union_all(truth, tickets).subquery()
    return sa.select(union.c.person, union.c.known)


_CASES = Query(_cases_select, ("i8", "t8"))
_BIG = sa.BigInteger()


def fraud_case_times(session: Session, tenant_id: int, person_ids: Sequence[int], since: float,
                     until: float) -> tuple[np.ndarray, np.ndarray]:
    """(person id, known-at epoch) of every confirmed case of the persons known in [since,
    until): ground truth rows when their window ended, fraud tickets when resolved as confirmed
    fraud (unless the ticket's check-in is already a ground-truth case: counted once)."""
    if not person_ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    person, known = _CASES.arrays(session, tenant=tenant_id, persons=list(person_ids), since=since, until=until)
    return person, known


@dataclass
class EventLabels:
    """Per-check-in labels of a tenant. ``companions`` are the other punches of a planted case
    (e.g. the check-out of an off-roster duty whose check-in carries the label): neither honest
    nor the labelled event, so training and evaluation leave them out."""
    positives: dict[int, str] = field(default_factory=dict)   # attendance event id -> fraud kind
    negatives: set[int] = field(default_factory=set)          # confirmed false positives
    companions: set[int] = field(default_factory=set)


def event_labels(session: Session, tenant_id: int) -> EventLabels:
    labels = EventLabels()
    companion_keys: set[str] = set()
    rows = session.execute(sa.select(GroundTruth.attendance_event_id, GroundTruth.kind, GroundTruth.details)
                           .where(GroundTruth.tenant_id == tenant_id))
    for event_id, kind, details in rows:
        if event_id is not None:
            labels.positives[event_id] = str(kind)
            companion_keys.update(v for k in ("check_in_event", "check_out_event")
                                  if isinstance(v := (details or {}).get(k), str))
    if companion_keys:
        found = session.execute(sa.select(AttendanceEvent.id).where(
            AttendanceEvent.tenant_id == tenant_id,
            in_values(session, AttendanceEvent.client_event_id, sorted(companion_keys), sa.String())))
        labels.companions = {event_id for (event_id,) in found} - set(labels.positives)
    # Supervisors' word wins over the planted truth: it is the newest judgement of that check-in.
    for event_id, kind, disposition in _ticket_dispositions(session, tenant_id):
        if disposition is Disposition.CONFIRMED_FRAUD:
            labels.positives[event_id] = kind
            labels.negatives.discard(event_id)
        else:
            labels.positives.pop(event_id, None)
            labels.negatives.add(event_id)
        labels.companions.discard(event_id)
    return labels


def _ticket_dispositions(session: Session, tenant_id: int) -> list[tuple[int, str, Disposition]]:
    """(check-in id, ticket type, disposition) of resolved fraud tickets, oldest first."""
    decided = (Disposition.CONFIRMED_FRAUD, Disposition.FALSE_POSITIVE)
    tickets = session.execute(sa.select(Ticket.id, Ticket.type, Ticket.disposition, Ticket.details)
                              .where(Ticket.tenant_id == tenant_id, Ticket.source == TicketSource.FRAUD,
                                     Ticket.disposition.in_(decided))
                              .order_by(Ticket.resolved_at, Ticket.id)).all()
    if not tickets:
        return []
    occurrences: dict[int, list[int]] = {}
    history = session.execute(sa.select(TicketHistory.ticket_id, TicketHistory.data).where(
        TicketHistory.tenant_id == tenant_id,
        in_values(session, TicketHistory.ticket_id, [t.id for t in tickets], sa.BigInteger())))
    for ticket_id, data in history:
        if isinstance(event_id := (data or {}).get("attendance_event_id"), int):
            occurrences.setdefault(ticket_id, []).append(event_id)
    out = []
    for ticket in tickets:
        ids = set(occurrences.get(ticket.id, []))
        if isinstance(first := (ticket.details or {}).get("attendance_event_id"), int):
            ids.add(first)
        out.extend((event_id, ticket.type, ticket.disposition) for event_id in sorted(ids))
    return out
