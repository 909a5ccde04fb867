"""Outbound webhooks, signed the Standard Webhooks way (webhook-id = the delivery uid).

The body is `{"type", "timestamp", "data": {"delivery", "event", "message"}}`. A receiver verifies
`webhook-signature` over `"{webhook-id}.{webhook-timestamp}.{body}"` with the endpoint's secret and
drops a webhook-id it has already processed. Redirects are not followed (they could lead anywhere).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
from standardwebhooks import Webhook

from ecoops.automation.channels.addresses import check_url
from ecoops.automation.channels.base import Outgoing, PermanentError, RetryableError, http_failure
from ecoops.config import Settings


@cache
def _client() -> httpx.Client:
    """One client for the process (thread-safe): building its TLS context costs more than a request."""
    return httpx.Client(follow_redirects=False)


def payload(outgoing: Outgoing, now: datetime) -> dict[str, Any]:
    kind = (outgoing.event or {}).get("kind") or "ecoops.message"
    return {
        "type": kind,
        "timestamp": now.isoformat(),
        "data": {"delivery": outgoing.uid, "event": outgoing.event, "message": outgoing.message.to_json()},
    }


def signed_request(outgoing: Outgoing, secret: str, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers for it."""
    body = json.dumps(payload(outgoing, now), separators=(",", ":"), sort_keys=True, default=str)
    signature = Webhook(secret).sign(msg_id=outgoing.uid, timestamp=now, data=body)
    headers = {
        "content-type": "application/json",
        "user-agent": "ecoops-webhooks",
        "webhook-id": outgoing.uid,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body.encode(), headers


def send(outgoing: Outgoing, settings: Settings) -> None:
    endpoint = outgoing.endpoint
    if endpoint is None:
        raise PermanentError(f"webhook endpoint {outgoing.target} does not exist")
    check_url(endpoint.url, allow_private=endpoint.allow_private or settings.webhook_allow_private)
    body, headers = signed_request(outgoing, endpoint.secret, datetime.now(UTC))
    try:
        response = _client().post(
            endpoint.url, content=body, headers=headers, timeout=settings.delivery_timeout
        )
    except httpx.HTTPError as exc:
        raise RetryableError(f"{endpoint.url} unreachable: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise http_failure(response.status_code, response.text, response.headers.get("retry-after"))
