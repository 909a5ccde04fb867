"""Who an action reaches for one event: the account owner, the partner manager, the partner's contacts,
a Slack channel, an address, a user or a webhook endpoint, each resolved to a concrete target.

The account owner is the CRM's free-text owner (a name or an e-mail); it is a person here only if
it names one of our active users (by e-mail first, then by a unique name). When it does not, the
target carries the problem instead of an address, so the rule page and "try this rule" can say why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.automation.rules import Action, ActionKind, To
from ecoops.crm.models import Account
from ecoops.events.models import Event
from ecoops.partners.models import Partner


@dataclass(frozen=True)
class Target:
    """One place an action sends to; `problem` set means it cannot be sent (and why)."""

    address: str  # Slack channel/user id, e-mail address, webhook endpoint id, or user id (tasks)
    recipient: str  # "user:7", "partner_user:3", "channel:C0123", "address:x@y", "endpoint:2"
    label: str  # for people reading the log or a preview
    user_id: int | None = None
    problem: str = ""


class Resolver:
    """Resolves recipients, remembering users, owners and partners it has looked up (one per dispatch)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._owners: dict[str, User | None] = {}

    def owner_user(self, owner: str) -> User | None:
        """The active user the CRM owner text names: by e-mail, else by a name only one user has."""
        key = owner.strip().lower()
        if not key:
            return None
        if key not in self._owners:
            active = select(User).where(User.is_active)
            user = self.session.scalar(active.where(func.lower(User.email) == key))
            if user is None:
                named = self.session.scalars(active.where(func.lower(User.name) == key).limit(2)).all()
                user = named[0] if len(named) == 1 else None
            self._owners[key] = user
        return self._owners[key]

    def account_owner_text(self, event: Event) -> str:
        owner = str((event.payload or {}).get("account_owner", ""))
        if not owner and event.account_crm_id:
            owner = (
                self.session.scalar(select(Account.owner).where(Account.crm_id == event.account_crm_id)) or ""
            )
        return owner

    def account_owner(self, event: Event) -> tuple[User | None, str]:
        """The owner as a user, or None and why not."""
        owner = self.account_owner_text(event)
        if not owner:
            return None, "the event has no account owner"
        user = self.owner_user(owner)
        if user is None:
            return None, f"account owner {owner!r} is not one of our active users (matched by e-mail or name)"
        return user, ""

    def partner_manager(self, event: Event) -> tuple[User | None, str]:
        if event.partner_id is None:
            return None, "the event has no partner"
        partner = self.session.get(Partner, event.partner_id)
        if partner is None or partner.owner_id is None:
            return None, "the partner has no partner manager"
        user = self.session.get(User, partner.owner_id)
        if user is None or not user.is_active:
            return None, "the partner's manager is not an active user"
        return user, ""

    def _user(self, action: Action, event: Event) -> tuple[User | None, str]:
        if action.to == To.ACCOUNT_OWNER:
            return self.account_owner(event)
        if action.to == To.PARTNER_MANAGER:
            return self.partner_manager(event)
        user = self.session.get(User, int(action.value))
        if user is None or not user.is_active:
            return None, f"user {action.value} is not an active user"
        return user, ""

    def targets(self, action: Action, event: Event) -> list[Target]:
        """Where `action` goes for `event` (several for the partner's contacts)."""
        kind, to = ActionKind(action.kind), To(action.to)
        if to == To.CHANNEL:
            return [Target(action.value, f"channel:{action.value}", f"Slack channel {action.value}")]
        if to == To.ADDRESS:
            return [Target(action.value, f"address:{action.value}", action.value)]
        if to == To.ENDPOINT:
            return [Target(action.value, f"endpoint:{action.value}", f"webhook endpoint {action.value}")]
        if to == To.PARTNER_CONTACTS:
            return self._contacts(event)
        user, problem = self._user(action, event)
        who = to.replace("_", " ")
        if user is None:
            return [Target("", "", who, problem=problem)]
        label = f"{user.name} <{user.email}> ({who})"
        recipient = f"user:{user.id}"
        if kind == ActionKind.SLACK:
            if not user.slack_user_id:
                return [Target("", recipient, label, user.id, f"{user.name} has no Slack user id")]
            return [Target(user.slack_user_id, recipient, label, user.id)]
        if kind == ActionKind.EMAIL:
            return [Target(user.email, recipient, label, user.id)]
        return [Target(str(user.id), recipient, label, user.id)]  # a task

    def _contacts(self, event: Event) -> list[Target]:
        if event.partner_id is None:
            return [Target("", "", "partner contacts", problem="the event has no partner")]
        contacts = self.session.scalars(
            select(PartnerUser)
            .where(PartnerUser.partner_id == event.partner_id, PartnerUser.is_active)
            .order_by(PartnerUser.id)
        ).all()
        if not contacts:
            return [Target("", "", "partner contacts", problem="the partner has no active contacts")]
        return [
            Target(c.email, f"partner_user:{c.id}", f"{c.name} <{c.email}> (partner contact)")
            for c in contacts
        ]

    def mention(self, event: Event) -> str:
        """The account owner's Slack id to mention in channel messages, if the owner resolves to one."""
        user, _problem = self.account_owner(event)
        return user.slack_user_id if user is not None else ""
