"""A Message as Slack sees it: Block Kit blocks (given, or built from text and buttons), a text fallback."""

from __future__ import annotations

import re
from typing import Any

from ecoops.automation.messages import Button, Message

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def mention_markup(mention: str) -> str:
    """`<@U…>` for a Slack user id (Slack notifies them); anything else (an unresolved e-mail) as written."""
    if not mention:
        return ""
    return f"<@{mention}>" if SLACK_USER_ID.match(mention) else mention


def fallback_text(message: Message, mention: str = "") -> str:
    """The plain text Slack shows in notifications and where blocks cannot be shown."""
    head = mention_markup(mention or message.mention)
    text = f"{head} {message.text}" if head else message.text
    return f"{text}\n{message.link}" if message.link else text


def _button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label[:75]},
        "action_id": button.action_id,
        "value": button.value,
    }
    if button.url:
        element["url"] = button.url
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def blocks_for(message: Message, mention: str = "") -> list[dict[str, Any]]:
    """The message's own blocks, or a section with the text (mention first) and an actions row of buttons."""
    if message.blocks:
        return message.blocks
    head = mention_markup(mention or message.mention)
    text = f"{head} {message.text}" if head else message.text
    if message.link:
        text += f"\n<{message.link}|Open in ecoops>"
    blocks: list[dict[str, Any]] = []
    if message.subject:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if message.buttons:
        blocks.append({"type": "actions", "elements": [_button(b) for b in message.buttons[:25]]})
    return blocks
