"""Small-distance geodesy, vectorised: offsets in metres and great-circle distances.

An equirectangular offset is exact to well under a metre over the few kilometres the demo
world moves people, which is all the simulator needs."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backend.geo import EARTH_RADIUS_M, Floats, haversine_m


def offset(lat: ArrayLike, lon: ArrayLike, distance_m: ArrayLike,
           bearing_rad: ArrayLike) -> tuple[Floats, Floats]:
    """The point ``distance_m`` from (lat, lon) towards ``bearing_rad`` (0 = north)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    distance_m = np.asarray(distance_m, dtype=float)
    bearing_rad = np.asarray(bearing_rad, dtype=float)
    dlat = distance_m * np.cos(bearing_rad) / EARTH_RADIUS_M
    dlon = distance_m * np.sin(bearing_rad) / (EARTH_RADIUS_M * np.cos(np.radians(lat)))
    return lat + np.degrees(dlat), lon + np.degrees(dlon)


def scatter_in_disk(rng: np.random.Generator, lat: ArrayLike, lon: ArrayLike,
                    radius_m: ArrayLike) -> tuple[Floats, Floats]:
    """Uniformly random points within ``radius_m`` of each centre (one per centre)."""
    lat = np.asarray(lat, dtype=float)
    size = lat.shape
    distance = np.asarray(radius_m, dtype=float) * np.sqrt(rng.random(size))
    return offset(lat, lon, distance, rng.uniform(0, 2 * np.pi, size))


def trip_position(home_lat: ArrayLike, home_lon: ArrayLike, far_lat: ArrayLike, far_lon: ArrayLike,
                  depart: ArrayLike, back: ArrayLike, speed_mps: ArrayLike, t: ArrayLike
                  ) -> tuple[Floats, Floats, NDArray[np.bool_]]:
    """Where someone is at ``t`` on a trip home -> far point -> home: leaving at ``depart``
    (-inf: already there), travelling in a straight line at ``speed_mps``, and arriving back
    at ``back``. Returns lat, lon and whether they are on the move."""
    home_lat, home_lon, far_lat, far_lon = (np.asarray(v, dtype=float) for v in (home_lat, home_lon, far_lat, far_lon))
    travel = np.maximum(haversine_m(home_lat, home_lon, far_lat, far_lon) / np.asarray(speed_mps, dtype=float), 1.0)
    t = np.asarray(t, dtype=float)
    with np.errstate(invalid="ignore"):
        share = np.clip(np.minimum((t - np.asarray(depart, dtype=float)) / travel,
                                   (np.asarray(back, dtype=float) - t) / travel), 0.0, 1.0)
    return (home_lat + share * (far_lat - home_lat), home_lon + share * (far_lon - home_lon),
            (share > 0) & (share < 1))
