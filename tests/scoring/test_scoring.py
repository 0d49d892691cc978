"""Scoring: heuristic at cold start, the active model with reasons, anomalies, live events and
fraud tickets; idempotent under re-runs and concurrent workers; a corrupt model falls back to
the heuristic; a newly activated version is picked up at the next batch."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

import backend.scoring.service as service
import workers.scoring
from backend.enums import EventType, ModelStatus, Role, Scorer, TicketSource
from backend.ml.registry import activate, rollback
from backend.ml.service import train_model
from backend.models import (AttendanceAnomaly, AttendanceEvent, EventLogEntry, FraudPrediction, ModelVersion, Ticket,
                            TicketHistory, UnscoredAttendance, User, utcnow)
from backend.queues import SCORE_CHECKINS_JOB, QueueName
from backend.scoring.catalog import FEATURE_NAMES, FEATURE_VERSION
from backend.scoring.labels import event_labels
from backend.scoring.service import score_checkins
from tests.scoring.conftest import END, Seeded


def _predictions(seeded: Seeded) -> list[FraudPrediction]:
    with seeded.runtime.read() as session:
        return list(session.scalars(sa.select(FraudPrediction).where(FraudPrediction.tenant_id == seeded.tenant_id)))


def _counts(seeded: Seeded) -> dict[str, int]:
    """Rows of everything scoring writes, for before/after comparisons."""
    counts = {}
    with seeded.runtime.read() as session:
        for name, model in (("predictions", FraudPrediction), ("anomalies", AttendanceAnomaly),
                            ("events", EventLogEntry), ("tickets", Ticket), ("history", TicketHistory)):
            counts[name] = session.scalar(sa.select(sa.func.count()).select_from(model)
                                          .where(model.tenant_id == seeded.tenant_id))
        counts["occurrences"] = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Ticket.occurrences), 0))
                                               .where(Ticket.tenant_id == seeded.tenant_id))
    return counts


def _recent_ids(seeded: Seeded, hours: float) -> list[int]:
    a = AttendanceEvent
    with seeded.runtime.read() as session:
        return list(session.scalars(sa.select(a.id).where(a.tenant_id == seeded.tenant_id,
                                                          a.ts >= END - timedelta(hours=hours)).order_by(a.id)))


def test_cold_start_scores_with_the_heuristic_and_explains_itself(small: Seeded) -> None:
    ids = small.event_ids()
    result = score_checkins(small.runtime, small.tenant_id, ids, now=END, coalesce=False)
    assert result.scorer == "heuristic" and result.scored == len(ids) and result.flagged > 0
    with small.runtime.read() as session:
        labels = event_labels(session, small.tenant_id)
    by_event = {p.attendance_event_id: p for p in _predictions(small)}
    assert all(p.scorer is Scorer.HEURISTIC and p.model_version_id is None for p in by_event.values())
    geofence = [by_event[i] for i, kind in labels.positives.items() if kind == "geofence_violation"]
    assert geofence and all(p.score >= 0.8 for p in geofence)
    assert all("outside the geofence" in p.reasons[0]["text"] for p in geofence)
    flagged = [p for p in by_event.values() if p.score >= 0.5]
    assert all(1 <= len(p.reasons) <= 3 and all(isinstance(r["text"], str) for r in p.reasons) for p in flagged)


def test_the_model_scores_explains_and_opens_deduplicated_fraud_tickets(medium: Seeded, trained) -> None:  # type: ignore[no-untyped-def]
    assert trained.activated
    ids = _recent_ids(medium, 60)   # within scoring_ticket_max_age_hours of END: tickets open
    result = score_checkins(medium.runtime, medium.tenant_id, ids, now=END, coalesce=False)
    assert result.scorer == "model" and result.model_version == trained.version and result.scored == len(ids)
    with medium.runtime.read() as session:
        labels = event_labels(session, medium.tenant_id)
        predictions = {p.attendance_event_id: p for p in session.scalars(
            sa.select(FraudPrediction).where(FraudPrediction.attendance_event_id.in_(ids)))}
        anomalies = Counter((a.attendance_event_id, str(a.type)) for a in session.scalars(
            sa.select(AttendanceAnomaly).where(AttendanceAnomaly.attendance_event_id.in_(ids))))
        events = list(session.scalars(sa.select(EventLogEntry).where(
            EventLogEntry.tenant_id == medium.tenant_id, EventLogEntry.type == EventType.ANOMALY_DETECTED)))
        tickets = list(session.scalars(sa.select(Ticket).where(Ticket.tenant_id == medium.tenant_id,
                                                                Ticket.source == TicketSource.FRAUD)))
        manager = session.scalar(sa.select(User.id).where(User.tenant_id == medium.tenant_id,
                                                          User.role == Role.SECURITY_MANAGER))
    planted = {i: kind for i, kind in labels.positives.items() if i in predictions}
    assert len(planted) >= 5
    for event_id, kind in planted.items():
        p = predictions[event_id]
        assert p.score >= 0.5, (kind, p.score, p.reasons)
        assert (event_id, kind) in anomalies, (kind, p.reasons)
        assert p.reasons and p.reasons[0]["kind"] == kind, (kind, p.reasons)
    flagged = {i for i, p in predictions.items() if p.score >= 0.5}
    events = [e for e in events if e.data["attendance_event_id"] in predictions]   # other tests score other events
    assert sorted(e.data["attendance_event_id"] for e in events) == sorted(flagged)
    assert all(e.data["reasons"] and e.data["types"] and e.data["score"] >= 0.5 for e in events)

    ticketed = [p for p in predictions.values() if p.score >= 0.8]
    keys = {(p.person_id, anomalies_kind) for p in ticketed
            for (event_id, anomalies_kind) in anomalies if event_id == p.attendance_event_id}
    assert tickets and len(tickets) <= len(ticketed) and sum(t.occurrences for t in tickets) == len(ticketed)
    assert {(t.person_id, t.type) for t in tickets} <= keys
    assert all(t.assignee_user_id == manager and t.details["attendance_event_id"] in flagged for t in tickets)


def _run_scoring_jobs(seeded: Seeded, monkeypatch: pytest.MonkeyPatch, *batches: list[int]) -> None:
    """Real RQ jobs by their dotted path, run by a SimpleWorker in this process."""
    monkeypatch.setattr(workers.scoring, "get_runtime", lambda: seeded.runtime)
    queue = seeded.runtime.queues[QueueName.SCORING]
    queue.empty()
    jobs = [queue.enqueue(SCORE_CHECKINS_JOB, seeded.tenant_id, batch) for batch in batches]
    SimpleWorker([queue], connection=seeded.runtime.redis).work(burst=True)
    assert [job.get_status(refresh=True).value for job in jobs] == ["finished"] * len(jobs)


def test_running_a_scoring_job_twice_changes_nothing(small: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    train_model(small.runtime, small.tenant_id, now=END)
    ids = small.event_ids()
    _run_scoring_jobs(small, monkeypatch, ids)
    first = _counts(small)
    assert first["predictions"] == len(ids) and first["anomalies"] > 0
    _run_scoring_jobs(small, monkeypatch, ids, ids[: len(ids) // 2])
    again = score_checkins(small.runtime, small.tenant_id, ids, now=END)   # "now" at which tickets would open
    assert again.scored == 0 and again.tickets == 0 and _counts(small) == first


def test_two_workers_scoring_the_same_batch_write_each_prediction_once(small: Seeded) -> None:
    ids = small.event_ids()
    barrier = threading.Barrier(2)
    results = []

    def work() -> None:
        barrier.wait()
        results.append(score_checkins(small.runtime, small.tenant_id, ids, now=END, coalesce=False))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = _counts(small)
    assert counts["predictions"] == len(ids) == sum(r.scored for r in results)
    assert len({p.attendance_event_id for p in _predictions(small)}) == len(ids)
    flagged = sum(r.flagged for r in results)
    with small.runtime.read() as session:
        events = Counter(session.scalars(sa.select(EventLogEntry.type)
                                         .where(EventLogEntry.tenant_id == small.tenant_id)))
    assert events[EventType.ANOMALY_DETECTED] == flagged and counts["anomalies"] >= flagged
    assert events[EventType.TICKET_CREATED] + events[EventType.TICKET_UPDATED] == sum(r.tickets for r in results)


@pytest.mark.parametrize("artifact", [b"definitely not a model", None])
def test_a_corrupt_or_missing_model_falls_back_to_the_heuristic(small: Seeded, artifact: bytes | None) -> None:
    with small.runtime.transaction() as session:   # an active version whose artifact is damaged or gone
        session.add(ModelVersion(tenant_id=small.tenant_id, version=7, status=ModelStatus.ACTIVE, artifact=artifact,
                                 metrics={"features": list(FEATURE_NAMES), "feature_version": FEATURE_VERSION,
                                          "threshold": 0.5}, trained_at=END, activated_at=END))
    ids = small.event_ids()
    first = score_checkins(small.runtime, small.tenant_id, ids[:200], now=END, coalesce=False)
    second = score_checkins(small.runtime, small.tenant_id, ids[200:], now=END, coalesce=False)
    assert first.scorer == second.scorer == "heuristic" and first.scored + second.scored == len(ids)
    with small.runtime.read() as session:
        alerts = list(session.scalars(sa.select(EventLogEntry).where(EventLogEntry.tenant_id == small.tenant_id,
                                                                     EventLogEntry.type == EventType.SYSTEM)))
    assert len(alerts) == 1 and alerts[0].data["component"] == "scoring"   # reported once, not per batch
    assert "v7" in alerts[0].data["message"] and "heuristic" in alerts[0].data["message"]


def test_a_newly_activated_version_is_used_from_the_next_batch(small: Seeded) -> None:
    runtime, tenant = small.runtime, small.tenant_id
    first = train_model(runtime, tenant, now=END)
    second = train_model(runtime, tenant, now=END)
    assert second.status is ModelStatus.CANDIDATE
    ids = small.event_ids()
    assert score_checkins(runtime, tenant, ids[:100], now=END, coalesce=False).model_version == first.version
    with runtime.transaction() as session:
        activate(session, runtime.events, tenant, second.version, by="test")
    assert score_checkins(runtime, tenant, ids[100:200], now=END, coalesce=False).model_version == second.version
    with runtime.transaction() as session:
        rollback(session, runtime.events, tenant)
    assert score_checkins(runtime, tenant, ids[200:300], now=END, coalesce=False).model_version == first.version


def test_a_job_also_scores_fresh_unscored_checkins_of_its_tenant(small: Seeded) -> None:
    ids = small.event_ids()
    fresh = ids[10:40]
    a = AttendanceEvent
    with small.runtime.transaction() as session:   # as if just ingested, their own jobs still queued
        received = dict(session.execute(sa.select(a.id, a.received_at).where(a.id.in_(fresh))).all())
        session.execute(sa.update(a).where(a.id.in_(fresh)).values(received_at=utcnow()))
        session.execute(sa.update(UnscoredAttendance).where(UnscoredAttendance.attendance_event_id.in_(fresh))
                        .values(received_at=utcnow()))
    try:
        result = score_checkins(small.runtime, small.tenant_id, [ids[0]])
        assert result.scored == 1 + len(fresh)
        assert score_checkins(small.runtime, small.tenant_id, [fresh[5]]).scored == 0   # its own job: nothing left
    finally:
        with small.runtime.transaction() as session:
            for event_id, at in received.items():
                session.execute(sa.update(a).where(a.id == event_id).values(received_at=at))


def test_parts_written_at_once_file_their_tickets_in_the_parts_order(small: Seeded,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Two parts are written at once, but a part files its tickets only once the part before
    it has committed: tickets open (and take occurrences) in the order of their check-ins'
    parts, as one writer would file them. The first part's filing is held back here, so that
    without that order the second part would overtake it."""
    settings = small.runtime.settings.model_copy(update={"scoring_ticket_max_age_hours": 24 * 60})  # every check-in
    monkeypatch.setattr(small.runtime, "settings", settings)
    monkeypatch.setattr(service, "PART_ROWS", 100)
    original, calls = service._open_tickets, []

    def first_part_late(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "_open_tickets", first_part_late)
    ids = small.event_ids()
    result = score_checkins(small.runtime, small.tenant_id, ids, now=END, coalesce=False)
    with small.runtime.read() as session:
        filed = session.scalars(sa.select(TicketHistory.data).where(TicketHistory.tenant_id == small.tenant_id)
                                .order_by(TicketHistory.id)).all()
    part_of = {event: i // 100 for i, event in enumerate(sorted(ids))}
    parts = [part_of[data["attendance_event_id"]] for data in filed]
    assert result.tickets == len(filed) and len(set(parts)) > 2
    assert parts == sorted(parts)
