"""The demo's onboarding: agreements and checklists on the programs, partners partway through them,
and a few applications from the public form (one still waiting for review).

Seeded after the partners' life cycles, which were lived before there were checklists: items gating a
stage a partner has already reached are checked off as of the day it got there. Every moment is taken
from the as-of date, so the same seed gives the same rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import partner_user_actor
from ecoops.actors import Actor, Role
from ecoops.onboarding import agreements, applications, checklist
from ecoops.onboarding.models import ChecklistCheck, ChecklistItem
from ecoops.partners.models import STAGE_ORDER, Membership, Partner, PartnerStageChange, Program, Stage

AGREEMENTS = {
    "Reseller": (
        "2025-01",
        "The Reseller Partner Agreement\n\n1. You resell and implement our platform in your territory.\n"
        "2. Deal registrations hold for the window of your tier.\n3. Commissions follow the current plan.",
    ),
    "Technology Alliance": (
        "TA-3",
        "Technology Alliance terms, third edition: integration listing, co-marketing and use of our marks.",
    ),
}
# (program, title, help, the stage it gates, done when the agreement is accepted)
ITEMS = (
    (
        "Reseller",
        "Partner agreement accepted",
        "A partner admin accepts it in the portal.",
        Stage.ONBOARDING,
        True,
    ),
    (
        "Reseller",
        "Kick-off call held",
        "Introductions, territories, the first 90 days.",
        Stage.ONBOARDING,
        False,
    ),
    ("Reseller", "Two sales people certified", "The Sales Foundations course.", Stage.ACTIVE, False),
    (
        "Reseller",
        "Joint business plan agreed",
        "Targets for the year, signed by both sides.",
        Stage.ACTIVE,
        False,
    ),
    ("Technology Alliance", "Alliance terms accepted", "", Stage.ONBOARDING, True),
    ("Technology Alliance", "Integration listed in the marketplace", "", Stage.ACTIVE, False),
)
# (company, website, country, type, contact, e-mail, role, program, days ago, decision)
APPLICATIONS = (
    (
        "Northwind Analytics",
        "https://northwind-analytics.example",
        "NL",
        "technology",
        "Eva de Vries",
        "eva@northwind-analytics.example",
        "exec",
        "Technology Alliance",
        1,
        "",
    ),
    (
        "Brightpath Consulting",
        "brightpath-consulting.example",
        "GB",
        "systems_integrator",
        "Tom Ashby",
        "tom@brightpath-consulting.example",
        "sales",
        "Reseller",
        6,
        "approved",
    ),
    (
        "Quick Leads 4U",
        "quickleads4u.example",
        "US",
        "affiliate",
        "Sam",
        "sam@quickleads4u.example",
        "",
        "Referral",
        9,
        "declined",
    ),
)


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def seed_onboarding(session: Session, actor: Actor, as_of: date) -> tuple[int, int]:
    """Agreements, checklists, check-offs, acceptances and applications; (applications, partners approved)."""
    programs = {p.name: p for p in session.scalars(select(Program))}
    for name, (version, text) in AGREEMENTS.items():
        agreements.set_agreement(session, actor, programs[name], version=version, text=text, url="")
    items = [
        checklist.add_item(
            session,
            actor,
            programs[program],
            title=title,
            help_text=help_text,
            gates_stage=stage,
            done_by_agreement=by_agreement,
        )
        for program, title, help_text, stage, by_agreement in ITEMS
    ]
    _bring_partners_up_to_date(session, items, as_of)
    _accept_for_admins(session, programs, as_of)
    _applications(session, actor, programs, as_of)
    return len(APPLICATIONS), sum(decision == "approved" for *_, decision in APPLICATIONS)


def _reached(session: Session, partner: Partner) -> dict[str, date]:
    """The first day the partner entered each stage."""
    days: dict[str, date] = {}
    for change in session.scalars(
        select(PartnerStageChange)
        .where(PartnerStageChange.partner_id == partner.id)
        .order_by(PartnerStageChange.changed_on, PartnerStageChange.id)
    ):
        days.setdefault(change.to_stage, change.changed_on)
    return days


def _bring_partners_up_to_date(session: Session, items: list[ChecklistItem], as_of: date) -> None:
    """Check off what partners past a gate must have done; those still at signed or onboarding have done
    the first manual item of their next gate (the kick-off call, say), not yet the rest."""
    members = session.execute(
        select(Partner, Membership.program_id).join(Membership).order_by(Partner.id)
    ).all()
    for partner, program_id in members:
        reached = _reached(session, partner)
        current = STAGE_ORDER.index(Stage(partner.stage))
        mine = [i for i in items if i.program_id == program_id and not i.done_by_agreement]
        partway = partner.stage in (Stage.SIGNED, Stage.ONBOARDING)
        started = False
        for item in mine:
            gate = STAGE_ORDER.index(Stage(item.gates_stage))
            day = reached.get(item.gates_stage)
            if partner.stage != Stage.CHURNED and gate <= current and day is not None:
                on = day
            elif partway and gate == current + 1 and not started:
                on, started = partner.stage_since, True
            else:
                continue
            session.add(
                ChecklistCheck(
                    partner_id=partner.id,
                    item_id=item.id,
                    checked_by="demo",
                    checked_at=_moment(min(on, as_of)),
                )
            )
    session.flush()


def _accept_for_admins(session: Session, programs: dict[str, Program], as_of: date) -> None:
    """The demo's partner admins accept their programs' agreements (one, an older version: asked again)."""
    admins = session.scalars(
        select(PartnerUser).where(PartnerUser.is_partner_admin).order_by(PartnerUser.id)
    ).all()
    for n, admin in enumerate(admins):
        held = session.scalars(
            select(Membership.program_id).where(Membership.partner_id == admin.partner_id)
        ).all()
        for program in (p for p in programs.values() if p.id in held and p.agreement_version):
            version = program.agreement_version if n == 0 else "2024-01"
            acceptance = agreements.accept_agreement(
                session,
                partner_user_actor(admin),
                program.id,
                version=program.agreement_version,
                address=f"203.0.113.{10 + n}",
                user_agent="Mozilla/5.0 (demo browser)",
            )
            acceptance.version = version
            acceptance.accepted_at = _moment(as_of - timedelta(days=30 + n))
    session.flush()


def _applications(session: Session, actor: Actor, programs: dict[str, Program], as_of: date) -> None:
    manager = session.scalars(select(User).where(User.role == Role.PARTNER_MANAGER).order_by(User.id)).first()
    for company, website, country, kind, contact, email, role, program, days_ago, decision in APPLICATIONS:
        data = applications.ApplicationInput(
            company, website, country, kind, contact, email, role, "", programs[program].id
        )
        application = applications.submit_application(session, data, address="198.51.100.20")
        application.submitted_at = _moment(as_of - timedelta(days=days_ago), 9)
        if decision == "approved":
            approval = applications.approve_application(
                session,
                actor,
                application.id,
                stage=Stage.SIGNED,
                program_id=programs[program].id,
                today=as_of,
            )
            approval.partner.owner_id = manager.id if manager else None
        elif decision == "declined":
            applications.decline_application(
                session, actor, application.id, reason="Lead resellers are not in our Referral program."
            )
        if decision:
            application.decided_at = _moment(as_of - timedelta(days=days_ago - 1), 15)
    session.flush()
