"""Connecting Salesforce (web-server flow or JWT bearer), audited. The stage map, syncs, the schedule
and the runs are any CRM connection's (crm/connections/service.py)."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.crm.connections import service as shared
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import seal, unseal
from ecoops.crm.connections.service import required
from ecoops.crm.salesforce import client
from ecoops.permissions import Permission, require

PROVIDER = "salesforce"
LOGIN_URLS = {"production": "https://login.salesforce.com", "sandbox": "https://test.salesforce.com"}
CALLBACK_PATH = "/crm/salesforce/callback"


def connection(session: Session, actor: Actor) -> CrmConnection | None:
    return shared.connection(session, actor, PROVIDER)


def _login_url(value: str) -> str:
    url = LOGIN_URLS.get(value, value).strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise InvalidInput("login_url: an https address, e.g. https://login.salesforce.com or your My Domain")
    return url


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
    row = _fresh(session, "web_server", _login_url(login_url), required("client_id", client_id))
    row.client_secret = seal(settings, required("client_secret", client_secret))
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
            required("code", code, 2000),
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
        required("client_id", client_id),
        username=required("username", username),
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
