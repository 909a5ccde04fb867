"""Editing a partner's contacts: their role at the partner, whether they sign in, and partner admin rights.

Internal user managers edit any partner's contacts, a partner admin those of its own partner (the portal's
Colleagues). Taking sign-in away clears the password, which also ends the contact's open sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import PartnerUser
from ecoops.accounts.service import (
    InvalidInput,
    checked_contact_role,
    hash_password,
    require_contact_manager,
)
from ecoops.actors import Actor, ActorKind
from ecoops.permissions import NotFound

# A contact's access as the forms' select says it: signs in to the portal, or only receives e-mail.
PORTAL_ACCESS = "portal"
ACCESS_PATTERN = "^(portal|email)$"


@dataclass(frozen=True)
class ContactEdit:
    contact_role: str
    can_sign_in: bool
    is_partner_admin: bool
    password: str = ""  # needed only to let a contact without a password sign in


def edit_contact(session: Session, actor: Actor, partner_user_id: int, edit: ContactEdit) -> PartnerUser:
    contact = session.get(PartnerUser, partner_user_id)
    if contact is None:
        raise NotFound(f"no partner user {partner_user_id}")
    if actor.kind == ActorKind.PARTNER_USER and actor.partner_id != contact.partner_id:
        raise NotFound(f"no partner user {partner_user_id}")  # another partner's people stay unseen
    require_contact_manager(session, actor, contact.partner_id)
    is_self = actor.kind == ActorKind.PARTNER_USER and actor.id == contact.id
    if is_self and (not edit.can_sign_in or not edit.is_partner_admin):
        raise InvalidInput("you cannot take away your own sign-in or admin rights; ask another admin")
    if edit.is_partner_admin and not edit.can_sign_in:
        raise InvalidInput("a partner admin must be able to sign in")
    before = _state(contact)
    contact.contact_role = checked_contact_role(edit.contact_role)
    contact.is_partner_admin = edit.is_partner_admin
    if edit.can_sign_in and not contact.password_hash:
        if not edit.password:
            raise InvalidInput("give an initial password to let this contact sign in")
        contact.password_hash = hash_password(edit.password)
    elif not edit.can_sign_in:
        contact.password_hash = ""
    contact.can_sign_in = edit.can_sign_in
    after = _state(contact)
    changed = {field: [before[field], after[field]] for field in after if before[field] != after[field]}
    if changed:
        audit.record(
            session,
            actor,
            "partner_user.changed",
            "partner_user",
            contact.id,
            email=contact.email,
            partner_id=contact.partner_id,
            changes=changed,
        )
    return contact


def _state(contact: PartnerUser) -> dict[str, str | bool]:
    return {
        "contact_role": contact.contact_role,
        "can_sign_in": contact.can_sign_in,
        "is_partner_admin": contact.is_partner_admin,
    }
