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

# The sites table (/sites).
SITES_STATUS = "sites-status"
SITES_TABLE = "sites-table"
SITES_TABLE_WRAP = "sites-table-wrap"  # hidden while there is nothing to list
SITES_EMPTY = "sites-empty"
SITES_TICK = "sites-tick"              # checks every few seconds whether a refresh is due
SITES_SHOWN = "sites-shown"            # when the table was last read
SITES_DIRTY = "sites-dirty"            # a live event arrived since: refresh on the next tick
SITES_SEQ = "sites-seq"                # the last live-events seq handled

# A site's page (/sites/<site_id>).
SITE_ID = "site-id"                    # the site of the page (None: not a site id)
SITE_BODY = "site-body"
SITE_NOT_FOUND = "site-not-found"
SITE_HEADER = "site-header"
SITE_SIGNALS = "site-signals"          # the figure of signals against baseline bands
SITE_FINDINGS = "site-findings"
SITE_INCIDENTS = "site-incidents"
SITE_TICKETS = "site-tickets"
SITE_PERSONS = "site-persons"
SITE_TOURS = "site-tours"
SITE_TICK = "site-tick"
SITE_SHOWN = "site-shown"              # {at, full_at, timezone, findings, incidents}
SITE_DIRTY = "site-dirty"
SITE_SEQ = "site-seq"

# The event log (/events).
EVENTS_TYPE_FILTER = "events-type-filter"
EVENTS_SITE_FILTER = "events-site-filter"
EVENTS_PERSON_FILTER = "events-person-filter"
EVENTS_SINCE = "events-since"
EVENTS_UNTIL = "events-until"
EVENTS_LOCATION = "events-location"    # writes the search into the URL (the page re-renders from it)
EVENTS_QUERY = "events-query"          # the query string this view shows
EVENTS_STATUS = "events-status"
EVENTS_TABLE = "events-table"
EVENTS_TABLE_WRAP = "events-table-wrap"  # hidden while the search found nothing
EVENTS_BODY = "events-body"            # the rows: live events are prepended here
EVENTS_EMPTY = "events-empty"          # the empty state (or nothing)
EVENTS_PAGER = "events-pager"          # newest / older links
EVENTS_OLDER = "events-older"
EVENTS_NEWEST = "events-newest"
EVENTS_SHOWN = "events-shown"          # {newest, count, live, seq}

# The models page.
MODELS_STATUS = "models-status"            # active model / heuristic line under the title
MODELS_BODY = "models-body"                # versions table and figures (re-rendered on model events)
MODELS_VERSION_PICK = "models-version-pick"  # which version the figures show
MODELS_VERSIONS_TABLE = "models-versions-table"
MODELS_EMPTY = "models-empty"
MODELS_DENIED = "models-denied"
MODELS_FIG_PR = "models-fig-pr"
MODELS_FIG_CONFUSION = "models-fig-confusion"
MODELS_FIG_IMPORTANCE = "models-fig-importance"
MODELS_FIG_SCORES = "models-fig-scores"
MODELS_ADMIN = "models-admin"              # the admin toolbar (empty for other roles)
MODELS_RETRAIN = "models-retrain"
MODELS_ACTIVATE = "models-activate"
MODELS_ROLLBACK = "models-rollback"
MODELS_CONFIRM_ACTIVATE = "models-confirm-activate"
MODELS_CONFIRM_ROLLBACK = "models-confirm-rollback"
MODELS_ACTION_RESULT = "models-action-result"  # what the last button press came to
MODELS_PROGRESS = "models-progress"        # the training run's stage (live)
MODELS_LIVE = "models-live"                # model events picked out of LIVE_EVENTS by assets/models.js
MODELS_LIVE_SEQ = "models-live-seq"        # the last LIVE_EVENTS seq assets/models.js handled
MODELS_TICK = "models-tick"                # refreshes the 7-day score distribution now and then

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
