"""Settings read from the environment (ECOOPS_*), with defaults that run on a laptop."""

from __future__ import annotations

import os
import secrets
import time
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ecoops.actors import Role

Environment = Literal["development", "production", "test"]
ENVIRONMENTS: tuple[str, ...] = get_args(Environment)
LogFormat = Literal["auto", "json", "text"]
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)
MIN_SECRET_LENGTH = 32
SECRET_FILE = "secret_key"  # noqa: S105 - a file name in var_dir, used when ECOOPS_SECRET_KEY is not set


def _var_dir_secret(var_dir: Path) -> str:
    """The secret kept in `var_dir`, made (random, readable by this user only) on first run.

    Two processes starting at once agree: only one can create the file, the other reads it.
    """
    path = var_dir / SECRET_FILE
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the creator may not have written it yet
            secret = path.read_text().strip()
            if secret:
                break
            time.sleep(0.01)
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{path} must hold a random secret of {MIN_SECRET_LENGTH}+ characters") from None
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret


class Settings(BaseSettings):
    """Workspace and deployment settings; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="ECOOPS_", env_file=None, extra="ignore")

    env: Environment = "development"
    var_dir: Path = Path("var")
    database_url: str = ""  # empty: sqlite file under var_dir
    # Signs session cookies and partner links. Empty: a random one kept in var_dir/secret_key. Several
    # hosts behind one load balancer must share one: set it, or share the var dir.
    secret_key: str = ""
    timezone: str = "UTC"
    currency: str = "USD"
    # The attribution model whose credit commissions pay on (docs/commissions.md): one of the engine's
    # MODELS; `sourced` pays the source partner the whole deal, the others split it between partners.
    attribution_model: Literal["sourced", "first_touch", "last_touch", "linear", "time_decay", "position"] = (
        "linear"
    )
    https: bool = False  # marks cookies Secure and sends HSTS
    session_max_age: int = 8 * 3600
    # The session cookie's name: two instances on one host (the demo and its partner) need two names,
    # since browsers share cookies between ports.
    session_cookie: str = Field("ecoops_session", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # Demo mode (`ecoops serve --demo`): e-mail and Slack go to a local catcher, shown at /demo/mail.
    demo: bool = False
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
    # Dashboards kept warm (docs/dashboards.md "Kept warm"): each web process computes the default
    # dashboards again this often after the records change; auto: on except when env is test.
    warm_dashboards: Literal["auto", "on", "off"] = "auto"
    warm_dashboards_seconds: float = Field(10.0, gt=0)
    # Delivery (docs/automation.md "Delivery"): the worker, retries, per-target throttles, channels.
    worker: Literal["auto", "inprocess", "off"] = "auto"  # auto: in-process except when env is test
    worker_poll_seconds: float = Field(1.0, gt=0)
    worker_batch: int = Field(20, ge=1)
    worker_concurrency: int = Field(1, ge=1)
    # Database connections per process (docs/running.md "Configuration"): requests beyond what the pool
    # holds wait their turn in web/db_slots.py instead of timing out on the pool.
    db_pool_size: int = Field(10, ge=1)
    db_max_overflow: int = Field(10, ge=0)
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
    # CSV imports and partner-list uploads (docs/imports.md "Caps"): the largest upload the web takes,
    # the longest row and the most columns any CSV reader takes, and how long an upload never
    # committed is kept.
    import_max_upload_bytes: int = Field(256 << 20, ge=1)
    import_max_row_chars: int = Field(1 << 20, ge=1024)
    import_max_columns: int = Field(2000, ge=10)
    import_upload_ttl_hours: float = Field(24, gt=0)
    import_job_rows: int = Field(5000, ge=0)  # committing a file of more lines runs as a job (ecoops.jobs)
    # CRM connections (docs/crm-sync.md). Secrets at rest are encrypted with `crm_secrets_key` (a Fernet
    # key, `ecoops crm-secrets-key` prints a new one); empty: one derived from `secret_key`, so changing
    # that key means connecting again. The sync re-reads `crm_sync_overlap_seconds` before its checkpoint
    # (Salesforce stamps a record when its transaction starts, so one may appear late), waits at most
    # `crm_max_wait_seconds` for a Retry-After and tries a request `crm_max_attempts` times.
    crm_secrets_key: str = ""
    crm_sync_overlap_seconds: int = Field(300, ge=0)
    crm_sync_batch_records: int = Field(10_000, ge=1)  # records per transaction (and per checkpoint)
    # An object read holding at least this many records is read by a Bulk API 2.0 query job (Salesforce)
    crm_bulk_threshold_records: int = Field(50_000, ge=1)
    crm_max_wait_seconds: float = Field(120.0, ge=0)
    crm_max_attempts: int = Field(5, ge=1)
    crm_timeout_seconds: float = Field(120.0, gt=0)
    crm_ca_bundle: str = ""  # a CA bundle for the CRM's TLS certificate (empty: the system's)
    salesforce_api_version: str = Field("62.0", pattern=r"^\d{2}\.0$")
    # HubSpot's API and its OAuth authorize page (another host); the tests point both at a local HubSpot.
    hubspot_api_url: str = "https://api.hubapi.com"
    hubspot_app_url: str = "https://app.hubspot.com"
    # Operating (docs/running.md "Operating"): log lines as JSON or text (auto: JSON in production), and
    # the bearer token Prometheus sends to /metrics (empty: /metrics answers 404).
    log_format: LogFormat = "auto"
    metrics_token: str = ""
    # Single sign-on with OpenID Connect (docs/access.md "Single sign-on"): the provider's issuer URL
    # (its discovery document is read from it), our client's id and secret, the ID token claim that lists
    # the person's groups, which group gives which role ("group=role,group=role"; the most powerful
    # wins), the role of someone in none of them (empty: refused), and whether staff may still sign in
    # with a password (partner users always may).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    oidc_groups_claim: str = "groups"
    oidc_role_map: str = ""
    oidc_default_role: Role | Literal[""] = ""
    oidc_label: str = "Sign in with single sign-on"
    sso_only: bool = False
    # The largest file kept as an influence log's evidence (docs/influence.md).
    influence_max_file_bytes: int = Field(10 << 20, ge=1)
    # The largest file the enablement content library keeps (docs/enablement.md).
    enablement_max_file_bytes: int = Field(25 << 20, ge=1)

    @field_validator("env", mode="before")
    @classmethod
    def _known_env(cls, value: object) -> object:
        # "Production" means production; "prod" or "staging" is refused, never taken as development.
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in ENVIRONMENTS:
                raise ValueError(f"ECOOPS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _known_log_format(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in LOG_FORMATS:
                raise ValueError(f"ECOOPS_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {value!r}")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str) -> str:
        # Empty keeps /metrics closed; a set token guards business figures, so no short guessable one.
        if value and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"ECOOPS_METRICS_TOKEN must be a random value of {MIN_SECRET_LENGTH}+ characters"
            )
        return value

    @field_validator("oidc_role_map")
    @classmethod
    def _role_map(cls, value: str) -> str:
        role_map(value)  # raises on a malformed pair or an unknown role
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        given = [bool(self.oidc_issuer), bool(self.oidc_client_id), bool(self.oidc_client_secret)]
        if any(given) and not all(given):
            raise ValueError(
                "single sign-on needs ECOOPS_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET together"
            )
        if self.sso_only and not self.oidc_issuer:
            raise ValueError("ECOOPS_SSO_ONLY needs single sign-on set up (ECOOPS_OIDC_ISSUER …)")
        return self

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer)

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
    def _secret(self) -> Settings:
        if not self.secret_key:
            self.secret_key = _var_dir_secret(self.var_dir)
        elif len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(f"ECOOPS_SECRET_KEY must be a random value of {MIN_SECRET_LENGTH}+ characters")
        return self

    @property
    def link_base(self) -> str:
        """Where links in messages point: the public URL, or the local server when none is set."""
        return (self.public_url or "http://localhost:8000").rstrip("/")

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format == "auto" and self.env == "production")

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


def role_map(text: str) -> dict[str, str]:
    """ "group=role, group=role" → {group: role}; a ValueError names what is wrong."""
    mapping: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        group, _, role = (piece.strip() for piece in pair.rpartition("="))
        if not group or role not in Role.__members__.values():
            raise ValueError(
                f"ECOOPS_OIDC_ROLE_MAP: {pair!r} is not group=role with a role among {', '.join(Role)}"
            )
        mapping[group] = role
    return mapping


@lru_cache
def get_settings() -> Settings:
    return Settings()
