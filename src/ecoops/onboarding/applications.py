"""Partner applications: submitted by anyone through /apply, decided by those who run the program.

Approving creates the partner (at `recruiting` or `signed`, in the program applied to) with the
applicant as an e-mail-only contact; two reviewers approving one application at once create one partner,
as the application's row is locked (PostgreSQL) or the write lock held (SQLite) before its status is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import InvalidInput, checked_contact_role, create_partner_user
from ecoops.actors import Actor, ActorKind, Role
from ecoops.audit import utcnow
from ecoops.events import EventKind, emit
from ecoops.onboarding.models import ApplicationStatus, PartnerApplication
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Membership, Partner, PartnerDomain, PartnerType, Program, Stage, Tier
from ecoops.partners.programs import FieldError
from ecoops.partners.service import create_partner
from ecoops.permissions import NotFound, Permission, require

APPROVED_STAGES = (Stage.RECRUITING, Stage.SIGNED)
MESSAGE_MAX = 5000
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class ApplicationInput:
    """The public form's fields, as typed."""

    company: str
    website: str
    country: str
    partner_type: str
    contact_name: str
    email: str
    contact_role: str
    message: str
    program_id: int | None


def open_programs(session: Session) -> list[Program]:
    """The programs one may apply to: those not retired."""
    return list(session.scalars(select(Program).where(Program.retired_on.is_(None)).order_by(Program.name)))


def domain_of(website: str) -> str:
    """The bare domain of a website as typed ("https://www.Acme.io/x" -> "acme.io"); "" if it is none."""
    text = website.strip().lower()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.removeprefix("www.")
    return host if _DOMAIN.match(host) else ""


def _checked(session: Session, data: ApplicationInput) -> PartnerApplication:
    """The application the input describes, or FieldError naming the first field that is wrong."""
    company = data.company.strip()
    if not company or len(company) > 200:
        raise FieldError("company", "a company name of 1 to 200 characters")
    website = data.website.strip()
    domain = domain_of(website)
    if not domain or len(website) > 300:
        raise FieldError("website", "your company's website, such as acme.com")
    country = data.country.strip().upper()
    if not (len(country) == 2 and country.isalpha()):
        raise FieldError("country", "a two-letter country code such as DE or US")
    if data.partner_type not in PartnerType.__members__.values():
        raise FieldError("partner_type", "choose the kind of partnership")
    contact_name = data.contact_name.strip()
    if not contact_name or len(contact_name) > 200:
        raise FieldError("contact_name", "your name, 1 to 200 characters")
    email = data.email.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        raise FieldError("email", "an e-mail address such as ana@acme.com")
    try:
        role = checked_contact_role(data.contact_role)
    except InvalidInput as problem:
        raise FieldError("contact_role", str(problem)) from None
    if len(data.message) > MESSAGE_MAX:
        raise FieldError("message", f"at most {MESSAGE_MAX} characters, not {len(data.message)}")
    programs = {p.id for p in open_programs(session)}
    if data.program_id not in programs:
        raise FieldError("program_id", "choose the program you apply to")
    return PartnerApplication(
        program_id=data.program_id,
        company=company,
        website=website,
        domain=domain,
        country=country,
        partner_type=data.partner_type,
        contact_name=contact_name,
        email=email,
        contact_role=role,
        message=data.message.strip(),
    )


def submit_application(session: Session, data: ApplicationInput, *, address: str) -> PartnerApplication:
    """Store an application from the public form (no actor: anyone may apply) and announce it."""
    application = _checked(session, data)
    application.submitted_from = address[:64]
    session.add(application)
    session.flush()
    applicant = Actor(kind=ActorKind.SYSTEM, id=None, label=f"applicant {application.email}", role=None)
    audit.record(
        session,
        applicant,
        "partner_application.submitted",
        "partner_application",
        application.id,
        company=application.company,
        address=application.submitted_from,
    )
    emit(
        session,
        EventKind.PARTNER_APPLICATION_SUBMITTED,
        company=application.company,
        domain=application.domain,
        contact_name=application.contact_name,
        email=application.email,
        program=application.program.name if application.program else "",
        link=f"/applications/{application.id}",
    )
    return application


def list_applications(
    session: Session, actor: Actor, *, status: str = "", page: int = 1, per_page: int = 50
) -> Page[PartnerApplication]:
    """Applications, newest first; `status` filters (empty: all)."""
    require(actor, Permission.EDIT_PROGRAM)
    statement = select(PartnerApplication)
    if status:
        statement = statement.where(PartnerApplication.status == status)
    statement = statement.order_by(PartnerApplication.submitted_at.desc(), PartnerApplication.id.desc())
    return paginate(session, statement, page=page, per_page=per_page)


def get_application(session: Session, actor: Actor, application_id: int) -> PartnerApplication:
    require(actor, Permission.EDIT_PROGRAM)
    application = session.get(PartnerApplication, application_id)
    if application is None:
        raise NotFound(f"no application {application_id}")
    return application


def possible_duplicates(session: Session, application: PartnerApplication) -> list[Partner]:
    """Partners that may be this company already: one of its domains, or the same name (any case)."""
    by_domain = select(PartnerDomain.partner_id).where(PartnerDomain.domain == application.domain)
    query = select(Partner).where(
        or_(Partner.id.in_(by_domain), func.lower(Partner.name) == application.company.lower())
    )
    return list(session.scalars(query.order_by(func.lower(Partner.name), Partner.id)))


def _locked_open(session: Session, actor: Actor, application_id: int) -> PartnerApplication:
    """The application, its row locked and read afresh; InvalidInput once someone has decided it."""
    require(actor, Permission.EDIT_PROGRAM)
    application = session.scalar(
        select(PartnerApplication)
        .where(PartnerApplication.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if application is None:
        raise NotFound(f"no application {application_id}")
    if application.status != ApplicationStatus.SUBMITTED:
        raise InvalidInput(f"the application was already {application.status} by {application.decided_by}")
    return application


@dataclass(frozen=True)
class Approval:
    partner: Partner
    contact: PartnerUser | None  # None when the e-mail already belongs to someone who signs in here


def approve_application(
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    stage: str,
    program_id: int | None,
    today: date,
    note: str = "",
    despite_duplicates: bool = False,
) -> Approval:
    """Create the partner the application describes, in `stage` and the chosen program's entry tier."""
    application = _locked_open(session, actor, application_id)
    if stage not in APPROVED_STAGES:
        raise FieldError("stage", f"one of {', '.join(APPROVED_STAGES)}, not {stage!r}")
    program = session.get(Program, program_id) if program_id is not None else None
    if program is None or program.retired_on is not None:
        raise FieldError("program_id", "choose a program in use")
    duplicates = possible_duplicates(session, application)
    if duplicates and not despite_duplicates:
        names = ", ".join(p.name for p in duplicates)
        raise InvalidInput(f"{names} may be this company already; tick 'create anyway' if it is not")
    entry_tier = session.scalar(
        select(Tier)
        .where(Tier.program_id == program.id, Tier.retired_on.is_(None))
        .order_by(Tier.rank, Tier.id)
        .limit(1)
    )
    partner = create_partner(
        session,
        actor,
        name=application.company,
        partner_type=application.partner_type,
        stage=stage,
        stage_since=today,
        website=application.website,
        domains=[application.domain],
        country=application.country,
        owner_id=actor.id if actor.kind == ActorKind.USER else None,
        description=application.message,
        tiers=[entry_tier] if entry_tier else [],
    )
    if entry_tier is None:  # a program without tiers: a membership at no tier
        partner.memberships.append(Membership(program_id=program.id, joined_on=today))
    contact = None
    taken = any(
        session.scalar(select(func.count()).where(model.email == application.email))
        for model in (User, PartnerUser)
    )
    if not taken:
        # Approving is the program's business (EDIT_PROGRAM); the contact it adds is e-mail-only,
        # so no sign-in is granted by it: the approval acts for the contact's creation.
        creator = Actor(kind=ActorKind.SYSTEM, id=actor.id, label=actor.label, role=Role.ADMIN)
        contact = create_partner_user(
            session,
            creator,
            partner_id=partner.id,
            email=application.email,
            name=application.contact_name,
            password="",
            contact_role=application.contact_role,
            can_sign_in=False,
        )
    _decide(session, actor, application, ApplicationStatus.APPROVED, note)
    application.partner_id, application.program_id = partner.id, program.id
    audit.record(
        session,
        actor,
        "partner_application.approved",
        "partner_application",
        application.id,
        partner_id=partner.id,
        stage=stage,
        program=program.name,
    )
    return Approval(partner, contact)


def decline_application(session: Session, actor: Actor, application_id: int, *, reason: str) -> None:
    application = _locked_open(session, actor, application_id)
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise FieldError("reason", "say why, in at most 2000 characters")
    _decide(session, actor, application, ApplicationStatus.DECLINED, reason)
    audit.record(
        session, actor, "partner_application.declined", "partner_application", application.id, reason=reason
    )


def _decide(
    session: Session, actor: Actor, application: PartnerApplication, status: ApplicationStatus, note: str
) -> None:
    application.status = status.value
    application.decided_by, application.decided_at = actor.label, utcnow()
    application.note = note.strip()[:2000]
    session.flush()
