"""Every role has a demo user, and every sign-in `ecoops demo` prints works."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from ecoops.accounts import service as accounts
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import Role
from ecoops.db import session_factory
from ecoops.demo.people import demo_sign_ins

APPROVED_APPLICANT = "tom@brightpath-consulting.example"


def test_every_printed_sign_in_works_and_covers_every_role(small_workspace):
    # Signing in stamps last_login_at; the session is closed without committing, so nothing changes.
    with session_factory(small_workspace.engine)() as session:
        sign_ins = demo_sign_ins(session)
        roles = Counter(session.scalars(select(User.role)))
        partner_admins = session.scalars(select(PartnerUser).where(PartnerUser.can_sign_in)).all()
        # Besides the contact of the partner approved from an application (demo/onboarding.py).
        email_only = session.scalars(
            select(PartnerUser).where(~PartnerUser.can_sign_in, PartnerUser.email != APPROVED_APPLICANT)
        ).all()

        assert set(roles) == set(Role)
        assert roles[Role.SALES] >= 3 and roles[Role.PARTNER_MANAGER] >= 2
        assert len(partner_admins) == 2 and all(p.is_partner_admin for p in partner_admins)
        assert len({p.partner_id for p in partner_admins}) == 2
        # Each has a customer-success contact beside its admin, who receives e-mail and cannot sign in.
        assert sorted(c.partner_id for c in email_only) == sorted(p.partner_id for p in partner_admins)
        assert all(c.contact_role == "cs" and c.password_hash == "" for c in email_only)
        assert len(sign_ins) == sum(roles.values()) + len(partner_admins)
        for row in sign_ins:
            assert len(row.password) >= accounts.MIN_PASSWORD_LENGTH
            user = accounts.authenticate(session, row.email, row.password)
            assert user is not None and user.email == row.email
        assert accounts.authenticate(session, sign_ins[0].email, sign_ins[0].password + "!") is None
