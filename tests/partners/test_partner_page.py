"""The partner page leads to the partner's mapping and referrals, and names the accounts of its deals."""

from ecoops.actors import Role
from tests.factories import make_partner, make_user, sign_in


def test_partner_page_links_its_mapping_and_its_referrals(client, session):
    partner = make_partner(session, name="Linked Partner")
    sign_in(client, make_user(session, Role.SALES).email)
    page = client.get(f"/partners/{partner.id}").text
    assert f'href="/mapping/partners/{partner.id}"' in page
    assert f'href="/referrals?partner_id={partner.id}"' in page
    assert client.get(f"/mapping/partners/{partner.id}").status_code == 200
    referrals = client.get("/referrals", params={"partner_id": partner.id}).text
    assert f'<option value="{partner.id}" selected>Linked Partner</option>' in referrals
