"""Migrations: the models and the migrated PostgreSQL schema agree (autogenerate finds no
difference), and 0004 (the unscored queue table instead of ``scored_at``, lighter
fraud_predictions) and 0005 (features as an array, no foreign keys on fraud_predictions)
upgrade and downgrade with data on PostgreSQL and SQLite.

Each test migrates a database of its own (a separate PostgreSQL schema, a separate SQLite
file): downgrading the session's shared database would pull it from under the other tests."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.config import Settings
from backend.migrate import alembic_config
from backend.enums import AttendanceKind, Scorer
from backend.models import AttendanceEvent, Base, FraudPrediction, Tenant
from backend.models.base import JSONType, UTCDateTime
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES, FEATURE_NAMES_BY_VERSION, FEATURE_VERSION, feature_dict
from tests.conftest import TEST_VAR
from tests.factories import make_world


def migrate(runtime: Runtime, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with runtime.engine.connect() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


@contextmanager
def pg_schema(pg: Settings) -> Iterator[Runtime]:
    """A runtime on a fresh schema of the test PostgreSQL database (dropped afterwards)."""
    schema = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg.effective_database_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(pg.effective_database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    runtime = Runtime(pg.model_copy(update={"database_url": url.render_as_string(hide_password=False)}))
    try:
        yield runtime
    finally:
        runtime.close()
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def pg_blank(pg_settings: Settings) -> Iterator[Runtime]:
    with pg_schema(pg_settings) as runtime:
        yield runtime


@pytest.fixture(params=["postgresql", "sqlite"])
def blank(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """An empty database: a fresh PostgreSQL schema, or a new SQLite file."""
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_blank")
        return
    var_dir = TEST_VAR / f"migrations-{uuid.uuid4().hex[:8]}"
    var_dir.mkdir(parents=True)
    runtime = Runtime(Settings(var_dir=var_dir, secret_key="test-secret-key"))
    yield runtime
    runtime.close()


def schema_differences(runtime: Runtime) -> list[object]:
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


@pytest.mark.filterwarnings("ignore:autogenerate skipping:UserWarning")   # the expression index
def test_the_migrated_postgresql_schema_matches_the_models(pg_blank: Runtime) -> None:
    migrate(pg_blank, "head")
    assert schema_differences(pg_blank) == []
    migrate(pg_blank, "0003", down=True)
    migrate(pg_blank, "head")
    assert schema_differences(pg_blank) == []


# attendance_events and fraud_predictions as 0003 left them (scored_at still there).
_EVENTS = sa.table("attendance_events", sa.column("id"), sa.column("tenant_id"), sa.column("client_event_id"),
                   sa.column("ts", UTCDateTime()), sa.column("received_at", UTCDateTime()), sa.column("kind"),
                   sa.column("person_id"), sa.column("site_id"), sa.column("lat"), sa.column("lon"),
                   sa.column("mock_location"), sa.column("scored_at", UTCDateTime()))
_PREDICTIONS = sa.table("fraud_predictions", sa.column("tenant_id"), sa.column("attendance_event_id"),
                        sa.column("person_id"), sa.column("site_id"), sa.column("ts", UTCDateTime()),
                        sa.column("score"), sa.column("scorer"), sa.column("features", JSONType),
                        sa.column("reasons", JSONType), sa.column("created_at", UTCDateTime()))


def test_0004_moves_unscored_check_ins_to_the_queue_table_and_back(blank: Runtime) -> None:
    migrate(blank, "0003")
    world = make_world(blank)
    person, site = world.person_ids["P1"], world.site_ids["S1"]
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    scored_at = now + timedelta(seconds=1)

    def event(key: str, **extra: object) -> dict[str, object]:
        return {"tenant_id": world.tenant_id, "client_event_id": key, "ts": now, "received_at": now,
                "kind": "check_in", "person_id": person, "site_id": site, "lat": 38.7, "lon": -9.1,
                "mock_location": False, **extra}

    with blank.transaction() as session:
        session.execute(sa.insert(_EVENTS), [event("scored", scored_at=scored_at), event("unscored", scored_at=None)])
        ids = dict(session.execute(sa.select(_EVENTS.c.client_event_id, _EVENTS.c.id)).all())
        session.execute(sa.insert(_PREDICTIONS).values(
            tenant_id=world.tenant_id, attendance_event_id=ids["scored"], person_id=person, site_id=site, ts=now,
            score=0.1, scorer="heuristic", features={}, reasons=[], created_at=scored_at))

    migrate(blank, "0004")
    inspector = sa.inspect(blank.engine)
    assert "scored_at" not in {c["name"] for c in inspector.get_columns("attendance_events")}
    assert {fk["referred_table"] for fk in inspector.get_foreign_keys("fraud_predictions")} == {
        "attendance_events", "model_versions"}
    with blank.transaction() as session:
        assert set(session.scalars(sa.text("SELECT attendance_event_id FROM unscored_attendance"))) == {ids["unscored"]}
        session.execute(sa.insert(_EVENTS), [event("new")])   # queued by the trigger
        new = session.scalar(sa.select(_EVENTS.c.id).where(_EVENTS.c.client_event_id == "new"))
        assert set(session.scalars(sa.text("SELECT attendance_event_id FROM unscored_attendance"))) == {
            ids["unscored"], new}

    migrate(blank, "0003", down=True)
    with blank.read() as session:
        stamped = dict(session.execute(sa.select(_EVENTS.c.id, _EVENTS.c.scored_at)).all())
        assert session.scalar(sa.select(sa.func.count()).select_from(_PREDICTIONS)) == 1
    assert stamped == {ids["scored"]: scored_at, ids["unscored"]: None, new: None}
    assert "unscored_attendance" not in sa.inspect(blank.engine).get_table_names()
    assert {fk["referred_table"] for fk in sa.inspect(blank.engine).get_foreign_keys("fraud_predictions")} == {
        "attendance_events", "model_versions", "tenants", "persons", "sites"}

    migrate(blank, "0004")   # and up again
    with blank.read() as session:
        assert set(session.scalars(sa.text("SELECT attendance_event_id FROM unscored_attendance"))) == {
            ids["unscored"], new}


_V2_FEATURES = {"biometric_quality_score": 0.91, "gps_accuracy": 8.0, "velocity_kmh": None, "rule_score": 0.05}


def test_0005_stores_features_as_an_array_and_deletes_predictions_with_their_event(blank: Runtime) -> None:
    migrate(blank, "0004")
    world = make_world(blank)
    person, site = world.person_ids["P1"], world.site_ids["S1"]
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with blank.transaction() as session:
        session.execute(sa.insert(_EVENTS), [
            {"tenant_id": world.tenant_id, "client_event_id": key, "ts": now, "received_at": now, "kind": "check_in",
             "person_id": person, "site_id": site, "lat": 38.7, "lon": -9.1, "mock_location": False}
            for key in ("kept", "deleted")])
        ids = dict(session.execute(sa.select(_EVENTS.c.client_event_id, _EVENTS.c.id)).all())
        session.execute(sa.insert(_PREDICTIONS), [
            {"tenant_id": world.tenant_id, "attendance_event_id": ids[key], "person_id": person, "site_id": site,
             "ts": now, "score": 0.1, "scorer": "heuristic", "features": _V2_FEATURES, "reasons": [],
             "created_at": now} for key in ("kept", "deleted")])

    migrate(blank, "head")
    assert sa.inspect(blank.engine).get_foreign_keys("fraud_predictions") == []
    with blank.transaction() as session:
        row = session.execute(sa.select(FraudPrediction.features, FraudPrediction.feature_version)
                              .where(FraudPrediction.attendance_event_id == ids["kept"])).one()
        assert row.feature_version == 2 and len(row.features) == len(FEATURE_NAMES_BY_VERSION[2])
        assert {k: v for k, v in feature_dict(row.features, 2).items() if v is not None} == {
            k: v for k, v in _V2_FEATURES.items() if v is not None}
        session.execute(sa.delete(AttendanceEvent).where(AttendanceEvent.id == ids["deleted"]))
    with blank.read() as session:   # the trigger took the deleted event's prediction with it
        assert set(session.scalars(sa.select(FraudPrediction.attendance_event_id))) == {ids["kept"]}

    migrate(blank, "0004", down=True)
    with blank.read() as session:
        assert session.execute(sa.select(_PREDICTIONS.c.features)).scalar_one() == {
            **{name: None for name in FEATURE_NAMES_BY_VERSION[2]}, **_V2_FEATURES}
    assert {fk["referred_table"] for fk in sa.inspect(blank.engine).get_foreign_keys("fraud_predictions")} == {
        "attendance_events", "model_versions"}


def test_deleting_a_tenant_deletes_its_predictions(blank: Runtime) -> None:
    """No foreign key cascades to fraud_predictions any more: the events' delete trigger must
    fire for the cascaded delete of a tenant's events too."""
    migrate(blank, "head")
    world = make_world(blank)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with blank.transaction() as session:
        event = AttendanceEvent(tenant_id=world.tenant_id, client_event_id="e1", ts=now, received_at=now,
                                kind=AttendanceKind.CHECK_IN, person_id=world.person_ids["P1"],
                                site_id=world.site_ids["S1"], lat=38.7, lon=-9.1, mock_location=False)
        session.add(event)
        session.flush()
        session.add(FraudPrediction(tenant_id=world.tenant_id, attendance_event_id=event.id,
                                    person_id=event.person_id, site_id=event.site_id, ts=now, score=0.2,
                                    scorer=Scorer.HEURISTIC, features=[None] * len(FEATURE_NAMES),
                                    feature_version=FEATURE_VERSION))
    with blank.transaction() as session:
        session.execute(sa.delete(Tenant).where(Tenant.id == world.tenant_id))
    with blank.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FraudPrediction)) == 0
