"""The weekly digest on a hand-built workspace: who gets one, what it holds, in which order, once a week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import escape

import pytest
from sqlalchemy import select

from ecoops.actors import Role
from ecoops.automation.deliveries import Delivery
from ecoops.automation.digest.job import send_weekly_digests
from ecoops.automation.digest.message import RANKING
from ecoops.automation.digest.picks import build_digests, is_customer_population
from ecoops.mapping.models import Match, OverlapPeriod, PartnerAccount, PartnerUpload
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral
from tests.factories import make_account, make_opportunity, make_partner, make_user

pytestmark = pytest.mark.all_backends

MONDAY = date(2030, 3, 4)  # ISO week 2030-W10


def list_of(session, partner, rows: list[tuple[str, str, date | None]]) -> None:
    """The partner's current list holds our accounts `crm_id` in `population`, overlapping since a day."""
    upload = PartnerUpload(partner_id=partner.id, filename="list.csv", sha256="0" * 64, is_current=True)
    session.add(upload)
    session.flush()
    for line, (crm_id, population, since) in enumerate(rows, 1):
        their = f"T-{crm_id}"
        session.add(PartnerAccount(upload_id=upload.id, line=line, their_id=their, population=population))
        session.add(
            Match(partner_id=partner.id, our_crm_id=crm_id, their_id=their, method="domain", score=1.0)
        )
        if since:
            session.add(
                OverlapPeriod(
                    partner_id=partner.id, account_crm_id=crm_id, their_population=population, began_on=since
                )
            )
    session.flush()


def referral(session, partner, **fields) -> Referral:
    defaults = {
        "direction": "inbound",
        "kind": "eql",
        "company": "Lead Co",
        "status": "approved",
        "submitted_via": "portal",
    }
    row = Referral(partner_id=partner.id, **(defaults | fields))
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def workspace(session):
    ana = make_user(session, Role.SALES, name="Ana Seller", email="ana@example.com")
    ben = make_user(session, Role.SALES, name="Ben Seller", email="ben@example.com")
    make_user(session, Role.SALES, name="Cara Idle", email="cara@example.com")  # owns nothing
    p1, p2 = make_partner(session, name="Partner One"), make_partner(session, name="Partner Two")
    gone = make_partner(session, name="Churned Co", stage="churned")
    for crm_id, name in (
        ("A1", "Alder"),
        ("A2", "Birch"),
        ("A3", "Cedar"),
        ("A4", "Dogwood"),
        ("A5", "Elm"),
        ("A6", "Fir"),
    ):
        make_account(
            session, crm_id=crm_id, name=name, owner="ANA@example.com", country="DE"
        )  # owner by e-mail
    make_account(session, crm_id="B1", name="Hazel", owner="Ben Seller")  # owner by name
    make_account(session, crm_id="N1", name="Nobody's", owner="Not A User")
    make_opportunity(session, account_crm_id="A1", amount=Decimal("5000"))
    make_opportunity(session, account_crm_id="A3", amount=Decimal("3000"))
    make_opportunity(session, account_crm_id="A3", amount=Decimal("2000"))
    make_opportunity(session, account_crm_id="A4", amount=Decimal("20000"))
    make_opportunity(session, account_crm_id="A4", amount=Decimal("99999"), is_closed=True)  # not open
    list_of(
        session,
        p1,
        [
            ("A1", "Prospects", date(2030, 2, 1)),
            ("A3", "Prospects", date(2030, 2, 10)),
            ("A6", "Non-customers", None),
            ("N1", "Customers", None),
        ],
    )
    list_of(
        session,
        p2,
        [
            ("A2", "Customers", date(2029, 1, 1)),
            ("A4", "Prospects", date(2029, 6, 1)),
            ("A1", "Existing customers", date(2030, 1, 5)),
        ],
    )
    list_of(session, gone, [("A5", "Customers", date(2030, 3, 1))])
    # Ben: one open referral on his account, one handed to him; closed ones left out.
    open_on_account = referral(session, p1, company="Hazel", account_crm_id="B1", status="submitted")
    handed = referral(
        session,
        p2,
        company="Juniper",
        assigned_seller_id=ben.id,
        registration_expires_on=date(2030, 6, 1),
        kind="deal_registration",
    )
    referral(session, p2, company="Rejected Co", assigned_seller_id=ben.id, status="rejected")
    referral(
        session,
        p2,
        company="Expired Co",
        assigned_seller_id=ben.id,
        registration_expires_on=date(2030, 3, 1),
        kind="deal_registration",
    )
    return ana, ben, open_on_account, handed


def test_customer_population_labels():
    assert [
        is_customer_population(x)
        for x in (
            "Customers",
            "Existing customers",
            "customer",
            "Non-customers",
            "Former customers",
            "Prospects",
        )
    ] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def test_digests_pick_and_rank_each_account_executives_overlaps_and_open_referrals(session, workspace):
    *_, open_on_account, handed = workspace

    digests = {d.user.email: d for d in build_digests(session, MONDAY)}

    assert set(digests) == {"ana@example.com", "ben@example.com"}  # Cara owns nothing: no digest
    ranked = [
        (p.account_name, p.partner_name, p.their_population, p.open_amount)
        for p in digests["ana@example.com"].overlaps
    ]
    assert ranked == [
        # Partner customers first: Alder (5,000 open) before Birch (nothing open).
        ("Alder", "Partner Two", "Existing customers", Decimal("5000")),
        ("Birch", "Partner Two", "Customers", Decimal("0")),
        # Then by open amount: Dogwood 20,000 (the closed 99,999 does not count).
        ("Dogwood", "Partner Two", "Prospects", Decimal("20000")),
        # Equal amounts (5,000): the overlap that began more recently first.
        ("Cedar", "Partner One", "Prospects", Decimal("5000")),
        ("Alder", "Partner One", "Prospects", Decimal("5000")),
        ("Fir", "Partner One", "Non-customers", Decimal("0")),
    ]  # Elm is only on a churned partner's list
    assert digests["ben@example.com"].overlaps == []
    assert [r.referral_id for r in digests["ben@example.com"].referrals] == sorted(
        [open_on_account.id, handed.id], reverse=True
    )
    assert digests["ana@example.com"].referrals == []


def test_one_email_per_account_executive_per_week_from_the_configured_hour(session, settings, workspace):
    ana, ben, *_ = workspace
    monday_8 = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)

    assert send_weekly_digests(session, settings, monday_8 - timedelta(minutes=1)) == 0
    assert send_weekly_digests(session, settings, monday_8) == 2
    assert send_weekly_digests(session, settings, monday_8 + timedelta(days=2)) == 0  # same week: done

    sent = session.scalars(select(Delivery).where(Delivery.source == "digest").order_by(Delivery.id)).all()
    assert [(d.target, d.uid) for d in sent] == [
        ("ana@example.com", f"digest:{ana.id}:2030-W10"),
        ("ben@example.com", f"digest:{ben.id}:2030-W10"),
    ]
    mail = sent[0].body
    assert mail.subject == "Your partner digest, week of 2030-03-04: 6 overlap(s), 0 open referral(s)"
    lines = mail.text.splitlines()
    assert (
        lines[4] == "- Alder with Partner Two (their Existing customers): open pipeline 5,000 USD, "
        "overlapping since 2030-01-05"
    )
    assert mail.text.rstrip().endswith(RANKING)
    two = session.scalar(select(Partner.id).where(Partner.name == "Partner Two"))
    assert lines[6] == f"  Ask Partner Two for help: http://localhost:8000/mapping/partners/{two}/co-sell/A1"
    assert "Ask Partner Two for help</a>" in mail.html and escape(RANKING) in mail.html
    assert "/referrals/" in sent[1].body.text

    # The next week, after a tick missed Monday entirely (the worker was down): sent on Tuesday.
    assert send_weekly_digests(session, settings, monday_8 + timedelta(days=8)) == 2
    uids = session.scalars(select(Delivery.uid).where(Delivery.source == "digest")).all()
    assert set(uids) == {
        f"digest:{user.id}:{week}" for user in (ana, ben) for week in ("2030-W10", "2030-W11")
    }


def test_the_digest_moment_is_in_the_workspace_time_zone(session, workspace, tmp_path):
    from ecoops.config import Settings

    tokyo = Settings(
        env="test",
        var_dir=tmp_path,
        secret_key="t" * 40,
        timezone="Asia/Tokyo",
        digest_weekday=2,
        digest_hour=9,
    )
    # Wednesday 2030-03-06 09:00 in Tokyo is 00:00 UTC.
    assert send_weekly_digests(session, tokyo, datetime(2030, 3, 5, 23, 59, tzinfo=UTC)) == 0
    assert send_weekly_digests(session, tokyo, datetime(2030, 3, 6, 0, 0, tzinfo=UTC)) == 2
