"""Writing predictions: PostgreSQL takes them by binary COPY into a staging table with either
driver (psycopg 3 ``cursor.copy``, psycopg2 ``copy_expert``); both must store exactly what the
plain SQLAlchemy path would: same scores, features (an array, missing ones read as None),
reasons, times; the payload follows PostgreSQL's binary COPY format, arrays included."""
from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa

from backend.config import Settings
from backend.models import FraudPrediction
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES
from backend.scoring.pgcopy import binary_rows
from backend.scoring.service import score_checkins
from tests.scoring.conftest import Seeded, reset_scoring


@pytest.fixture
def psycopg2_runtime(pg_settings: Settings) -> Iterator[Runtime]:
    url = pg_settings.effective_database_url.replace("postgresql+psycopg://", "postgresql+psycopg2://")
    runtime = Runtime(pg_settings.model_copy(update={"database_url": url}))
    assert runtime.engine.dialect.driver == "psycopg2"
    yield runtime
    runtime.close()


def _stored(seeded: Seeded) -> dict[int, tuple[object, ...]]:
    p = FraudPrediction
    with seeded.runtime.read() as session:
        rows = session.execute(sa.select(p.attendance_event_id, p.person_id, p.site_id, p.ts, p.score, p.scorer,
                                         p.model_version_id, p.features, p.reasons)
                               .where(p.tenant_id == seeded.tenant_id)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_psycopg3_and_psycopg2_store_identical_predictions(small: Seeded, psycopg2_runtime: Runtime) -> None:
    ids = small.event_ids()[:400]
    assert score_checkins(psycopg2_runtime, small.tenant_id, ids, coalesce=False).scored == len(ids)
    via_psycopg2 = _stored(small)
    reset_scoring(small)
    assert score_checkins(small.runtime, small.tenant_id, ids, coalesce=False).scored == len(ids)
    via_psycopg3 = _stored(small)

    assert via_psycopg3 == via_psycopg2
    features = [f for *_, f, _ in via_psycopg3.values()]
    assert all(len(f) == len(FEATURE_NAMES) for f in features)
    assert all(isinstance(v, float) or v is None for f in features for v in f)
    assert any(v is None for f in features for v in f)   # missing (NaN) features read as None
    assert any(reasons for *_, reasons in via_psycopg3.values())


def test_the_copy_payload_follows_the_binary_format() -> None:
    payload = binary_rows([(np.array([1, 2]), "int8"), (np.array([0.5, math.nan]), "float8")], jsonb=["[]", '{"a":1}'])
    header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    row1 = (b"\x00\x03" + b"\x00\x00\x00\x08" + (1).to_bytes(8, "big") + b"\x00\x00\x00\x08"
            + np.array(0.5, ">f8").tobytes() + b"\x00\x00\x00\x03" + b"\x01[]")
    assert payload.startswith(header + row1) and payload.endswith(b"\xff\xff")
    assert len(payload) == len(header) + len(row1) + (2 + 12 + 12 + 4 + 8) + 2


def test_a_float_array_column_is_a_one_dimensional_float8_array() -> None:
    payload = binary_rows([(np.array([[1.5, math.nan]]), "float8[]")])
    field = (np.array([1, 0, 701, 2, 1], ">i4").tobytes()
             + b"\x00\x00\x00\x08" + np.array(1.5, ">f8").tobytes() + b"\x00\x00\x00\x08" + np.array(math.nan, ">f8").tobytes())
    assert payload == b"PGCOPY\n\xff\r\n\x00" + bytes(8) + b"\x00\x01" + len(field).to_bytes(4, "big") + field + b"\xff\xff"
