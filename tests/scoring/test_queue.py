"""The unscored queue (``unscored_attendance``): filled by the insert trigger on
attendance_events, emptied by scoring in the transaction that writes the predictions, read by
the sweeper. On both databases (the trigger is per statement on PostgreSQL, per row on SQLite)."""
from __future__ import annotations

from collections.abc import Sequence

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import backend.scoring.service
from backend.ingest.service import ingest_events
from backend.models import AttendanceEvent, FraudPrediction, Person, UnscoredAttendance
from backend.queues import QueueName
from backend.runtime import Runtime
from backend.scoring.persist import dequeue
from backend.scoring.service import score_checkins
from backend.scoring.sweep import enqueue_unscored
from tests.factories import World, make_world
from tests.integration.ingest_data import check_in, check_out, ping


def _ids(runtime: Runtime, column: sa.ColumnElement[int], tenant: sa.ColumnElement[int], tenant_id: int) -> set[int]:
    with runtime.read() as session:
        return set(session.scalars(sa.select(column).where(tenant == tenant_id)))


def queued(runtime: Runtime, tenant_id: int) -> set[int]:
    return _ids(runtime, UnscoredAttendance.attendance_event_id, UnscoredAttendance.tenant_id, tenant_id)


def stored(runtime: Runtime, tenant_id: int) -> set[int]:
    return _ids(runtime, AttendanceEvent.id, AttendanceEvent.tenant_id, tenant_id)


def predicted(runtime: Runtime, tenant_id: int) -> set[int]:
    return _ids(runtime, FraudPrediction.attendance_event_id, FraudPrediction.tenant_id, tenant_id)


def ingested(runtime: Runtime, batch: list[dict[str, object]]) -> tuple[World, list[int]]:
    """A fresh tenant with ``batch`` ingested; its stored check-in ids, oldest first."""
    world = make_world(runtime)
    ingest_events(runtime, world.tenant_id, batch)
    return world, sorted(stored(runtime, world.tenant_id))


def test_ingested_check_ins_are_queued_until_scored_and_a_replay_queues_nothing(any_runtime: Runtime) -> None:
    batch = [check_in(), ping(), check_out(), check_in(person="P2", site="S2")]
    world, ids = ingested(any_runtime, batch)

    assert len(ids) == 3 and queued(any_runtime, world.tenant_id) == set(ids)   # pings are not scored
    result = score_checkins(any_runtime, world.tenant_id, ids, coalesce=False)
    assert result.scored == 3
    assert queued(any_runtime, world.tenant_id) == set()
    assert predicted(any_runtime, world.tenant_id) == set(ids)

    ingest_events(any_runtime, world.tenant_id, batch)   # duplicates insert no row, so queue none
    assert queued(any_runtime, world.tenant_id) == set()
    assert score_checkins(any_runtime, world.tenant_id, ids).scored == 0


def test_the_sweeper_queues_what_scoring_left(any_runtime: Runtime) -> None:
    world, ids = ingested(any_runtime, [check_in(), check_in(person="P2"), check_out()])
    score_checkins(any_runtime, world.tenant_id, ids[:1], coalesce=False)
    jobs = any_runtime.queues[QueueName.SCORING]
    jobs.empty()

    assert enqueue_unscored(any_runtime, older_than_s=3600, tenant_id=world.tenant_id) == 0   # too young
    assert enqueue_unscored(any_runtime, older_than_s=0, tenant_id=world.tenant_id) == 2
    swept = [event_id for job in jobs.get_jobs() if job.args[0] == world.tenant_id for event_id in job.args[1]]
    assert sorted(swept) == ids[1:]
    jobs.empty()


def test_a_rolled_back_scoring_leaves_its_check_ins_queued(any_runtime: Runtime,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    world, ids = ingested(any_runtime, [check_in(), check_out()])

    def dequeue_then_fail(session: Session, tenant_id: int, event_ids: Sequence[int]) -> None:
        dequeue(session, tenant_id, event_ids)   # taken off the queue, then the transaction fails
        raise RuntimeError("the database went away")

    monkeypatch.setattr(backend.scoring.service, "dequeue", dequeue_then_fail)
    with pytest.raises(RuntimeError, match="went away"):
        score_checkins(any_runtime, world.tenant_id, ids, coalesce=False)
    assert queued(any_runtime, world.tenant_id) == set(ids)
    assert predicted(any_runtime, world.tenant_id) == set()

    monkeypatch.undo()
    assert score_checkins(any_runtime, world.tenant_id, ids, coalesce=False).scored == 2
    assert queued(any_runtime, world.tenant_id) == set()


def test_a_check_in_deleted_before_it_was_scored_leaves_the_queue_at_its_next_scoring(any_runtime: Runtime) -> None:
    world, ids = ingested(any_runtime, [check_in(person="P1"), check_in(person="P2")])
    with any_runtime.transaction() as session:   # cascades to the person's check-ins, not to the queue
        session.execute(sa.delete(Person).where(Person.id == world.person_ids["P1"]))
    (kept,) = stored(any_runtime, world.tenant_id)
    (gone,) = set(ids) - {kept}
    assert queued(any_runtime, world.tenant_id) == set(ids)

    assert score_checkins(any_runtime, world.tenant_id, [gone], coalesce=False).scored == 0
    assert queued(any_runtime, world.tenant_id) == {kept}
    assert score_checkins(any_runtime, world.tenant_id, ids, coalesce=False).scored == 1
    assert queued(any_runtime, world.tenant_id) == set()


def test_a_check_in_deleted_while_its_batch_was_computed_gets_no_prediction(
        any_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write inserts predictions only for events that still exist (no foreign key: the
    insert checks each event itself), and the deleted one leaves the queue with the rest."""
    world, ids = ingested(any_runtime, [check_in(person="P1"), check_in(person="P2")])
    compute = backend.scoring.service.features_of

    def delete_p1_then_compute(inputs: object) -> object:
        with any_runtime.transaction() as session:
            session.execute(sa.delete(Person).where(Person.id == world.person_ids["P1"]))
        return compute(inputs)

    monkeypatch.setattr(backend.scoring.service, "features_of", delete_p1_then_compute)
    assert score_checkins(any_runtime, world.tenant_id, ids, coalesce=False).scored == 1
    (kept,) = stored(any_runtime, world.tenant_id)
    assert predicted(any_runtime, world.tenant_id) == {kept}
    assert queued(any_runtime, world.tenant_id) == set()


def test_deleting_a_person_or_a_tenant_deletes_their_predictions_through_their_check_ins(
        any_runtime: Runtime) -> None:
    """fraud_predictions keys only its event: the event's cascade is the one that removes it."""
    world, ids = ingested(any_runtime, [check_in(person="P1"), check_in(person="P2"), check_out(person="P2")])
    score_checkins(any_runtime, world.tenant_id, ids, coalesce=False)
    with any_runtime.transaction() as session:
        session.execute(sa.delete(Person).where(Person.id == world.person_ids["P1"]))
    assert predicted(any_runtime, world.tenant_id) == stored(any_runtime, world.tenant_id)
    assert len(predicted(any_runtime, world.tenant_id)) == 2

    with any_runtime.transaction() as session:
        session.execute(sa.text("DELETE FROM tenants WHERE id = :id"), {"id": world.tenant_id})
    assert predicted(any_runtime, world.tenant_id) == set()
