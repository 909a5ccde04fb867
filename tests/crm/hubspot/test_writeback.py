"""Write-back to the local HubSpot through the real hubspot-api-client (CRM v3 batch read and batch
update), on both backends: values arrive, a second run calls nothing, a person's change is a conflict
and stays, a refused record and one archived meanwhile fail alone, a dry run writes nothing,
properties refused by the portal's own, batches of 100 through a 429, the 10-second window and an
expired token, and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts.service import InvalidInput
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.hubspot.sync import HubSpotSync
from ecoops.crm.hubspot.writeback import HUBSPOT
from ecoops.crm.models import Opportunity
from ecoops.crm.writeback import provider
from ecoops.crm.writeback.models import LedgerEntry, WritebackItem
from ecoops.referrals.models import Referral
from tests.crm.hubspot.conftest import ADMIN, connect, connect_oauth
from tests.crm.hubspot_server import FakeHubSpot, seed_portal
from tests.crm.writeback_cli import cli_database, run_cli
from tests.crm.writeback_setup import overlap, turn_on, write
from tests.factories import make_partner, make_partner_user

COMPANY_PROPERTIES = {"account_partners": "ecoops_partners", "account_populations": "ecoops_populations"}
DEAL_PROPERTIES = {
    "opportunity_class": "ecoops_partner_class",
    "opportunity_partners": "ecoops_crediting_partners",
    "opportunity_referral": "ecoops_referral_id",
    "opportunity_referral_status": "ecoops_referral_status",
}


def _portal(
    fake: FakeHubSpot,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    companies: int = 3,
    deals: int = 4,
    oauth: bool = False,
) -> tuple[list[str], list[str]]:
    """A synced portal with ecoops' properties in it; its company and deal ids, in order."""
    seed_portal(fake, companies=companies, deals=deals)
    for name in COMPANY_PROPERTIES.values():
        fake.add_property("companies", name, field_type="textarea" if "populations" in name else "text")
    fake.add_property("deals", DEAL_PROPERTIES["opportunity_class"], type="enumeration", field_type="select")
    for target in ("opportunity_partners", "opportunity_referral", "opportunity_referral_status"):
        fake.add_property("deals", DEAL_PROPERTIES[target])
    (connect_oauth if oauth else connect)(session, settings, fake)
    assert HubSpotSync(sessions, settings, ADMIN, trigger="cli").run().status == "done"
    return list(fake.records["companies"]), list(fake.records["deals"])


def _value(fake: FakeHubSpot, object_name: str, record_id: str, name: str) -> str | None:
    value: str | None = fake.records[object_name][record_id]["properties"].get(name)
    return value


def _referral(session: Session, partner_id: int, deal: str, status: str) -> Referral:
    referral = Referral(
        direction="inbound",
        kind="deal_registration",
        partner_id=partner_id,
        company="A company",
        status=status,
        submitted_via="portal",
        opportunity_crm_id=deal,
    )
    session.add(referral)
    return referral


@pytest.mark.all_backends
def test_values_arrive_and_a_second_run_calls_nothing(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    companies, deals = _portal(fake, session, sessions, settings)
    nimbus, beta = make_partner(session, name="Nimbus"), make_partner(session, name="Beta Cloud")
    make_partner_user(session, beta, name="Bea Seller", email="bea@beta.example", contact_role="sales")
    overlap(session, nimbus, companies[0], "Customers")
    overlap(session, beta, companies[0], "Prospects")
    overlap(session, beta, companies[1], "Customers")
    created = session.scalar(select(Opportunity.created_on).where(Opportunity.crm_id == deals[1]))
    assert created is not None
    session.add(
        PartnerTouch(partner_id=nimbus.id, opportunity_crm_id=deals[1], kind="referral", touched_on=created)
    )
    referral = _referral(session, beta.id, deals[1], "approved")
    session.commit()
    turn_on(HUBSPOT, session, settings, COMPANY_PROPERTIES | DEAL_PROPERTIES)

    run = write(HUBSPOT, sessions, settings)
    assert _value(fake, "companies", companies[0], "ecoops_partners") == "Beta Cloud; Nimbus"
    assert (
        _value(fake, "companies", companies[0], "ecoops_populations")
        == "Beta Cloud: Prospects; Nimbus: Customers"
    )
    assert _value(fake, "companies", companies[1], "ecoops_partners") == "Beta Cloud"
    assert _value(fake, "companies", companies[2], "ecoops_partners") is None  # nothing to say: not written
    assert _value(fake, "deals", deals[1], "ecoops_partner_class") == "Partner-sourced"
    assert _value(fake, "deals", deals[1], "ecoops_crediting_partners") == "Nimbus"
    assert _value(fake, "deals", deals[1], "ecoops_referral_id") == str(referral.id)
    assert _value(fake, "deals", deals[1], "ecoops_referral_status") == "approved"
    assert [_value(fake, "deals", d, "ecoops_partner_class") for d in (deals[0], deals[2], deals[3])] == [
        "Direct"
    ] * 3
    # Hand count: companies 0 and 1 get 2 values each (4); 4 deals a class (4); deal 1 its crediting
    # partner, referral id and status (3): 11 written. Of 3 x 2 + 4 x 4 = 22 values, 11 are empty and
    # were never written: unchanged, with no request at all.
    assert (run.status, run.written, run.unchanged, run.conflicts, run.failed) == ("done", 11, 11, 0, 0)
    assert fake.update_calls == [2, 4]  # one batch update per object: 2 companies, 4 deals
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 11

    before = len(fake.requests)
    again = write(HUBSPOT, sessions, settings)
    assert (again.written, again.unchanged, again.conflicts, again.calls) == (0, 22, 0, 0)
    assert len(fake.requests) == before and fake.update_calls == [2, 4]  # not even a read


@pytest.mark.all_backends
def test_a_persons_change_is_a_conflict_and_stays(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    companies, _deals = _portal(fake, session, sessions, settings)
    nimbus, beta = make_partner(session, name="Nimbus"), make_partner(session, name="Beta Cloud")
    overlap(session, nimbus, companies[0], "Customers")
    overlap(session, nimbus, companies[1], "Customers")
    session.commit()
    turn_on(HUBSPOT, session, settings, {"account_partners": "ecoops_partners"})
    assert write(HUBSPOT, sessions, settings).written == 2

    fake.put("companies", {"ecoops_partners": "Nimbus (per Dana, call first)"}, record_id=companies[0])
    fake.put("companies", {"ecoops_partners": "typed by a person"}, record_id=companies[2])
    for company in companies:
        overlap(session, beta, company, "Customers")
    session.commit()
    run = write(HUBSPOT, sessions, settings)
    assert _value(fake, "companies", companies[0], "ecoops_partners") == "Nimbus (per Dana, call first)"
    assert _value(fake, "companies", companies[2], "ecoops_partners") == "typed by a person"
    assert _value(fake, "companies", companies[1], "ecoops_partners") == "Beta Cloud; Nimbus"
    assert (run.written, run.conflicts, run.failed) == (1, 2, 0)
    items = session.scalars(select(WritebackItem).where(WritebackItem.run_id == run.id))
    assert sorted((i.outcome, i.record_id, i.old, i.new, i.last_written) for i in items) == sorted(
        [
            ("conflict", companies[0], "Nimbus (per Dana, call first)", "Beta Cloud; Nimbus", "Nimbus"),
            ("conflict", companies[2], "typed by a person", "Beta Cloud", None),
        ]
    )
    # The person sets the value ecoops wants: settled with no write; that conflict is gone.
    fake.put("companies", {"ecoops_partners": "Beta Cloud; Nimbus"}, record_id=companies[0])
    calls = list(fake.update_calls)
    settled = write(HUBSPOT, sessions, settings)
    assert (settled.written, settled.conflicts) == (0, 1) and fake.update_calls == calls


def test_a_refused_record_and_one_archived_meanwhile_fail_alone(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    companies, _deals = _portal(fake, session, sessions, settings)
    nimbus = make_partner(session, name="Nimbus")
    for company in companies:
        overlap(session, nimbus, company, "Customers")
    session.commit()
    turn_on(HUBSPOT, session, settings, {"account_partners": "ecoops_partners"})
    fake.reject(companies[1], "Partner properties are locked on key accounts")

    def archive_the_third(_ids: list[str]) -> None:  # between our read and our write
        if not fake.records["companies"][companies[2]]["archived"]:
            fake.archive("companies", companies[2])

    fake.on_update = archive_the_third
    run = write(HUBSPOT, sessions, settings)
    assert (run.written, run.failed, run.conflicts) == (1, 2, 0)
    assert _value(fake, "companies", companies[0], "ecoops_partners") == "Nimbus"
    assert _value(fake, "companies", companies[1], "ecoops_partners") is None
    failures = {i.record_id: i.message for i in session.scalars(select(WritebackItem))}
    assert failures == {
        companies[1]: "VALIDATION_ERROR: Partner properties are locked on key accounts",
        companies[2]: f"OBJECT_NOT_FOUND: Object not found. objectId: {companies[2]}",
    }
    # The batch of 3 was refused whole (400), then each record went alone: the first and the third
    # reached the update (the third answered 207), the second was refused again.
    assert fake.update_calls == [1, 1]

    fake.rejects.clear()
    retried = write(HUBSPOT, sessions, settings)
    assert (retried.written, retried.failed) == (1, 1)
    assert _value(fake, "companies", companies[1], "ecoops_partners") == "Nimbus"
    gone = session.scalar(
        select(WritebackItem.message).where(
            WritebackItem.run_id == retried.id, WritebackItem.record_id == companies[2]
        )
    )
    assert gone == "the CRM no longer has this record"  # the batch read no longer gives it


@pytest.mark.all_backends
def test_a_dry_run_lists_changes_and_writes_nothing(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    companies, _deals = _portal(fake, session, sessions, settings)
    nimbus = make_partner(session, name="Nimbus")
    overlap(session, nimbus, companies[0], "Customers")
    overlap(session, nimbus, companies[1], "Customers")
    session.commit()
    fake.put("companies", {"ecoops_partners": "someone's note"}, record_id=companies[1])
    turn_on(HUBSPOT, session, settings, {"account_partners": "ecoops_partners"})
    before = {k: dict(v["properties"]) for k, v in fake.records["companies"].items()}

    run = write(HUBSPOT, sessions, settings, dry_run=True)
    assert (run.dry_run, run.written, run.conflicts, run.calls) == (True, 1, 1, 0)
    items = session.scalars(select(WritebackItem).where(WritebackItem.run_id == run.id))
    assert sorted((i.outcome, i.record_id, i.old, i.new) for i in items) == [
        ("change", companies[0], "", "Nimbus"),
        ("conflict", companies[1], "someone's note", "Nimbus"),
    ]
    assert {k: v["properties"] for k, v in fake.records["companies"].items()} == before
    assert fake.update_calls == [] and session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_properties_are_checked_against_the_portals_own(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    _portal(fake, session, sessions, settings)
    fake.add_property("companies", "partner_score", type="number", field_type="number")
    fake.add_property("companies", "partner_rollup", calculated=True)
    fake.add_property("companies", "partner_locked", read_only=True)
    fake.add_property("companies", "partner_tier", type="enumeration", field_type="select")

    def refused(target: str, name: str) -> str:
        with pytest.raises(InvalidInput) as caught:
            provider.set_field(session, ADMIN, settings, HUBSPOT, target=target, crm_field=name, enabled=True)
        session.rollback()
        return str(caught.value)

    unknown = refused("account_partners", "ecoops_missing")
    assert "companies have no property ecoops_missing: create it in HubSpot" in unknown
    assert "internal name ecoops_partners" in unknown and "choose one of the portal's:" in unknown
    assert "ecoops_partners" in unknown.split("choose one of the portal's:")[1]  # a fitting one offered
    assert "partner_locked" not in unknown and "partner_score" not in unknown  # unfitting ones are not
    assert "Company property partner_rollup cannot be written" in refused(
        "account_partners", "partner_rollup"
    )
    assert "Company property partner_locked cannot be written" in refused(
        "account_partners", "partner_locked"
    )
    assert "is a number property shown as number; Overlapping partners needs single-line text" in refused(
        "account_partners", "partner_score"
    )
    # a dropdown holds a class or a status, not a list of names
    assert "shown as select" in refused("account_partners", "partner_tier")
    assert "not a field's API name" in refused("account_partners", "bad name'")
    row = provider.set_field(
        session,
        ADMIN,
        settings,
        HUBSPOT,
        target="opportunity_class",
        crm_field="ecoops_partner_class",
        enabled=True,
    )
    assert (row.enabled, row.field_length) == (True, 65_536)
    session.commit()

    connection = session.scalar(select(CrmConnection))
    assert connection is not None
    connection.scopes = connection.scopes.replace("crm.objects.companies.write", "")
    session.commit()
    assert "the app lacks the scope crm.objects.companies.write" in refused(
        "account_partners", "ecoops_partners"
    )


def test_batches_of_100_through_429_the_window_and_an_expired_token(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    _companies, deals = _portal(fake, session, sessions, settings, companies=5, deals=250, oauth=True)
    partner = make_partner(session, name="Nimbus")
    for deal in deals:
        _referral(session, partner.id, deal, "submitted")
    session.commit()
    turn_on(HUBSPOT, session, settings, {"opportunity_referral_status": "ecoops_referral_status"})
    fake.expire_tokens()
    limited = {"status": "error", "policyName": "TEN_SECONDLY_ROLLING", "errorType": "RATE_LIMIT"}
    fake.fail_next(429, limited, retry_after="0")
    fake.window_ms, fake.window_max, fake.window = 100, 3, []  # a rolling window the run runs into
    grants = len(fake.grants)

    run = write(HUBSPOT, sessions, settings)
    assert (run.written, run.failed, run.calls) == (250, 0, 3)
    assert fake.update_calls == [100, 100, 50]
    assert all(
        r["properties"].get("ecoops_referral_status") == "submitted" for r in fake.records["deals"].values()
    )
    assert fake.grants[grants:] == ["refresh_token"]  # one new access token, mid-run


def test_the_command_line_dry_run_then_write(tmp_path: Path, settings: Settings, fake: FakeHubSpot) -> None:
    """`ecoops hubspot-writeback` in its own process, on its own SQLite file."""
    url, engine, own = cli_database(tmp_path)
    with own() as cli_session:
        companies, _deals = _portal(fake, cli_session, own, settings)
        overlap(cli_session, make_partner(cli_session, name="Nimbus"), companies[0], "Customers")
        cli_session.commit()
        turn_on(HUBSPOT, cli_session, settings, {"account_partners": "ecoops_partners"})
    status, said = run_cli("hubspot-writeback", url, settings, "--dry-run")
    assert status == 0 and "1 values would be written" in said, said
    assert _value(fake, "companies", companies[0], "ecoops_partners") is None
    status, said = run_cli("hubspot-writeback", url, settings)
    assert status == 0 and "1 values written" in said and "/crm/hubspot/writeback/runs/" in said, said
    assert _value(fake, "companies", companies[0], "ecoops_partners") == "Nimbus"
    engine.dispose()
