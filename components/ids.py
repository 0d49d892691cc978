"""Every component id, in one place: pages, callbacks and browser tests import them from here."""

# The shell (present on every page).
URL = "url"
NAVBAR = "navbar"
NAV_USER = "nav-user"
SIGN_OUT = "sign-out"

# The live feed page.
FEED_TYPE_FILTER = "feed-type-filter"
FEED_SITE_FILTER = "feed-site-filter"
FEED_STATUS = "feed-status"
FEED_LIST = "feed-list"
FEED_TABLE = "feed-table"
FEED_EMPTY = "feed-empty"
FEED_TICK = "feed-tick"      # the refresh trigger; the live socket store replaces it later
FEED_SHOWN = "feed-shown"    # what the list shows now, to skip re-renders when nothing changed

# The wall display (pages/wall.py, components/wall.py, assets/wall.js).
PAGES = "pages"                      # in the shell: {name: path} of the registered pages (rotation)
WALL = "wall"
WALL_TILES = "wall-tiles"
WALL_TICKETS_TILE = "wall-tickets-tile"
WALL_ANOMALIES_TILE = "wall-anomalies-tile"
WALL_SITES_TILE = "wall-sites-tile"
WALL_GUARDS_TILE = "wall-guards-tile"
WALL_TOURS_TILE = "wall-tours-tile"
WALL_FEED = "wall-feed"
WALL_FEED_EMPTY = "wall-feed-empty"
WALL_FEED_STATE = "wall-feed-state"  # {seq: last live seq handled, ids: event ids shown, newest first}
WALL_PERSONS = "wall-persons"
WALL_MAP = "wall-map"
WALL_MAP_KEY = "wall-map-key"        # the map's structure (sites per panel): same key = patch the colours
WALL_DIRTY = "wall-dirty"            # bumped by events that change tiles; wall.js throttles it ...
WALL_REFRESH = "wall-refresh"        # ... into at most one tile refresh every few seconds
WALL_SLOW_TICK = "wall-slow-tick"    # sliding windows (last hour, on duty now) move without events
WALL_UPDATED_AT = "wall-updated-at"  # when the tiles were last read (ISO, UTC)
WALL_UPDATED = "wall-updated"        # "Updated 14:03:22"
WALL_CONFIG = "wall-config"          # what wall.js needs (ids it writes, throttle)
WALL_OVERLAY = "wall-overlay"        # the "Disconnected" cover
WALL_SOUND = "wall-sound"            # "Enable sound" / "Sound on" / "Muted"
