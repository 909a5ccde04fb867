"""Single sign-on: who the claims of a verified OpenID Connect ID token make a person here.

The identity provider is the authority on our own staff: the role comes from the person's groups at
each sign-in (ECOOPS_OIDC_ROLE_MAP, the most powerful mapped group wins; ECOOPS_OIDC_DEFAULT_ROLE for
none), and someone signing in for the first time becomes a user then ("just in time"), without a
password. Partner users are not the provider's: they keep signing in with their password.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import user_actor
from ecoops.actors import Actor, ActorKind, Role
from ecoops.audit import utcnow
from ecoops.config import Settings, role_map


class SsoRefused(Exception):
    """The provider vouched for someone we do not let in; the message says why, for the sign-in page."""


def _groups(claims: Mapping[str, Any], claim: str) -> list[str]:
    value = claims.get(claim) or []
    return [value] if isinstance(value, str) else [str(group) for group in value]


def role_for(groups: list[str], settings: Settings) -> Role | None:
    """The most powerful role any of `groups` maps to, else the default role (None: no role)."""
    mapped = role_map(settings.oidc_role_map)
    roles = {Role(mapped[group]) for group in groups if group in mapped}
    for role in Role:  # most powerful first
        if role in roles:
            return role
    return Role(settings.oidc_default_role) if settings.oidc_default_role else None


def provider_actor(settings: Settings) -> Actor:
    return Actor(kind=ActorKind.SYSTEM, id=None, label=f"single sign-on ({settings.oidc_issuer})"[:200])


def user_for_claims(session: Session, claims: Mapping[str, Any], settings: Settings) -> User:
    """The internal user these verified claims sign in: created on first sign-in, role kept in step
    with the provider's groups; SsoRefused when there is no verified e-mail, no role, or the account
    is deactivated or a partner's."""
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        raise SsoRefused(
            "The identity provider sent no e-mail address: ask your admin to release the email claim."
        )
    if claims.get("email_verified") is False:
        raise SsoRefused(f"The identity provider has not verified {email}.")
    groups = _groups(claims, settings.oidc_groups_claim)
    role = role_for(groups, settings)
    if role is None:
        raise SsoRefused(f"{email} is in no group that has a role in ecoops. Ask an admin for access.")
    if session.scalar(select(PartnerUser.id).where(PartnerUser.email == email)) is not None:
        raise SsoRefused(f"{email} is a partner's account: sign in with its password.")
    by = provider_actor(settings)
    user = session.scalar(select(User).where(User.email == email).with_for_update())
    if user is None:
        name = str(claims.get("name") or "").strip()[:200] or email
        user = User(email=email, name=name, role=role.value, password_hash="")
        session.add(user)
        session.flush()
        audit.record(session, by, "user.created", "user", user.id, email=email, role=role.value, via="sso")
    elif not user.is_active:
        raise SsoRefused(f"{email} is deactivated in ecoops.")
    elif user.role != role.value:
        audit.record(
            session,
            by,
            "user.role_changed",
            "user",
            user.id,
            email=email,
            old=user.role,
            new=role.value,
            groups=groups,
        )
        user.role = role.value
    user.last_login_at = utcnow()
    audit.record(session, user_actor(user), "session.signed_in", "user", user.id, via="sso")
    return user
