"""Settings read from the environment (ECOOPS_*), with defaults that run on a laptop."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused in production below


class Settings(BaseSettings):
    """Workspace and deployment settings; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="ECOOPS_", env_file=None, extra="ignore")

    env: str = "development"  # development | production | test
    var_dir: Path = Path("var")
    database_url: str = ""  # empty: sqlite file under var_dir
    secret_key: str = DEV_SECRET
    timezone: str = "UTC"
    currency: str = "USD"
    https: bool = False  # marks cookies Secure and sends HSTS
    session_max_age: int = 8 * 3600
    page_size: int = 50
    # Referrals (docs/referrals.md): how long an approved deal registration holds, and the review SLA.
    registration_window_days: int = Field(90, ge=1)
    referral_sla_hours: int = Field(48, ge=1)
    # The address this server is reached at: links in messages start with it, and partners' servers
    # reach it for private mapping (docs/private-mapping.md), which needs it set. Then private mapping's
    # limits: the largest list either side may send, how long an invitation code stays valid, CA bundle for
    # the peer's TLS certificate (empty: the system's), and plain http to a loopback peer (dev, tests).
    public_url: str = ""
    psi_max_items: int = Field(2_000_000, ge=1)
    psi_invitation_hours: int = Field(72, ge=1)
    psi_timeout_seconds: float = Field(600, gt=0)
    psi_ca_bundle: str = ""
    psi_allow_http_loopback: bool = False
    # Rules (docs/automation.md): Slack's interactive endpoint secret and the thresholds of the
    # time-based events. Links in messages start with `link_base`.
    slack_signing_secret: str = ""
    registration_expiry_warning_days: int = Field(14, ge=1)
    partner_inactive_days: int = Field(30, ge=1)
    # Weekly digest (docs/automation.md "Nurture and digests"): sent from this weekday (0 = Monday)
    # and hour of the workspace time zone on, once per ISO week.
    digest_enabled: bool = True
    digest_weekday: int = Field(0, ge=0, le=6)
    digest_hour: int = Field(8, ge=0, le=23)
    # Delivery (docs/automation.md "Delivery"): the worker, retries, per-target throttles, channels.
    worker: Literal["auto", "inprocess", "off"] = "auto"  # auto: in-process except when env is test
    worker_poll_seconds: float = Field(1.0, gt=0)
    worker_batch: int = Field(20, ge=1)
    worker_concurrency: int = Field(1, ge=1)
    delivery_max_attempts: int = Field(8, ge=1)
    delivery_backoff_seconds: float = Field(10.0, ge=0)  # first retry waits up to this, doubling each time
    delivery_backoff_max_seconds: float = Field(3600.0, ge=0)
    delivery_lease_seconds: float = Field(120.0, gt=0)  # a claim unfinished after this is retried
    delivery_timeout: float = Field(10.0, gt=0)  # per request to Slack, SMTP or a webhook receiver
    slack_min_interval: float = Field(1.0, ge=0)  # seconds between two messages to one Slack channel
    email_min_interval: float = Field(0.0, ge=0)
    webhook_min_interval: float = Field(0.0, ge=0)
    slack_bot_token: str = ""
    slack_webhook_url: str = ""
    slack_api_url: str = "https://slack.com/api/"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "ecoops@localhost"
    webhook_allow_private: bool = False  # development and tests only: lets webhooks reach private addresses

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("currency must be a three-letter ISO 4217 code, e.g. USD")
        return value.upper()

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.env == "production" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("ECOOPS_SECRET_KEY must be set to a random value of 32+ characters")
        return self

    @property
    def link_base(self) -> str:
        """Where links in messages point: the public URL, or the local server when none is set."""
        return (self.public_url or "http://localhost:8000").rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'ecoops.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return self.var_dir / "uploads"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self) -> date:
        """Today's date in the workspace's time zone (METRICS.md: dates are workspace dates)."""
        return datetime.now(self.tz).date()


@lru_cache
def get_settings() -> Settings:
    return Settings()
