"""What a referral's and an account's pages show of enablement: the content attached, the playbooks of
the motion with their content (opened from a referral, a view counts towards the utilisation figure),
and the joint plans that hold the account."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.enablement import content, playbooks
from ecoops.enablement.models import ContentItem, JointPlan, JointPlanAccount, Motion, Playbook, Subject
from ecoops.enablement.plans import readable_plans
from ecoops.referrals.models import Direction, Referral


@dataclass(frozen=True)
class Panel:
    attached: list[ContentItem]
    playbooks: list[Playbook]
    contents: dict[int, ContentItem]  # the playbooks' step content the actor may read, by id
    library: list[ContentItem] = field(default_factory=list)  # what may be attached, for those who may
    plans: list[JointPlan] = field(default_factory=list)


def step_contents(session: Session, actor: Actor, found: list[Playbook]) -> dict[int, ContentItem]:
    """The content items of the playbooks' steps that the actor may read, by id."""
    ids = {s.content_id for p in found for s in p.steps if s.content_id}
    if not ids:
        return {}
    readable = content.readable_content(actor).where(ContentItem.id.in_(ids))
    return {i.id: i for i in session.scalars(readable)}


def referral_panel(session: Session, actor: Actor, referral: Referral) -> Panel:
    """Inbound referrals get the referral playbooks, outbound ones (we ask the partner) the co-sell ones."""
    motion = Motion.REFERRAL if referral.direction == Direction.INBOUND else Motion.CO_SELL
    found = playbooks.list_playbooks(session, actor, motion.value)
    library: list[ContentItem] = []
    if content.may_attach(actor):  # what the referral's partner may see: for every partner, or its own
        fitting = or_(ContentItem.partner_id.is_(None), ContentItem.partner_id == referral.partner_id)
        library = list(
            session.scalars(content.readable_content(actor).where(fitting).order_by(ContentItem.title))
        )
    return Panel(
        attached=content.attached_to(session, actor, Subject.REFERRAL, [str(referral.id)]),
        playbooks=found,
        contents=step_contents(session, actor, found),
        library=library,
    )


def account_panel(session: Session, actor: Actor, account_crm_id: str, opportunity_ids: list[str]) -> Panel:
    """The co-sell playbooks, the content on the account's opportunities, the joint plans holding it."""
    found = playbooks.list_playbooks(session, actor, Motion.CO_SELL.value)
    holding = select(JointPlanAccount.plan_id).where(JointPlanAccount.our_crm_id == account_crm_id)
    plans = session.scalars(readable_plans(actor).where(JointPlan.id.in_(holding)).order_by(JointPlan.id))
    return Panel(
        attached=content.attached_to(session, actor, Subject.OPPORTUNITY, opportunity_ids),
        playbooks=found,
        contents=step_contents(session, actor, found),
        plans=list(plans),
    )
