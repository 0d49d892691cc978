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
