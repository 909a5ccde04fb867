"""The integration registry: status changes dated and checked, owners, listing links, accounts using an
integration by hand and from a CSV file whose errors name their row and field (both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.crm.models import Account
from ecoops.maturity import integrations
from ecoops.maturity.integrations import IntegrationInput, RowError
from ecoops.maturity.models import IntegrationAccount
from ecoops.partners.programs import FieldError
from tests.factories import make_account, make_partner, make_user

JAN_10, FEB_1, MAR_1 = date(2025, 1, 10), date(2025, 2, 1), date(2025, 3, 1)


@pytest.mark.all_backends
def test_every_status_change_is_dated_and_may_not_go_back_in_time(session: Session) -> None:
    partner = make_partner(session, name="Slackish")
    owner = make_user(session)
    data = IntegrationInput(partner.id, " Slack app ", "idea", owner.id, "https://apps.example/slack", JAN_10)
    found = integrations.create_integration(session, SYSTEM, data, MAR_1)
    assert (found.name, found.status, found.status_since) == ("Slack app", "idea", JAN_10)
    building = IntegrationInput(partner.id, "Slack app", "building", owner.id, changed_on=FEB_1)
    integrations.update_integration(session, SYSTEM, found, building, MAR_1)
    earlier = IntegrationInput(partner.id, "Slack app", "validated", owner.id, changed_on=date(2025, 1, 31))
    with pytest.raises(FieldError, match=r"^changed_on: the status has been building since 2025-02-01"):
        integrations.update_integration(session, SYSTEM, found, earlier, MAR_1)
    future = IntegrationInput(partner.id, "Slack app", "validated", owner.id, changed_on=date(2025, 3, 2))
    with pytest.raises(FieldError, match=r"^changed_on: a status change is dated today or earlier"):
        integrations.update_integration(session, SYSTEM, found, future, MAR_1)
    same_day = IntegrationInput(partner.id, "Slack app", "validated", owner.id, changed_on=FEB_1)
    integrations.update_integration(session, SYSTEM, found, same_day, MAR_1)  # on the edge: the same day
    unchanged = IntegrationInput(partner.id, "Slack app", "validated", None, "", changed_on=MAR_1)
    integrations.update_integration(session, SYSTEM, found, unchanged, MAR_1)  # no new status: no new row
    assert [(c.from_status, c.to_status, c.changed_on) for c in found.changes] == [
        ("", "idea", JAN_10),
        ("idea", "building", FEB_1),
        ("building", "validated", FEB_1),
    ]
    assert (found.status, found.status_since, found.owner_id, found.listing_url) == (
        "validated",
        FEB_1,
        None,
        "",
    )


@pytest.mark.all_backends
def test_integrations_belong_to_technology_partners_under_unique_names(session: Session) -> None:
    tech = make_partner(session, name="Techy")
    reseller = make_partner(session, name="Resell", partner_type="reseller")
    first = IntegrationInput(tech.id, "Sync", "idea", None, changed_on=JAN_10)
    integrations.create_integration(session, SYSTEM, first, MAR_1)
    with pytest.raises(FieldError, match=r"^name: Techy already has an integration named 'Sync'$"):
        integrations.create_integration(session, SYSTEM, first, MAR_1)
    with pytest.raises(FieldError, match=r"^partner_id: Resell is a reseller partner, not a technology one$"):
        integrations.create_integration(
            session, SYSTEM, IntegrationInput(reseller.id, "X", "idea", None), MAR_1
        )
    for bad, field in [
        (IntegrationInput(tech.id, "Y", "shipped", None), "status"),
        (IntegrationInput(tech.id, "Y", "idea", None, "ftp://x"), "listing_url"),
        (IntegrationInput(tech.id, "", "idea", None), "name"),
        (IntegrationInput(tech.id, "Y", "idea", 999_999), "owner_id"),
    ]:
        with pytest.raises(FieldError) as refused:
            integrations.create_integration(session, SYSTEM, bad, MAR_1)
        assert refused.value.field == field


def _registry(session: Session) -> integrations.Integration:
    partner = make_partner(session, name="Warehouse Co")
    make_account(session, crm_id="001A", name="Alpha")
    make_account(session, crm_id="001B", name="Bravo")
    data = IntegrationInput(partner.id, "Connector", "live", None, changed_on=JAN_10)
    return integrations.create_integration(session, SYSTEM, data, MAR_1)


@pytest.mark.all_backends
def test_accounts_are_added_by_hand_and_unknown_ones_refused(session: Session) -> None:
    found = _registry(session)
    assert integrations.add_accounts(session, SYSTEM, found, "001A, 001B\n001A", MAR_1) == 2
    assert integrations.add_accounts(session, SYSTEM, found, "001B", MAR_1) == 0  # already there
    with pytest.raises(FieldError, match=r"^accounts: no account with CRM id 001Z$"):
        integrations.add_accounts(session, SYSTEM, found, "001A\n001Z", MAR_1)
    integrations.remove_account(session, SYSTEM, found, "001A")
    bravo = session.scalars(select(Account.id).where(Account.crm_id == "001B")).one()
    assert integrations.accounts_using(session, found.id) == [("001B", bravo, "Bravo")]


@pytest.mark.all_backends
def test_the_csv_import_names_each_error_by_row_and_field_and_stores_nothing_then(session: Session) -> None:
    found = _registry(session)
    bad = (
        b"Partner,Integration,Account ID\r\n"
        b"Warehouse Co,Connector,001A\r\n"
        b"Warehouse Co,Nope,001A\r\n"
        b",Connector,001B\r\n"
        b"warehouse co,connector,001Q\r\n"
    )
    outcome = integrations.import_accounts(session, SYSTEM, bad, MAR_1)
    assert outcome.errors == [
        RowError(3, "integration", "Warehouse Co has no integration named 'Nope'"),
        RowError(4, "partner", "empty"),
        RowError(5, "account_id", "no account with CRM id 001Q"),
    ]
    assert str(outcome.errors[0]) == "row 3, integration: Warehouse Co has no integration named 'Nope'"
    assert session.scalar(select(func.count()).select_from(IntegrationAccount)) == 0
    header = integrations.import_accounts(session, SYSTEM, b"partner,account_id\n", MAR_1)
    assert header.errors == [RowError(1, "header", "missing column(s) integration")]
    empty = integrations.import_accounts(session, SYSTEM, b"partner,integration,account_id\n", MAR_1)
    assert empty.errors == [RowError(2, "file", "no rows")]
    assert integrations.import_accounts(session, SYSTEM, b"\xff\xfe", MAR_1).errors == [
        RowError(1, "file", "not UTF-8 text")
    ]
    good = b"\xef\xbb\xbfpartner,integration,account_id\nWarehouse Co,Connector,001A\n"
    good += b"warehouse co,CONNECTOR,001B\n"  # names in any case; a byte-order mark is fine
    done = integrations.import_accounts(session, SYSTEM, good, MAR_1)
    assert (done.rows, done.added, done.errors) == (2, 2, [])
    assert integrations.import_accounts(session, SYSTEM, good, MAR_1).added == 0  # again: nothing new
    assert integrations.account_counts(session, [found.id]) == {found.id: 2}
