"""The EcoOps roadmap: tasks on the grid of the five elements x the ops groups, each with an owner, a due
date, a status, a desired outcome and a live KPI (kpis.KPIS) with its target; stage templates from the six
example tasks of the EcoOps roadmap (nurture, populations, orchestration, CRM, content, playbooks)."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.maturity import kpis
from ecoops.maturity.models import Element, MaturityStage, OpsGroup, RoadmapTask, TaskStatus
from ecoops.pagination import Page, paginate
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require

ELEMENT_LABELS = {
    Element.ENABLEMENT: "Enablement",
    Element.WORKFLOWS: "Workflows",
    Element.DATA_SHARING: "Data Sharing and Integration",
    Element.ANALYSIS_REPORTING: "Analysis and Reporting",
    Element.AUTOMATION_TOOLING: "Automation and Tooling",
}
OPS_LABELS = {
    OpsGroup.PARTNER_OPS: "PartnerOps",
    OpsGroup.SALES_OPS: "SalesOps",
    OpsGroup.MARKETING_OPS: "MarketingOps",
    OpsGroup.CS_OPS: "CSOps",
    OpsGroup.PRODUCT_OPS: "ProductOps",
    OpsGroup.OTHER_OPS: "OtherOps (legal, finance)",
}
MAX_TARGET = Decimal("1e14")
HORIZON_MONTHS = 6


@dataclass(frozen=True)
class TaskInput:
    title: str
    stage: str
    element: str
    ops_group: str
    owner_id: int | None
    due_on: date | None
    status: str
    kpi: str
    target: Decimal | str | float | None = None
    outcome: str = ""


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise FieldError(field, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _target(value: Decimal | str | float | None) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError("target", f"must be a number, not {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_TARGET:
        raise FieldError("target", f"must be 0 or more and less than {MAX_TARGET:,.0f}")
    if amount != amount.quantize(Decimal("0.0001")):
        raise FieldError("target", "at most 4 decimals (a share: 0.25 for 25%)")
    return amount.quantize(Decimal("0.0001"))


def _apply(session: Session, task: RoadmapTask, data: TaskInput) -> None:
    title = data.title.strip()
    if not title or len(title) > 200:
        raise FieldError("title", "give the task a title of 1 to 200 characters")
    if len(data.outcome) > 2000:
        raise FieldError("outcome", "at most 2,000 characters")
    if data.owner_id is None:
        raise FieldError("owner_id", "name the user who owns the task")
    owner = session.get(User, data.owner_id)
    if owner is None or not owner.is_active:
        raise FieldError("owner_id", f"no active user {data.owner_id}")
    if data.due_on is None:
        raise FieldError("due_on", "give the task a due date")
    task.title, task.outcome, task.owner_id, task.due_on = title, data.outcome.strip(), owner.id, data.due_on
    task.stage = _choice("stage", data.stage, tuple(MaturityStage))
    task.element = _choice("element", data.element, tuple(Element))
    task.ops_group = _choice("ops_group", data.ops_group, tuple(OpsGroup))
    task.status = _choice("status", data.status, tuple(TaskStatus))
    task.kpi = _choice("kpi", data.kpi, tuple(kpis.KPIS))
    task.target = _target(data.target)


FIELDS = (
    "title",
    "outcome",
    "owner_id",
    "due_on",
    "stage",
    "element",
    "ops_group",
    "status",
    "kpi",
    "target",
)


def _snapshot(task: RoadmapTask) -> dict[str, object]:
    return {
        "title": task.title,
        "stage": task.stage,
        "element": task.element,
        "ops_group": task.ops_group,
        "owner_id": task.owner_id,
        "due_on": task.due_on.isoformat(),
        "status": task.status,
        "kpi": task.kpi,
        "target": None if task.target is None else str(task.target),
    }


def _taken(task: RoadmapTask) -> FieldError:
    return FieldError(
        "stage", f"the {task.stage} roadmap already holds the template task {task.template_key!r}"
    )


def _store(session: Session, task: RoadmapTask) -> None:
    """Write the task; a template task its stage already holds (stored at the same moment) is refused."""
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError:
        raise _taken(task) from None


def create_task(
    session: Session, actor: Actor, data: TaskInput, template_key: str | None = None
) -> RoadmapTask:
    """A new task; FieldError names the field that is wrong."""
    require(actor, Permission.EDIT_PROGRAM)
    task = RoadmapTask(created_by=actor.label, template_key=template_key)
    _apply(session, task, data)
    _store(session, task)
    audit.record(session, actor, "roadmap_task.created", "roadmap_task", task.id, **_snapshot(task))
    return task


def update_task(session: Session, actor: Actor, task: RoadmapTask, data: TaskInput) -> RoadmapTask:
    require(actor, Permission.EDIT_PROGRAM)
    before = _snapshot(task)
    before_values = {name: getattr(task, name) for name in FIELDS}
    values = RoadmapTask()
    _apply(session, values, data)  # checked apart, so a refused change leaves the task as it was
    for name in FIELDS:
        setattr(task, name, getattr(values, name))
    task.updated_at = audit.utcnow()
    try:
        _store(session, task)
    except FieldError:
        for name, value in before_values.items():
            setattr(task, name, value)
        raise
    audit.record(
        session, actor, "roadmap_task.updated", "roadmap_task", task.id, before=before, after=_snapshot(task)
    )
    return task


def delete_task(session: Session, actor: Actor, task: RoadmapTask) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    audit.record(session, actor, "roadmap_task.deleted", "roadmap_task", task.id, **_snapshot(task))
    session.delete(task)
    session.flush()


def get_task(session: Session, actor: Actor, task_id: int) -> RoadmapTask:
    require(actor, Permission.READ_METRICS)
    task = session.get(RoadmapTask, task_id)
    if task is None:
        raise NotFound(f"no roadmap task {task_id}")
    return task


@dataclass(frozen=True)
class TaskFilter:
    stage: str = ""
    element: str = ""
    ops_group: str = ""
    status: str = ""
    owner_id: int | None = None


def list_tasks(
    session: Session, actor: Actor, where: TaskFilter = TaskFilter(), *, page: int = 1, per_page: int = 500
) -> Page[RoadmapTask]:
    """Tasks by due date, then id; only those the filter names."""
    require(actor, Permission.READ_METRICS)
    statement = select(RoadmapTask).order_by(RoadmapTask.due_on, RoadmapTask.id)
    for column, value in (
        (RoadmapTask.stage, where.stage),
        (RoadmapTask.element, where.element),
        (RoadmapTask.ops_group, where.ops_group),
        (RoadmapTask.status, where.status),
    ):
        if value:
            statement = statement.where(column == value)
    if where.owner_id is not None:
        statement = statement.where(RoadmapTask.owner_id == where.owner_id)
    return paginate(session, statement, page=page, per_page=per_page)


@dataclass(frozen=True)
class TaskLine:
    """A task with its KPI's current value (the dashboards' figure) and its owner's name."""

    task: RoadmapTask
    value: float | None
    owner: str

    @property
    def kpi(self) -> kpis.Kpi:
        return kpis.KPIS[self.task.kpi]

    @property
    def value_shown(self) -> str:
        return kpis.display(self.kpi.unit, self.value)

    @property
    def target_shown(self) -> str:
        return "—" if self.task.target is None else kpis.display(self.kpi.unit, float(self.task.target))


def lines(
    session: Session, actor: Actor, config: Settings, tasks: list[RoadmapTask], today: date
) -> list[TaskLine]:
    """Each task with its live KPI value as of `today` (one metrics report for all)."""
    current = kpis.values(session, actor, config, [t.kpi for t in tasks], today)
    named = select(User.id, User.name).where(User.id.in_({t.owner_id for t in tasks if t.owner_id}))
    owners = {i: n for i, n in session.execute(named)}
    return [TaskLine(t, current.get(t.kpi), owners.get(t.owner_id or 0, "—")) for t in tasks]


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    element: Element
    ops_group: OpsGroup
    outcome: str
    kpi: str
    months: int  # due at the end of the month this many months ahead


# The six example tasks of the seed article ("EcoOps and Scaling Partner Ecosystems"), given there for the
# Prove or early Scale stage; every stage's template starts from them (docs/maturity.md).
TEMPLATE: tuple[Template, ...] = (
    Template(
        "nurture",
        "Partner nurture across the life cycle, automated or semi-automated",
        Element.AUTOMATION_TOOLING,
        OpsGroup.PARTNER_OPS,
        "Partners (their sales and CS teams too) stay interested, excited and responsive to sharing and "
        "receiving referrals.",
        "partners_engaged",
        1,
    ),
    Template(
        "populations",
        "Account-mapping populations and overlap analytics with key tech partners",
        Element.ANALYSIS_REPORTING,
        OpsGroup.PARTNER_OPS,
        "Focus on the overlapping customer list to drive referrals with our sales, the partners' sales and "
        "both CS teams.",
        "eql_pre_pipeline",
        2,
    ),
    Template(
        "orchestration",
        "Cross-channel orchestration: overlap data to Slack and e-mail for partners, PAMs and sales",
        Element.WORKFLOWS,
        OpsGroup.SALES_OPS,
        "Scalable collaboration on deal activity, flow, velocity and results.",
        "eql_pipeline",
        3,
    ),
    Template(
        "crm",
        "Connect mapping data and processes to the CRM; measure sourced revenue",
        Element.DATA_SHARING,
        OpsGroup.SALES_OPS,
        "CRM engagement, tracking and attribution that prove ROI and align with SalesOps reporting.",
        "eql_sql_conversion",
        4,
    ),
    Template(
        "content",
        "Better-together content and sales enablement",
        Element.ENABLEMENT,
        OpsGroup.MARKETING_OPS,
        "Standard bills of material and a content repository that drive enablement on the referral steps.",
        "content_utilisation",
        5,
    ),
    Template(
        "playbooks",
        "Partner playbooks for the nurture, populations, orchestration, CRM and content steps",
        Element.ENABLEMENT,
        OpsGroup.PARTNER_OPS,
        "Coordinated activities that lead to validated revenue and other financial outcomes.",
        "sourced_revenue",
        6,
    ),
)
GROWTH = 1.2  # a seeded task's target: a fifth above today's value (shares: 5 points above)


def month_end(day: date, months: int) -> date:
    """The last day of the month `months` after the one holding `day`."""
    month = day.month - 1 + months + 1
    return date(day.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def seeded_target(unit: kpis.Unit, value: float | None) -> Decimal:
    if unit == "share":
        return Decimal(str(round(min(1.0, (value or 0) + 0.05), 4)))
    return Decimal(max(1, math.ceil((value or 0) * GROWTH)))


def seed_from_template(
    session: Session, actor: Actor, config: Settings, stage: str, owner_id: int | None, today: date
) -> list[RoadmapTask]:
    """The template's tasks for `stage` not on its roadmap yet, due over the next six months, owned by
    `owner_id`, each targeting a fifth above its KPI's value today; the tasks made."""
    require(actor, Permission.EDIT_PROGRAM)
    _choice("stage", stage, tuple(MaturityStage))
    present = set(session.scalars(select(RoadmapTask.template_key).where(RoadmapTask.stage == stage)))
    wanted = [t for t in TEMPLATE if t.key not in present]
    current = kpis.values(session, actor, config, [t.kpi for t in wanted], today)
    made = []
    for template in wanted:  # a request at the same moment may seed the same stage: its tasks are skipped
        data = TaskInput(
            title=template.title,
            stage=stage,
            element=template.element.value,
            ops_group=template.ops_group.value,
            owner_id=owner_id,
            due_on=month_end(today, template.months),
            status=TaskStatus.PLANNED.value,
            kpi=template.kpi,
            target=seeded_target(kpis.KPIS[template.kpi].unit, current[template.kpi]),
            outcome=template.outcome,
        )
        try:
            made.append(create_task(session, actor, data, template_key=template.key))
        except FieldError as refused:
            if refused.field != "stage":
                raise
    return made


CSV_COLUMNS = (
    "id",
    "title",
    "stage",
    "element",
    "ops_group",
    "owner",
    "due_on",
    "status",
    "desired_outcome",
    "kpi",
    "kpi_label",
    "current_value",
    "target",
)


def _plain(value: float | None) -> str:
    """A value for the CSV: "" for no data, whole numbers without decimals, others to 4 places."""
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else str(round(value, 4))


def to_csv(found: list[TaskLine]) -> str:
    """The tasks as CSV for the other ops teams, one row each, the KPI's value as of the export."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in found:
        t = line.task
        writer.writerow(
            [
                t.id,
                t.title,
                t.stage,
                ELEMENT_LABELS[Element(t.element)],
                OPS_LABELS[OpsGroup(t.ops_group)],
                line.owner,
                t.due_on.isoformat(),
                t.status,
                t.outcome,
                t.kpi,
                line.kpi.label,
                _plain(line.value),
                _plain(None if t.target is None else float(t.target)),
            ]
        )
    return out.getvalue()
