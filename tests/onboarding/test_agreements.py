"""Program agreements: set on /programs, accepted by a partner admin in the portal, asked again when
the version changes; the record shows who, when and from where, on the partner page and in the portal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecoops.actors import SYSTEM, Role
from ecoops.onboarding import agreements
from ecoops.onboarding.models import AgreementAcceptance
from ecoops.partners import programs
from tests.factories import csrf_from, make_partner, make_partner_user, make_user, sign_in


@pytest.fixture
def program(session):
    program = programs.create_program(session, SYSTEM, name="Resellers", tiers=["Registered"])
    agreements.set_agreement(
        session, SYSTEM, program, version="2025-01", text="We work together fairly.", url=""
    )
    return program


@pytest.fixture
def partner(session, program):
    return make_partner(session, name="Acme", stage="signed", tiers=[program.tiers[0]])


def _portal(client, session, partner, *, admin=True):
    person = make_partner_user(
        session, partner, name="Pat Admin", email="pat@acme.example", is_partner_admin=admin
    )
    sign_in(client, person.email)
    return csrf_from(client.get("/portal/onboarding").text)


def test_an_agreement_is_set_on_the_programs_page_with_clear_errors(client, session):
    program = programs.create_program(session, SYSTEM, name="Tech", tiers=["Registered"])
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    token = csrf_from(client.get("/programs").text)
    path = f"/programs/{program.id}/agreement"
    no_text = client.post(path, data={"version": "v1", "csrf_token": token}, follow_redirects=True)
    assert "The agreement was not saved: text: give the agreement" in no_text.text
    bad_link = client.post(
        path, data={"version": "v1", "url": "ftp://x", "csrf_token": token}, follow_redirects=True
    )
    assert "url: a link starting with https://" in bad_link.text
    saved = client.post(
        path,
        data={"version": "v1", "url": "https://example.com/t.pdf", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Tech now has version v1." in saved.text
    session.refresh(program)
    assert (program.agreement_version, program.agreement_url) == ("v1", "https://example.com/t.pdf")


@pytest.mark.all_backends
def test_a_partner_admin_accepts_and_the_record_says_who_when_and_from_where(
    client, session, partner, program
):
    token = _portal(client, session, partner)
    page = client.get("/portal/onboarding").text
    assert "not accepted" in page and "Accept version 2025-01 of the Resellers agreement" in page
    response = client.post(
        f"/portal/onboarding/{program.id}/accept",
        data={"version": "2025-01", "csrf_token": token},
        headers={"user-agent": "Firefox/130 test"},
        follow_redirects=True,
    )
    assert "You accepted version 2025-01 of the agreement." in response.text
    (acceptance,) = session.scalars(select(AgreementAcceptance)).all()
    assert (acceptance.partner_id, acceptance.program_id, acceptance.version) == (
        partner.id,
        program.id,
        "2025-01",
    )
    assert acceptance.accepted_by == "Pat Admin <pat@acme.example>"
    assert (acceptance.address, acceptance.user_agent) == ("testclient", "Firefox/130 test")
    assert "Accept version" not in response.text
    # Accepting twice is refused (a double click), and nothing more is stored.
    again = client.post(
        f"/portal/onboarding/{program.id}/accept",
        data={"version": "2025-01", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Not accepted: version: version 2025-01 is already accepted" in again.text
    assert len(session.scalars(select(AgreementAcceptance)).all()) == 1
    # Shown on the partner page to us.
    client.cookies.clear()
    sign_in(client, make_user(session, Role.SALES).email)
    detail = client.get(f"/partners/{partner.id}").text
    assert "accepted</span> by Pat Admin &lt;pat@acme.example&gt;" in detail
    assert "from testclient · Firefox/130 test" in detail


def test_a_new_version_asks_again_and_the_old_one_stays_in_view(client, session, partner, program):
    token = _portal(client, session, partner)
    client.post(f"/portal/onboarding/{program.id}/accept", data={"version": "2025-01", "csrf_token": token})
    agreements.set_agreement(session, SYSTEM, program, version="2026-01", text="New terms.", url="")
    session.flush()
    page = client.get("/portal/onboarding").text
    assert "Accept version 2026-01" in page
    assert "version 2025-01 was accepted by Pat Admin" in page
    # A form shown before the change still says 2025-01: it accepts nothing.
    stale = client.post(
        f"/portal/onboarding/{program.id}/accept",
        data={"version": "2025-01", "csrf_token": token},
        follow_redirects=True,
    )
    assert "the agreement is now version 2026-01; read it again" in stale.text
    client.post(f"/portal/onboarding/{program.id}/accept", data={"version": "2026-01", "csrf_token": token})
    versions = session.scalars(select(AgreementAcceptance.version).order_by(AgreementAcceptance.id)).all()
    assert versions == ["2025-01", "2026-01"]


def test_only_a_partner_admin_of_a_member_accepts(client, session, partner, program):
    token = _portal(client, session, partner, admin=False)
    assert "A partner admin of your company accepts it." in client.get("/portal/onboarding").text
    refused = client.post(
        f"/portal/onboarding/{program.id}/accept", data={"version": "2025-01", "csrf_token": token}
    )
    assert refused.status_code == 403
    other = programs.create_program(session, SYSTEM, name="Other", tiers=["One"])
    agreements.set_agreement(session, SYSTEM, other, version="v1", text="x", url="")
    admin = make_partner_user(session, partner, is_partner_admin=True)
    client.cookies.clear()
    sign_in(client, admin.email)
    token = csrf_from(client.get("/portal/onboarding").text)
    # Not in that program: no such agreement for this partner.
    response = client.post(
        f"/portal/onboarding/{other.id}/accept", data={"version": "v1", "csrf_token": token}
    )
    assert response.status_code == 404
    assert session.scalars(select(AgreementAcceptance)).all() == []
