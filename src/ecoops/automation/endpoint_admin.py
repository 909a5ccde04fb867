"""Webhook endpoints for admins: add one (its secret shown once), enable, disable, allow private addresses."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.automation.endpoints import WebhookEndpoint
from ecoops.permissions import NotFound, Permission, require


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoints(session: Session, actor: Actor) -> Sequence[WebhookEndpoint]:
    require(actor, Permission.MANAGE_AUTOMATION)
    return session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name, WebhookEndpoint.id)).all()


def _get(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    return endpoint


def create(
    session: Session, actor: Actor, *, name: str, url: str, allow_private: bool = False
) -> WebhookEndpoint:
    """Add an endpoint; the caller shows `endpoint.secret` this once (the page never shows it again)."""
    require(actor, Permission.MANAGE_AUTOMATION)
    if allow_private:
        require(actor, Permission.ALLOW_PRIVATE_WEBHOOKS)
    name, url = name.strip(), url.strip()
    if not name or len(name) > 200:
        raise InvalidInput("the endpoint needs a name of at most 200 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput(f"the URL must be an http(s) address with a host, not {url!r}")
    endpoint = WebhookEndpoint(
        name=name,
        url=url,
        secret=new_secret(),
        enabled=True,
        allow_private=allow_private,
        disabled_reason="",
        last_error="",
        created_by_id=actor.id,
    )
    session.add(endpoint)
    session.flush()
    audit.record(session, actor, "webhook_endpoint.created", "webhook_endpoint", endpoint.id, url=url)
    return endpoint


def set_enabled(session: Session, actor: Actor, endpoint_id: int, enabled: bool) -> WebhookEndpoint:
    require(actor, Permission.MANAGE_AUTOMATION)
    endpoint = _get(session, endpoint_id)
    endpoint.enabled = enabled
    endpoint.disabled_reason = "" if enabled else f"disabled by {actor.label}"
    session.flush()
    action = "webhook_endpoint.enabled" if enabled else "webhook_endpoint.disabled"
    audit.record(session, actor, action, "webhook_endpoint", endpoint.id)
    return endpoint


def set_allow_private(session: Session, actor: Actor, endpoint_id: int, allow: bool) -> WebhookEndpoint:
    """Only an admin may let an endpoint reach private, loopback or link-local addresses."""
    require(actor, Permission.ALLOW_PRIVATE_WEBHOOKS)
    endpoint = _get(session, endpoint_id)
    endpoint.allow_private = allow
    session.flush()
    audit.record(
        session, actor, "webhook_endpoint.allow_private", "webhook_endpoint", endpoint.id, allow=allow
    )
    return endpoint
