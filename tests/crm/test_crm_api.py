"""/api/v1 accounts, opportunities (filters, stage history) and contacts, with the page envelope."""

from datetime import date

import pytest

from ecoops.actors import Role
from ecoops.crm.models import Contact, OpportunityStageChange
from tests.factories import bearer, make_account, make_opportunity, make_user

pytestmark = pytest.mark.all_backends


@pytest.fixture
def headers(session):
    return bearer(session, make_user(session, Role.SALES))


def _names(response):
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


def test_accounts_search_pagination_and_detail(client, session, headers):
    for n in range(3):
        make_account(session, name=f"Api account {n}", owner="Ana" if n else "Ben")
    page = client.get("/api/v1/accounts?q=api account&per_page=2&page=2", headers=headers).json()
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (3, 2, 2, 1)
    assert _names(client.get("/api/v1/accounts?owner=Ben", headers=headers)) == ["Api account 0"]
    account = make_account(session, name="Detail", crm_id="001DETAIL")
    body = client.get(f"/api/v1/accounts/{account.id}", headers=headers).json()
    assert (body["crm_id"], body["name"]) == ("001DETAIL", "Detail")
    assert client.get("/api/v1/accounts/987654", headers=headers).status_code == 404


def test_opportunity_filters(client, session, headers):
    account = make_account(session, crm_id="001OPPS")
    make_opportunity(
        session,
        name="Open",
        account_crm_id="001OPPS",
        owner="Ana",
        created_on=date(2025, 1, 10),
        close_date=date(2025, 12, 31),
    )
    make_opportunity(
        session,
        name="Won",
        account_crm_id="001OPPS",
        is_closed=True,
        is_won=True,
        close_date=date(2025, 5, 1),
    )
    make_opportunity(
        session,
        name="Lost",
        account_crm_id="001OPPS",
        is_closed=True,
        is_won=False,
        close_date=date(2025, 9, 1),
    )
    make_opportunity(session, name="Elsewhere", account_crm_id="001OTHER")
    base = f"/api/v1/opportunities?account_id={account.id}"
    assert _names(client.get(base, headers=headers)) == ["Lost", "Open", "Won"]
    assert _names(client.get(base + "&status=open", headers=headers)) == ["Open"]
    assert _names(client.get(base + "&status=won", headers=headers)) == ["Won"]
    assert _names(client.get(base + "&status=lost", headers=headers)) == ["Lost"]
    assert _names(client.get(base + "&owner=Ana", headers=headers)) == ["Open"]
    assert _names(client.get(base + "&created_to=2025-02-01", headers=headers)) == ["Open"]
    assert _names(client.get(base + "&close_from=2025-04-01&close_to=2025-06-30", headers=headers)) == ["Won"]
    bad = client.get(base + "&status=pending", headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]


def test_opportunity_detail_has_its_stage_history(client, session, headers):
    opportunity = make_opportunity(session, name="Historic")
    session.add_all(
        [
            OpportunityStageChange(
                opportunity_crm_id=opportunity.crm_id, stage="Closed Won", changed_on=date(2025, 6, 1)
            ),
            OpportunityStageChange(
                opportunity_crm_id=opportunity.crm_id, stage="Qualification", changed_on=date(2025, 3, 2)
            ),
        ]
    )
    session.flush()
    body = client.get(f"/api/v1/opportunities/{opportunity.id}", headers=headers).json()
    assert [(c["changed_on"], c["stage"]) for c in body["stage_changes"]] == [
        ("2025-03-02", "Qualification"),
        ("2025-06-01", "Closed Won"),
    ]
    assert body["amount"] == "1000.00"


def test_contacts_by_account_and_search(client, session, headers):
    account = make_account(session, crm_id="001CONTACTS")
    session.add_all(
        [
            Contact(
                crm_id="003X1",
                account_crm_id="001CONTACTS",
                first_name="Zoe",
                last_name="Adams",
                email="zoe@x.example",
            ),
            Contact(
                crm_id="003X2",
                account_crm_id="001CONTACTS",
                first_name="Yan",
                last_name="Baker",
                email="yan@x.example",
            ),
            Contact(
                crm_id="003Y1",
                account_crm_id="001ELSE",
                first_name="Xia",
                last_name="Chen",
                email="xia@y.example",
            ),
        ]
    )
    session.flush()
    items = client.get(f"/api/v1/contacts?account_id={account.id}", headers=headers).json()["items"]
    assert [c["last_name"] for c in items] == ["Adams", "Baker"]
    found = client.get("/api/v1/contacts?q=xia@", headers=headers).json()["items"]
    assert [c["crm_id"] for c in found] == ["003Y1"]
