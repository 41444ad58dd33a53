"""Service settings: the only module that reads environment variables (prefix ``CHANJIAO_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHANJIAO_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path('var') / 'chanjiao.db'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... in production.",
    )
    sqlite_busy_timeout_ms: int = Field(default=15_000, ge=0)
    sql_echo: bool = False

    max_request_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_import_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_import_rows: int = Field(default=200_000, ge=1)

    # Requests per API key (all routes together), as a slowapi/limits string: "600/minute".
    rate_limit: str = Field(default="600/minute", pattern=r"^\d+\s*(/|per)\s*\d*\s*[a-z]+$")
    rate_limit_enabled: bool = True
    # Invalid API keys per client address before further attempts are refused (429), whatever the key.
    failed_key_limit: str = Field(default="20/minute", pattern=r"^\d+\s*(/|per)\s*\d*\s*[a-z]+$")
    rate_limit_storage_uri: str = "memory://"
    # Strict-Transport-Security max-age; 0 leaves the header out (set it only behind TLS).
    hsts_max_age_s: int = Field(default=0, ge=0)

    page_size_default: int = Field(default=50, ge=1, le=500)
    page_size_max: int = Field(default=500, ge=1)

    # Compliance rules of 职业学校学生实习管理规定 (2021): interns may not exceed 10 % of an
    # enterprise's staff nor 20 % of one post.  Kept as settings because provinces tighten them.
    max_intern_share_of_staff: float = Field(default=0.10, gt=0, le=1)
    max_intern_share_of_post: float = Field(default=0.20, gt=0, le=1)

    # Batch-run worker: a run whose lease is not renewed for this long is re-claimed by another worker.
    worker_lease_s: float = Field(default=30.0, gt=0)
    worker_heartbeat_s: float = Field(default=5.0, gt=0)
    worker_poll_s: float = Field(default=1.0, gt=0)
    # Solve in a child process so a cancel can stop even a long solve; partitions in a process pool.
    solve_in_subprocess: bool = True
    # inline, process (a pool on this machine) or ray (pip install chanjiao[ray]): see app/executors.py.
    allocation_executor: str = Field(default="process", pattern="^(inline|process|ray)$")
    # The ray executor joins the Ray cluster at this address (host:port of its head); unset, each
    # solve starts a private local Ray runtime on this machine's cores.
    ray_address: str | None = None

    # Signs the web UI's session cookies.  Unset: one is generated and kept in var/secret_key, so a
    # restart keeps people signed in; set it when several servers share the sessions.
    secret_key: SecretStr | None = None
    # Send the session cookie over HTTPS only (Secure): set it when the UI is served behind TLS.
    session_cookie_secure: bool = False
    # A web session ends after this long without a request (idle) and, however busy, this long
    # after sign-in (absolute), so a copied cookie is of use for a bounded time at most.
    session_idle_timeout_s: float = Field(default=8 * 3600.0, ge=60)
    session_lifetime_s: float = Field(default=12 * 3600.0, ge=60)
    # After this many failed sign-ins for one username within the window, further attempts are
    # refused (429) until the window has passed, whatever the password (per server process).
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_s: float = Field(default=900.0, gt=0)

    # Notifications are mailed through this SMTP server; no host = in-app notifications only.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "chanjiao@localhost"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)

    # Times are stored in UTC and shown to people in this zone (an IANA name).
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from exc
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
