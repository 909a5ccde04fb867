"""Signed no-login links: a partner submits referrals without an account, through a link we can revoke.

The URL carries the link's id signed with the workspace secret (itsdangerous), so it cannot be forged or
pointed at another partner; the row decides whether it still works (expiry, revocation). Every form
shown carries a one-time nonce that a submission spends, so a captured POST cannot be replayed, and each
link has an hourly budget of submissions and of forms shown.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound
from ecoops.referrals.access import require_reviewer
from ecoops.referrals.models import FormNonce, Referral, ReferralLink, Via
from ecoops.referrals.queries import as_utc
from ecoops.referrals.submission import ReferralInput, submit

SUBMISSIONS_PER_HOUR = 20
FORMS_PER_HOUR = 200
NONCE_LIFETIME = timedelta(hours=2)
MAX_LINK_DAYS = 366
_SALT = "ecoops.referral-link"


class RateLimited(Exception):
    """Too many submissions (or forms) through one link in the last hour; answered with 429."""


def link_token(link: ReferralLink, settings: Settings) -> str:
    return URLSafeSerializer(settings.secret_key, salt=_SALT).dumps([link.id, link.partner_id])


def create_link(
    session: Session, actor: Actor, *, partner_id: int, days: int, settings: Settings
) -> ReferralLink:
    require_reviewer(actor)
    if session.get(Partner, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    if not 1 <= days <= MAX_LINK_DAYS:
        raise InvalidInput(f"a link lasts 1 to {MAX_LINK_DAYS} days")
    link = ReferralLink(
        partner_id=partner_id, created_by=actor.label, expires_at=utcnow() + timedelta(days=days)
    )
    session.add(link)
    session.flush()
    audit.record(
        session, actor, "referral_link.created", "referral_link", link.id, partner_id=partner_id, days=days
    )
    return link


def revoke_link(session: Session, actor: Actor, link_id: int) -> ReferralLink:
    require_reviewer(actor)
    link = session.get(ReferralLink, link_id)
    if link is None:
        raise NotFound(f"no link {link_id}")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.record(
            session, actor, "referral_link.revoked", "referral_link", link.id, partner_id=link.partner_id
        )
    return link


def list_links(session: Session, actor: Actor) -> list[ReferralLink]:
    """The submission links (a co-sell request's answer link is its own, not one to manage here)."""
    require_reviewer(actor)
    statement = select(ReferralLink).where(ReferralLink.referral_id.is_(None))
    return list(session.scalars(statement.order_by(ReferralLink.id.desc())))


def partner_links(session: Session, actor: Actor) -> list[ReferralLink]:
    """A partner admin's view: its own partner's links that still work, to pass to colleagues."""
    if actor.kind != ActorKind.PARTNER_USER:
        return []
    statement = select(ReferralLink).where(
        ReferralLink.partner_id == actor.partner_id,
        ReferralLink.referral_id.is_(None),
        ReferralLink.revoked_at.is_(None),
        ReferralLink.expires_at > utcnow(),
    )
    return list(session.scalars(statement.order_by(ReferralLink.expires_at.desc())))


def is_usable(link: ReferralLink) -> bool:
    return link.revoked_at is None and as_utc(link.expires_at) > utcnow()


def signed_link(session: Session, token: str, settings: Settings) -> ReferralLink:
    """The link a URL token names if its signature holds, usable or not; else NotFound."""
    try:
        link_id, partner_id = URLSafeSerializer(settings.secret_key, salt=_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("this link is not valid: it may have expired or been withdrawn") from None
    link = session.get(ReferralLink, link_id) if isinstance(link_id, int) else None
    if link is None or link.partner_id != partner_id:
        raise NotFound("this link is not valid: it may have expired or been withdrawn")
    return link


def open_link(session: Session, token: str, settings: Settings) -> ReferralLink:
    """The submission link a URL token names, if the signature holds and the link is neither expired
    nor revoked. Every failure is the same NotFound: a caller learns nothing about which links exist.
    """
    link = signed_link(session, token, settings)
    if link.referral_id is not None or not is_usable(link):
        raise NotFound("this link is not valid: it may have expired or been withdrawn")
    return link


def _count_last_hour(session: Session, link: ReferralLink, *, spent: bool) -> int:
    """Forms this link handed out (or, with `spent`, submissions it took) in the last hour."""
    column = FormNonce.used_at if spent else FormNonce.issued_at
    since = utcnow() - timedelta(hours=1)
    return session.scalar(select(func.count()).where(FormNonce.link_id == link.id, column >= since)) or 0


def issue_nonce(session: Session, link: ReferralLink) -> str:
    """A fresh one-time token for one form."""
    if _count_last_hour(session, link, spent=False) >= FORMS_PER_HOUR:
        raise RateLimited("too many forms opened through this link; try again in an hour")
    nonce = secrets.token_urlsafe(24)
    session.add(FormNonce(link_id=link.id, nonce=nonce, issued_at=utcnow()))
    session.flush()
    return nonce


def _spend_nonce(session: Session, link: ReferralLink, nonce: str) -> None:
    if _count_last_hour(session, link, spent=True) >= SUBMISSIONS_PER_HOUR:
        raise RateLimited("too many submissions through this link; try again in an hour")
    row = session.scalar(select(FormNonce).where(FormNonce.nonce == nonce, FormNonce.link_id == link.id))
    if row is None or row.used_at is not None or as_utc(row.issued_at) < utcnow() - NONCE_LIFETIME:
        raise InvalidInput("this form was already sent or is too old; open the link again to send another")
    row.used_at = utcnow()


def submit_through_link(
    session: Session, token: str, nonce: str, data: ReferralInput, settings: Settings
) -> Referral:
    """A submission from the no-login form: the link names the partner, the nonce is spent first."""
    link = open_link(session, token, settings)
    _spend_nonce(session, link, nonce)
    actor = Actor(kind=ActorKind.SYSTEM, id=None, label=f"signed link #{link.id}", role=None)
    return submit(
        session, actor, data, settings=settings, via=Via.LINK, partner_id=link.partner_id, link_id=link.id
    )
