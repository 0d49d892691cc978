"""The roster checks on hand-made shifts: each finding kind, its severity, and a judgement
that does not depend on when the audit runs (a guard arriving after the no-show deadline was
a no-show at the deadline, and is also late)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.audit import AuditRules, run_audit
from backend.audit.types import FindingType
from backend.enums import AttendanceKind
from backend.runtime import Runtime
from tests.audit.builders import add_pings, add_punch, add_shift
from tests.audit.conftest import findings
from tests.factories import World, make_world

RULES = AuditRules()
START = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
END = START + timedelta(hours=8)


@pytest.fixture(scope="module")
def roster(pg_runtime: Runtime) -> World:
    world = make_world(pg_runtime, n_sites=1, n_persons=5)
    t, site = world.tenant_id, world.site_ids["S1"]

    def shift(person: str | None, punches: list[tuple[AttendanceKind, timedelta]]) -> None:
        person_id = world.person_ids[person] if person else None
        add_shift(pg_runtime, t, site, person_id, START, END)
        for kind, offset in punches:
            assert person_id is not None
            add_punch(pg_runtime, t, site, person_id, START + offset, kind)
        if punches:   # the phone reports every 10 min while the guard is there (no silent device)
            assert person_id is not None
            there = punches[0][1], punches[1][1] if len(punches) > 1 else END - START
            add_pings(pg_runtime, t, site, person_id, [START + there[0] + timedelta(minutes=10 * k)
                                                       for k in range(int((there[1] - there[0]) / timedelta(minutes=10)))])

    inn, out = AttendanceKind.CHECK_IN, AttendanceKind.CHECK_OUT
    shift(None, [])                                                                 # nobody rostered
    shift("P1", [(inn, timedelta(minutes=-5)), (out, timedelta(hours=8, minutes=2))])   # on time
    shift("P2", [(inn, timedelta(minutes=40)), (out, timedelta(hours=6, minutes=50))])  # late, left early
    shift("P3", [(inn, timedelta(minutes=90))])                                     # after the deadline, never out
    shift("P4", [])                                                                 # never came
    # Audit the whole day, as the cycles would have.
    as_of = END + timedelta(hours=2)
    run_audit(pg_runtime, t, as_of + timedelta(seconds=RULES.lateness_s), lookback_s=14 * 3600.0, now=as_of)
    return world


def test_each_roster_finding_and_its_severity(pg_runtime: Runtime, roster: World) -> None:
    got = {(f.type, f.person_id, f.severity) for f in findings(pg_runtime, roster.tenant_id)}
    p = roster.person_ids
    assert got == {
        (FindingType.UNCOVERED_POST.value, None, "high"),
        (FindingType.LATE_CLOCK_IN.value, p["P2"], "medium"),        # 40 min late
        (FindingType.EARLY_CLOCK_OUT.value, p["P2"], "medium"),      # 70 min early
        (FindingType.NO_SHOW.value, p["P3"], "high"),                # not there at start + 60 min ...
        (FindingType.LATE_CLOCK_IN.value, p["P3"], "medium"),        # ... and 90 min late
        (FindingType.SHIFT_NOT_CLOSED.value, p["P3"], "low"),
        (FindingType.NO_SHOW.value, p["P4"], "high"),
    }
