"""Playbooks: ordered steps for one motion (referral, co-sell, onboarding), each step with an optional
content item. Partners see a playbook in the portal once it is published to all partners or to theirs,
and in it only the content they may read; every read starts from `readable_playbooks`."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor, ActorKind
from ecoops.enablement.content import get_content
from ecoops.enablement.models import Motion, Playbook, PlaybookStep
from ecoops.partners.models import Partner
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require

MAX_TITLE, MAX_TEXT = 200, 4000
PLAYBOOK_MOTIONS = tuple(m.value for m in Motion if m != Motion.ANY)
STEP_SIDES = ("ours", "partner", "both")


def readable_playbooks(actor: Actor) -> Select[Playbook]:
    """Internal readers see every playbook; a partner user those published to all partners or to its own."""
    statement = select(Playbook)
    if actor.kind == ActorKind.PARTNER_USER:
        return statement.where(
            Playbook.published,
            or_(Playbook.partner_id.is_(None), Playbook.partner_id == actor.partner_id),
        )
    require(actor, Permission.READ_PROGRAM)
    return statement


def get_playbook(session: Session, actor: Actor, playbook_id: int) -> Playbook:
    """The playbook, or NotFound when it does not exist or is not published to the actor (the same answer)."""
    found = session.scalar(readable_playbooks(actor).where(Playbook.id == playbook_id))
    if found is None:
        raise NotFound(f"no playbook {playbook_id}")
    return found


def list_playbooks(session: Session, actor: Actor, motion: str = "") -> list[Playbook]:
    statement = readable_playbooks(actor).order_by(Playbook.motion, Playbook.title, Playbook.id)
    if motion:
        statement = statement.where(Playbook.motion == motion)
    return list(session.scalars(statement))


def _text(field: str, value: str, limit: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise FieldError(field, "cannot be empty")
    if len(value) > limit:
        raise FieldError(field, f"at most {limit} characters")
    return value


def _motion(value: str) -> str:
    if value not in PLAYBOOK_MOTIONS:
        raise FieldError("motion", f"must be one of {', '.join(PLAYBOOK_MOTIONS)}, not {value!r}")
    return value


def create_playbook(
    session: Session, actor: Actor, *, title: str, motion: str, summary: str = ""
) -> Playbook:
    """A new, unpublished playbook with no steps yet."""
    require(actor, Permission.EDIT_PROGRAM)
    playbook = Playbook(
        title=_text("title", title, MAX_TITLE),
        motion=_motion(motion),
        summary=_text("summary", summary, MAX_TEXT, required=False),
        created_by=actor.label,
    )
    session.add(playbook)
    session.flush()
    audit.record(session, actor, "playbook.created", "playbook", playbook.id, title=playbook.title)
    return playbook


def add_step(
    session: Session,
    actor: Actor,
    playbook: Playbook,
    *,
    title: str,
    detail: str = "",
    who: str = "both",
    content_id: int | None = None,
) -> PlaybookStep:
    """A step at the end of the playbook, with a content item of the library if given."""
    require(actor, Permission.EDIT_PROGRAM)
    if who not in STEP_SIDES:
        raise FieldError("who", f"must be one of {', '.join(STEP_SIDES)}, not {who!r}")
    if content_id is not None:
        try:
            get_content(session, actor, content_id)
        except NotFound:
            raise FieldError("content_id", f"no content item {content_id}") from None
    last = session.scalar(
        select(func.max(PlaybookStep.position)).where(PlaybookStep.playbook_id == playbook.id)
    )
    step = PlaybookStep(
        position=(last or 0) + 1,
        title=_text("title", title, MAX_TITLE),
        detail=_text("detail", detail, MAX_TEXT, required=False),
        who=who,
        content_id=content_id,
    )
    playbook.steps.append(step)
    session.flush()
    audit.record(session, actor, "playbook.step_added", "playbook", playbook.id, step=step.title)
    return step


def remove_step(session: Session, actor: Actor, playbook: Playbook, step_id: int) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    step = next((s for s in playbook.steps if s.id == step_id), None)
    if step is None:
        raise NotFound(f"no step {step_id} in playbook {playbook.id}")
    playbook.steps.remove(step)
    session.flush()
    audit.record(session, actor, "playbook.step_removed", "playbook", playbook.id, step=step.title)


def publish(
    session: Session, actor: Actor, playbook: Playbook, *, published: bool, partner_id: int | None
) -> None:
    """Show the playbook in the portal, to all partners (`partner_id` None) or to one; or hide it."""
    require(actor, Permission.EDIT_PROGRAM)
    if partner_id is not None and session.get(Partner, partner_id) is None:
        raise FieldError("partner_id", f"no partner {partner_id}")
    playbook.published, playbook.partner_id = published, partner_id
    session.flush()
    audit.record(
        session,
        actor,
        "playbook.published",
        "playbook",
        playbook.id,
        published=published,
        partner_id=partner_id,
    )
