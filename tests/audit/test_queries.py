"""The audit reads for the UI: a site's hourly signals against its baselines with the
anomalous windows, and recent findings; tenant and site scope hold. And the signals
themselves: real counts per site, per person, per bucket."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.audit import AuditRules, run_audit
from backend.audit.queries import recent_findings, site_signals_vs_baseline
from backend.audit.signals import METRICS, Metric, count_signals
from backend.auth.principal import Principal
from backend.enums import Role, Severity
from backend.runtime import Runtime
from tests.audit.builders import busy_site_history
from tests.factories import World, make_world

NOON = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)   # a Wednesday
LATENESS = timedelta(seconds=AuditRules().lateness_s)


@pytest.fixture(scope="module")
def dark(pg_runtime: Runtime) -> World:
    """S1 busy for three weeks, silent since 11:00; audited at noon. S2 has nothing."""
    world = make_world(pg_runtime, n_sites=2, n_persons=2)
    busy_site_history(pg_runtime, world, "S1", "P1", NOON - timedelta(hours=1), night_rate=2.0, seed=5, weeks=4)
    # The 11:00 cycle (it bootstraps the baselines from the history before it), then noon's.
    run_audit(pg_runtime, world.tenant_id, NOON - timedelta(hours=1) + LATENESS, now=NOON)
    run_audit(pg_runtime, world.tenant_id, NOON + LATENESS, now=NOON)
    return world


def _manager(world: World, site: str | None = None) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=Role.SECURITY_MANAGER, name="m", user_id=1,
                     site_id=world.site_ids[site] if site else None)


def test_site_signals_against_their_baseline_with_anomalous_windows(pg_runtime: Runtime, dark: World) -> None:
    s1 = dark.site_ids["S1"]
    with pg_runtime.read() as session:
        view = site_signals_vs_baseline(session, _manager(dark), s1, hours=6, now=NOON + timedelta(minutes=20))
        [finding] = recent_findings(session, _manager(dark))
    assert view is not None and view.site_name.startswith("Site 1") and view.timezone == "Europe/Lisbon"
    assert view.end == NOON and [s.metric for s in view.series] == ["check_ins", "pings", "movement",
                                                                     "phone_activity", "scans"]
    pings = next(s for s in view.series if s.metric == "pings")
    assert [p.start.hour for p in pings.points] == [6, 7, 8, 9, 10, 11]
    assert all(p.active and p.samples >= 30 and p.centre is not None for p in pings.points)
    busy, silent = pings.points[2:5], pings.points[5]
    assert all(p.value > 0 and not p.anomalous and p.lower <= p.value <= p.upper for p in busy)
    assert silent.value == 0 and silent.anomalous and silent.centre > 5
    [window] = view.anomalous_windows
    assert (window.start, window.end) == (NOON - timedelta(hours=1), NOON)
    assert window.metrics == ("phone_activity", "pings") and window.finding_ids == (finding.id,)


def test_recent_findings_filters_and_names(pg_runtime: Runtime, dark: World) -> None:
    with pg_runtime.read() as session:
        [item] = recent_findings(session, _manager(dark), min_severity=Severity.HIGH)
        assert item.type == "activity_below_baseline" and item.label == "Activity below baseline"
        assert item.site_id == dark.site_ids["S1"] and item.site_name.startswith("Site 1") and item.person_id is None
        assert item.summary.startswith("Activity below baseline at Site 1") and item.evidence["metrics"]["pings"]
        assert recent_findings(session, _manager(dark), types=["no_show"]) == []
        assert recent_findings(session, _manager(dark), since=NOON + timedelta(hours=1)) == []


def test_a_site_scoped_principal_and_another_tenant_see_nothing_of_it(pg_runtime: Runtime, dark: World,
                                                                      other_world: World) -> None:
    s1 = dark.site_ids["S1"]
    outsider = Principal(tenant_id=other_world.tenant_id, role=Role.ADMIN, name="x", user_id=2)
    with pg_runtime.read() as session:
        assert site_signals_vs_baseline(session, _manager(dark, "S2"), s1, now=NOON) is None
        assert site_signals_vs_baseline(session, outsider, s1, now=NOON) is None
        assert site_signals_vs_baseline(session, _manager(dark, "S1"), s1, now=NOON) is not None
        assert recent_findings(session, _manager(dark, "S2")) == []
        assert recent_findings(session, _manager(dark, "S2"), site_id=s1) == []
        assert len(recent_findings(session, _manager(dark, "S1"))) == 1
        assert recent_findings(session, outsider) == []


def test_signals_are_real_counts_per_site_and_per_person(pg_runtime: Runtime, dark: World) -> None:
    start, end = NOON - timedelta(hours=3), NOON - timedelta(hours=1)
    with pg_runtime.read() as session:
        by_site = count_signals(session, dark.tenant_id, start.timestamp(), end.timestamp()).table()
        by_person = count_signals(session, dark.tenant_id, start.timestamp(), end.timestamp(), by="person").table()
        hourly = count_signals(session, dark.tenant_id, start.timestamp(), end.timestamp(), bucket_s=3600)
        expected = {table: session.scalar(sa.text(
            f"SELECT count(*) FROM {table} WHERE tenant_id = :t AND ts >= :a AND ts < :b"),
            {"t": dark.tenant_id, "a": start, "b": end}) for table in ("location_pings", "phone_activities")}
    s1, p1 = dark.site_ids["S1"], dark.person_ids["P1"]
    assert expected["location_pings"] > 20
    assert by_site[s1][Metric.PINGS] == by_person[p1][Metric.PINGS] == expected["location_pings"]
    assert by_site[s1][Metric.PHONE_ACTIVITY] == expected["phone_activities"]
    assert by_site[s1][Metric.SCANS] == by_site[s1][Metric.CHECK_INS] == 0 and dark.site_ids["S2"] not in by_site
    pings = hourly.metric == METRICS.index(Metric.PINGS)
    assert sorted(hourly.bucket[pings].tolist()) == [start.timestamp(), start.timestamp() + 3600]
    assert hourly.value[pings].sum() == expected["location_pings"]
