"""Co-sell from the overlap: ask a partner that has one of our accounts for help (an intro, or an
outbound referral), prefilled with only what its sharing rules let it see, sent to its portal and to
its contacts by e-mail with a one-time answer link (`answer_links`)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.automation.deliveries import Channel, enqueue
from ecoops.automation.messages import Message
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.mapping.models import Match, PartnerAccount, PartnerUpload
from ecoops.mapping.overlaps import partner_or_404
from ecoops.mapping.populations import memberships
from ecoops.mapping.sharing import rules_for, shared_fields
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound
from ecoops.referrals.access import require_referrer
from ecoops.referrals.answer_links import answer_url, create_answer_link
from ecoops.referrals.models import Kind, Referral, Via
from ecoops.referrals.outbound import refer_out
from ecoops.referrals.submission import ReferralInput

ASKABLE_KINDS = (Kind.INTRO, Kind.EQL)


def their_records(session: Session, partner_id: int, account_crm_id: str) -> list[PartnerAccount]:
    """The partner's records of our account in its current list (the same company, not a related one)."""
    statement = (
        select(PartnerAccount, Match.explanation)
        .join(PartnerUpload, (PartnerUpload.id == PartnerAccount.upload_id) & PartnerUpload.is_current)
        .join(
            Match,
            (Match.partner_id == PartnerUpload.partner_id) & (Match.their_id == PartnerAccount.their_id),
        )
        .where(PartnerUpload.partner_id == partner_id, Match.our_crm_id == account_crm_id)
        .order_by(PartnerAccount.line)
    )
    return [record for record, why in session.execute(statement) if why.get("relation", "same") == "same"]


def _overlapping(
    session: Session, partner_id: int, account_crm_id: str
) -> tuple[Account, list[PartnerAccount]]:
    partner_or_404(session, partner_id)
    account = session.scalar(select(Account).where(Account.crm_id == account_crm_id))
    records = their_records(session, partner_id, account_crm_id) if account is not None else []
    if account is None or not records:
        raise NotFound(f"the partner's current list does not have account {account_crm_id}")
    return account, records


_OWNER_COLUMN = re.compile(r"\b(owner|rep|account manager)\b")


def _their_owner(record: PartnerAccount) -> str:
    """The owner the partner's own list gives ("Account Owner", "Partner Rep"…), if it gave one."""
    return next((v for k, v in record.fields.items() if _OWNER_COLUMN.search(k.lower()) and v), "")


def prefill(session: Session, actor: Actor, *, partner_id: int, account_crm_id: str) -> ReferralInput:
    """The request, ready to send: named as the partner names the account, with its population and
    owner from its own list, and of ours only what its sharing rules show it (our owner, if shared)."""
    require_referrer(actor)
    account, records = _overlapping(session, partner_id, account_crm_id)
    ours = [key for key, crm_ids in memberships(session).items() if account.crm_id in crm_ids]
    fields = shared_fields(rules_for(session, partner_id), ours)
    populations = sorted({r.population for r in records if r.population})
    name = records[0].name or records[0].their_id
    lines = [f"You list {name} among your {', '.join(populations) or 'accounts'}."]
    owner = _their_owner(records[0])
    if owner:
        lines.append(f"Your account owner: {owner}.")
    if "owner" in fields and account.owner:
        lines.append(f"Our account owner: {account.owner}.")
    lines.append("Could you introduce us, or work this account with us? Accept and we will get in touch.")
    seller = session.get(User, actor.id) if actor.id is not None else None
    return ReferralInput(
        kind=Kind.INTRO,
        company=name,
        contact_name=seller.name if seller else "",
        contact_email=seller.email if seller else "",
        notes="\n".join(lines),
    )


def ask_for_help(
    session: Session,
    actor: Actor,
    data: ReferralInput,
    *,
    partner_id: int,
    account_crm_id: str,
    settings: Settings,
) -> Referral:
    """Send the request to the partner's portal and e-mail its contacts a one-time answer link."""
    require_referrer(actor)
    _overlapping(session, partner_id, account_crm_id)
    if data.kind not in ASKABLE_KINDS:
        raise InvalidInput("ask for an intro or refer the account (eql)")
    referral = refer_out(
        session,
        actor,
        data,
        partner_id=partner_id,
        settings=settings,
        via=Via.INTERNAL,
        account_crm_id=account_crm_id,
    )
    link = create_answer_link(session, actor, referral)
    _email_contacts(session, referral, answer_url(link, settings), settings)
    return referral


def _email_contacts(session: Session, referral: Referral, url: str, settings: Settings) -> int:
    """One e-mail per active contact through the outbox (delivered, retried, never lost); how many."""
    partner = session.get_one(Partner, referral.partner_id)
    contacts = session.scalars(
        select(PartnerUser)
        .where(PartnerUser.partner_id == partner.id, PartnerUser.is_active)
        .order_by(PartnerUser.id)
    ).all()
    what = "an introduction" if referral.kind == Kind.INTRO else "a referral"
    message = Message(
        subject=f"{referral.contact_name or 'We'} would like {what}: {referral.company}",
        text=(
            f"{referral.notes}\n\nFrom: {referral.contact_name} <{referral.contact_email}>\n\n"
            f"Accept or decline here, no sign-in needed (the link works once, for 30 days):\n{url}\n\n"
            f"Or in your portal: {settings.link_base}/portal/referrals/{referral.id}"
        ),
        link=url,
    )
    for contact in contacts:
        enqueue(
            session,
            channel=Channel.EMAIL,
            target=contact.email,
            message=message,
            recipient=f"partner_user:{contact.id}",
            source="co_sell",
            source_ref=f"co_sell:referral:{referral.id}",
            partner_id=partner.id,
        )
    return len(contacts)
