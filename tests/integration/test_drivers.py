"""psycopg 3 is the default driver; psycopg2-binary URLs stay supported (smoke test)."""
from __future__ import annotations

import sqlalchemy as sa

from backend.config import Settings
from backend.enums import EventType
from backend.models import EventLogEntry
from backend.runtime import Runtime
from tests.factories import make_world


def test_psycopg2_urls_work_end_to_end(pg_runtime: Runtime, pg_settings: Settings) -> None:
    assert pg_runtime.engine.dialect.driver == "psycopg"
    url = pg_settings.effective_database_url.replace("postgresql+psycopg://", "postgresql+psycopg2://")
    legacy = Runtime(pg_settings.model_copy(update={"database_url": url}))
    try:
        assert legacy.engine.dialect.driver == "psycopg2"
        world = make_world(legacy)
        with legacy.transaction() as session:
            entry = legacy.events.publish(session, EventType.SYSTEM, world.tenant_id, data={"via": "psycopg2"})
        with pg_runtime.transaction() as session:  # read back through psycopg 3
            assert session.scalar(sa.select(EventLogEntry.data).where(EventLogEntry.id == entry.id)) == {"via": "psycopg2"}
    finally:
        legacy.close()
