"""Settings: strict parsing, embedded defaults, production refuses to guess secrets."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.config import Mode, Settings
from backend.db import normalize_database_url


def test_embedded_defaults_live_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "NOC_MODE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(var_dir=tmp_path)
    assert settings.mode is Mode.EMBEDDED
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'noc.db'}"
    assert settings.embedded_redis_db == tmp_path.resolve() / "redis.db"
    key = settings.effective_secret_key
    assert len(key) >= 32 and Settings(var_dir=tmp_path).effective_secret_key == key  # shared, stable


def test_production_requires_database_redis_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOC_MODE", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/noc")
    with pytest.raises(ValidationError, match="REDIS_URL, SECRET_KEY"):
        Settings()
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    settings = Settings()
    assert settings.cookies_secure and settings.effective_secret_key == "s" * 40


def test_settings_are_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(ValidationError, match="PORT"):
        Settings()
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("NOC_MODE", "staging")
    with pytest.raises(ValidationError, match="mode"):
        Settings()


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("sqlite:///var/noc.db", "sqlite:///var/noc.db"),
])
def test_postgres_urls_default_to_psycopg3(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected
