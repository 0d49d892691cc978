"""The HTTP API (``/api/v1``), authenticated by bearer API tokens (see backend.auth.web)."""
from flask import Blueprint

api_blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
