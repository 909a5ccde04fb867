"""The maturity assessment: the criteria table, the questionnaire, and dated assessments.

Each stage has exit criteria: the workspace is in the first stage (Launch → Prove → Scale → Embed) whose
criteria are not all met; once Embed's are met too, it is in Embed with nothing left to prove. A data
criterion is met when its figure is at least its threshold (a figure with no data is not met); a
question is met when answered "yes". The table below is the one place the criteria and thresholds live
(docs/maturity.md explains each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import SYSTEM, Actor
from ecoops.automation.scanner import ScanMark
from ecoops.config import Settings
from ecoops.jobs.names import MATURITY, maturity_subject
from ecoops.jobs.queue import enqueue
from ecoops.maturity import kpis
from ecoops.maturity.models import (
    VALIDATED_OR_LATER,
    IntegrationStatusChange,
    MaturityAnswer,
    MaturityAssessment,
    MaturityStage,
)
from ecoops.pagination import Page, paginate
from ecoops.partners.programs import FieldError
from ecoops.permissions import Permission, require

STAGE_ORDER: tuple[MaturityStage, ...] = tuple(MaturityStage)
STAGE_LABELS = {
    MaturityStage.LAUNCH: "Launch — prioritise, build and validate tech partner integrations",
    MaturityStage.PROVE: "Prove — sell and market the integrated solutions: referrals and sourced revenue",
    MaturityStage.SCALE: "Scale — co-sell, co-market and co-retain: partner-influenced revenue",
    MaturityStage.EMBED: "Embed — the ecosystem across the company: mostly partner-attached pipeline",
}


@dataclass(frozen=True)
class Criterion:
    """An exit criterion of `stage`: a figure (`kpi`, or "validated_integrations") at least `threshold`,
    or a questionnaire `question` answered yes."""

    key: str
    stage: MaturityStage
    label: str
    threshold: float = 1.0
    kpi: str = ""
    question: str = ""

    @property
    def unit(self) -> kpis.Unit:
        return kpis.KPIS[self.kpi].unit if self.kpi else "count"


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "validated_integrations",
        MaturityStage.LAUNCH,
        "Tech partner integrations validated, listed or live",
        2,
    ),
    Criterion(
        "q_integration_owners",
        MaturityStage.LAUNCH,
        "Each integration has an owner and the product team has agreed the integration roadmap",
        question="Does every integration have a named owner, and has product agreed the integration roadmap?",
    ),
    Criterion(
        "referrals_received",
        MaturityStage.PROVE,
        kpis.KPIS["referrals_received"].label,
        10,
        "referrals_received",
    ),
    Criterion(
        "sourced_revenue_share",
        MaturityStage.PROVE,
        kpis.KPIS["sourced_revenue_share"].label,
        0.10,
        "sourced_revenue_share",
    ),
    Criterion(
        "q_rules_of_engagement",
        MaturityStage.PROVE,
        "Sales and partner teams follow agreed rules of engagement for referrals",
        question="Do sales and the partner team follow written rules of engagement for referrals?",
    ),
    Criterion("influenced_won", MaturityStage.SCALE, kpis.KPIS["influenced_won"].label, 5, "influenced_won"),
    Criterion(
        "influenced_revenue_share",
        MaturityStage.SCALE,
        kpis.KPIS["influenced_revenue_share"].label,
        0.20,
        "influenced_revenue_share",
    ),
    Criterion(
        "q_joint_plans",
        MaturityStage.SCALE,
        "Co-marketing and co-selling run on joint plans with the key partners",
        question="Do co-marketing and co-selling with your key partners run on joint plans?",
    ),
    Criterion("attach_rate", MaturityStage.EMBED, kpis.KPIS["attach_rate"].label, 0.50, "attach_rate"),
    Criterion(
        "q_revops_productops",
        MaturityStage.EMBED,
        "RevOps and ProductOps run partner data in their own processes",
        question="Do RevOps and ProductOps use partner data in their own processes and reporting?",
    ),
)
QUESTIONS = {c.key: c for c in CRITERIA if c.question}


@dataclass(frozen=True)
class Result:
    """One criterion's figure on the day assessed (None: no data, or a question not answered) and whether
    it is met; `link` opens its records."""

    criterion: Criterion
    value: float | None
    met: bool
    link: str

    @property
    def shown(self) -> str:
        if self.criterion.question:
            return {None: "not answered", 1.0: "yes", 0.0: "no"}[self.value]
        return kpis.display(self.criterion.unit, self.value)

    @property
    def threshold_shown(self) -> str:
        if self.criterion.question:
            return "yes"
        return "≥ " + kpis.display(self.criterion.unit, self.criterion.threshold)


@dataclass(frozen=True)
class Assessment:
    on: date
    stage: MaturityStage
    results: list[Result]

    @property
    def complete(self) -> bool:
        """Every criterion met, Embed's too."""
        return all(r.met for r in self.results)

    def of(self, stage: MaturityStage) -> list[Result]:
        return [r for r in self.results if r.criterion.stage == stage]


def stage_of(results: list[Result]) -> MaturityStage:
    """The first stage whose criteria are not all met; Embed when all are."""
    for stage in STAGE_ORDER:
        if not all(r.met for r in results if r.criterion.stage == stage):
            return stage
    return MaturityStage.EMBED


def validated_integrations(session: Session, on: date) -> int:
    """Integrations whose status on `on` (their latest change dated on or before it) is validated or later."""
    latest = (
        select(func.max(IntegrationStatusChange.id))
        .where(IntegrationStatusChange.changed_on <= on)
        .group_by(IntegrationStatusChange.integration_id)
    )
    statuses = [s.value for s in VALIDATED_OR_LATER]
    counted = select(func.count()).where(
        IntegrationStatusChange.id.in_(latest), IntegrationStatusChange.to_status.in_(statuses)
    )
    return session.scalar(counted) or 0


def assess(session: Session, actor: Actor, config: Settings, today: date) -> Assessment:
    """Each criterion's figure as of `today` and the stage they place the workspace in (nothing stored)."""
    require(actor, Permission.READ_METRICS)
    figures = kpis.values(session, actor, config, [c.kpi for c in CRITERIA if c.kpi], today)
    answers = {a.question: a.answer for a in session.scalars(select(MaturityAnswer))}
    results = []
    for criterion in CRITERIA:
        value: float | None
        if criterion.question:
            answer = answers.get(criterion.key)
            value, link = (None if answer is None else float(answer)), "/maturity#questionnaire"
        elif criterion.kpi:
            value, link = figures[criterion.kpi], kpis.KPIS[criterion.kpi].records_url(today)
        else:
            value = float(validated_integrations(session, today))
            link = "/integrations?status=" + "&status=".join(s.value for s in VALIDATED_OR_LATER)
        results.append(Result(criterion, value, value is not None and value >= criterion.threshold, link))
    return Assessment(today, stage_of(results), results)


def record(session: Session, actor: Actor, config: Settings, today: date) -> MaturityAssessment:
    """Assess now and keep the result as a dated snapshot of the stage's history."""
    return keep(session, actor, assess(session, actor, config, today), today)


def keep(session: Session, actor: Actor, found: Assessment, today: date) -> MaturityAssessment:
    """Keep an assessment made as of `today` as a dated snapshot of the stage's history."""
    require(actor, Permission.READ_METRICS)
    kept = MaturityAssessment(
        assessed_on=today,
        stage=found.stage.value,
        criteria=[{"key": r.criterion.key, "value": r.value, "met": r.met} for r in found.results],
        run_by=actor.label,
    )
    session.add(kept)
    session.flush()
    audit.record(session, actor, "maturity.assessed", "maturity_assessment", kept.id, stage=kept.stage)
    return kept


def assess_daily(session: Session, settings: Settings, now: datetime) -> int:
    """The worker's tick job: the first tick of each workspace day queues that day's assessment, a job
    (jobs/kinds.py) that computes the figures outside any write transaction: on a large workspace that
    takes minutes, which the tick (and the deliveries after it) must not wait for."""
    today = now.astimezone(settings.tz).date()
    key = f"ran:maturity:{today.isoformat()}"
    if session.scalar(select(ScanMark.id).where(ScanMark.key == key)) is not None:
        return 0
    session.add(ScanMark(key=key))  # its unique key lets one worker of several queue the day's job
    session.flush()
    enqueue(session, SYSTEM, MATURITY, subject=maturity_subject(today), arguments={"day": today.isoformat()})
    return 1


def history(session: Session, actor: Actor, *, page: int = 1, per_page: int = 30) -> Page[MaturityAssessment]:
    """The kept assessments, latest first."""
    require(actor, Permission.READ_METRICS)
    statement = select(MaturityAssessment).order_by(
        MaturityAssessment.assessed_on.desc(), MaturityAssessment.id.desc()
    )
    return paginate(session, statement, page=page, per_page=per_page)


def answer(session: Session, actor: Actor, question: str, value: str, today: date) -> MaturityAnswer:
    """Store the answer ("yes" or "no") to one question of the questionnaire."""
    require(actor, Permission.EDIT_PROGRAM)
    if question not in QUESTIONS:
        raise FieldError("question", f"must be one of {', '.join(QUESTIONS)}, not {question!r}")
    if value not in ("yes", "no"):
        raise FieldError(question, f"answer yes or no, not {value!r}")
    stored = select(MaturityAnswer).where(MaturityAnswer.question == question)
    found = session.scalar(stored)
    if found is None:
        try:
            with session.begin_nested():  # another answer to the same question may be stored meanwhile
                found = MaturityAnswer(question=question, answer=False, answered_by="", answered_on=today)
                session.add(found)
                session.flush()
        except IntegrityError:
            found = session.scalars(stored).one()
    found.answer, found.answered_by, found.answered_on = value == "yes", actor.label, today
    session.flush()
    audit.record(
        session, actor, "maturity.answered", "maturity_answer", found.id, question=question, answer=value
    )
    return found
