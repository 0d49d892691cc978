"""The audit on the demo world: every planted schedule- or activity-based misconduct (silent
device, scan stuffing, no-show, check-in-and-leave) produces its finding, and a site in its
normally quiet hours produces none (on PostgreSQL, and the same audit on embedded SQLite)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.audit import AuditResult, run_audit
from backend.audit.types import DETECTS, FindingType
from backend.audit.window import hour_of_week
from backend.models import AuditFinding, BaselineProfile, GroundTruth, Shift, Site
from backend.runtime import Runtime
from backend.simulator import WorldParams
from tests.audit.conftest import END, WINDOW_END, Seeded, findings, seed

# Three weeks: every hour of week has 36 baseline samples (>= 30: the baselines judge).
DEMO = WorldParams(seed=7, n_sites=6, n_guards=60, days=21, future_days=1)
SLACK = 600.0   # a finding's window may start or end a little outside the planted window


@pytest.fixture(scope="module")
def demo(pg_runtime: Runtime) -> Seeded:
    return seed(pg_runtime, DEMO, "aud-demo")


@pytest.fixture(scope="module")
def cycle(demo: Seeded) -> AuditResult:
    """The ordinary cycle at END (it bootstraps the baselines from the three weeks)."""
    return run_audit(demo.runtime, demo.tenant_id, WINDOW_END, now=END)


@pytest.fixture(scope="module")
def backfill(demo: Seeded, cycle: AuditResult) -> AuditResult:
    """The same cycle re-checking every deadline of the whole history."""
    return run_audit(demo.runtime, demo.tenant_id, WINDOW_END, lookback_s=DEMO.days * 86400.0, now=END)


def _missed_cases(runtime: Runtime, tenant_id: int) -> tuple[int, list[str]]:
    with runtime.read() as session:
        cases = list(session.scalars(sa.select(GroundTruth).where(
            GroundTruth.tenant_id == tenant_id, GroundTruth.kind.in_(list(DETECTS.values())))))
    found = findings(runtime, tenant_id)
    missed = []
    for case in cases:
        kind = next(t for t, k in DETECTS.items() if k == case.kind)
        lo, hi = case.window_start.timestamp() - SLACK, case.window_end.timestamp() + SLACK
        if not any(f.type == kind.value and f.site_id == case.site_id and f.person_id == case.person_id
                   and f.window_start.timestamp() <= hi and f.window_end.timestamp() >= lo for f in found):
            missed.append(f"{case.kind}: site {case.site_id} person {case.person_id} "
                          f"{case.window_start:%m-%d %H:%M}-{case.window_end:%H:%M} {case.details}")
    return len(cases), missed


def test_each_planted_misconduct_kind_produces_its_finding(demo: Seeded, backfill: AuditResult) -> None:
    assert backfill.findings > 0
    total, missed = _missed_cases(demo.runtime, demo.tenant_id)
    assert total >= 4 * 6   # every kind, at least six cases each
    assert not missed, "\n".join(missed)
    by_type = {f.type for f in findings(demo.runtime, demo.tenant_id)}
    assert {t.value for t in DETECTS} <= by_type


def test_no_false_alarms_of_those_kinds_on_honest_duties(demo: Seeded, backfill: AuditResult) -> None:
    """Honest noise (phones off for 25-45 min, coffee runs, poor fixes, fast honest patrols)
    raises none of them: each overlaps a planted case of its site and person (buddy punching
    also silences the absent guard's phone; GPS spoofers are away from site too)."""
    with demo.runtime.read() as session:
        cases = list(session.scalars(sa.select(GroundTruth).where(GroundTruth.tenant_id == demo.tenant_id)))
    for f in findings(demo.runtime, demo.tenant_id):
        if f.type not in {t.value for t in DETECTS}:
            continue
        lo, hi = f.window_start.timestamp() - SLACK, f.window_end.timestamp() + SLACK
        assert any(c.site_id == f.site_id and c.person_id == f.person_id and c.window_start.timestamp() <= hi
                   and c.window_end.timestamp() >= lo for c in cases), f.evidence["summary"]


def test_findings_carry_evidence_and_severity(demo: Seeded, backfill: AuditResult) -> None:
    stuffing = findings(demo.runtime, demo.tenant_id, type=FindingType.SCAN_STUFFING.value)
    assert stuffing and all(f.severity == "high" for f in stuffing)
    assert all(f.evidence["fastest_leg_mps"] > 2.5 and f.evidence["shortest_gap_s"] <= 60 for f in stuffing)
    silent = findings(demo.runtime, demo.tenant_id, type=FindingType.SILENT_DEVICE.value)
    assert silent and all(f.evidence["minutes"] >= 90 and f.evidence["summary"].startswith("Silent device")
                          for f in silent)
    no_show = findings(demo.runtime, demo.tenant_id, type=FindingType.NO_SHOW.value)
    assert no_show and all(f.dedup_key == f"no_show:shift:{f.evidence['shift_id']}" for f in no_show)


def test_a_normally_quiet_site_in_its_quiet_hours_produces_no_findings(demo: Seeded, cycle: AuditResult) -> None:
    runtime, tenant_id = demo.runtime, demo.tenant_id
    with runtime.read() as session:
        # NYC-01 is a retail park: guarded 20:00-07:00 local; END is 09:00 in New York.
        site = session.scalar(sa.select(Site).where(Site.tenant_id == tenant_id, Site.code == "NYC-01"))
        assert site is not None and site.schedule["type"] == "Retail Park"
        on_duty = session.scalar(sa.select(sa.func.count()).select_from(Shift).where(
            Shift.site_id == site.id, Shift.starts_at < END + timedelta(hours=1),
            Shift.ends_at > END - timedelta(hours=2)))
        hour = hour_of_week(END.timestamp() - 1800, site.timezone)
        profiles = list(session.scalars(sa.select(BaselineProfile).where(
            BaselineProfile.site_id == site.id, BaselineProfile.hour_of_week == hour)))
        # (The backfill of the other tests finds things in this site's guarded nights: not now.)
        quiet_findings = session.scalar(sa.select(sa.func.count()).select_from(AuditFinding).where(
            AuditFinding.tenant_id == tenant_id, AuditFinding.site_id == site.id,
            AuditFinding.window_end > END - timedelta(hours=2)))
    assert on_duty == 0
    # Normally quiet, and the baseline knows it: enough samples to judge, all of them ~zero.
    assert len(profiles) == 5 and all(p.sample_count >= 30 and p.center == 0 for p in profiles)
    assert cycle.sites == DEMO.n_sites and cycle.baselines_observed == 5 * DEMO.n_sites
    assert quiet_findings == 0


@pytest.fixture(scope="module")
def embedded(sqlite_runtime: Runtime) -> Iterator[Seeded]:
    yield seed(sqlite_runtime, WorldParams(seed=5, n_sites=3, n_guards=30, days=8, future_days=1), "aud-sqlite")


def test_the_same_audit_runs_on_embedded_sqlite(embedded: Seeded) -> None:
    first = run_audit(embedded.runtime, embedded.tenant_id, WINDOW_END, lookback_s=8 * 86400.0, now=END)
    assert first.bootstrapped_sites == 3 and first.findings > 0
    total, missed = _missed_cases(embedded.runtime, embedded.tenant_id)
    assert total >= 24 and not missed, "\n".join(missed)
    again = run_audit(embedded.runtime, embedded.tenant_id, WINDOW_END, lookback_s=8 * 86400.0, now=END)
    assert (again.findings, again.incidents, again.tickets, again.baselines_observed) == (0, 0, 0, 0)
