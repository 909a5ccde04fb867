"""Joint account plans: with one partner, over overlapping accounts chosen from the latest mapping, with
actions owned by our people or the partner's, due dates and status. Partner managers edit them; the
partner's users see their own partner's plans in the portal, and nobody else's (every read starts from
`readable_plans`). A partner sees each account by its own list's name, never our CRM's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import Actor, ActorKind
from ecoops.crm.models import Account
from ecoops.enablement.models import JointPlan, JointPlanAccount, JointPlanAction, PlanStatus
from ecoops.mapping.overlaps import overlap_rows
from ecoops.partners.models import Partner
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require

MAX_TITLE, MAX_TEXT = 300, 4000


def readable_plans(actor: Actor) -> Select[JointPlan]:
    """Internal readers see every plan; a partner user only its own partner's."""
    statement = select(JointPlan)
    if actor.kind == ActorKind.PARTNER_USER:
        return statement.where(JointPlan.partner_id == actor.partner_id)
    require(actor, Permission.READ_PROGRAM)
    return statement


def get_plan(session: Session, actor: Actor, plan_id: int) -> JointPlan:
    """The plan, or NotFound when it does not exist or is another partner's (the same answer)."""
    plan = session.scalar(readable_plans(actor).where(JointPlan.id == plan_id))
    if plan is None:
        raise NotFound(f"no joint plan {plan_id}")
    return plan


def list_plans(session: Session, actor: Actor, partner_id: int | None = None) -> list[JointPlan]:
    statement = readable_plans(actor).order_by(JointPlan.id.desc())
    if partner_id is not None:
        statement = statement.where(JointPlan.partner_id == partner_id)
    return list(session.scalars(statement))


def _text(field: str, value: str, limit: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise FieldError(field, "cannot be empty")
    if len(value) > limit:
        raise FieldError(field, f"at most {limit} characters")
    return value


def create_plan(
    session: Session, actor: Actor, *, partner_id: int, title: str, objective: str = ""
) -> JointPlan:
    require(actor, Permission.EDIT_PROGRAM)
    if session.get(Partner, partner_id) is None:
        raise FieldError("partner_id", f"no partner {partner_id}")
    plan = JointPlan(
        partner_id=partner_id,
        title=_text("title", title, MAX_TITLE),
        objective=_text("objective", objective, MAX_TEXT, required=False),
        created_by=actor.label,
    )
    session.add(plan)
    session.flush()
    audit.record(session, actor, "joint_plan.created", "joint_plan", plan.id, partner_id=partner_id)
    return plan


@dataclass(frozen=True)
class Candidate:
    """An overlapping account the plan could take: our side and the partner's record."""

    our_crm_id: str
    our_name: str
    their_id: str
    their_name: str


def candidates(session: Session, actor: Actor, plan: JointPlan) -> list[Candidate]:
    """The partner's overlapping accounts (its latest mapping) not in the plan yet, by our name."""
    require(actor, Permission.READ_MAPPING)
    taken = set(
        session.scalars(select(JointPlanAccount.our_crm_id).where(JointPlanAccount.plan_id == plan.id))
    )
    seen: dict[str, Candidate] = {}
    for row in overlap_rows(session, plan.partner_id):
        if row.our_crm_id not in taken:
            seen.setdefault(
                row.our_crm_id, Candidate(row.our_crm_id, row.our_name, row.their_id, row.their_name)
            )
    return sorted(seen.values(), key=lambda c: (c.our_name.lower(), c.our_crm_id))


def add_account(session: Session, actor: Actor, plan: JointPlan, our_crm_id: str) -> JointPlanAccount:
    """Put one of the partner's overlapping accounts in the plan; any other account is refused."""
    require(actor, Permission.EDIT_PROGRAM)
    found = next((c for c in candidates(session, actor, plan) if c.our_crm_id == our_crm_id), None)
    if found is None:
        raise FieldError(
            "our_crm_id",
            f"{our_crm_id!r} is not an account overlapping with this partner, or already in the plan",
        )
    account = JointPlanAccount(
        plan_id=plan.id, our_crm_id=found.our_crm_id, their_id=found.their_id, their_name=found.their_name
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        raise FieldError("our_crm_id", f"{our_crm_id} is already in the plan") from None
    audit.record(session, actor, "joint_plan.account_added", "joint_plan", plan.id, our_crm_id=our_crm_id)
    return account


@dataclass(frozen=True)
class PlanAccountRow:
    account: JointPlanAccount
    name: str  # our CRM's name for our people, the partner's own for a partner user
    account_id: int | None  # our account's page, for our people


def plan_accounts(session: Session, actor: Actor, plan: JointPlan) -> list[PlanAccountRow]:
    rows = session.execute(
        select(JointPlanAccount, Account.name, Account.id)
        .outerjoin(Account, Account.crm_id == JointPlanAccount.our_crm_id)
        .where(JointPlanAccount.plan_id == plan.id)
        .order_by(JointPlanAccount.their_name, JointPlanAccount.id)
    )
    if actor.kind == ActorKind.PARTNER_USER:
        return [PlanAccountRow(a, a.their_name or a.their_id, None) for a, _, _ in rows]
    return [PlanAccountRow(a, name or a.our_crm_id, account_id) for a, name, account_id in rows]


def owner_choices(session: Session, plan: JointPlan) -> list[tuple[str, str]]:
    """(value, label) of the people who may own an action: our active users, the partner's active users."""
    ours = session.execute(select(User.id, User.name).where(User.is_active).order_by(User.name))
    theirs = session.execute(
        select(PartnerUser.id, PartnerUser.name)
        .where(PartnerUser.partner_id == plan.partner_id, PartnerUser.is_active)
        .order_by(PartnerUser.name)
    )
    return [(f"ours:{i}", f"{n} (us)") for i, n in ours] + [
        (f"partner:{i}", f"{n} (partner)") for i, n in theirs
    ]


def _owner(session: Session, plan: JointPlan, value: str) -> tuple[str, str]:
    """ "ours:3" / "partner:5" → (side, name); the partner's people must be this plan's partner's."""
    side, _, number = value.partition(":")
    person: User | PartnerUser | None = None
    if number.isdigit() and len(number) <= 10:
        if side == "ours":
            person = session.get(User, int(number))
        elif side == "partner":
            person = session.get(PartnerUser, int(number))
            if person is not None and person.partner_id != plan.partner_id:
                person = None
    if person is None or not person.is_active:
        raise FieldError("owner", f"pick one of our people or the partner's, not {value!r}")
    return side, person.name


def add_action(
    session: Session,
    actor: Actor,
    plan: JointPlan,
    *,
    title: str,
    owner: str,
    due_on: date | None,
    our_crm_id: str = "",
) -> JointPlanAction:
    """An action on the plan (on one of its accounts, or the whole plan), open until someone moves it."""
    require(actor, Permission.EDIT_PROGRAM)
    side, name = _owner(session, plan, owner)
    if our_crm_id:
        inside = select(JointPlanAccount.id).where(
            JointPlanAccount.plan_id == plan.id, JointPlanAccount.our_crm_id == our_crm_id
        )
        if session.scalar(inside) is None:
            raise FieldError("our_crm_id", f"{our_crm_id!r} is not one of the plan's accounts")
    action = JointPlanAction(
        plan_id=plan.id,
        title=_text("title", title, MAX_TITLE),
        side=side,
        owner=name,
        due_on=due_on,
        our_crm_id=our_crm_id,
        updated_by=actor.label,
    )
    session.add(action)
    session.flush()
    audit.record(session, actor, "joint_plan.action_added", "joint_plan", plan.id, title=action.title)
    return action


def plan_actions(session: Session, plan: JointPlan) -> list[JointPlanAction]:
    statement = select(JointPlanAction).where(JointPlanAction.plan_id == plan.id)
    return list(
        session.scalars(
            statement.order_by(JointPlanAction.due_on.is_(None), JointPlanAction.due_on, JointPlanAction.id)
        )
    )


def set_status(
    session: Session, actor: Actor, plan: JointPlan, action_id: int, status: str
) -> JointPlanAction:
    """Move one of the plan's actions to open, in progress, done or blocked."""
    require(actor, Permission.EDIT_PROGRAM)
    action = session.get(JointPlanAction, action_id)
    if action is None or action.plan_id != plan.id:
        raise NotFound(f"no plan action {action_id}")
    if status not in tuple(PlanStatus):
        raise FieldError("status", f"must be one of {', '.join(PlanStatus)}, not {status!r}")
    before, action.status = action.status, status
    action.updated_by, action.updated_at = actor.label, audit.utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "joint_plan.action_moved",
        "joint_plan",
        action.plan_id,
        action_id=action.id,
        before=before,
        after=status,
    )
    return action
