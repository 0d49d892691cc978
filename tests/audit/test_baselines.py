"""Baselines: the robust estimator, sensitivity moving the documented way (samples past 100:
more sensitive; false-positive rate past 0.3: less sensitive), flagged windows not learned,
quiet nights on normally quiet sites producing nothing, and the weekly tuning turning a
supervisor's "false positive" into a less sensitive site baseline."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from backend.audit import AuditRules, run_audit
from backend.audit.baselines import Profile, dynamic_threshold, fit, z_score
from backend.audit.rules import BaselineRules
from backend.audit.signals import Metric
from backend.audit.tuning import tune_stale_tenants, tune_tenant
from backend.audit.types import FindingType
from backend.enums import Disposition, Severity, TicketState
from backend.models import AuditFinding, BaselineProfile, Ticket
from backend.runtime import Runtime
from tests.audit.builders import busy_site_history
from tests.audit.conftest import findings
from tests.factories import World, make_world

RULES = BaselineRules()
AUDIT = AuditRules()


# -- the estimator and its sensitivity --------------------------------------------------------


def test_samples_past_100_make_a_baseline_more_sensitive() -> None:
    assert dynamic_threshold(100, 0.0, RULES) == RULES.threshold
    assert dynamic_threshold(101, 0.0, RULES) == pytest.approx(RULES.threshold * RULES.stable_factor)
    profile = Profile(site_id=1, metric=Metric.PINGS, hour_of_week=0, center=12.0, scale=3.0)
    value = 12.0 - 2.8 * 3.464   # z = -2.8 (spread = sqrt(12), above the MAD scale)
    assert not replace(profile, sample_count=100).assess(value, RULES).anomalous
    assert replace(profile, sample_count=101).assess(value, RULES).anomalous


def test_a_false_positive_rate_past_0_3_makes_a_baseline_less_sensitive() -> None:
    assert dynamic_threshold(50, 0.3, RULES) == RULES.threshold
    assert dynamic_threshold(50, 0.31, RULES) == pytest.approx(RULES.threshold * 1.31)
    assert dynamic_threshold(50, 1.0, RULES) == RULES.max_threshold            # capped
    profile = Profile(site_id=1, metric=Metric.PINGS, hour_of_week=0, center=12.0, scale=3.0, sample_count=50)
    value = 12.0 - 3.5 * 3.464   # z = -3.5
    assert replace(profile, false_positive_rate=0.3).assess(value, RULES).anomalous
    assert not replace(profile, false_positive_rate=0.31).assess(value, RULES).anomalous


def test_no_anomaly_below_30_samples() -> None:
    profile = Profile(site_id=1, metric=Metric.PINGS, hour_of_week=0, center=50.0, scale=2.0)
    assert not replace(profile, sample_count=29).assess(0.0, RULES).anomalous
    assert replace(profile, sample_count=30).assess(0.0, RULES).anomalous


def test_robust_centre_and_scale_and_the_count_floor() -> None:
    centre, scale = fit(np.array([10, 11, 9, 10, 12, 10, 500, 0]))   # outliers barely move median/MAD
    assert centre == 10 and scale == pytest.approx(1.4826)
    # Low counts: the MAD collapses to 0, the Poisson spread sqrt(centre) takes over.
    assert z_score(0, 2.0, 0.0) == pytest.approx(-2 / np.sqrt(2))      # a quiet hour of a quiet site: normal
    assert z_score(0, 16.0, 0.0) == pytest.approx(-4.0)                # of a busy one: anomalous
    assert z_score(0, 0.0, 0.0) == 0.0


def test_flagged_windows_are_not_learned_and_each_window_once() -> None:
    profile = Profile(site_id=1, metric=Metric.PINGS, hour_of_week=0, center=10.0, scale=1.0, sample_count=40,
                      state={"v": [10] * 40, "last": 100.0})
    skipped = profile.observe(0.0, 400.0, learn=False, rules=RULES)
    assert (skipped.sample_count, skipped.center, skipped.state["v"]) == (40, 10.0, [10] * 40)
    assert skipped.state["skipped"] == 1 and skipped.last == 400.0
    learned = profile.observe(13.0, 400.0, learn=True, rules=replace(RULES, keep=40))
    assert learned.sample_count == 41 and learned.state["v"] == [10] * 39 + [13]   # a bounded window


# -- on the database ---------------------------------------------------------------------------

NIGHT = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)    # Wednesday 03:00 in Lisbon (UTC in November)
NOON = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def _window_end(as_of: datetime) -> datetime:
    return as_of + timedelta(seconds=AUDIT.lateness_s)


def test_a_quiet_night_on_a_normally_quiet_site_produces_nothing(pg_runtime: Runtime) -> None:
    world = make_world(pg_runtime, n_sites=2, n_persons=2)
    busy_site_history(pg_runtime, world, "S1", "P1", NIGHT, night_rate=0.0, seed=1)     # nights: nothing at all
    busy_site_history(pg_runtime, world, "S2", "P2", NIGHT, night_rate=3.0, seed=2)     # nights: a few fixes an hour
    result = run_audit(pg_runtime, world.tenant_id, _window_end(NIGHT), now=NIGHT)
    assert result.bootstrapped_sites == 2 and result.findings == 0
    with pg_runtime.read() as session:
        pings = {p.site_id: p for p in session.scalars(sa.select(BaselineProfile).where(
            BaselineProfile.tenant_id == world.tenant_id, BaselineProfile.metric == Metric.PINGS.value,
            BaselineProfile.hour_of_week == 2 * 24 + 2))}   # Wednesday 02:00-03:00, the window judged
    quiet, sparse = pings[world.site_ids["S1"]], pings[world.site_ids["S2"]]
    assert quiet.sample_count >= 30 and quiet.center == 0
    assert sparse.sample_count >= 30 and sparse.center >= 2   # ... and tonight had none: within a count's spread


@pytest.fixture(scope="module")
def dark_noon(pg_runtime: Runtime) -> World:
    """Two busy sites whose phones all went quiet at 11:00 on a Wednesday."""
    world = make_world(pg_runtime, n_sites=2, n_persons=2)
    busy_site_history(pg_runtime, world, "S1", "P1", NOON - timedelta(hours=1), night_rate=2.0, seed=3, weeks=4)
    busy_site_history(pg_runtime, world, "S2", "P2", NOON - timedelta(hours=1), night_rate=2.0, seed=4, weeks=4)
    # The 11:00 cycle bootstraps the baselines from the (still busy) history before it.
    run_audit(pg_runtime, world.tenant_id, _window_end(NOON - timedelta(hours=1)), now=NOON)
    return world


def test_the_weekly_tuning_turns_a_false_positive_into_a_less_sensitive_site_baseline(
        pg_runtime: Runtime, dark_noon: World) -> None:
    world = dark_noon
    first = run_audit(pg_runtime, world.tenant_id, _window_end(NOON), now=NOON)
    found = findings(pg_runtime, world.tenant_id, type=FindingType.ACTIVITY_BELOW_BASELINE.value)
    assert first.tickets == 2 and len(found) == 2
    assert all(f.severity == Severity.HIGH and set(f.evidence["metrics"]) == {"pings", "phone_activity"}
               for f in found)
    s1, s2 = world.site_ids["S1"], world.site_ids["S2"]
    # The supervisor of S1 says "false positive" (the site was closed for a holiday); S2's is confirmed.
    with pg_runtime.transaction() as session:
        for ticket in session.scalars(sa.select(Ticket).where(Ticket.tenant_id == world.tenant_id)):
            assert ticket.details["baseline_metrics"] == ["phone_activity", "pings"]
            ticket.state = TicketState.RESOLVED
            ticket.disposition = Disposition.FALSE_POSITIVE if ticket.site_id == s1 else Disposition.CONFIRMED_FRAUD
            ticket.resolved_at = NOON
    tuned = tune_tenant(pg_runtime, world.tenant_id, now=NOON + timedelta(minutes=30))
    assert tuned.rates == {(s1, "phone_activity"): 1.0, (s1, "pings"): 1.0, (s2, "phone_activity"): 0.0,
                           (s2, "pings"): 0.0}
    with pg_runtime.read() as session:
        profiles = list(session.scalars(sa.select(BaselineProfile).where(BaselineProfile.tenant_id == world.tenant_id)))
    for p in profiles:
        tuned_down = p.site_id == s1 and p.metric in ("pings", "phone_activity")
        assert p.false_positive_rate == (1.0 if tuned_down else 0.0)
        assert p.threshold == dynamic_threshold(p.sample_count, p.false_positive_rate, RULES)
    # An hour later, both still dark: the tuned site's baseline no longer calls it, the other's does.
    later = NOON + timedelta(hours=1)
    run_audit(pg_runtime, world.tenant_id, _window_end(later), now=later)
    with pg_runtime.read() as session:
        new = list(session.scalars(sa.select(AuditFinding).where(
            AuditFinding.tenant_id == world.tenant_id, AuditFinding.type == FindingType.ACTIVITY_BELOW_BASELINE.value,
            AuditFinding.window_end > NOON)))
    assert [f.site_id for f in new] == [s2]


def test_the_daily_check_tunes_each_tenant_once_a_week(pg_runtime: Runtime, dark_noon: World) -> None:
    tuned_at = NOON + timedelta(days=1)
    tune_tenant(pg_runtime, dark_noon.tenant_id, now=tuned_at)

    def due(days: float) -> bool:
        return dark_noon.tenant_id in {r.tenant_id for r in tune_stale_tenants(pg_runtime, tuned_at + timedelta(days=days))}

    assert not due(6.9)
    assert due(7)
    assert not due(7.5)   # the run at day 7 is the new "last tuned"
