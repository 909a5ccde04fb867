"""Each domain writes its events in the transaction of the change: present after it, absent after a
rollback, with the payload a rule's conditions and messages need."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.events import Event, EventKind
from ecoops.mapping import runs, uploads
from ecoops.partners import service as partners
from ecoops.referrals import review
from ecoops.referrals.models import Via
from ecoops.referrals.submission import ReferralInput, submit
from tests.crm.imports.files import run, write_csv
from tests.factories import make_account, make_opportunity, make_partner, make_user

pytestmark = pytest.mark.all_backends


def events(session: Session, kind: EventKind) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.kind == kind.value).order_by(Event.id)))


def test_referral_submitted_approved_and_rejected(session: Session, settings: Settings) -> None:
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    partner = make_partner(session, name="Alpha Partners")
    make_account(session, crm_id="ACME1", name="Acme GmbH", domain="acme.de", owner="Olga Owner")
    data = ReferralInput(
        kind="deal_registration", company="Acme GmbH", domain="acme.de", estimated_value="12,000"
    )
    first = submit(session, manager, data, settings=settings, via=Via.INTERNAL, partner_id=partner.id)
    (submitted,) = events(session, EventKind.REFERRAL_SUBMITTED)
    assert submitted.partner_id == partner.id
    assert submitted.payload == {
        "referral_id": first.id,
        "referral_kind": "deal_registration",
        "direction": "inbound",
        "company": "Acme GmbH",
        "partner_name": "Alpha Partners",
        "amount": "12000.00",
        "link": f"/referrals/{first.id}",
        "submitted_by": manager.label,
    }

    review.approve(session, manager, first.id, settings=settings)
    (approved,) = events(session, EventKind.REFERRAL_APPROVED)
    assert approved.account_crm_id == "ACME1" and approved.opportunity_crm_id == first.opportunity_crm_id
    assert approved.payload["account_owner"] == "Olga Owner" and approved.payload["reviewer"] == manager.label

    other = submit(
        session,
        manager,
        ReferralInput(kind="eql", company="Other Co"),
        settings=settings,
        via=Via.INTERNAL,
        partner_id=partner.id,
    )
    review.reject(session, manager, other.id, "already ours")
    (rejected,) = events(session, EventKind.REFERRAL_REJECTED)
    assert (rejected.payload["referral_id"], rejected.payload["reason"]) == (other.id, "already ours")


def test_a_rolled_back_submission_leaves_no_event(session: Session, settings: Settings) -> None:
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    partner = make_partner(session)
    savepoint = session.begin_nested()
    submit(
        session,
        manager,
        ReferralInput(kind="eql", company="Gone Co"),
        settings=settings,
        via=Via.INTERNAL,
        partner_id=partner.id,
    )
    assert len(events(session, EventKind.REFERRAL_SUBMITTED)) == 1
    savepoint.rollback()
    assert events(session, EventKind.REFERRAL_SUBMITTED) == []


def test_partner_stage_change(session: Session) -> None:
    partner = make_partner(session, name="Gamma", stage="signed", stage_since=date(2026, 1, 1))
    savepoint = session.begin_nested()
    partners.change_stage(
        session, SYSTEM, partner, to="onboarding", on=date(2026, 1, 5), today=date(2026, 2, 1)
    )
    savepoint.rollback()
    assert events(session, EventKind.PARTNER_STAGE_CHANGED) == []
    session.refresh(partner)
    partners.change_stage(
        session, SYSTEM, partner, to="onboarding", on=date(2026, 1, 5), today=date(2026, 2, 1)
    )
    (event,) = events(session, EventKind.PARTNER_STAGE_CHANGED)
    assert event.partner_id == partner.id
    assert event.payload == {
        "partner_name": "Gamma",
        "from_stage": "signed",
        "to_stage": "onboarding",
        "on": "2026-01-05",
        "link": f"/partners/{partner.id}",
    }


OPPORTUNITIES = (
    "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,OwnerId\n"
    "OPP-W,ACC1,Acme expansion,Closed Won,50000,2026-03-31,2026-01-02T10:00:00.000Z,Dana Lee\n"
    "OPP-L,ACC1,Acme add-on,Closed Lost,800,2026-04-30,2026-02-01T10:00:00.000Z,Dana Lee\n"
    "OPP-N,ACC1,Acme untouched,Closed Won,900,2026-04-30,2026-02-01T10:00:00.000Z,Dana Lee\n"
    "OPP-O,ACC1,Acme still open,Negotiation/Review,700,2026-09-30,2026-02-01T10:00:00.000Z,Dana Lee\n"
    "OPP-NEW,ACC1,Acme arrived closed,Closed Won,100,2026-01-30,2026-01-01T10:00:00.000Z,Dana Lee\n"
)


def test_an_import_closing_partner_attached_opportunities_emits_won_and_lost(
    session: Session, tmp_path: Path
) -> None:
    partner = make_partner(session, name="Delta")
    make_account(session, crm_id="ACC1", name="Acme", owner="Olga Owner")
    for crm_id in ("OPP-W", "OPP-L", "OPP-N", "OPP-O"):
        make_opportunity(session, crm_id=crm_id, account_crm_id="ACC1", stage="Negotiation/Review")
    for crm_id, status in (("OPP-W", "confirmed"), ("OPP-L", "proposed"), ("OPP-O", "confirmed")):
        session.add(
            PartnerTouch(
                partner_id=partner.id,
                opportunity_crm_id=crm_id,
                account_crm_id="ACC1",
                kind="referral",
                touched_on=date(2026, 1, 3),
                status=status,
            )
        )
    # A disputed touch does not attach the partner.
    session.add(
        PartnerTouch(
            partner_id=partner.id,
            opportunity_crm_id="OPP-N",
            kind="referral",
            touched_on=date(2026, 1, 3),
            status="disputed",
        )
    )
    session.flush()

    savepoint = session.begin_nested()
    run(session, write_csv(tmp_path, OPPORTUNITIES))
    savepoint.rollback()
    assert events(session, EventKind.OPPORTUNITY_WON) == []

    outcome = run(session, write_csv(tmp_path, OPPORTUNITIES))
    assert outcome.status == "committed"
    (won,) = events(session, EventKind.OPPORTUNITY_WON)
    (lost,) = events(session, EventKind.OPPORTUNITY_LOST)
    assert (won.opportunity_crm_id, won.partner_id, won.account_crm_id) == ("OPP-W", partner.id, "ACC1")
    assert won.payload["amount"] is not None and Decimal(won.payload["amount"]) == Decimal(50000)
    assert won.payload["account_owner"] == "Olga Owner" and won.payload["partner_name"] == "Delta"
    assert lost.opportunity_crm_id == "OPP-L"

    run(session, write_csv(tmp_path, OPPORTUNITIES, name="again.csv"))  # nothing changes: no new events
    assert len(events(session, EventKind.OPPORTUNITY_WON) + events(session, EventKind.OPPORTUNITY_LOST)) == 2


HEADER = "Account ID,Account Name,Website,Population\n"


def test_mapping_emits_list_uploaded_and_overlaps_began_and_ended(session: Session, tmp_path: Path) -> None:
    partner = make_partner(session, name="Epsilon")
    make_account(session, crm_id="A1", name="Acme", domain="acme.com", owner="Olga Owner")
    make_opportunity(session, account_crm_id="A1", amount=Decimal(5000))
    make_opportunity(session, account_crm_id="A1", amount=Decimal(2500))
    make_opportunity(session, account_crm_id="A1", amount=Decimal(9999), is_closed=True, is_won=True)
    make_account(session, crm_id="A2", name="Globex", domain="globex.com", owner="pete@example.com")
    first = tmp_path / "one.csv"
    first.write_text(HEADER + "P1,Acme,acme.com,Customers\nP2,Globex,globex.com,Prospects\n")

    savepoint = session.begin_nested()
    uploads.upload_partner_list(session, SYSTEM, partner.id, first, "one.csv")
    runs.run_mapping(session, SYSTEM, partner.id, today=date(2026, 2, 1))
    savepoint.rollback()
    assert events(session, EventKind.PARTNER_LIST_UPLOADED) == events(session, EventKind.OVERLAP_BEGAN) == []

    upload = uploads.upload_partner_list(session, SYSTEM, partner.id, first, "one.csv").upload
    (uploaded,) = events(session, EventKind.PARTNER_LIST_UPLOADED)
    assert uploaded.payload == {
        "partner_name": "Epsilon",
        "upload_id": upload.id,
        "filename": "one.csv",
        "rows": 2,
        "link": f"/mapping/partners/{partner.id}",
    }
    runs.run_mapping(session, SYSTEM, partner.id, today=date(2026, 2, 1))
    began = {e.account_crm_id: e for e in events(session, EventKind.OVERLAP_BEGAN)}
    assert set(began) == {"A1", "A2"}
    assert began["A1"].payload == {
        "account_name": "Acme",
        "account_owner": "Olga Owner",
        "population": "Customers",
        "amount": "7500.00",  # open deals only
        "partner_name": "Epsilon",
        "link": f"/mapping/partners/{partner.id}/overlaps",
    }
    assert began["A2"].payload["amount"] is None and began["A2"].partner_id == partner.id

    second = tmp_path / "two.csv"
    second.write_text(HEADER + "P1,Acme,acme.com,Customers\n")
    uploads.upload_partner_list(session, SYSTEM, partner.id, second, "two.csv")
    runs.run_mapping(session, SYSTEM, partner.id, today=date(2026, 2, 8))
    (ended,) = events(session, EventKind.OVERLAP_ENDED)
    assert (ended.account_crm_id, ended.payload["population"]) == ("A2", "Prospects")
    assert len(events(session, EventKind.OVERLAP_BEGAN)) == 2  # Acme's overlap continued


def test_outbound_referral_sent_accepted_and_declined(session: Session, settings: Settings) -> None:
    from ecoops.accounts.service import partner_user_actor
    from ecoops.referrals.outbound import refer_out, respond
    from tests.factories import make_partner_user

    seller = user_actor(make_user(session, Role.SALES))
    partner = make_partner(session, name="Zeta")
    contact = partner_user_actor(make_partner_user(session, partner))
    first = refer_out(
        session,
        seller,
        ReferralInput(kind="eql", company="Out Co"),
        partner_id=partner.id,
        settings=settings,
        via=Via.INTERNAL,
    )
    second = refer_out(
        session,
        seller,
        ReferralInput(kind="eql", company="Other Out"),
        partner_id=partner.id,
        settings=settings,
        via=Via.INTERNAL,
    )
    sent = events(session, EventKind.REFERRAL_SUBMITTED)
    assert [(e.payload["referral_id"], e.payload["direction"]) for e in sent] == [
        (first.id, "outbound"),
        (second.id, "outbound"),
    ]
    respond(session, contact, first.id, accept=True, settings=settings)
    respond(session, contact, second.id, accept=False, settings=settings, reason="not our market")
    (accepted,) = events(session, EventKind.REFERRAL_APPROVED)
    (declined,) = events(session, EventKind.REFERRAL_REJECTED)
    assert (accepted.payload["referral_id"], accepted.payload["reviewer"]) == (first.id, contact.label)
    assert (declined.payload["direction"], declined.payload["reason"]) == ("outbound", "not our market")
