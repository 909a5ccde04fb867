"""Onboarding checklists: each program's items, checked off per partner, gating life-cycle moves.

An item gates one stage: a partner in the program moves forward into that stage (or past it) only
once the item is done. Moves back, and churn, are never held. An item marked `done_by_agreement` is
done while the partner has accepted the program's current agreement version (agreements.py), so a
new version opens it again until accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.onboarding.agreements import has_accepted_current
from ecoops.onboarding.models import ChecklistCheck, ChecklistItem
from ecoops.partners.models import STAGE_ORDER, Membership, Partner, Program, Stage
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require

TITLE_MAX, HELP_MAX = 200, 2000
GATEABLE = tuple(s for s in STAGE_ORDER if s not in (Stage.PROSPECT, Stage.CHURNED))


def add_item(
    session: Session,
    actor: Actor,
    program: Program,
    *,
    title: str,
    help_text: str,
    gates_stage: str,
    done_by_agreement: bool = False,
) -> ChecklistItem:
    require(actor, Permission.EDIT_PROGRAM)
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        raise FieldError("title", f"1 to {TITLE_MAX} characters")
    if len(help_text) > HELP_MAX:
        raise FieldError("help_text", f"at most {HELP_MAX} characters")
    if gates_stage not in GATEABLE:
        raise FieldError("gates_stage", f"one of {', '.join(GATEABLE)}")
    last = session.scalars(
        select(ChecklistItem.position)
        .where(ChecklistItem.program_id == program.id)
        .order_by(ChecklistItem.position.desc())
    ).first()
    item = ChecklistItem(
        program_id=program.id,
        title=title,
        help_text=help_text.strip(),
        gates_stage=gates_stage,
        done_by_agreement=done_by_agreement,
        position=(last or 0) + 1,
    )
    session.add(item)
    session.flush()
    audit.record(session, actor, "checklist_item.added", "program", program.id, item_id=item.id, title=title)
    return item


def delete_item(session: Session, actor: Actor, program_id: int, item_id: int) -> None:
    """Remove an item, and its check-offs with it: it no longer gates anything."""
    require(actor, Permission.EDIT_PROGRAM)
    item = session.get(ChecklistItem, item_id)
    if item is None or item.program_id != program_id:
        raise NotFound(f"no checklist item {item_id} in program {program_id}")
    session.delete(item)
    session.flush()
    audit.record(session, actor, "checklist_item.deleted", "program", program_id, title=item.title)


def items_by_program(session: Session) -> dict[int, list[ChecklistItem]]:
    items = session.scalars(select(ChecklistItem).order_by(ChecklistItem.position, ChecklistItem.id))
    grouped: dict[int, list[ChecklistItem]] = {}
    for item in items:
        grouped.setdefault(item.program_id, []).append(item)
    return grouped


@dataclass(frozen=True)
class ChecklistLine:
    item: ChecklistItem
    check: ChecklistCheck | None
    by_agreement: bool  # done because the current agreement version is accepted

    @property
    def done(self) -> bool:
        return self.check is not None or self.by_agreement


def partner_checklist(session: Session, partner_id: int) -> list[ChecklistLine]:
    """The items of every program the partner is in, in program then checklist order, with their state."""
    programs = {
        p.id: p
        for p in session.scalars(select(Program).join(Membership).where(Membership.partner_id == partner_id))
    }
    items = session.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.program_id.in_(programs))
        .order_by(ChecklistItem.program_id, ChecklistItem.position, ChecklistItem.id)
    ).all()
    checks = {
        c.item_id: c
        for c in session.scalars(select(ChecklistCheck).where(ChecklistCheck.partner_id == partner_id))
    }
    accepted = {pid: has_accepted_current(session, partner_id, p) for pid, p in programs.items()}
    return [
        ChecklistLine(item, checks.get(item.id), item.done_by_agreement and accepted[item.program_id])
        for item in items
    ]


def set_done(session: Session, actor: Actor, partner: Partner, item_id: int, *, done: bool) -> bool:
    """Check an item off for the partner (or open it again); whether anything changed.

    The caller holds the partner's row locked (editing.locked_partner), so two check-offs of one item
    at once add one row.
    """
    require(actor, Permission.EDIT_PROGRAM)
    item = session.get(ChecklistItem, item_id)
    member = session.scalar(
        select(Membership.id).where(
            Membership.partner_id == partner.id, Membership.program_id == (item.program_id if item else -1)
        )
    )
    if item is None or member is None:
        raise NotFound(f"no checklist item {item_id} of {partner.name}'s programs")
    existing = session.scalar(
        select(ChecklistCheck).where(
            ChecklistCheck.partner_id == partner.id, ChecklistCheck.item_id == item.id
        )
    )
    if done == (existing is not None):
        return False
    if existing is None:
        session.add(ChecklistCheck(partner_id=partner.id, item_id=item.id, checked_by=actor.label))
    else:
        session.delete(existing)
    session.flush()
    action = "checklist_item.checked" if done else "checklist_item.reopened"
    audit.record(session, actor, action, "partner", partner.id, item_id=item.id, title=item.title)
    return True


def open_items_for_move(session: Session, partner: Partner, target: Stage) -> list[ChecklistItem]:
    """The items not done that gate a stage the move from the partner's stage to `target` enters or passes.

    Only forward moves are held (not moves back, nor churn).
    """
    current = STAGE_ORDER.index(Stage(partner.stage))
    if target == Stage.CHURNED or STAGE_ORDER.index(target) <= current:
        return []
    crossed = {s.value for s in STAGE_ORDER[current + 1 : STAGE_ORDER.index(target) + 1]}
    return [
        line.item
        for line in partner_checklist(session, partner.id)
        if line.item.gates_stage in crossed and not line.done
    ]
