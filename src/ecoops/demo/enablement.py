"""Enablement for the demo: a content library (files and links, a better-together bill of materials per
portal partner), referral and co-sell playbooks published to partners and an onboarding one in draft,
content attached to recent inbound referrals, sellers' views on some of them (so the utilisation figure
is neither 0 nor 100 %, and the newest referral waits to be opened), and a joint account plan with the
first portal partner over accounts both sides have.

Made through the enablement services as a partner manager, so the checks and the audit trail are real.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import user_actor
from ecoops.actors import Actor, Role
from ecoops.config import Settings
from ecoops.enablement import content, plans, playbooks, uses
from ecoops.enablement.models import ContentItem, Subject, UseAction
from ecoops.partners.models import Partner
from ecoops.referrals.models import Direction, Referral

RECENT_REFERRALS = 12  # the newest inbound referrals get content attached
OPENED_EVERY = 2  # sellers opened content on every second of them, the newest aside


@dataclass(frozen=True)
class _Item:
    title: str
    kind: str
    motion: str
    stage: str
    body: bytes = b""  # a file's bytes, else a link
    filename: str = ""
    link: str = ""
    description: str = ""


LIBRARY = (
    _Item(
        "Referral one-pager: what to send a partner's lead",
        "guide",
        "referral",
        "discover",
        b"# Partner referral one-pager\n\n1. Thank the partner within a day.\n2. Book the first meeting.\n",
        "referral-one-pager.md",
        description="The first e-mail and meeting agenda for a lead a partner sent us.",
    ),
    _Item(
        "Joint value guide",
        "guide",
        "any",
        "evaluate",
        link="https://docs.example.com/partners/joint-value-guide",
        description="Why customers buy us together, with the figures partners may quote.",
    ),
    _Item(
        "Co-sell call checklist",
        "battlecard",
        "co_sell",
        "discover",
        b"Before the call\n- Share the account plan\n- Agree who leads\n"
        b"After the call\n- Log the partner's part\n",
        "co-sell-checklist.txt",
    ),
    _Item(
        "Customer story: rollout with a partner",
        "case_study",
        "referral",
        "close",
        link="https://docs.example.com/stories/partner-rollout",
    ),
    _Item(
        "Partner onboarding deck",
        "deck",
        "onboarding",
        "any",
        b"Slide 1: Welcome\nSlide 2: How referrals work\nSlide 3: Your portal\n",
        "onboarding-deck.txt",
    ),
)
PLAYBOOKS = (
    (
        "Referral: from a partner's lead to the first meeting",
        "referral",
        True,
        (
            ("Thank the partner and accept the lead", "ours", 0),
            ("Ask the partner what the customer needs", "both", 1),
            ("Send the better-together bill of materials", "ours", -1),
            ("Close with the customer story", "ours", 3),
        ),
    ),
    (
        "Co-sell: bring the partner into the deal",
        "co_sell",
        True,
        (
            ("Pick an account you both have", "ours", None),
            ("Run the call with the checklist", "both", 2),
            ("Agree the joint value", "both", 1),
        ),
    ),
    (
        "Onboarding: a new partner's first 30 days",
        "onboarding",
        False,
        (("Walk through the deck", "both", 4),),
    ),
)
PLAN_ACTIONS = (
    ("Map the buying committee together", "ours", 7, "done"),
    ("Joint demo for the IT team", "partner", 14, "in_progress"),
    ("Send the bill of materials", "ours", 21, "open"),
    ("Partner's consultants scope the rollout", "partner", 35, "open"),
)


def _bill_of_materials(partner_name: str) -> _Item:
    rows = f"Line,Ours,{partner_name}\nPlatform licence,yes,\nIntegration,,yes\nRollout services,,yes\n"
    return _Item(
        f"Better-together bill of materials: {partner_name}",
        "bill_of_materials",
        "referral",
        "evaluate",
        rows.encode(),
        "bill-of-materials.csv",
        description=f"What a customer buys from us and from {partner_name}, line by line.",
    )


def _add(
    session: Session, actor: Actor, settings: Settings, item: _Item, partner: Partner | None
) -> ContentItem:
    data = content.ContentInput(
        item.title,
        item.kind,
        item.description,
        item.link,
        partner.id if partner else None,
        "Platform",
        item.motion,
        item.stage,
    )
    upload = content.Upload(io.BytesIO(item.body), item.filename) if item.body else None
    return content.add_content(session, actor, data, settings, upload)


def seed_enablement(session: Session, settings: Settings, today: date) -> int:
    """Seed the library, playbooks, attachments, views and a joint plan; how many library items."""
    manager = session.scalars(
        select(User).where(User.role == Role.PARTNER_MANAGER.value).order_by(User.id)
    ).first()
    sellers = session.scalars(select(User).where(User.role == Role.SALES.value).order_by(User.id)).all()
    if manager is None or not sellers:
        return 0
    actor = user_actor(manager)
    portal = session.scalars(
        select(Partner).where(Partner.id.in_(select(PartnerUser.partner_id))).order_by(Partner.id)
    ).all()
    items = [_add(session, actor, settings, item, None) for item in LIBRARY]
    boms = {
        partner.id: _add(session, actor, settings, _bill_of_materials(partner.name), partner)
        for partner in portal
    }
    generic_bom = _add(session, actor, settings, _bill_of_materials("a partner"), None)
    for title, motion, published, steps in PLAYBOOKS:
        playbook = playbooks.create_playbook(session, actor, title=title, motion=motion)
        for step_title, who, index in steps:
            step_item = generic_bom if index == -1 else (items[index] if index is not None else None)
            playbooks.add_step(
                session,
                actor,
                playbook,
                title=step_title,
                who=who,
                content_id=step_item.id if step_item else None,
            )
        if published:
            playbooks.publish(session, actor, playbook, published=True, partner_id=None)
    _attach_and_open(session, actor, sellers, items[0], boms, today)
    if portal:
        _joint_plan(session, actor, portal[0], today)
    return len(items) + len(boms) + 1


def _attach_and_open(
    session: Session,
    actor: Actor,
    sellers: Sequence[User],
    one_pager: ContentItem,
    boms: dict[int, ContentItem],
    today: date,
) -> None:
    recent = session.scalars(
        select(Referral)
        .where(Referral.direction == Direction.INBOUND.value)
        .order_by(Referral.submitted_at.desc(), Referral.id.desc())
        .limit(RECENT_REFERRALS)
    ).all()
    for n, referral in enumerate(recent):
        attached = boms.get(referral.partner_id, one_pager)
        content.attach(session, actor, attached, Subject.REFERRAL, str(referral.id))
        if n and n % OPENED_EVERY == 0:  # the newest (n = 0) waits to be opened
            seller = next(
                (s for s in sellers if s.id == referral.assigned_seller_id), sellers[n % len(sellers)]
            )
            day = min(today, referral.submitted_at.date() + timedelta(days=1))
            uses.record_use(session, user_actor(seller), attached, UseAction.VIEW, day, referral.id)


def _joint_plan(session: Session, actor: Actor, partner: Partner, today: date) -> None:
    plan = plans.create_plan(
        session,
        actor,
        partner_id=partner.id,
        title=f"{partner.name}: joint accounts this half",
        objective="Win three accounts we both have, with the partner's consultants on the rollout.",
    )
    candidates = plans.candidates(session, actor, plan)[:3]
    for candidate in candidates:
        plans.add_account(session, actor, plan, candidate.our_crm_id)
    partner_user = session.scalars(
        select(PartnerUser).where(PartnerUser.partner_id == partner.id).order_by(PartnerUser.id)
    ).first()
    for n, (title, side, days, status) in enumerate(PLAN_ACTIONS):
        owner = f"partner:{partner_user.id}" if side == "partner" and partner_user else f"ours:{actor.id}"
        account = candidates[n % len(candidates)].our_crm_id if candidates else ""
        action = plans.add_action(
            session,
            actor,
            plan,
            title=title,
            owner=owner,
            due_on=today + timedelta(days=days),
            our_crm_id=account,
        )
        if status != "open":
            plans.set_status(session, actor, plan, action.id, status)
