"""The accounts list (search, owner filter, pagination, empty state) and an account's page."""

from datetime import date

from ecoops.actors import Role
from ecoops.attribution.models import PartnerTouch
from ecoops.crm.models import Contact, OpportunityStageChange
from tests.factories import make_account, make_opportunity, make_partner, make_user, sign_in


def test_search_by_name_domain_or_crm_id_and_filter_by_owner(client, session):
    make_account(session, name="Globex Corporation", domain="globex.example", owner="Ana")
    make_account(session, name="Initech", domain="initech.example", crm_id="001INITECH", owner="Ben")
    sign_in(client, make_user(session, Role.SALES).email)

    assert "Globex Corporation" in client.get("/accounts?q=globex").text
    assert "Initech" not in client.get("/accounts?q=globex").text
    assert "Initech" in client.get("/accounts?q=initech.exam").text
    assert "Initech" in client.get("/accounts?q=001INITECH").text
    by_owner = client.get("/accounts?owner=Ben").text
    assert "Initech" in by_owner and "Globex" not in by_owner
    assert "No account matches these filters" in client.get("/accounts?q=nothing-like-this").text


def test_empty_workspace_says_how_to_get_accounts(client, session):
    sign_in(client, make_user(session, Role.VIEWER).email)
    assert "Import your CRM" in client.get("/accounts").text


def test_pages_and_htmx_partial(client, session, settings):
    settings.page_size = 2
    for n in range(5):
        make_account(session, name=f"Paged {n}")
    sign_in(client, make_user(session, Role.VIEWER).email)
    first, third = client.get("/accounts?q=paged"), client.get("/accounts?q=paged&page=3")
    assert "Paged 0" in first.text and "Paged 4" not in first.text
    assert "page 1 of 3" in first.text and "page=2" in first.text
    assert "Paged 4" in third.text and "Next" not in third.text
    partial = client.get("/accounts?q=paged", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "Paged 0" in partial.text
    assert "HX-Request" in partial.headers["vary"]


def test_account_page_shows_opportunities_history_contacts_and_partners(client, session):
    account = make_account(session, name="Umbrella", crm_id="001UMB", employees=1200)
    opportunity = make_opportunity(
        session, account_crm_id="001UMB", name="Umbrella renewal", partner_source=""
    )
    sourced = make_opportunity(
        session, account_crm_id="001UMB", name="Umbrella expansion", partner_source="PX-1"
    )
    session.add_all(
        [
            OpportunityStageChange(
                opportunity_crm_id=opportunity.crm_id, stage="Prospecting", changed_on=date(2025, 3, 1)
            ),
            OpportunityStageChange(
                opportunity_crm_id=opportunity.crm_id, stage="Negotiation", changed_on=date(2025, 4, 9)
            ),
            Contact(
                crm_id="003A",
                account_crm_id="001UMB",
                first_name="Alice",
                last_name="Wong",
                email="alice@umbrella.example",
            ),
        ]
    )
    toucher = make_partner(session, name="Touching Partner")
    make_partner(session, name="Named Partner", crm_id="PX-1")
    make_partner(session, name="Unrelated Partner")
    session.add(
        PartnerTouch(
            partner_id=toucher.id,
            opportunity_crm_id=opportunity.crm_id,
            kind="co_sell",
            touched_on=date(2025, 3, 5),
        )
    )
    session.flush()
    sign_in(client, make_user(session, Role.SALES).email)

    page = client.get(f"/accounts/{account.id}").text
    assert "Umbrella renewal" in page and "Umbrella expansion" in page and "1,200" in page
    assert page.index("2025-03-01") < page.index("Negotiation")
    assert "Alice Wong" in page and "alice@umbrella.example" in page
    assert "Touching Partner" in page and "co-sell" in page
    assert "Named Partner" in page and "crm partner source" in page
    assert "Unrelated Partner" not in page
    assert sourced.crm_id in page
    assert client.get("/accounts/999999").status_code == 404
