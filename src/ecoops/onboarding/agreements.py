"""Program agreements: the current version of each program's partner agreement, and its acceptance by
a partner admin in the portal (version, who, when, from which address and browser).

An acceptance holds for one version: a program given a new version string asks every partner to accept
again, and the older acceptances stay as history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import PartnerUser
from ecoops.actors import Actor, ActorKind
from ecoops.onboarding.models import AgreementAcceptance
from ecoops.partners.models import Membership, Program
from ecoops.partners.programs import FieldError
from ecoops.permissions import Forbidden, NotFound, Permission, require

VERSION_MAX, URL_MAX, TEXT_MAX = 40, 500, 20_000


def set_agreement(
    session: Session, actor: Actor, program: Program, *, version: str, text: str, url: str
) -> None:
    """Give the program an agreement version (a text, a link, or both); a blank version means none."""
    require(actor, Permission.EDIT_PROGRAM)
    version, text, url = version.strip(), text.strip(), url.strip()
    if len(version) > VERSION_MAX:
        raise FieldError("version", f"at most {VERSION_MAX} characters")
    if url and (not url.startswith(("https://", "http://")) or len(url) > URL_MAX):
        raise FieldError("url", f"a link starting with https:// of at most {URL_MAX} characters")
    if len(text) > TEXT_MAX:
        raise FieldError("text", f"at most {TEXT_MAX} characters, not {len(text)}")
    if version and not (text or url):
        raise FieldError("text", "give the agreement's text or a link to it")
    previous = program.agreement_version
    program.agreement_version, program.agreement_text, program.agreement_url = version, text, url
    session.flush()
    audit.record(
        session, actor, "program.agreement_set", "program", program.id, version=version, previous=previous
    )


@dataclass(frozen=True)
class AgreementState:
    """One program's agreement as it stands for one partner."""

    program: Program
    accepted: AgreementAcceptance | None  # of the current version
    earlier: AgreementAcceptance | None  # the latest acceptance of an older version, if any

    @property
    def needs_acceptance(self) -> bool:
        return self.accepted is None


def partner_agreements(session: Session, partner_id: int) -> list[AgreementState]:
    """The agreements of the programs the partner is in that have one, with the partner's acceptances."""
    programs = session.scalars(
        select(Program)
        .join(Membership, Membership.program_id == Program.id)
        .where(Membership.partner_id == partner_id, Program.agreement_version != "")
        .order_by(Program.name)
    ).all()
    acceptances = session.scalars(
        select(AgreementAcceptance)
        .where(AgreementAcceptance.partner_id == partner_id)
        .order_by(AgreementAcceptance.accepted_at.desc(), AgreementAcceptance.id.desc())
    ).all()
    states = []
    for program in programs:
        mine = [a for a in acceptances if a.program_id == program.id]
        current = next((a for a in mine if a.version == program.agreement_version), None)
        older = next((a for a in mine if a.version != program.agreement_version), None)
        states.append(AgreementState(program, current, older))
    return states


def has_accepted_current(session: Session, partner_id: int, program: Program) -> bool:
    if not program.agreement_version:
        return False
    found = session.scalar(
        select(AgreementAcceptance.id).where(
            AgreementAcceptance.partner_id == partner_id,
            AgreementAcceptance.program_id == program.id,
            AgreementAcceptance.version == program.agreement_version,
        )
    )
    return found is not None


def accept_agreement(
    session: Session, actor: Actor, program_id: int, *, version: str, address: str, user_agent: str
) -> AgreementAcceptance:
    """A partner admin accepts `version` of a program's agreement for its own partner.

    `version` is the one the admin read: if the program moved on meanwhile, nothing is accepted.
    """
    if actor.kind != ActorKind.PARTNER_USER or actor.partner_id is None:
        raise Forbidden("only a partner admin accepts an agreement, in the portal")
    person = session.get(PartnerUser, actor.id)
    if person is None or not person.is_partner_admin:
        raise Forbidden("only a partner admin may accept the agreement for the partner")
    member = session.scalar(
        select(Membership.id).where(
            Membership.partner_id == actor.partner_id, Membership.program_id == program_id
        )
    )
    program = session.get(Program, program_id)
    if member is None or program is None or not program.agreement_version:
        raise NotFound(f"no agreement of program {program_id} for your partner")
    if version != program.agreement_version:
        raise FieldError(
            "version", f"the agreement is now version {program.agreement_version}; read it again"
        )
    if has_accepted_current(session, actor.partner_id, program):
        raise FieldError("version", f"version {version} is already accepted")
    acceptance = AgreementAcceptance(
        partner_id=actor.partner_id,
        program_id=program.id,
        version=version,
        partner_user_id=person.id,
        accepted_by=f"{person.name} <{person.email}>",
        address=address[:64],
        user_agent=user_agent[:500],
    )
    try:
        with session.begin_nested():  # a double click's second acceptance meets the unique key
            session.add(acceptance)
    except IntegrityError:
        raise FieldError("version", f"version {version} is already accepted") from None
    audit.record(
        session,
        actor,
        "agreement.accepted",
        "program",
        program.id,
        partner_id=actor.partner_id,
        version=version,
        address=acceptance.address,
    )
    return acceptance
