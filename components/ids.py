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
