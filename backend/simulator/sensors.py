"""What a guard's phone reports, as distributions shared by the history generator (arrays)
and the live feed (scalars): GPS accuracy, biometric match quality, battery, signal, delay.

Honest and fraudulent readings overlap a little on purpose (a bad-light selfie, a fix in a
basement): the planted cases must be learnable, not trivially separable by one column."""
from __future__ import annotations

import numpy as np

from backend.simulator.geo import Floats, offset

# Upload delay device → server: mostly a second or two, sometimes minutes (bad coverage).
_DELAY_MEDIAN_S = 1.5


def gps_accuracy_m(rng: np.random.Generator, size: int) -> Floats:
    """Reported horizontal accuracy of an honest fix: median ~9 m, and 5% poor fixes of
    25-120 m (indoors, urban canyons) that can land a check-in just outside the geofence."""
    good = np.clip(rng.lognormal(np.log(9.0), 0.5, size), 3.0, 60.0)
    poor = rng.uniform(25.0, 120.0, size)
    return np.round(np.where(rng.random(size) < 0.05, poor, good), 1)


def spoofed_accuracy_m(rng: np.random.Generator, size: int) -> Floats:
    """Mock-location apps report implausibly perfect fixes."""
    return np.round(rng.uniform(1.0, 3.0, size), 1)


def gps_fix(rng: np.random.Generator, lat: Floats, lon: Floats, accuracy_m: Floats) -> tuple[Floats, Floats]:
    """Where the phone thinks it is: the true position plus an error of the order of its accuracy."""
    error = np.abs(rng.normal(0.0, accuracy_m / 1.5))
    return offset(lat, lon, error, rng.uniform(0, 2 * np.pi, len(lat)))


def biometric_quality(rng: np.random.Generator, size: int) -> Floats:
    """Face-match quality of the right person: mean ~0.9, plus 2% poor captures (glare, a
    mask, a cracked camera) of 0.3-0.7."""
    good = rng.beta(18.0, 2.0, size)
    poor = rng.uniform(0.3, 0.7, size)
    return np.round(np.where(rng.random(size) < 0.02, poor, good), 3)


def impostor_biometric_quality(rng: np.random.Generator, size: int) -> Floats:
    """Someone else's face against the enrolled template (buddy punching): mean ~0.5, so a
    quarter pass a 0.65 cut: the shared device, not the face score alone, gives it away."""
    return np.round(rng.beta(5.0, 4.5, size), 3)


def battery_start_pct(rng: np.random.Generator, size: int) -> Floats:
    return np.round(rng.uniform(50.0, 100.0, size), 0)


def battery_drain_pct_per_h(rng: np.random.Generator, size: int) -> Floats:
    """Median 2.2 %/h; old phones drain fast and raise low-battery alerts on long shifts."""
    return np.clip(rng.lognormal(np.log(2.2), 0.45, size), 0.8, 8.0)


def signal_dbm(rng: np.random.Generator, site_base_dbm: Floats) -> Floats:
    return np.round(np.clip(site_base_dbm + rng.normal(0.0, 5.0, len(site_base_dbm)), -125.0, -50.0), 0)


def upload_delay_s(rng: np.random.Generator, size: int) -> Floats:
    return np.clip(rng.lognormal(np.log(_DELAY_MEDIAN_S), 0.9, size), 0.2, 900.0)
