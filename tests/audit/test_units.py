"""Pure pieces of the audit: window alignment, site-local hour of week, and the tour-round
rules (missed, late, incomplete, scan stuffing vs honest quick legs, far scans)."""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from backend.audit import AuditRules
from backend.audit.names import Names
from backend.audit.reference import Reference, SiteInfo, TourInfo
from backend.audit.tour_checks import Round, Scans, _judge_round
from backend.audit.types import FindingType
from backend.audit.window import audit_window, hour_of_week, hours_of_week
from backend.enums import Severity
from backend.geo import EARTH_RADIUS_M

RULES = AuditRules()
METRES_PER_DEGREE = EARTH_RADIUS_M * np.pi / 180.0


def test_windows_align_on_the_interval_and_judge_as_of_the_lateness_before() -> None:
    w = audit_window(datetime(2026, 11, 18, 12, 7, 31, tzinfo=UTC), RULES)
    assert datetime.fromtimestamp(w.window_end, UTC) == datetime(2026, 11, 18, 12, 5, tzinfo=UTC)
    assert datetime.fromtimestamp(w.as_of, UTC) == datetime(2026, 11, 18, 11, 55, tzinfo=UTC)
    assert w.as_of - w.since == RULES.lookback_s and w.as_of - w.signal_start == RULES.signal_window_s
    assert w.due(w.as_of) and not w.due(w.since) and w.due(w.since + 1) and not w.due(w.as_of + 1)


def test_hour_of_week_is_site_local() -> None:
    t = datetime(2026, 11, 16, 0, 30, tzinfo=UTC).timestamp()        # Monday 00:30 UTC
    assert hour_of_week(t, "Europe/Lisbon") == 0
    assert hour_of_week(t, "America/New_York") == 6 * 24 + 19        # Sunday 19:30
    assert hour_of_week(t, "Asia/Singapore") == 8
    summer = datetime(2026, 7, 13, 0, 30, tzinfo=UTC).timestamp()    # Lisbon on summer time
    assert list(hours_of_week(np.array([t, summer]), "Europe/Lisbon")) == [0, 1]


SITE = SiteInfo(id=1, code="S1", name="Depot", timezone="UTC", lat=38.7, lon=-9.14, radius_m=150.0)
# Four tags 100 m apart going north.
TAGS = {10 + k: (38.7 + k * 100 / METRES_PER_DEGREE, -9.14) for k in range(4)}
TOUR = TourInfo(id=5, site_id=1, name="Patrol", checkpoint_ids=tuple(TAGS), interval_minutes=60, grace_minutes=10,
                active_from="00:00", active_to="24:00")
S = datetime(2026, 11, 18, 2, 0, tzinfo=UTC).timestamp()


def _judge(offsets_s: list[float], tags: list[int], positions: list[tuple[float, float]] | None = None,
           qr: bool = False) -> dict[FindingType, Severity]:
    n = len(offsets_s)
    lat, lon = zip(*(positions or [TAGS[t] for t in tags]), strict=True) if n else ((), ())
    scans = Scans(id=np.arange(n), tour=np.full(n, TOUR.id), checkpoint=np.array(tags, dtype=np.int64),
                  person=np.full(n, 7), ts=S + np.array(offsets_s, dtype=float), lat=np.array(lat, dtype=float),
                  lon=np.array(lon, dtype=float), qr=np.full(n, int(qr)),
                  tag_lat=np.array([TAGS[t][0] for t in tags]), tag_lon=np.array([TAGS[t][1] for t in tags]))
    names = Names(Reference(sites={1: SITE}, tours=(TOUR,), checkpoints=TAGS))
    drafts = _judge_round(Round(TOUR, S), np.arange(n), scans, RULES, names)
    assert all(d.key == f"{d.type.value}:tour:5:{int(S)}" for d in drafts)
    return {d.type: d.severity for d in drafts}


def test_an_honest_round_passes() -> None:
    # 100 m legs walked at ~1.2 m/s with a pause at each tag.
    assert _judge([120, 230, 340, 450], [10, 11, 12, 13]) == {}


def test_missed_late_and_incomplete_rounds() -> None:
    assert _judge([], []) == {FindingType.MISSED_TOUR_ROUND: Severity.MEDIUM}
    assert _judge([900, 1000, 1100, 1200], [10, 11, 12, 13]) == {FindingType.LATE_TOUR_ROUND: Severity.LOW}
    assert _judge([60, 170, 280], [10, 11, 12]) == {FindingType.INCOMPLETE_TOUR_ROUND: Severity.LOW}
    assert _judge([60, 170], [10, 11]) == {FindingType.INCOMPLETE_TOUR_ROUND: Severity.MEDIUM}


def test_scan_stuffing_needs_gaps_nobody_could_walk() -> None:
    # Short gaps alone are honest when the tags are close: two scans of one tag, seconds apart.
    assert _judge([60, 65, 170, 280, 390], [10, 10, 11, 12, 13]) == {}
    # Every tag within a minute, 100 m apart: 10-20 m/s.
    stuffed = _judge([60, 66, 73, 80], [10, 11, 12, 13])
    assert stuffed == {FindingType.SCAN_STUFFING: Severity.HIGH}


def test_scans_far_from_their_tags() -> None:
    home = (38.7 - 400 / METRES_PER_DEGREE, -9.14)   # 400+ m south of every tag
    found = _judge([120, 230, 340, 450], [10, 11, 12, 13], positions=[home, TAGS[11], TAGS[12], TAGS[13]])
    assert found == {FindingType.SCAN_FAR_FROM_CHECKPOINT: Severity.MEDIUM}
    found = _judge([120, 230, 340, 450], [10, 11, 12, 13], positions=[home, TAGS[11], TAGS[12], TAGS[13]], qr=True)
    assert found == {FindingType.SCAN_FAR_FROM_CHECKPOINT: Severity.HIGH}
