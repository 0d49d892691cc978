"""Scoring check-ins/outs: the one entry point (``score_checkins``) for the RQ job, the
sweeper's jobs, the launcher, tests and benchmarks.

What is unscored is listed in ``unscored_attendance`` (a trigger adds every ingested
check-in). A call reads and computes outside any write transaction (features, scores,
reasons), then writes in one short transaction: predictions (ON CONFLICT DO NOTHING), and
only for the rows it inserted, anomalies, ``anomaly_detected`` events and fraud tickets; then
it deletes the batch's ids from ``unscored_attendance``. Re-running it changes nothing; a
worker killed half-way committed nothing, its ids are still listed, and the retry or the
sweeper scores the batch again.

Micro-batching: besides its own ids, a call takes up to ``scoring_coalesce_max`` other
check-ins of the tenant that arrived in the last ``scoring_coalesce_s`` seconds and are still
unscored. Under load (one check-in per request) a job scores what piled up while it was
pending: ingestion queues no other job for the tenant meanwhile (``pending``)."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.enums import EventType, FraudKind, Role, Severity, TicketPriority, TicketSource
from backend.events import EventPublisher
from backend.models import UnscoredAttendance, utcnow
from backend.runtime import Runtime
from backend.scoring.features import FeatureBatch, features_of
from backend.scoring.loaders import BatchInputs, Carried, Columns, ReadAside, load_batch
from backend.scoring.model import ModelState, model_cache
from backend.scoring.pending import release_pending, request_scoring
from backend.scoring.persist import dequeue, insert_anomalies, insert_predictions
from backend.scoring.scorer import Scored, score_batch
from backend.scoring.sql import Query, i8, in_list, param
from backend.tickets import TicketSpec, open_or_add_occurrences

log = logging.getLogger(__name__)

KIND_LABELS: dict[FraudKind, str] = {
    FraudKind.BUDDY_PUNCHING: "Buddy punching", FraudKind.GPS_SPOOFING: "GPS spoofing",
    FraudKind.OFF_ROSTER: "Off-roster punch", FraudKind.GEOFENCE_VIOLATION: "Geofence violation",
    FraudKind.CHECK_IN_AND_LEAVE: "Checked in and left", FraudKind.SCAN_STUFFING: "Scan stuffing",
    FraudKind.SILENT_DEVICE: "Silent device", FraudKind.NO_SHOW: "No-show",
}


@dataclass(frozen=True)
class ScoringResult:
    requested: int
    scored: int          # predictions this call wrote
    flagged: int         # of which at or above the anomaly threshold
    tickets: int         # fraud tickets opened or given an occurrence
    scorer: str | None
    model_version: int | None


def score_checkins(runtime: Runtime, tenant_id: int, ids: list[int], *, now: datetime | None = None,
                   coalesce: bool = True) -> ScoringResult:
    settings = runtime.settings
    now = now or utcnow()
    pending_since = release_pending(runtime, tenant_id) if coalesce else None   # before the read (``pending``)
    with runtime.read() as session:
        pending, fresh_left = pending_ids(session, settings, tenant_id, ids, now, coalesce=coalesce,
                                          pending_since=pending_since)
        state = model_cache(runtime).active(session, tenant_id) if pending else None
    parts = [pending[lo:lo + PART_ROWS] for lo in range(0, len(pending), PART_ROWS)]
    results: list[tuple[int, int, int]] = []
    scored: Scored | None = None
    # Three stages overlap: the reader loads part k+1 and the writers write parts k-1 and k-2
    # (the database busy, their threads waiting on it) while this thread computes part k
    # (Python busy; no database: a round trip from here would queue for the GIL on its way
    # back). A fourth thread reads each part's location fixes while the reader reads the rest.
    # Each part is written in its own transaction: a crash leaves whole parts scored and the
    # rest unscored, for the retry or the sweeper. Two writes at once: a call's last write no
    # longer waits for the one before (the call's drain, when nothing else is left to overlap);
    # their tickets are still filed in the parts' order (``_write``). The model is the one
    # active at the start.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring-reader") as reader, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring-fixes") as fixes_reader, \
            ThreadPoolExecutor(max_workers=WRITES_IN_FLIGHT, thread_name_prefix="scoring-writer") as writer:
        carried = Carried()

        def aside(read: Callable[[Session], Columns]) -> Future[Columns]:
            return fixes_reader.submit(_read, runtime, read)

        loading = reader.submit(_load, runtime, tenant_id, parts[0], carried, aside) if parts else None
        writing: list[Future[tuple[int, int, int]]] = []
        unreported = state     # a model load failure is published once, with the first part
        for k, part in enumerate(parts):
            assert loading is not None
            inputs = loading.result()
            loading = reader.submit(_load, runtime, tenant_id, parts[k + 1], carried, aside) \
                if k + 1 < len(parts) else None
            if inputs is None:
                _forget(runtime, tenant_id, part)
                continue
            assert state is not None
            batch = features_of(inputs)
            scored = score_batch(batch, state.model, settings)
            while len(writing) >= WRITES_IN_FLIGHT:
                results.append(writing.pop(0).result())
            writing.append(writer.submit(_write, runtime, tenant_id, part, batch, scored, unreported, now,
                                         writing[-1] if writing else None))
            unreported = None
        results += [w.result() for w in writing]
    if fresh_left:
        request_scoring(runtime, tenant_id, [])
    if scored is None:
        return ScoringResult(len(ids), 0, 0, 0, None, None)
    return ScoringResult(len(ids), sum(r[0] for r in results), sum(r[1] for r in results),
                         sum(r[2] for r in results), scored.scorer.value,
                         scored.model.version if scored.model else None)


# Rows per read/score/write step of a call: a sweeper chunk (20000) is eight, pipelined. A
# part's reads cost more per row when it is small (each read its persons' month of punches
# and fixes, its sites' scans): at 1000 rows the feature reads ran ~40% slower per row; at
# 2500 a chunk was faster than at 2000 or 3500, and 10000-row chunks ~20% faster than 5000.
# (Measured before parts carried their reads: now only a call's first part reads the month.)
# Chunks of 20000 score ~20% faster than of 10000 (interleaved, with carried reads): a call's
# first read and last write overlap nothing, ~40% of a 10000-row call.
PART_ROWS = 2500
WRITES_IN_FLIGHT = 2


def _load(runtime: Runtime, tenant_id: int, part: list[int], carried: Carried,
          aside: ReadAside) -> BatchInputs | None:
    """What a part's features read (None: none of its events exists any more)."""
    with runtime.read() as session:
        return load_batch(session, tenant_id, part, carried, aside)


def _read(runtime: Runtime, read: Callable[[Session], Columns]) -> Columns:
    with runtime.read() as session:
        return read(session)


def _write(runtime: Runtime, tenant_id: int, part: list[int], batch: FeatureBatch, scored: Scored,
           state: ModelState | None, now: datetime, previous: Future[Any] | None) -> tuple[int, int, int]:
    """Write a part; its tickets wait for the ``previous`` part's write to end, so that an
    occurrence never opens a ticket an earlier check-in of the call should have opened."""
    with runtime.transaction() as session:
        result = persist_scores(session, runtime.events, runtime.settings, tenant_id, batch, scored, now,
                                queued=part, written_at=utcnow(),
                                before_tickets=(lambda: wait([previous])) if previous else None)
        if state is not None and state.failure:
            log.error("tenant %d: %s", tenant_id, state.failure)
            runtime.events.publish(session, EventType.SYSTEM, tenant_id, severity=Severity.HIGH,
                                   data={"component": "scoring", "message": state.failure,
                                         "model_version": state.version})
    return result


def _forget(runtime: Runtime, tenant_id: int, part: list[int]) -> None:
    """Queued ids whose events are gone (deleted with their tenant, person or site before they
    were scored): nothing to score, they only leave the queue."""
    with runtime.transaction() as session:
        dequeue(session, tenant_id, part)


_Q = UnscoredAttendance
# Packed reads (``i8``): a sweeper chunk's ids as rows cost ~1 µs of Python each.
_UNSCORED = Query(lambda: sa.select(i8(_Q.attendance_event_id)).where(
    _Q.tenant_id == param("tenant"), in_list(_Q.attendance_event_id, "ids", sa.BigInteger())), ("i8",))
_FRESH = Query(lambda: sa.select(i8(_Q.attendance_event_id)).where(
    _Q.tenant_id == param("tenant"), _Q.received_at >= param("since", _Q.received_at.type))
    .order_by(_Q.received_at).limit(param("limit")), ("i8",))


def pending_ids(session: Session, settings: Settings, tenant_id: int, ids: list[int], now: datetime, *,
                coalesce: bool, pending_since: float | None = None) -> tuple[list[int], bool]:
    """The still-unscored ``ids``, plus (``coalesce``) fresh unscored check-ins of the tenant:
    of the last ``scoring_coalesce_s``, or since ``pending_since`` (epoch) if earlier; and
    whether more fresh ones may be left (the read reached ``scoring_coalesce_max``)."""
    found = [_UNSCORED.arrays(session, tenant=tenant_id, ids=ids)[0]] if ids else []
    fresh_left = False
    if coalesce and settings.scoring_coalesce_max:
        since = now - timedelta(seconds=settings.scoring_coalesce_s)
        if pending_since is not None:
            since = min(since, datetime.fromtimestamp(pending_since, UTC))
        fresh = _FRESH.arrays(session, tenant=tenant_id, limit=settings.scoring_coalesce_max, since=since)[0]
        found.append(fresh)
        fresh_left = len(fresh) >= settings.scoring_coalesce_max
    return (np.unique(np.concatenate(found)).tolist() if found else []), fresh_left


def persist_scores(session: Session, publisher: EventPublisher, settings: Settings, tenant_id: int,
                   batch: FeatureBatch, scored: Scored, now: datetime, *, queued: Sequence[int],
                   written_at: datetime | None = None,
                   before_tickets: Callable[[], object] | None = None) -> tuple[int, int, int]:
    """Write a scored batch and take ``queued`` (the ids it was built from: its events, and any
    whose event is gone) off the unscored queue; returns (predictions written, of which
    flagged, tickets touched). ``now`` is the scoring's clock (ticket ages, SLAs);
    ``written_at`` stamps the rows (a prediction's ``created_at``: when the scores were
    written, the end of the ingest-to-scored latency). ``before_tickets`` runs just before
    the tickets are filed."""
    written_at = written_at or now
    e = batch.events
    reasons = [json.dumps([r.as_json() for r in rs]) if rs else "[]" for rs in scored.reasons]
    written = insert_predictions(
        session, tenant_id, ids=e.id, persons=e.person, sites=e.site, ts=e.t, scores=scored.score,
        scorer=scored.scorer, model_version_id=scored.model.version_id if scored.model else None,
        features=batch.matrix(dtype=np.float64), reasons=reasons, now=written_at,
        flag_at=settings.scoring_anomaly_threshold)
    flagged = np.flatnonzero(np.isin(e.id, np.fromiter(written.flagged, np.int64, len(written.flagged)))).tolist()
    insert_anomalies(session, tenant_id, [(int(e.id[i]), kind, _severity(scored.score[i], settings))
                                          for i in flagged for kind in scored.kinds[i]], written_at)
    publisher.publish_many(session, [_anomaly_event(tenant_id, batch, scored, i, settings) for i in flagged])
    if before_tickets:
        before_tickets()
    tickets = _open_tickets(session, publisher, settings, tenant_id, batch, scored, flagged, now)
    dequeue(session, tenant_id, queued)
    return written.count, len(flagged), tickets


def _severity(score: float, settings: Settings) -> Severity:
    if score >= 0.95:
        return Severity.CRITICAL
    return Severity.HIGH if score >= settings.scoring_ticket_threshold else Severity.MEDIUM


def _anomaly_event(tenant_id: int, batch: FeatureBatch, scored: Scored, i: int,
                   settings: Settings) -> dict[str, object]:
    e = batch.events
    person = int(e.person[i])
    return {"tenant_id": tenant_id, "type": EventType.ANOMALY_DETECTED, "site_id": int(e.site[i]),
            "person_id": person, "severity": _severity(scored.score[i], settings),
            "data": {"attendance_event_id": int(e.id[i]), "punch": "check_out" if e.is_out[i] else "check_in",
                     "ts": datetime.fromtimestamp(float(e.t[i]), UTC).isoformat(),
                     "score": round(float(scored.score[i]), 3), "scorer": scored.scorer.value,
                     "model_version": scored.model.version if scored.model else None,
                     "types": [k.value for k in scored.kinds[i]], "reasons": [r.text for r in scored.reasons[i]],
                     "person_name": scored.names.get(person)}}


def _open_tickets(session: Session, publisher: EventPublisher, settings: Settings, tenant_id: int,
                  batch: FeatureBatch, scored: Scored, flagged: list[int], now: datetime) -> int:
    """A fraud ticket per flagged check-in at or above the ticket threshold, deduplicated by
    person and fraud kind within ``scoring_ticket_dedup_hours``. Check-ins older than
    ``scoring_ticket_max_age_hours`` (a backlog, the seeded history) open none: there is
    nothing left to stop, their scores and anomalies are there to look at."""
    e = batch.events
    oldest = (now - timedelta(hours=settings.scoring_ticket_max_age_hours)).timestamp()
    specs = []
    for i in flagged:
        if scored.score[i] < settings.scoring_ticket_threshold or e.t[i] < oldest or not scored.kinds[i]:
            continue
        kind, person, score = scored.kinds[i][0], int(e.person[i]), float(scored.score[i])
        name = scored.names.get(person, f"person {person}")
        specs.append(TicketSpec(
            tenant_id=tenant_id, source=TicketSource.FRAUD, type=kind.value, dedup_key=f"fraud:{person}:{kind.value}",
            title=f"{KIND_LABELS[kind]} suspected: {name}",
            priority=TicketPriority.P2 if score >= 0.95 else TicketPriority.P3,
            severity=_severity(score, settings), site_id=int(e.site[i]), person_id=person,
            details={"attendance_event_id": int(e.id[i]), "score": round(score, 3), "scorer": scored.scorer.value,
                     "model_version": scored.model.version if scored.model else None,
                     "punch": "check_out" if e.is_out[i] else "check_in",
                     "reasons": [r.text for r in scored.reasons[i]], "types": [k.value for k in scored.kinds[i]]},
            occurred_at=datetime.fromtimestamp(float(e.t[i]), UTC),
            dedup_window=timedelta(hours=settings.scoring_ticket_dedup_hours), assignee_role=Role.SECURITY_MANAGER))
    open_or_add_occurrences(session, publisher, specs, now=now)
    return len(specs)
