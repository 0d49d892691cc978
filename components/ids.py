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
