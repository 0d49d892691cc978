"""Demo world jobs (queue ``default``)."""
from __future__ import annotations

from backend.runtime import get_runtime
from backend.simulator import extend_demo_roster


def extend_demo_roster_daily() -> int:
    """Cron: keep the demo roster ``future_days`` ahead, so a live feed left running for weeks
    always has shifts to play. Returns the shifts added; a no-op (0) where no demo tenant exists
    (production), before any world is generated."""
    return extend_demo_roster(get_runtime())
