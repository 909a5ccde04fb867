"""Requests as Slack sends them to the interactive endpoint: a form with a JSON payload, signed."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def button_payload(
    slack_user: str, action_id: str, referral_id: int, response_url: str = ""
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": slack_user, "username": "someone"},
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "value": str(referral_id)}],
        "message": {
            "text": "New deal registration",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "Acme from Alpha"}},
                {"type": "actions", "elements": []},
            ],
        },
    }


def signed(
    payload: dict[str, Any], *, secret: str = SIGNING_SECRET, age: int = 0
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a request Slack signed `age` seconds ago."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body) or ""
    return body, {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature,
    }
