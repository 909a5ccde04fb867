"""What a delivery carries: one message, rendered once for every channel it may go to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """An action a recipient can take from the message (a Slack button, a link in an e-mail)."""

    label: str
    action_id: str  # e.g. "registration.approve"; answered by the Slack interactive endpoint
    value: str  # e.g. the referral id
    url: str = ""  # fallback for channels without interactivity
    style: str = ""  # "primary" | "danger" | ""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str  # plain text: the e-mail text part and Slack's notification fallback
    html: str = ""  # e-mail HTML part; empty means derive from text
    blocks: list[dict[str, Any]] = field(default_factory=list)  # Slack Block Kit, empty means from text
    link: str = ""  # the page in ecoops the message is about
    buttons: tuple[Button, ...] = ()
    mention: str = ""  # Slack user id or e-mail of the person to mention (the account owner)
    # Files for e-mail ({"filename", "content_type", "data": base64}); other channels leave them out.
    attachments: tuple[dict[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        buttons = tuple(Button(**b) for b in data.get("buttons", ()))
        attachments = tuple(dict(a) for a in data.get("attachments", ()))
        return cls(**{**data, "buttons": buttons, "attachments": attachments})
