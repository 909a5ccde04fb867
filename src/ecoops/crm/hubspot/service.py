"""Connecting HubSpot, audited: a private app's access token (checked at once), or the OAuth
authorization-code flow (the refresh token kept). Either way the token's details are read: the portal
(hub id), its scopes (all three read scopes required) and the API allowance left. The stage map,
syncs, the schedule and the runs are any CRM connection's (crm/connections/service.py)."""

from __future__ import annotations

import secrets

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
from ecoops.crm.hubspot import client
from ecoops.permissions import Permission, require

PROVIDER = "hubspot"
CALLBACK_PATH = "/crm/hubspot/callback"


def connection(session: Session, actor: Actor) -> CrmConnection | None:
    return shared.connection(session, actor, PROVIDER)


def redirect_uri(settings: Settings) -> str:
    return settings.link_base + CALLBACK_PATH


def _fresh(session: Session, settings: Settings, flow: str, client_id: str) -> CrmConnection:
    """The connection row, reset for a new connection (its checkpoints stay: the same portal resumes)."""
    row = session.scalar(select(CrmConnection).where(CrmConnection.provider == PROVIDER))
    if row is None:
        row = CrmConnection(provider=PROVIDER)
        session.add(row)
    row.flow, row.login_url, row.client_id = flow, settings.hubspot_api_url, client_id
    row.client_secret = row.private_key = row.refresh_token = row.access_token = row.username = ""
    row.status, row.oauth_state = "pending", ""
    return row


def connect_private_app(session: Session, actor: Actor, settings: Settings, *, token: str) -> CrmConnection:
    """A private app's access token: its details read at once (a refused token connects nothing)."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    credentials = client.Credentials("private_app", access_token=required("token", token, 500))
    api = client.HubSpotApi(settings, credentials)
    portal = _portal(api, "token")
    row = _fresh(session, settings, "private_app", "")
    row.access_token = seal(settings, credentials.access_token)
    return _connected(session, actor, row, api, portal)


def start_oauth(
    session: Session, actor: Actor, settings: Settings, *, client_id: str, client_secret: str
) -> str:
    """Keep the OAuth app's id and secret, and return the HubSpot page the admin installs it on."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    row = _fresh(session, settings, "oauth", required("client_id", client_id))
    row.client_secret = seal(settings, required("client_secret", client_secret))
    row.oauth_state = secrets.token_urlsafe(32)
    audit.record(session, actor, "hubspot.connect_started", "crm_connection", None, flow="oauth")
    return client.authorize_url(settings, row.client_id, redirect_uri(settings), row.oauth_state)


def pending_authorize_url(session: Session, actor: Actor, settings: Settings) -> str | None:
    """Where to install the app while the OAuth flow is under way (a link: our Content-Security-Policy's
    form-action 'self' blocks a form's redirect to another site)."""
    row = connection(session, actor)
    if row is None or row.status != "pending" or not row.oauth_state:
        return None
    return client.authorize_url(settings, row.client_id, redirect_uri(settings), row.oauth_state)


def finish_oauth(
    session: Session, actor: Actor, settings: Settings, *, code: str, state: str
) -> CrmConnection:
    """The callback: check the state, trade the code for tokens, keep the refresh token encrypted."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    row = connection(session, actor)
    if (
        row is None
        or row.flow != "oauth"
        or not row.oauth_state
        or not secrets.compare_digest(row.oauth_state, state)
    ):
        raise InvalidInput("state: this answer from HubSpot matches no connection under way: connect again")
    credentials = client.Credentials(
        "oauth", client_id=row.client_id, client_secret=unseal(settings, row.client_secret)
    )
    try:
        tokens = client.exchange_code(
            settings, credentials, required("code", code, 2000), redirect_uri(settings)
        )
    except client.HubSpotAuthError as exc:
        raise InvalidInput(f"code: {exc}") from exc
    credentials = client.Credentials(
        "oauth",
        access_token=tokens.access_token,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        refresh_token=tokens.refresh_token,
    )
    api = client.HubSpotApi(settings, credentials)
    portal = _portal(api, "code")
    row.refresh_token = seal(settings, tokens.refresh_token)
    return _connected(session, actor, row, api, portal)


def _portal(api: client.HubSpotApi, field: str) -> client.Portal:
    try:
        portal = api.portal()
    except (*client.API_ERRORS, client.HttpStatus, client.HubSpotUnavailable) as exc:  # type: ignore[misc]
        raise InvalidInput(
            f"{field}: HubSpot refused it: {str(getattr(exc, 'body', '') or exc)[:300]}"
        ) from exc
    missing = sorted(set(client.SCOPES.split()) - set(portal.scopes.split()))
    if missing:
        raise InvalidInput(
            f"scopes: the app lacks {', '.join(missing)}: add them to the app and connect again"
        )
    return portal


def _connected(
    session: Session, actor: Actor, row: CrmConnection, api: client.HubSpotApi, portal: client.Portal
) -> CrmConnection:
    row.org_id, row.scopes, row.instance_url = (
        portal.hub_id,
        portal.scopes[:500],
        api.settings.hubspot_api_url,
    )
    if api.daily is not None:
        row.api_used, row.api_max = api.daily
    row.status, row.oauth_state = "connected", ""
    row.connected_by, row.connected_at = actor.label[:200], utcnow()
    session.flush()
    audit.record(
        session, actor, "hubspot.connected", "crm_connection", row.id, flow=row.flow, hub_id=row.org_id
    )
    return row
