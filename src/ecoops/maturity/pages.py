"""Pages of EcoOps maturity: the stage with its evidence and history, the integration registry, and
the roadmap (board and timeline, filters, CSV export). Staff read them (read_metrics); partner
managers and admins change them (edit_program). Every form posts, then comes back with a message."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.commissions.pages import csv_download
from ecoops.config import Settings
from ecoops.maturity import criteria, integrations, kpis, roadmap
from ecoops.maturity.integrations import IntegrationInput
from ecoops.maturity.models import (
    Element,
    IntegrationStatus,
    MaturityAnswer,
    MaturityAssessment,
    MaturityStage,
    OpsGroup,
    RoadmapTask,
    TaskStatus,
)
from ecoops.maturity.roadmap import ELEMENT_LABELS, OPS_LABELS, TaskFilter, TaskInput, TaskLine
from ecoops.partners.models import Partner, PartnerType
from ecoops.permissions import Permission
from ecoops.web.changes import change_and_return
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, IsoDate, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_METRICS)
editor = page_permission(Permission.EDIT_PROGRAM)
MAX_IMPORT_FILE = 2 << 20


def _users(session: Session) -> list[tuple[int, str]]:
    return [
        (i, n)
        for i, n in session.execute(select(User.id, User.name).where(User.is_active).order_by(User.name))
    ]


def _number(value: str, field: str) -> int | None:
    """An optional id from a form's select ("" for none)."""
    if not value:
        return None
    if not value.isdigit() or len(value) > 10:
        raise InvalidInput(f"{field}: pick one from the list, not {value!r}")
    return int(value)


# Maturity


def _current_stage(session: Session) -> MaturityStage | None:
    stage = session.scalar(
        select(MaturityAssessment.stage).order_by(
            MaturityAssessment.assessed_on.desc(), MaturityAssessment.id.desc()
        )
    )
    return MaturityStage(stage) if stage else None


@router.get("/maturity")
def maturity_page(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    today = settings.today()
    found = criteria.assess(session, actor, settings, today)
    answers = {a.question: a for a in session.scalars(select(MaturityAnswer))}
    return render(
        request,
        "maturity/maturity.html",
        today=today,
        assessment=found,
        stages=criteria.STAGE_ORDER,
        stage_labels=criteria.STAGE_LABELS,
        questions=criteria.QUESTIONS,
        answers=answers,
        history=criteria.history(session, actor, page=page),
        stage_number={s.value: i + 1 for i, s in enumerate(criteria.STAGE_ORDER)},
        seeded=session.scalar(select(RoadmapTask.id).where(RoadmapTask.stage == found.stage)),
    )


@router.post("/maturity/assess")
def assess_now(
    request: Request,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        kept = criteria.record(session, actor, settings, settings.today())
        return f"Assessed on {kept.assessed_on.isoformat()}: {kept.stage.title()} stage."

    return change_and_return(request, work, "/maturity")


async def _form(request: Request) -> FormData:
    """The posted form, whose field names are the questionnaire's question keys."""
    return await request.form()


@router.post("/maturity/answers")
def answer_questions(
    request: Request,
    form: FormData = Depends(_form),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    given = {key: str(form.get(key, "")) for key in criteria.QUESTIONS if form.get(key)}

    def work() -> str:
        if not given:
            raise InvalidInput("answer at least one question yes or no")
        for question, value in given.items():
            criteria.answer(session, actor, question, value, settings.today())
        return f"{len(given)} answer(s) saved."

    return change_and_return(request, work, "/maturity#questionnaire")


# Integrations


@router.get("/integrations")
def integrations_page(
    request: Request,
    status: list[IntegrationStatus] = Query([]),
    partner: Id | None = Query(None),
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = integrations.list_integrations(
        session,
        actor,
        statuses=[s.value for s in status],
        partner_id=partner,
        page=page,
        per_page=settings.page_size,
    )
    ids = [i.id for i in found.items]
    partners = {i: n for i, n in session.execute(select(Partner.id, Partner.name))}
    return render(
        request,
        "maturity/integrations.html",
        page=found,
        counts=integrations.account_counts(session, ids),
        partners=partners,
        owners=dict(_users(session)),
        users=_users(session),
        tech_partners=[
            (i, n)
            for i, n in session.execute(
                select(Partner.id, Partner.name)
                .where(Partner.partner_type == PartnerType.TECHNOLOGY.value)
                .order_by(Partner.name)
            )
        ],
        statuses=list(IntegrationStatus),
        chosen={s.value for s in status},
        partner_id=partner,
        today=settings.today(),
        columns=", ".join(integrations.IMPORT_COLUMNS),
    )


@router.post("/integrations")
def create_integration(
    request: Request,
    partner_id: str = Form("", max_length=12),
    name: str = Form("", max_length=200),
    status: str = Form(IntegrationStatus.IDEA.value, max_length=20),
    owner_id: str = Form("", max_length=12),
    listing_url: str = Form("", max_length=600),
    changed_on: IsoDate | None = Form(None),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        data = IntegrationInput(
            _number(partner_id, "partner_id") or 0,
            name,
            status,
            _number(owner_id, "owner_id"),
            listing_url,
            changed_on,
        )
        found = integrations.create_integration(session, actor, data, settings.today())
        return f"Integration {found.name} registered ({found.status})."

    return change_and_return(request, work, "/integrations")


@router.post("/integrations/import")
def import_accounts(
    request: Request,
    file: UploadFile = File(...),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    data = file.file.read(MAX_IMPORT_FILE + 1)
    if len(data) > MAX_IMPORT_FILE:
        flash(request, f"Nothing was imported: the file is larger than {MAX_IMPORT_FILE >> 20} MB.", "error")
        return RedirectResponse("/integrations", status_code=303)
    outcome = integrations.import_accounts(session, actor, data, settings.today())
    if outcome.errors:
        shown = " · ".join(str(e) for e in outcome.errors[:20])
        more = f" (and {len(outcome.errors) - 20} more)" if len(outcome.errors) > 20 else ""
        flash(request, f"Nothing was imported: {shown}{more}.", "error")
    else:
        flash(request, f"Imported {outcome.rows} row(s): {outcome.added} new account link(s).", "success")
    return RedirectResponse("/integrations", status_code=303)


@router.get("/integrations/{integration_id}")
def integration_page(
    request: Request,
    integration_id: Id,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = integrations.get_integration(session, actor, integration_id)
    return render(
        request,
        "maturity/integration.html",
        integration=found,
        partner=session.get(Partner, found.partner_id),
        accounts=integrations.accounts_using(session, found.id),
        users=_users(session),
        owner=session.get(User, found.owner_id) if found.owner_id else None,
        statuses=list(IntegrationStatus),
        today=settings.today(),
    )


@router.post("/integrations/{integration_id}")
def update_integration(
    request: Request,
    integration_id: Id,
    name: str = Form("", max_length=200),
    status: str = Form("", max_length=20),
    owner_id: str = Form("", max_length=12),
    listing_url: str = Form("", max_length=600),
    changed_on: IsoDate | None = Form(None),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = integrations.get_integration(session, actor, integration_id)

    def work() -> str:
        data = IntegrationInput(
            found.partner_id, name, status, _number(owner_id, "owner_id"), listing_url, changed_on
        )
        integrations.update_integration(session, actor, found, data, settings.today())
        return f"Integration {found.name} saved ({found.status} since {found.status_since.isoformat()})."

    return change_and_return(request, work, f"/integrations/{integration_id}")


@router.post("/integrations/{integration_id}/accounts")
def add_accounts(
    request: Request,
    integration_id: Id,
    accounts: str = Form("", max_length=20_000),
    remove: str = Form("", max_length=64),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = integrations.get_integration(session, actor, integration_id)

    def work() -> str:
        if remove:
            integrations.remove_account(session, actor, found, remove)
            return f"{remove} no longer uses {found.name}."
        added = integrations.add_accounts(session, actor, found, accounts, settings.today())
        return f"{added} account(s) added to {found.name}."

    return change_and_return(request, work, f"/integrations/{integration_id}")


# Roadmap


def _filter(
    stage: str = Query("", max_length=20),
    element: str = Query("", max_length=30),
    ops_group: str = Query("", max_length=20),
    status: str = Query("", max_length=20),
    owner: str = Query("", max_length=12),
) -> TaskFilter:
    """The roadmap's filters from the query string; a value that is not a choice is ignored."""
    return TaskFilter(
        stage=stage if stage in tuple(MaturityStage) else "",
        element=element if element in tuple(Element) else "",
        ops_group=ops_group if ops_group in tuple(OpsGroup) else "",
        status=status if status in tuple(TaskStatus) else "",
        owner_id=int(owner) if owner.isdigit() and len(owner) <= 10 else None,
    )


def _months(lines: list[TaskLine], today: date) -> list[tuple[str, list[TaskLine]]]:
    """The timeline: overdue, then each month of the six ahead (this one first), then later."""
    ahead = [roadmap.month_end(today, n) for n in range(roadmap.HORIZON_MONTHS + 1)]
    groups: list[tuple[str, list[TaskLine]]] = [("Overdue", [])]
    groups += [(end.strftime("%B %Y"), []) for end in ahead]
    groups.append(("Later", []))
    for line in lines:
        due, done = line.task.due_on, line.task.status == TaskStatus.DONE
        if due < today and not done:
            groups[0][1].append(line)
        elif due > ahead[-1]:
            groups[-1][1].append(line)
        else:
            index = next(i for i, end in enumerate(ahead) if due <= end)
            groups[index + 1][1].append(line)
    return groups


@router.get("/roadmap")
def roadmap_page(
    request: Request,
    view: str = Query("board", max_length=10),
    where: TaskFilter = Depends(_filter),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    today = settings.today()
    stage = _current_stage(session)
    found = roadmap.list_tasks(session, actor, where)
    lines = roadmap.lines(session, actor, settings, found.items, today)
    board = {
        (e.value, o.value): [line for line in lines if (line.task.element, line.task.ops_group) == (e, o)]
        for e in Element
        for o in OpsGroup
    }
    return render(
        request,
        "maturity/roadmap.html",
        view="timeline" if view == "timeline" else "board",
        where=where,
        lines=lines,
        total=found.total,
        board=board,
        months=_months(lines, today),
        elements=ELEMENT_LABELS,
        ops_groups=OPS_LABELS,
        stages=list(MaturityStage),
        task_statuses=list(TaskStatus),
        users=_users(session),
        kpi_choices=kpis.KPIS,
        current_stage=stage,
        today=today,
        default_due=roadmap.month_end(today, 1),
        export_query=request.url.query,
    )


@router.get("/roadmap/export.csv")
def roadmap_csv(
    where: TaskFilter = Depends(_filter),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = roadmap.list_tasks(session, actor, where, per_page=10_000)
    lines = roadmap.lines(session, actor, settings, found.items, settings.today())
    return csv_download(roadmap.to_csv(lines), f"ecoops-roadmap-{settings.today().isoformat()}.csv")


@router.post("/roadmap/seed")
def seed_roadmap(
    request: Request,
    stage: str = Form("", max_length=20),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    today = settings.today()
    chosen = (
        stage or (_current_stage(session) or criteria.assess(session, actor, settings, today).stage).value
    )

    def work() -> str:
        owner = actor.id if actor.kind == ActorKind.USER else None
        made = roadmap.seed_from_template(session, actor, settings, chosen, owner, today)
        if not made:
            return f"The {chosen.title()} roadmap already holds every template task."
        return f"{len(made)} template task(s) added to the {chosen.title()} roadmap."

    return change_and_return(request, work, f"/roadmap?stage={chosen}")


def _task_input(form: dict[str, str], due_on: date | None) -> TaskInput:
    return TaskInput(
        title=form["title"],
        stage=form["stage"],
        element=form["element"],
        ops_group=form["ops_group"],
        owner_id=_number(form["owner_id"], "owner_id"),
        due_on=due_on,
        status=form["status"],
        kpi=form["kpi"],
        target=form["target"],
        outcome=form["outcome"],
    )


def _task_form(
    title: str = Form("", max_length=300),
    stage: str = Form("", max_length=20),
    element: str = Form("", max_length=30),
    ops_group: str = Form("", max_length=20),
    owner_id: str = Form("", max_length=12),
    status: str = Form(TaskStatus.PLANNED.value, max_length=20),
    kpi: str = Form("", max_length=40),
    target: str = Form("", max_length=40),
    outcome: str = Form("", max_length=3000),
) -> dict[str, str]:
    return {
        "title": title,
        "stage": stage,
        "element": element,
        "ops_group": ops_group,
        "owner_id": owner_id,
        "status": status,
        "kpi": kpi,
        "target": target,
        "outcome": outcome,
    }


@router.post("/roadmap/tasks")
def create_task(
    request: Request,
    form: dict[str, str] = Depends(_task_form),
    due_on: IsoDate | None = Form(None),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    def work() -> str:
        task = roadmap.create_task(session, actor, _task_input(form, due_on))
        return f"Task {task.title!r} added."

    return change_and_return(request, work, f"/roadmap?stage={form['stage']}")


@router.post("/roadmap/tasks/{roadmap_task_id}")
def update_task(
    request: Request,
    roadmap_task_id: Id,
    form: dict[str, str] = Depends(_task_form),
    due_on: IsoDate | None = Form(None),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    task = roadmap.get_task(session, actor, roadmap_task_id)

    def work() -> str:
        roadmap.update_task(session, actor, task, _task_input(form, due_on))
        return f"Task {task.title!r} saved."

    return change_and_return(request, work, f"/roadmap?stage={task.stage}")


@router.post("/roadmap/tasks/{roadmap_task_id}/delete")
def delete_task(
    request: Request, roadmap_task_id: Id, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> Response:
    task = roadmap.get_task(session, actor, roadmap_task_id)

    def work() -> str:
        title = task.title
        roadmap.delete_task(session, actor, task)
        return f"Task {title!r} deleted."

    return change_and_return(request, work, f"/roadmap?stage={task.stage}")
