"""Ids of the live bridge's components in the app shell (see components/live.py). Page
callbacks listen to LIVE_EVENTS / LIVE_RESYNC / LIVE_STATUS; nothing else writes them."""

LIVE_CONFIG = "live-config"    # what assets/live.js needs (socket path, store ids, window)
LIVE_EVENTS = "live-events"    # {seq, first_seq, cursor, events}: recent events, numbered
LIVE_STATUS = "live-status"    # {state, reason, since, cursor, last_event_at, last_event_time}
LIVE_RESYNC = "live-resync"    # {seq, reason, cursor}: reload the view from the server
LIVE_BADGE = "live-badge"      # the connection badge (Live / Reconnecting… / Offline)
