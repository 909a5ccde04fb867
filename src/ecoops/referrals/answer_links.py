"""One-time answer links: a partner contact accepts or declines one co-sell request from its e-mail,
without signing in. A signed referral link (`links`) that names the request; it answers once, for
30 days (410 after, or once answered), and a forged or changed token is the links' usual 404."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.permissions import NotFound
from ecoops.referrals.links import is_usable, link_token, signed_link
from ecoops.referrals.models import Referral, ReferralLink, Status
from ecoops.referrals.outbound import answer

ANSWER_LINK_DAYS = 30


class Gone(Exception):
    """The request was answered already, or its link expired: answered with 410."""


def create_answer_link(session: Session, actor: Actor, referral: Referral) -> ReferralLink:
    now = utcnow()
    link = ReferralLink(
        partner_id=referral.partner_id,
        created_by=actor.label,
        created_at=now,
        expires_at=now + timedelta(days=ANSWER_LINK_DAYS),
        referral_id=referral.id,
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor,
        "referral_link.created",
        "referral_link",
        link.id,
        partner_id=link.partner_id,
        referral_id=referral.id,
    )
    return link


def answer_url(link: ReferralLink, settings: Settings) -> str:
    return f"{settings.link_base}/r/{link_token(link, settings)}"


def open_answer_link(session: Session, token: str, settings: Settings) -> tuple[ReferralLink, Referral]:
    """The answer link and its request while it may still be answered; NotFound if forged, Gone if spent."""
    link = signed_link(session, token, settings)
    referral = session.get(Referral, link.referral_id) if link.referral_id is not None else None
    if referral is None:
        raise NotFound("this link is not valid: it may have expired or been withdrawn")
    if referral.status != Status.SENT or not is_usable(link):
        raise Gone(f"this request was {referral.status} already, or its link has expired")
    return link, referral


def answer_through_link(
    session: Session, token: str, *, accept: bool, reason: str, settings: Settings
) -> Referral:
    """The partner contact's answer from the e-mailed link; spends the link."""
    link, referral = open_answer_link(session, token, settings)
    actor = Actor(kind=ActorKind.SYSTEM, id=None, label=f"answer link #{link.id}", role=None)
    try:
        answer(session, actor, referral, accept=accept, settings=settings, reason=reason)
    except InvalidInput:
        if referral.status != Status.SENT:  # answered in the portal meanwhile
            raise Gone(f"this request was {referral.status} already") from None
        raise
    link.revoked_at = utcnow()
    return referral
