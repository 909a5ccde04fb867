"""Slack: chat.postMessage with a bot token, or an incoming webhook; the delivery uid rides in metadata.

The target is a channel id (bot token) or an incoming-webhook URL; with no bot token configured, a
channel target goes to the workspace's incoming webhook (ECOOPS_SLACK_WEBHOOK_URL), which posts to
the channel it was created for.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from ecoops.automation.channels.base import (
    DeliveryError,
    Outgoing,
    PermanentError,
    RetryableError,
    http_failure,
    retry_after_seconds,
)
from ecoops.automation.channels.slack_blocks import SLACK_USER_ID, blocks_for, fallback_text
from ecoops.config import Settings

# Slack answers these with ok=false; trying again later can succeed.
RETRYABLE_API_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


# Built once: loading the CA bundle for every message would cost more than sending it.
_tls = cache(ssl.create_default_context)


def _metadata(uid: str) -> dict[str, Any]:
    return {"event_type": "ecoops_delivery", "event_payload": {"delivery_uid": uid}}


def _api_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = response.get("error", "") if isinstance(response.data, dict) else str(response.data)[:200]
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    retry_after = retry_after_seconds(headers.get("retry-after"))
    text = f"Slack API {response.status_code}: {error}"
    if response.status_code == 429 or response.status_code >= 500 or error in RETRYABLE_API_ERRORS:
        return RetryableError(text, retry_after=retry_after, status=response.status_code)
    return PermanentError(text, status=response.status_code)


def _mention(client: WebClient, mention: str) -> str:
    """An e-mail mention becomes the Slack user id when the bot may look it up; else it stays as written."""
    if not mention or SLACK_USER_ID.match(mention) or "@" not in mention:
        return mention
    try:
        return str(client.users_lookupByEmail(email=mention)["user"]["id"])
    except (SlackApiError, URLError, KeyError, TypeError):
        return mention


def _post_with_bot(outgoing: Outgoing, settings: Settings) -> None:
    client = WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=int(settings.delivery_timeout),
    )
    try:
        mention = _mention(client, outgoing.message.mention)
        client.chat_postMessage(
            channel=outgoing.target,
            text=fallback_text(outgoing.message, mention),
            blocks=blocks_for(outgoing.message, mention),
            metadata=_metadata(outgoing.uid),
            unfurl_links=False,
        )
    except SlackApiError as exc:
        raise _api_error(exc) from exc
    except (URLError, TimeoutError, ConnectionError) as exc:
        raise RetryableError(f"Slack API unreachable: {exc}") from exc


def _post_to_webhook(url: str, outgoing: Outgoing, settings: Settings) -> None:
    client = WebhookClient(url, timeout=int(settings.delivery_timeout), ssl=_tls())
    body = {
        "text": fallback_text(outgoing.message),
        "blocks": blocks_for(outgoing.message),
        "metadata": _metadata(outgoing.uid),
    }
    try:
        response = client.send_dict(body)
    except (URLError, TimeoutError, ConnectionError) as exc:
        raise RetryableError(f"Slack webhook unreachable: {exc}") from exc
    if response.status_code != 200:
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        failure = http_failure(response.status_code, response.body, headers.get("retry-after"))
        # 410 from Slack means the channel was archived: permanent, but not a webhook endpoint to disable.
        raise failure if failure.retryable else PermanentError(str(failure), status=response.status_code)


def send(outgoing: Outgoing, settings: Settings) -> None:
    target = outgoing.target
    if target.startswith(("https://", "http://")):
        _post_to_webhook(target, outgoing, settings)
    elif settings.slack_bot_token:
        _post_with_bot(outgoing, settings)
    elif settings.slack_webhook_url:
        _post_to_webhook(settings.slack_webhook_url, outgoing, settings)
    else:
        raise PermanentError("Slack is not set up: set ECOOPS_SLACK_BOT_TOKEN or ECOOPS_SLACK_WEBHOOK_URL")
