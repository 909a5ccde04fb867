"""The Salesforce connection as an admin manages it: connect (web-server flow or JWT bearer), the stage
map, a sync on demand or on a schedule (a job for the worker), the history of runs. Every change audited."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlparse

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, cli_actor
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.crm.salesforce import client
from ecoops.crm.salesforce.models import CrmConnection, StageMapping, SyncCheckpoint, SyncRun
from ecoops.crm.salesforce.secrets import seal, unseal
from ecoops.jobs.models import Job
from ecoops.jobs.names import SALESFORCE_SYNC, salesforce_subject
from ecoops.jobs.queue import active_job, enqueue
from ecoops.pagination import Page, paginate
from ecoops.permissions import NotFound, Permission, require

PROVIDER = "salesforce"
LOGIN_URLS = {"production": "https://login.salesforce.com", "sandbox": "https://test.salesforce.com"}
CALLBACK_PATH = "/crm/salesforce/callback"


def connection(session: Session, actor: Actor) -> CrmConnection | None:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    return session.scalar(select(CrmConnection).where(CrmConnection.provider == PROVIDER))


def _login_url(value: str) -> str:
    url = LOGIN_URLS.get(value, value).strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise InvalidInput("login_url: an https address, e.g. https://login.salesforce.com or your My Domain")
    return url


def _required(name: str, value: str, most: int = 300) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{name}: required")
    if len(value) > most:
        raise InvalidInput(f"{name}: at most {most} characters")
    return value


def _fresh(session: Session, flow: str, login_url: str, client_id: str) -> CrmConnection:
    """The connection row, reset for a new connection (its checkpoints stay: the same org resumes)."""
    row = session.scalar(select(CrmConnection).where(CrmConnection.provider == PROVIDER))
    if row is None:
        row = CrmConnection(provider=PROVIDER)
        session.add(row)
    row.flow, row.login_url, row.client_id = flow, login_url, client_id
    row.client_secret = row.private_key = row.refresh_token = row.username = ""
    row.status, row.oauth_state = "pending", ""
    return row


def start_web_server_flow(
    session: Session, actor: Actor, settings: Settings, *, login_url: str, client_id: str, client_secret: str
) -> str:
    """Keep the connected app's key and secret, and return the Salesforce page the admin allows it on."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    row = _fresh(session, "web_server", _login_url(login_url), _required("client_id", client_id))
    row.client_secret = seal(settings, _required("client_secret", client_secret))
    row.oauth_state = secrets.token_urlsafe(32)
    audit.record(session, actor, "salesforce.connect_started", "crm_connection", None, flow="web_server")
    return client.authorize_url(row.login_url, row.client_id, redirect_uri(settings), row.oauth_state)


def pending_authorize_url(session: Session, actor: Actor, settings: Settings) -> str | None:
    """Where to allow the app, while a web-server flow is under way (the page links to it: a form's
    redirect to another site is blocked by our Content-Security-Policy's form-action 'self')."""
    row = connection(session, actor)
    if row is None or row.status != "pending" or not row.oauth_state:
        return None
    return client.authorize_url(row.login_url, row.client_id, redirect_uri(settings), row.oauth_state)


def redirect_uri(settings: Settings) -> str:
    return settings.link_base + CALLBACK_PATH


def finish_web_server_flow(
    session: Session, actor: Actor, settings: Settings, *, code: str, state: str
) -> CrmConnection:
    """The callback: check the state, trade the code for tokens, keep the refresh token encrypted."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    row = connection(session, actor)
    if (
        row is None
        or row.flow != "web_server"
        or not row.oauth_state
        or not secrets.compare_digest(row.oauth_state, state)
    ):
        raise InvalidInput(
            "state: this answer from Salesforce matches no connection under way: connect again"
        )
    credentials = client.Credentials(row.login_url, row.client_id, unseal(settings, row.client_secret))
    http = client.http_session(settings)
    try:
        tokens = client.exchange_code(
            http,
            credentials,
            _required("code", code, 2000),
            redirect_uri(settings),
            settings.crm_timeout_seconds,
        )
    except client.SalesforceAuthError as exc:
        raise InvalidInput(f"code: {exc}") from exc
    if not tokens.refresh_token:
        raise InvalidInput(
            "scope: Salesforce gave no refresh token: allow the refresh_token scope on the connected app"
        )
    row.refresh_token = seal(settings, tokens.refresh_token)
    return _connected(session, actor, row, tokens)


def connect_jwt(
    session: Session,
    actor: Actor,
    settings: Settings,
    *,
    login_url: str,
    client_id: str,
    username: str,
    private_key: str,
) -> CrmConnection:
    """JWT bearer: the connected app's key, the integration user and the app's private key; tried at once."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    key = private_key.strip()
    if "PRIVATE KEY-----" not in key:
        raise InvalidInput("private_key: a PEM private key (-----BEGIN PRIVATE KEY----- …)")
    credentials = client.Credentials(
        _login_url(login_url),
        _required("client_id", client_id),
        username=_required("username", username),
        private_key=key,
    )
    try:
        tokens = client.new_tokens(client.http_session(settings), credentials, settings.crm_timeout_seconds)
    except client.SalesforceAuthError as exc:
        raise InvalidInput(f"client_id: {exc}") from exc
    except (ValueError, jwt.PyJWTError) as exc:  # the key does not load
        raise InvalidInput(f"private_key: not an RSA private key in PEM ({exc})") from exc
    row = _fresh(session, "jwt_bearer", credentials.login_url, credentials.client_id)
    row.username, row.private_key = credentials.username, seal(settings, key)
    return _connected(session, actor, row, tokens)


def _connected(session: Session, actor: Actor, row: CrmConnection, tokens: client.Tokens) -> CrmConnection:
    row.instance_url, row.org_id, row.scopes = tokens.instance_url, tokens.org_id, tokens.scopes[:500]
    row.status, row.oauth_state = "connected", ""
    row.connected_by, row.connected_at = actor.label[:200], utcnow()
    session.flush()
    audit.record(
        session, actor, "salesforce.connected", "crm_connection", row.id, flow=row.flow, org_id=row.org_id
    )
    return row


def disconnect(session: Session, actor: Actor) -> None:
    """Forget the secrets (the synced records, checkpoints and runs stay)."""
    row = connection(session, actor)
    if row is None:
        raise NotFound("Salesforce is not connected")
    row.client_secret = row.private_key = row.refresh_token = ""
    row.status = "disconnected"
    audit.record(session, actor, "salesforce.disconnected", "crm_connection", row.id)


def set_schedule(session: Session, actor: Actor, every_minutes: int) -> None:
    row = _must(session, actor)
    if not 0 <= every_minutes <= 7 * 24 * 60:
        raise InvalidInput("sync_every_minutes: 0 (on demand only) to 10080 (a week)")
    row.sync_every_minutes = every_minutes
    audit.record(
        session, actor, "salesforce.schedule_set", "crm_connection", row.id, every_minutes=every_minutes
    )


def _must(session: Session, actor: Actor) -> CrmConnection:
    row = connection(session, actor)
    if row is None or row.status != "connected":
        raise NotFound("Salesforce is not connected: connect it first")
    return row


def stage_mappings(session: Session, actor: Actor) -> list[StageMapping]:
    row = connection(session, actor)
    if row is None:
        return []
    return list(
        session.scalars(
            select(StageMapping).where(StageMapping.connection_id == row.id).order_by(StageMapping.stage)
        )
    )


def set_stage(
    session: Session, actor: Actor, stage_id: int, *, is_closed: bool, is_won: bool
) -> StageMapping:
    """An admin's reading of a stage; it stands over the CRM's own until set back to the CRM's."""
    row = _must(session, actor)
    mapping = session.get(StageMapping, stage_id)
    if mapping is None or mapping.connection_id != row.id:
        raise NotFound(f"no stage {stage_id}")
    if is_won and not is_closed:
        raise InvalidInput("is_won: a won stage is closed")
    mapping.is_closed, mapping.is_won = is_closed, is_won
    as_crm = (is_closed, is_won) == (mapping.crm_is_closed, mapping.crm_is_won)
    mapping.edited_by = "" if as_crm else actor.label[:200]
    audit.record(
        session,
        actor,
        "salesforce.stage_mapped",
        "crm_stage_mapping",
        mapping.id,
        stage=mapping.stage,
        is_closed=is_closed,
        is_won=is_won,
    )
    return mapping


def queue_sync(session: Session, actor: Actor, *, trigger: str = "manual") -> Job | None:
    """Queue a sync for the worker; None when one is queued or running already."""
    row = _must(session, actor)
    subject = salesforce_subject(row.id)
    if active_job(session, subject) is not None:
        return None
    return enqueue(session, actor, SALESFORCE_SYNC, subject=subject, arguments={"trigger": trigger})


def queue_scheduled_syncs(session: Session, _settings: Settings, now: datetime) -> int:
    """Worker tick job: queue a sync when the last one started `sync_every_minutes` ago or more."""
    row = session.scalar(
        select(CrmConnection).where(
            CrmConnection.provider == PROVIDER,
            CrmConnection.status == "connected",
            CrmConnection.sync_every_minutes > 0,
        )
    )
    if row is None:
        return 0
    last = session.scalar(
        select(SyncRun.started_at).where(SyncRun.connection_id == row.id).order_by(SyncRun.id.desc()).limit(1)
    )
    if last is not None and _aware(last) > now - timedelta(minutes=row.sync_every_minutes):
        return 0
    return 1 if queue_sync(session, cli_actor("salesforce schedule"), trigger="schedule") is not None else 0


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def runs(session: Session, actor: Actor, *, page: int = 1, per_page: int = 20) -> Page[SyncRun]:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    return paginate(session, select(SyncRun).order_by(SyncRun.id.desc()), page=page, per_page=per_page)


def checkpoints(session: Session, actor: Actor) -> list[SyncCheckpoint]:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    return list(session.scalars(select(SyncCheckpoint).order_by(SyncCheckpoint.object_name)))
