"""Finance's pages: the ledger with its decisions, accrual runs, plans, statements, bill export, payments."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.commissions import accruals, ledger, payments, plans, statement_pdf, statements
from ecoops.commissions.models import BOUNTY_BASES, PERCENT_BASES, AccrualRun, PlanKind, Status
from ecoops.config import Settings
from ecoops.partners.models import Program, Tier
from ecoops.partners.programs import FieldError
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import MAX_ID, Id, IsoDate, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
finance = page_permission(Permission.MANAGE_COMMISSIONS)
PERIOD = r"^\d{4}-\d{2}$"
MAX_PAYMENT_FILE = 5 << 20


def csv_download(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def pdf_download(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/commissions")
def ledger_page(
    request: Request,
    status: str = Query("pending", max_length=10),
    partner: str = Query("", max_length=12),
    period: str = Query("", max_length=7),
    page: PageNumber = 1,
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    filters = ledger.EntryFilters(
        status=status, partner_id=int(partner) if partner.isdigit() else None, period=period
    )
    error = ""
    try:
        found = ledger.search(session, actor, filters, page=page, per_page=settings.page_size)
    except InvalidInput as problem:
        error, found = (
            str(problem),
            ledger.search(session, actor, ledger.EntryFilters(), per_page=settings.page_size),
        )
    runs = list(session.scalars(select(AccrualRun).order_by(AccrualRun.id.desc()).limit(5)))
    return render(
        request,
        "commissions/ledger.html",
        status_code=400 if error else 200,
        error=error,
        page=found,
        filters=filters,
        statuses=[s.value for s in Status],
        partners=(partners := partner_choices(session)),
        names=dict(partners),
        totals=ledger.totals_by_status(session, actor),
        runs=runs,
        today=settings.today(),
        money=plans.money,
        currency=settings.currency,
    )


@router.post("/commissions/runs")
def run_accruals(
    request: Request,
    as_of: IsoDate = Form(...),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        run = accruals.accrue(session, actor, settings, as_of)
    except InvalidInput as problem:
        flash(request, f"Not run: {problem}", "error")
        return RedirectResponse("/commissions", status_code=303)
    flash(
        request,
        f"Accrued as of {as_of}: {run.credits} new line(s), {run.reversals} reversal(s).",
        "success",
    )
    return RedirectResponse("/commissions?status=pending", status_code=303)


@router.post("/commissions/decisions")
def decide(
    request: Request,
    entry_id: list[Id] = Form(default_factory=list),
    decision: str = Form(..., max_length=10),
    reason: str = Form("", max_length=2000),
    back: str = Form("/commissions", max_length=300),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
) -> Response:
    target = back if back.startswith("/commissions") else "/commissions"
    try:
        outcome = ledger.decide(session, actor, entry_id, decision, reason)
    except InvalidInput as problem:
        flash(request, f"Nothing changed: {problem}", "error")
        return RedirectResponse(target, status_code=303)
    message = f"{len(outcome.changed)} line(s) {decision}."
    if outcome.skipped:
        message += f" {len(outcome.skipped)} skipped: already decided or paid."
    flash(request, message, "success")
    return RedirectResponse(target, status_code=303)


@router.get("/commissions/plans")
def plans_page(
    request: Request,
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return _plans_page(request, actor, session, settings)


def _plans_page(
    request: Request,
    actor: Actor,
    session: Session,
    settings: Settings,
    *,
    form: plans.PlanInput | None = None,
    error: str = "",
) -> Response:
    return render(
        request,
        "commissions/plans.html",
        status_code=400 if error else 200,
        plans=plans.list_plans(session, actor),
        describe=plans.describe,
        programs={p.id: p.name for p in session.scalars(select(Program).order_by(Program.name))},
        tiers=[
            (t.id, f"{t.program.name} · {t.name}")
            for t in session.scalars(select(Tier).order_by(Tier.program_id, Tier.rank))
        ],
        partners=(partners := partner_choices(session)),
        names=dict(partners),
        kinds=[k.value for k in PlanKind],
        bases=sorted({b.value for b in (*PERCENT_BASES, *BOUNTY_BASES)}),
        form=form or plans.PlanInput(name="", program_id=0, valid_from=settings.today().replace(day=1)),
        error=error,
        currency=settings.currency,
        model=settings.attribution_model,
    )


def _optional_id(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


@router.post("/commissions/plans")
def create_plan(
    request: Request,
    name: str = Form("", max_length=200),
    program_id: int = Form(..., ge=1, le=MAX_ID),
    tier_id: str = Form("", max_length=12),
    partner_id: str = Form("", max_length=12),
    kind: str = Form("percent", max_length=10),
    basis: str = Form("sourced", max_length=15),
    rate_from: list[str] = Form(default_factory=list),
    rate_percent: list[str] = Form(default_factory=list),
    months: int = Form(0, ge=0, le=1000),
    bounty: str = Form("", max_length=20),
    cap_deal: str = Form("", max_length=20),
    cap_period: str = Form("", max_length=20),
    clawback_days: int = Form(90, ge=0, le=100_000),
    valid_from: IsoDate = Form(...),
    valid_to: str = Form("", max_length=10),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    data = plans.PlanInput(
        name=name,
        program_id=program_id,
        kind=kind,
        basis=basis,
        tier_id=_optional_id(tier_id),
        partner_id=_optional_id(partner_id),
        rates=list(zip(rate_from, rate_percent, strict=False)),
        months=months,
        bounty=bounty,
        cap_deal=cap_deal,
        cap_period=cap_period,
        clawback_days=clawback_days,
        valid_from=valid_from,
    )
    try:
        if valid_to.strip():
            try:
                data.valid_to = date.fromisoformat(valid_to.strip())
            except ValueError:
                raise FieldError("valid_to", "a date, YYYY-MM-DD") from None
        plan = plans.create_plan(session, actor, data, workspace_currency=settings.currency)
    except InvalidInput as problem:
        return _plans_page(request, actor, session, settings, form=data, error=str(problem))
    flash(request, f"Plan {plan.name!r} created: {plans.describe(plan)}.", "success")
    return RedirectResponse("/commissions/plans", status_code=303)


@router.post("/commissions/plans/{plan_id}/end")
def end_plan(
    request: Request,
    plan_id: Id,
    valid_to: IsoDate = Form(...),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
) -> Response:
    try:
        plan = plans.end_plan(session, actor, plan_id, valid_to)
    except InvalidInput as problem:
        flash(request, f"Not ended: {problem}", "error")
    else:
        flash(request, f"Plan {plan.name!r} ends on {valid_to}.", "success")
    return RedirectResponse("/commissions/plans", status_code=303)


@router.get("/commissions/statements")
def statements_page(
    request: Request,
    partner: str = Query("", max_length=12),
    page: PageNumber = 1,
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.summaries(
        session, actor, _optional_id(partner), page=page, per_page=settings.page_size
    )
    return render(
        request,
        "commissions/statements.html",
        page=found,
        partners=partner_choices(session),
        partner=partner,
        money=plans.money,
        currency=settings.currency,
        link="/commissions/statements/",
    )


@router.get("/commissions/statements/{partner_id}/{period}.csv")
def statement_csv(
    partner_id: Id,
    period: str = Path(..., pattern=PERIOD),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.statement(session, actor, partner_id, period, settings.currency)
    return csv_download(statements.statement_csv(found), f"statement-{partner_id}-{period}.csv")


@router.get("/commissions/statements/{partner_id}/{period}.pdf")
def statement_pdf_download(
    partner_id: Id,
    period: str = Path(..., pattern=PERIOD),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.statement(session, actor, partner_id, period, settings.currency)
    return pdf_download(statement_pdf.render_pdf(found), f"statement-{partner_id}-{period}.pdf")


@router.get("/commissions/statements/{partner_id}/{period}")
def statement_page(
    request: Request,
    partner_id: Id,
    period: str = Path(..., pattern=PERIOD),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.statement(session, actor, partner_id, period, settings.currency)
    return render(
        request,
        "commissions/statement.html",
        statement=found,
        money=plans.money,
        csv_link=f"/commissions/statements/{partner_id}/{period}.csv",
        pdf_link=f"/commissions/statements/{partner_id}/{period}.pdf",
        back="/commissions/statements",
        finance=True,
    )


@router.get("/commissions/export.csv")
def export(actor: Actor = Depends(finance), session: Session = Depends(db)) -> Response:
    return csv_download(payments.export_csv(session, actor), "commission-bills.csv")


@router.post("/commissions/payments")
def upload_payments(
    request: Request,
    file: UploadFile = File(...),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
) -> Response:
    filename = file.filename or "payments.csv"
    data = file.file.read(MAX_PAYMENT_FILE + 1)
    try:
        if len(data) > MAX_PAYMENT_FILE:
            raise payments.PaymentFileError([f"{filename}: larger than {MAX_PAYMENT_FILE >> 20} MB"])
        result = payments.apply_payment_file(session, actor, data, filename)
    except payments.PaymentFileError as problem:
        flash(request, "Nothing was marked paid. " + " · ".join(problem.problems[:20]), "error")
        return RedirectResponse("/commissions?status=approved", status_code=303)
    flash(
        request,
        f"Marked paid: {result.lines} line(s) on {result.bills} bill(s), {plans.money(result.total_cents)}.",
        "success",
    )
    return RedirectResponse("/commissions?status=paid", status_code=303)
