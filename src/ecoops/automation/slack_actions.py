"""Slack's interactive endpoint: a reviewer approves or rejects a deal registration from its button, and
a deal owner (or a partner manager) confirms logged influence from its own (a dispute needs a reason,
so its button leads to the page where it is given).

Slack signs every request (HMAC of timestamp and body with the app's signing secret); that signature
stands in for the session and CSRF token a page would need, so this router carries no CSRF check.
A request that is unsigned, wrongly signed or older than five minutes is refused (403, as a page
refuses one without its CSRF token), and so is every request while no signing secret is set. A
signed request from a Slack user who is not linked to an active ecoops user, or whose user may not
review referrals, changes nothing and is answered with a message saying so. The review itself is the same
service call as the web page's, made as that user (audited under their name).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput, user_actor
from ecoops.attribution import influence
from ecoops.attribution.review import Decision
from ecoops.config import Settings
from ecoops.permissions import Forbidden, NotFound
from ecoops.referrals import review
from ecoops.web.deps import app_settings, db

log = logging.getLogger(__name__)
router = APIRouter()
ACTIONS = ("registration.approve", "registration.reject", "influence.confirm", "influence.dispute")
SLACK_RESPONSE_HOSTS = ("hooks.slack.com",)


async def raw_body(request: Request) -> bytes:
    """The exact bytes Slack signed (read before anything parses the form)."""
    return await request.body()


def _verified(body: bytes, request: Request, settings: Settings) -> dict[str, Any]:
    if not settings.slack_signing_secret:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Slack actions are not set up: set ECOOPS_SLACK_SIGNING_SECRET to the Slack app's signing secret",
        )
    verifier = SignatureVerifier(settings.slack_signing_secret)
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature or not verifier.is_valid(body, timestamp, signature):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "not a request signed by Slack: the signature is missing or wrong, or older than five minutes",
        )
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "no interaction payload in the request") from None
    if not isinstance(payload, dict):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the interaction payload is not an object")
    return payload


def _answer(text: str) -> dict[str, Any]:
    """A reply only the person who pressed the button sees; the message itself stays as it was."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def _updated(payload: dict[str, Any], text: str) -> dict[str, Any]:
    """The original message without its buttons, with who decided what underneath."""
    original = payload.get("message") or {}
    blocks = [b for b in original.get("blocks", []) if isinstance(b, dict) and b.get("type") != "actions"]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return {"replace_original": True, "text": f"{original.get('text', '')}\n{text}".strip(), "blocks": blocks}


def _may_post_to(url: str, settings: Settings) -> bool:
    """Slack's response URLs are on hooks.slack.com; a stand-in Slack (tests) shares the API's host."""
    host = urlsplit(url).hostname or ""
    return urlsplit(url).scheme in ("https", "http") and (
        host in SLACK_RESPONSE_HOSTS or host == urlsplit(settings.slack_api_url).hostname
    )


def _post_response(url: str, body: dict[str, Any], timeout: float) -> None:
    try:
        httpx.post(url, json=body, timeout=timeout).raise_for_status()
    except httpx.HTTPError as error:
        log.warning("could not update the Slack message through its response URL: %s", error)


def decide(session: Session, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Carry out one button press; the reply for Slack (a replacement message, or an ephemeral note)."""
    if payload.get("type") != "block_actions" or not payload.get("actions"):
        return _answer("ecoops only answers its own buttons.")
    action = payload["actions"][0]
    action_id, value = str(action.get("action_id", "")), str(action.get("value", ""))
    if action_id not in ACTIONS or not value.isdigit():
        return _answer(f"ecoops does not know the action {action_id!r}.")
    slack_user = str((payload.get("user") or {}).get("id", ""))
    user = (
        session.scalar(select(User).where(User.slack_user_id == slack_user, User.is_active))
        if slack_user
        else None
    )
    if user is None:
        return _answer(
            f"Your Slack account ({slack_user or 'unknown'}) is not linked to an active ecoops user, so "
            "nothing was changed. An admin can link it on the Slack users page."
        )
    actor = user_actor(user)
    if action_id.startswith("influence."):
        return _influence(session, payload, user, action_id, int(value))
    referral_id = int(value)
    try:
        if action_id == "registration.approve":
            review.approve(session, actor, referral_id, settings=settings, reason="approved from Slack")
            verdict = f":white_check_mark: Approved by {user.name}"
        else:
            review.reject(session, actor, referral_id, f"rejected from Slack by {user.name}")
            verdict = f":x: Rejected by {user.name}"
    except Forbidden:
        return _answer(f"{user.name} may not review referrals, so nothing was changed.")
    except NotFound:
        return _answer(f"There is no referral #{referral_id}.")
    except InvalidInput as problem:
        return _answer(f"Nothing changed: {problem}.")
    return _updated(payload, verdict)


def _influence(
    session: Session, payload: dict[str, Any], user: User, action_id: str, log_id: int
) -> dict[str, Any]:
    if action_id == "influence.dispute":
        return _answer(
            f"A dispute needs a reason, which the partner sees: give it on the log's page (#{log_id})."
        )
    try:
        influence.decide(session, user_actor(user), log_id, Decision.CONFIRM, "confirmed from Slack")
    except Forbidden:
        return _answer(f"{user.name} may not confirm this log: its deal's owner or a partner manager may.")
    except NotFound:
        return _answer(f"There is no influence log #{log_id}.")
    except InvalidInput as problem:
        return _answer(f"Nothing changed: {problem}.")
    return _updated(payload, f":white_check_mark: Confirmed by {user.name}")


@router.post("/integrations/slack/actions")
def slack_actions(
    request: Request,
    background: BackgroundTasks,
    body: bytes = Depends(raw_body),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    payload = _verified(body, request, settings)
    reply = decide(session, settings, payload)
    response_url = str(payload.get("response_url", ""))
    if reply.get("replace_original") and response_url and _may_post_to(response_url, settings):
        # Sent after the response, so after the request's transaction has committed the decision.
        background.add_task(_post_response, response_url, reply, settings.delivery_timeout)
    return JSONResponse(reply)
