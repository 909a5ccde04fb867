"""The "New partner" form: for program editors, with validation errors shown on the form."""

from sqlalchemy import select

from ecoops.actors import SYSTEM, Role
from ecoops.partners import service
from ecoops.partners.models import Partner
from tests.factories import csrf_from, make_user, sign_in


def test_create_partner_from_the_form(client, session):
    owner = make_user(session, Role.PARTNER_MANAGER, name="Olga Owner")
    program = service.create_program(session, SYSTEM, name="Tech", tiers=["Registered", "Premier"])
    sign_in(client, owner.email)
    assert "New partner" in client.get("/partners").text
    form = client.get("/partners/new").text
    assert "Tech · Premier" in form and "Olga Owner" in form
    response = client.post(
        "/partners",
        data={
            "name": "Formed Ltd",
            "partner_type": "technology",
            "stage": "signed",
            "stage_since": "2025-02-03",
            "domains": "Formed.example, formed.co.uk",
            "country": "gb",
            "owner_id": str(owner.id),
            "tier_ids": [str(program.tiers[1].id)],
            "csrf_token": csrf_from(form),
        },
    )
    assert response.status_code == 303
    partner = session.scalar(select(Partner).where(Partner.name == "Formed Ltd"))
    assert response.headers["location"] == f"/partners/{partner.id}"
    assert (partner.stage, partner.country, partner.owner_id) == ("signed", "GB", owner.id)
    assert sorted(d.domain for d in partner.domains) == ["formed.co.uk", "formed.example"]
    assert [m.tier_id for m in partner.memberships] == [program.tiers[1].id]
    page = client.get(response.headers["location"]).text
    assert "2025-02-03" in page and "Formed Ltd is in the directory" in page


def test_errors_are_shown_on_the_form_with_the_values_kept(client, session):
    sign_in(client, make_user(session, Role.ADMIN).email)
    token = csrf_from(client.get("/partners/new").text)
    base = {"name": "Keep Me", "partner_type": "agency", "stage_since": "2025-01-01", "csrf_token": token}
    for changes, message in [
        ({"country": "Germany"}, "two-letter ISO code"),
        ({"stage_since": "yesterday"}, "must be a date"),
        ({"stage_since": "2999-01-01"}, "in the future"),
        ({"partner_type": ""}, "unknown partner type"),
        ({"name": " "}, "needs a name"),
    ]:
        response = client.post("/partners", data=base | changes)
        assert response.status_code == 400, changes
        assert message in response.text and 'value="' in response.text
    assert 'value="Keep Me"' in client.post("/partners", data=base | {"country": "XXX"}).text
    assert session.scalar(select(Partner).where(Partner.name == "Keep Me")) is None


def test_viewers_get_no_form(client, session):
    sign_in(client, make_user(session, Role.VIEWER).email)
    assert "New partner" not in client.get("/partners").text
    assert client.get("/partners/new").status_code == 403
