"""The demo company's staff (one or more users per role) and its partners' users, with known passwords."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts import service as accounts
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import Actor, Role
from ecoops.partners.models import Partner

COMPANY_NAME = "Fernhill"
EMAIL_DOMAIN = "fernhill.example"  # a reserved top-level domain: nothing is ever delivered there
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed on purpose; demo workspaces are not for production


@dataclass(frozen=True)
class StaffMember:
    email: str
    name: str
    role: Role
    territory: str = ""  # for account executives: the region whose accounts they own


STAFF: tuple[StaffMember, ...] = (
    StaffMember(f"admin@{EMAIL_DOMAIN}", "Avery Stone", Role.ADMIN),
    StaffMember(f"ops@{EMAIL_DOMAIN}", "Jordan Patel", Role.OPS),
    StaffMember(f"partners@{EMAIL_DOMAIN}", "Priya Raman", Role.PARTNER_MANAGER),
    StaffMember(f"marco.bianchi@{EMAIL_DOMAIN}", "Marco Bianchi", Role.PARTNER_MANAGER),
    StaffMember(f"hannah.schulz@{EMAIL_DOMAIN}", "Hannah Schulz", Role.PARTNER_MANAGER),
    StaffMember(f"sales@{EMAIL_DOMAIN}", "Sam Carter", Role.SALES, "Americas"),
    StaffMember(f"olivia.chen@{EMAIL_DOMAIN}", "Olivia Chen", Role.SALES, "Americas"),
    StaffMember(f"diego.ramos@{EMAIL_DOMAIN}", "Diego Ramos", Role.SALES, "Americas"),
    StaffMember(f"lena.fischer@{EMAIL_DOMAIN}", "Lena Fischer", Role.SALES, "EMEA"),
    StaffMember(f"tom.whitaker@{EMAIL_DOMAIN}", "Tom Whitaker", Role.SALES, "EMEA"),
    StaffMember(f"aisha.khan@{EMAIL_DOMAIN}", "Aisha Khan", Role.SALES, "APAC"),
    StaffMember(f"viewer@{EMAIL_DOMAIN}", "Vic Ortega", Role.VIEWER),
)
# The partner admins who sign in to the portal, one per partner that gets portal access.
PARTNER_ADMIN_NAMES = ("Riley Brooks", "Noor Haddad")


@dataclass(frozen=True)
class SignIn:
    """A row of the sign-in table `ecoops demo` prints."""

    email: str
    password: str
    role: str  # the staff role, or which partner a partner admin belongs to


@dataclass(frozen=True)
class Staff:
    """The staff users as stored, by what the rest of the demo needs them for."""

    partner_manager_ids: tuple[int, ...]
    account_executives: dict[str, tuple[str, ...]]  # territory → names, as the CRM's owner field holds them


def create_staff(session: Session, actor: Actor) -> Staff:
    """Create every staff user through the accounts service."""
    managers: list[int] = []
    executives: dict[str, list[str]] = {}
    for member in STAFF:
        user = accounts.create_user(
            session, actor, email=member.email, name=member.name, role=member.role, password=DEMO_PASSWORD
        )
        if member.role == Role.PARTNER_MANAGER:
            managers.append(user.id)
        if member.territory:
            executives.setdefault(member.territory, []).append(member.name)
    return Staff(tuple(managers), {region: tuple(names) for region, names in executives.items()})


def create_partner_admins(session: Session, actor: Actor, partners: list[tuple[int, str]]) -> None:
    """One portal admin for each (partner id, partner domain), named from PARTNER_ADMIN_NAMES."""
    for (partner_id, domain), person in zip(partners, PARTNER_ADMIN_NAMES, strict=False):
        first, last = person.lower().split()
        accounts.create_partner_user(
            session,
            actor,
            partner_id=partner_id,
            # Under the reserved `.example` domain, named after the partner, so nothing reaches a real inbox.
            email=f"{first}.{last}@{domain.split('.')[0]}.example",
            name=person,
            password=DEMO_PASSWORD,
            is_partner_admin=True,
            contact_role="sales",
        )
        # A customer-success contact who only receives e-mail (the CS step of the onboarding sequence).
        accounts.create_partner_user(
            session,
            actor,
            partner_id=partner_id,
            email=f"success@{domain.split('.')[0]}.example",
            name=f"{domain.split('.')[0].title()} Customer Success",
            password="",
            contact_role="cs",
            can_sign_in=False,
        )


def demo_sign_ins(session: Session) -> list[SignIn]:
    """The demo's sign-ins present in this database: staff first, then partner admins."""
    staff_emails = set(session.scalars(select(User.email).where(User.email.in_([m.email for m in STAFF]))))
    rows = [SignIn(m.email, DEMO_PASSWORD, m.role.value) for m in STAFF if m.email in staff_emails]
    partner_admins = session.execute(
        select(PartnerUser.email, Partner.name)
        .join(Partner, Partner.id == PartnerUser.partner_id)
        .where(PartnerUser.name.in_(PARTNER_ADMIN_NAMES), PartnerUser.is_partner_admin)
        .order_by(PartnerUser.id)
    )
    rows += [SignIn(email, DEMO_PASSWORD, f"partner admin ({partner})") for email, partner in partner_admins]
    return rows
