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
