"""The one place that builds the process's shared things: engine, sessions, Redis, queues and
the event publisher. Each is built lazily on first use (nothing connects at import)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cached_property, lru_cache
from typing import Any

import redis
from rq import Queue
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.config import Settings, get_settings
from backend.db import READ_ONLY, create_db_engine, create_session_factory
from backend.events import EventPublisher
from backend.queues import QueueName, create_queues
from backend.redis_client import create_redis

_build_lock = threading.RLock()


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        with _build_lock:
            return create_db_engine(self.settings.effective_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return create_session_factory(self.engine)

    @cached_property
    def redis(self) -> redis.Redis:
        with _build_lock:
            return create_redis(self.settings)

    @cached_property
    def queues(self) -> dict[QueueName, Queue]:
        return create_queues(self.redis)

    @cached_property
    def events(self) -> EventPublisher:
        return EventPublisher(self.redis, self.settings.event_stream_maxlen)

    @cached_property
    def _writer_lock(self) -> AbstractContextManager[Any]:
        # SQLite has one writer at a time; threads of one process queue here in order instead
        # of in SQLite's busy handler, whose growing sleeps made ingest p99 seconds long.
        return threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception."""
        with self._writer_lock, self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only: never committed (rolled back on exit). On SQLite it does
        not take the write lock, so dashboards never queue behind ingestion."""
        with Session(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The process's runtime for the environment's settings (workers, CLI). The web app keeps
    the runtime of the settings it was created with."""
    return Runtime(get_settings())
