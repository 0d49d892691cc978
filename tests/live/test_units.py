"""The pure parts of the live channel: the delivery watermark, the bounded outbox, the
audience rules, redaction, the Origin comparison and the cursor parameter."""
from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

import components.live
from backend.live import protocol
from backend.live.audience import Audience
from backend.live.connection import Chunk, Connection
from backend.live.envelopes import LiveEvent
from backend.live.handshake import same_origin
from backend.live.protocol import parse_last_id
from backend.live.tracker import DeliveryTracker


class FakeClock:
    """Time for the tracker, advanced by hand (the tracker takes its clock as an argument)."""
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_watermark_waits_for_a_late_commit_and_never_skips_it() -> None:
    clock = FakeClock()
    tracker = DeliveryTracker(10, settle_s=5, clock=clock)
    assert tracker.admit(12) and tracker.watermark == 10      # 11 still in flight
    assert tracker.missing() == [11]
    assert not tracker.admit(12)                               # a second copy (stream + log sweep)
    assert tracker.admit(11) and tracker.watermark == 12       # the late commit fills the hole
    assert tracker.missing() == []


def test_a_hole_missing_longer_than_the_settle_time_counts_as_rolled_back_but_is_still_delivered() -> None:
    clock = FakeClock()
    tracker = DeliveryTracker(0, settle_s=5, clock=clock)
    tracker.admit(1)
    tracker.admit(3)
    clock.now += 4
    tracker.settle()
    assert tracker.watermark == 1
    clock.now += 2
    tracker.settle()
    assert tracker.watermark == 3 and tracker.missing() == []
    assert tracker.admit(2)  # committed after all: connected sockets still get it


def test_a_sequence_jump_is_not_tracked_id_by_id() -> None:
    tracker = DeliveryTracker(5, settle_s=5, clock=FakeClock())
    tracker.admit(10**12)
    assert len(tracker.missing()) == 10_000 and tracker.watermark == 10**12 - 10_001


def test_a_starting_tracker_treats_young_absent_ids_as_possibly_in_flight() -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    newest = [(9, now - timedelta(seconds=1)), (7, now - timedelta(seconds=2)), (5, now - timedelta(seconds=60)),
              (4, now - timedelta(seconds=61))]
    tracker = DeliveryTracker.from_log_tail(newest, now, settle_s=10, clock=FakeClock())
    assert tracker.watermark == 5 and tracker.missing() == [6, 8]
    assert not tracker.admit(7) and tracker.admit(6)
    assert DeliveryTracker.from_log_tail([], now, settle_s=10).watermark == 0


def _event(event_id: int, tenant: int = 1, site: int | None = None, type_: str = "system",
           **extra: object) -> LiveEvent:
    env = {"id": event_id, "type": type_, "time": "2026-11-21T12:00:00+00:00", "tenant": tenant, "site": site,
           "person": extra.pop("person", None), "severity": None, "data": extra}
    event = LiveEvent.from_stream(json.dumps(env).encode())
    assert event is not None
    return event


def test_the_outbox_overflows_into_one_resync_and_drops_its_backlog() -> None:
    conn = Connection("u:1", Audience(1, None, False), outbox_max=5)
    for n in range(3):
        conn.offer(Chunk((_event(n * 2), _event(n * 2 + 1)), ("a", "b"), watermark=n * 2 + 1))
    pending = conn.take()
    assert pending.chunks == [] and pending.resync == ("overflow", 5)
    conn.offer(Chunk((_event(9),), ("c",), watermark=9))
    assert [c.watermark for c in conn.take().chunks] == [9]


def test_the_watchdog_cut_unblocks_a_send_to_a_client_that_stopped_reading() -> None:
    server_side, client_side = socket.socketpair()
    conn = Connection("u:1", Audience(1, None, False), outbox_max=5, sock=server_side)
    failed = threading.Event()

    def send_forever() -> None:
        conn.send_started = time.monotonic()
        try:
            server_side.sendall(b"x" * 50_000_000)  # far beyond the buffers: blocks
        except OSError:
            failed.set()

    sender = threading.Thread(target=send_forever)
    sender.start()
    time.sleep(0.2)
    assert conn.stalled(time.monotonic(), timeout_s=0.1) and not failed.is_set()
    conn.cut()
    sender.join(5)
    assert failed.is_set()
    client_side.close()
    server_side.close()


def test_audiences_filter_by_tenant_and_site_scope() -> None:
    tenant_wide = Audience(1, None, False)
    site_scoped = Audience(1, 7, False)
    assert not tenant_wide.sees(_event(1, tenant=2))
    assert tenant_wide.sees(_event(1, site=8))
    assert site_scoped.sees(_event(1, site=7)) and not site_scoped.sees(_event(1, site=8))
    assert site_scoped.sees(_event(1, site=None, type_="system"))
    assert not site_scoped.sees(_event(1, site=None, type_="ticket_created"))


def test_viewers_get_person_level_fraud_events_without_the_person() -> None:
    anomaly = _event(1, type_="anomaly_detected", person=5, score=0.97, reasons=["mock location"],
                     person_name="Guard 5", types=["gps_spoofing"])
    viewer = json.loads(anomaly.text_for(redacted=True))
    assert viewer["person"] is None and viewer["data"] == {"types": ["gps_spoofing"]}
    assert json.loads(anomaly.text_for(redacted=False))["data"]["person_name"] == "Guard 5"
    fraud_ticket = _event(2, type_="ticket_created", person=5, source="fraud", ticket_id=3, title="Guard 5")
    assert json.loads(fraud_ticket.text_for(redacted=True))["data"] == {"source": "fraud", "ticket_id": 3}
    alert = _event(3, type_="alert_received", person=5, kind="panic")
    assert alert.text_for(redacted=True) is alert.text  # not about conduct: unchanged, not re-encoded


@pytest.mark.parametrize(("origin", "host", "same"), [
    ("http://noc.example", "noc.example", True),
    ("https://noc.example", "noc.example", True),
    ("https://NOC.example:443", "noc.example", True),
    ("http://127.0.0.1:8050", "127.0.0.1:8050", True),
    ("http://127.0.0.1:8051", "127.0.0.1:8050", False),
    ("http://noc.example:8050", "noc.example", False),
    ("https://evil.example", "noc.example", False),
    ("null", "noc.example", False),
    ("http://[::1]:8050", "[::1]:8050", True),
    ("http://noc.example:99999", "noc.example", False),
])
def test_origin_must_name_the_host(origin: str, host: str, same: bool) -> None:
    assert same_origin(origin, host) is same


def test_last_id_is_a_non_negative_integer_or_absent() -> None:
    assert parse_last_id(None) is None and parse_last_id("") is None
    assert parse_last_id("0") == 0 and parse_last_id("42") == 42
    for bad in ("-1", "1.5", "abc", "٣", str(2**63)):
        with pytest.raises(ValueError, match="last_id"):
            parse_last_id(bad)


def test_the_bridge_and_the_server_agree_on_the_socket_path() -> None:
    assert components.live.WS_PATH == protocol.WS_PATH  # components may not import the backend's live package
