"""The deterministic demo world: tenant ``demo`` with 30 days of history and a live feed.

- ``world``: reference data from a seed (``settings.demo_seed``): 5 clients, 40 sites in
  Lisbon, New York, Singapore and London (real districts, their own time zones), geofences of
  80-350 m, 3-7 checkpoints and one tour per site, 400 guards with phones and home sites.
- ``schedule``: the rota (8-12 h day/night shifts in site-local time, stored in UTC; 14 days
  ahead for the live feed, kept ahead by ``extend_demo_roster``: on every start of the launcher
  and daily by cron, so a wall display left running for weeks never runs out) and the tour rounds.
- ``behaviour`` + ``history``: 30 days ending now, mostly honest: check-ins/outs (GPS near the
  site with realistic accuracy, biometric quality, battery, signal, device), pings every 10-15
  min on duty, tour scans, phone activity, NOC alerts (low battery, device offline, geofence
  exit, door/intrusion/tamper alarms, rare panic/man-down/duress), plus honest noise: late
  arrivals, early leavers, forgotten check-outs, poor GPS fixes and selfies, short phone
  outages and coffee runs, a colleague's phone borrowed with one's own face (0.2%).
- ``fraud``: planted misconduct, labelled in ``ground_truth`` (``source`` "simulator").
- ``seed``: bulk writes in one transaction, ``ensure_demo_world`` and ``extend_demo_roster``
  (both idempotent).
- ``live_world`` + ``live_sim`` + ``live``: the live feed, through the public ingestion API; it
  reloads the world every 30 min (every minute once it has no shift ahead) to play new shifts.

Demo logins (password ``noc-demo`` for all): viewer@demo.noc, operator@demo.noc,
manager@demo.noc (security manager), supervisor@demo.noc, admin@demo.noc. ``flask --app app
demo seed`` seeds (if needed) and prints them; ``flask --app app demo live`` or ``python -m
backend.simulator.live --url ... --token ...`` runs the live feed.

Planted kinds (share of completed rostered shifts in the history; at least 6 of each, one
per equal time segment so every part of the history, the last days included, has every kind;
~65% committed by repeat offenders, 10% of the guards with one or two favourite kinds).
``attendance_event_id`` is set for per-event cases; ``details`` name the shift (None for
off-roster) and, where they exist, the check-in/out client event ids (``hist-in-<shift>``,
``hist-out-<shift>``), plus the case's own facts (distance, device owner, minutes, ...).

=====================  =====  ==================================================  ==============
kind                   rate   what happens                                        labelled event
=====================  =====  ==================================================  ==============
buddy_punching         0.6%   B's check-in from colleague A's phone 1-6 min after  B's check-in
                              A's own, poor face match; B's phone silent until B
                              turns up 40-150 min late
gps_spoofing           0.6%   check-in on the site pin with the mock-location      the check-in
                              flag (60%) and/or a ping from 20-60 km away 2-8 min
                              before (a teleport, 70%); often a perfect 1-3 m fix;
                              the guard really arrives 30-120 min later
off_roster             0.4%   check-in/out at the home site with no shift within   the check-in
                              4 h (3-7 h stay)
geofence_violation     0.6%   check-in 0.5-3.5 km (>= 4 radii) away, arrives        the check-in
                              15-60 min later
scan_stuffing          0.6%   2+ consecutive tour rounds with every tag scanned    none (window)
                              within a minute, QR, all from one spot
check_in_and_leave     0.6%   leaves 10-45 min after checking in for 2-15 km away,  the check-out
                              back 10-40 min before checking out; no scans, few
                              steps; geofence-exit alert 50%
silent_device          0.5%   no pings, activity or scans for 2-5 h mid-shift;     none (window)
                              device-offline alert 80%
no_show                0.5%   a rostered shift with no events at all               none (window)
=====================  =====  ==================================================  ==============

Volumes (full world): ~10k shifts (30 days + 14 ahead), ~14k check-ins/outs, ~350k pings,
~80k scans, ~140k phone activities, ~500 alerts, ~300 ground-truth cases: ~0.6 M rows.

Live feed: about ``settings.demo_live_rate`` events/s. Shift changes, scans, alerts and pings
keep the history's cadence (pings every 10-15 min per guard on duty); phone activity fills up
to the rate. The same kinds are planted on ~3% of the shifts it plays (not labelled: it only
speaks the public API). Its client event ids start with ``live-<run>-``, the history's with
``hist-``.
"""
from backend.simulator.seed import DEMO_PASSWORD, DemoInfo, DemoLogin, ensure_demo_world, extend_demo_roster
from backend.simulator.world import DEMO_SLUG, WorldParams

__all__ = ["DEMO_PASSWORD", "DEMO_SLUG", "DemoInfo", "DemoLogin", "WorldParams", "ensure_demo_world",
           "extend_demo_roster"]
