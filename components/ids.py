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

# The tickets page. Rows, action buttons and form fields use pattern-matching ids
# ({"type": TICKETS_ROW_OPEN, "ticket": id}, {"type": TICKETS_ACTION, "action": name}, ...),
# so callbacks work whether or not a role sees them.
TICKETS_STATE_FILTER = "tickets-state-filter"
TICKETS_PRIORITY_FILTER = "tickets-priority-filter"
TICKETS_SITE_FILTER = "tickets-site-filter"
TICKETS_MINE_FILTER = "tickets-mine-filter"
TICKETS_STATUS = "tickets-status"
TICKETS_LIST = "tickets-list"            # the table or the empty state
TICKETS_TABLE = "tickets-table"
TICKETS_BODY = "tickets-body"            # the table's rows: patched one by one from live events
TICKETS_EMPTY = "tickets-empty"
TICKETS_SHOWN = "tickets-shown"          # store: the rows shown ({"ids": [...], "versions": {...}})
TICKETS_SEQ = "tickets-seq"              # store: the last LIVE_EVENTS seq the page handled
TICKETS_DEBOUNCE = "tickets-debounce"    # interval, enabled by live events: one queue refresh soon
TICKETS_CLOCK = "tickets-clock"          # interval: ages and SLA states move on without events
TICKETS_QUERY = "tickets-query"          # store: the filters' query string (assets/tickets.js puts it in the URL)
TICKETS_URL_SYNCED = "tickets-url-synced"  # store: written by nothing; the URL sync's nominal output
TICKETS_ROW_OPEN = "tickets-row-open"    # pattern {"type", "ticket"}: a row's title opens its detail
TICKETS_ROW_CHECK = "tickets-row-check"  # pattern {"type", "ticket"}: bulk selection
TICKETS_CHECK_ALL = "tickets-check-all"
TICKETS_BULK_BAR = "tickets-bulk-bar"
TICKETS_BULK_COUNT = "tickets-bulk-count"
TICKETS_BULK_ACK = "tickets-bulk-ack"
TICKETS_ALERT = "tickets-alert"          # the page's message (bulk results)
TICKETS_SELECTED = "tickets-selected"    # store: the ticket whose detail is open (or None)
TICKETS_DETAIL = "tickets-detail"        # the offcanvas
TICKETS_DETAIL_BODY = "tickets-detail-body"
TICKETS_DETAIL_ALERT = "tickets-detail-alert"   # conflicts and refusals of an action
TICKETS_DETAIL_SHOWN = "tickets-detail-shown"   # store: {"ticket": id, "version": n} shown in the detail
TICKETS_DETAIL_STALE = "tickets-detail-stale"   # store: bumped when a live event changed the open ticket
TICKETS_ACTION = "tickets-action"        # pattern {"type", "action"}: acknowledge, assign, assign_me, resolve, comment
TICKETS_FIELD = "tickets-field"          # pattern {"type", "field"}: assignee, disposition, note, comment
TICKETS_HISTORY = "tickets-history"
TICKETS_COMMENTS = "tickets-comments"

# The fraud page.
FRAUD_STATUS = "fraud-status"
FRAUD_TABLE = "fraud-table"
FRAUD_TABLE_BODY = "fraud-table-body"     # rows are patched in place as anomaly events arrive
FRAUD_EMPTY = "fraud-empty"
FRAUD_DISTRIBUTION = "fraud-distribution"
FRAUD_TREND = "fraud-trend"
FRAUD_SITE_MAP = "fraud-site-map"
FRAUD_SITE_HOURS = "fraud-site-hours"
FRAUD_STATE = "fraud-state"               # rows shown (order), score bins, last live seq
FRAUD_REFRESH = "fraud-refresh"           # throttle: enabled by live events, rebuilds the aggregates
FRAUD_SLOW_TICK = "fraud-slow-tick"       # ages rows out of the 24 h window when nothing arrives

# The persons list.
PERSONS_SEARCH = "persons-search"
PERSONS_STATUS = "persons-status"
PERSONS_LIST = "persons-list"
PERSONS_TABLE = "persons-table"
PERSONS_EMPTY = "persons-empty"
PERSONS_REFRESH = "persons-refresh"       # throttle: enabled by live events
PERSONS_LIVE_SEQ = "persons-live-seq"

# One person's page.
PERSON_HEADER = "person-header"
PERSON_TREND = "person-trend"
PERSON_TRAIL = "person-trail"
PERSON_TIMELINE = "person-timeline"
PERSON_TIMELINE_BODY = "person-timeline-body"   # new check-ins are prepended as events arrive
PERSON_TIMELINE_EMPTY = "person-timeline-empty"
PERSON_TICKETS = "person-tickets"
PERSON_EXPORT = "person-export"
PERSON_NOT_FOUND = "person-not-found"
PERSON_STATE = "person-state"             # {person_id, seq, shown event ids}
PERSON_REFRESH = "person-refresh"         # throttle: enabled by this person's live events
PERSON_SLOW_TICK = "person-slow-tick"     # unflagged check-ins send no event: picked up every minute

# Shared by the fraud and person pages.
ACCESS_DENIED = "access-denied"

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
