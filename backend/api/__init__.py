"""The HTTP API (``/api/v1``), authenticated by bearer API tokens (see backend.auth.web)."""
from flask import Blueprint

api_blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

# The route modules attach themselves to the blueprint (they import it from here).
from backend.api import errors, events, reference  # noqa: E402,F401
