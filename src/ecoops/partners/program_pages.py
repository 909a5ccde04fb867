"""Pages for running the program: one page lists programs and tiers, with their edit forms inline.

Every form posts, then comes back to /programs with a message saying what happened or what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.onboarding import checklist
from ecoops.partners import programs
from ecoops.partners.programs import FieldError
from ecoops.partners.tier_figures import DEFAULT_WINDOW_DAYS, METRICS
from ecoops.partners.tier_terms import CriterionInput, TierTerms, set_tier_terms
from ecoops.permissions import Permission
from ecoops.web.changes import change_and_return
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_PROGRAM)
editor = page_permission(Permission.EDIT_PROGRAM)
BACK = "/programs"


def _done(request: Request, work: Callable[[], str]) -> Response:
    return change_and_return(request, work, BACK)


@router.get("/programs")
def program_list(
    request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    return render(
        request,
        "partners/programs.html",
        programs=programs.list_programs(session, actor),
        metrics=METRICS,
        default_window=DEFAULT_WINDOW_DAYS,
        checklists=checklist.items_by_program(session),
        gateable=checklist.GATEABLE,
    )


@router.post("/programs")
def create_program(
    request: Request,
    # Generous limits here: the service's own checks explain what is wrong.
    name: str = Form("", max_length=1000),
    tiers: str = Form("", max_length=5000),
    description: str = Form("", max_length=10000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    def work() -> str:
        tier_names = [t for t in (line.strip() for line in tiers.replace(",", "\n").splitlines()) if t]
        program = programs.create_program(
            session, actor, name=name, tiers=tier_names, description=description
        )
        return f"Program {program.name} created with {len(program.tiers)} tier(s)."

    return _done(request, work)


@router.post("/programs/{program_id}")
def edit_program(
    request: Request,
    program_id: Id,
    name: str = Form("", max_length=1000),
    description: str = Form("", max_length=10000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    program = programs.get_program(session, actor, program_id)

    def work() -> str:
        programs.update_program(session, actor, program, name=name, description=description)
        return f"Program {program.name} saved."

    return _done(request, work)


@router.post("/programs/{program_id}/retire")
def retire_program(
    request: Request,
    program_id: Id,
    retired: bool = Form(True),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    program = programs.get_program(session, actor, program_id)

    def work() -> str:
        programs.set_program_retired(session, actor, program, retired=retired, today=settings.today())
        return f"Program {program.name} {'retired' if retired else 'back in use'}."

    return _done(request, work)


@router.post("/programs/{program_id}/delete")
def delete_program(
    request: Request, program_id: Id, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> Response:
    program = programs.get_program(session, actor, program_id)

    def work() -> str:
        programs.delete_program(session, actor, program)
        return f"Program {program.name} deleted."

    return _done(request, work)


@router.post("/programs/{program_id}/tiers")
def add_tier(
    request: Request,
    program_id: Id,
    name: str = Form("", max_length=1000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    program = programs.get_program(session, actor, program_id)

    def work() -> str:
        tier = programs.add_tier(session, actor, program, name=name)
        return f"Tier {tier.name} added to {program.name}."

    return _done(request, work)


@router.post("/programs/{program_id}/tiers/{tier_id}")
def edit_tier(
    request: Request,
    program_id: Id,
    tier_id: Id,
    name: str = Form("", max_length=1000),
    rank: int = Form(0),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    tier = programs.get_tier(session, actor, program_id, tier_id)

    def work() -> str:
        programs.update_tier(session, actor, tier, name=name, rank=rank)
        return f"Tier {tier.name} saved."

    return _done(request, work)


@router.post("/programs/{program_id}/tiers/{tier_id}/retire")
def retire_tier(
    request: Request,
    program_id: Id,
    tier_id: Id,
    retired: bool = Form(True),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    tier = programs.get_tier(session, actor, program_id, tier_id)

    def work() -> str:
        programs.set_tier_retired(session, actor, tier, retired=retired, today=settings.today())
        return f"Tier {tier.name} {'retired' if retired else 'back in use'}."

    return _done(request, work)


@router.post("/programs/{program_id}/tiers/{tier_id}/delete")
def delete_tier(
    request: Request,
    program_id: Id,
    tier_id: Id,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    tier = programs.get_tier(session, actor, program_id, tier_id)

    def work() -> str:
        programs.delete_tier(session, actor, tier)
        return f"Tier {tier.name} deleted."

    return _done(request, work)


def _whole(field: str, value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise FieldError(field, f"a whole number of days, not {value!r}")
    return int(value)


@router.post("/programs/{program_id}/tiers/{tier_id}/terms")
def save_tier_terms(
    request: Request,
    program_id: Id,
    tier_id: Id,
    registration_days: str = Form("", max_length=20),
    commission_class: str = Form("", max_length=1000),
    mdf_eligible: bool = Form(False),
    portal_content: str = Form("", max_length=10000),
    # One row per metric, in the same order; a blank threshold means "not a criterion of this tier".
    metric: list[str] = Form([]),
    threshold: list[str] = Form([]),
    window_days: list[str] = Form([]),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    tier = programs.get_tier(session, actor, program_id, tier_id)

    def work() -> str:
        criteria = [
            CriterionInput(
                name,
                value.strip(),
                _whole(f"window_days of {name}", days) or DEFAULT_WINDOW_DAYS,
            )
            for name, value, days in zip(metric, threshold, window_days, strict=False)
            if value.strip()
        ]
        terms = TierTerms(
            registration_days=_whole("registration_days", registration_days),
            commission_class=commission_class,
            mdf_eligible=mdf_eligible,
            portal_content=portal_content,
            criteria=criteria,
        )
        set_tier_terms(session, actor, tier, terms)
        return f"Criteria and benefits of {tier.name} saved ({len(criteria)} criteria)."

    return _done(request, work)
