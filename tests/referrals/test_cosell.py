"""Co-sell from the overlap, worked by hand on `co_sell_scenario`: the prefilled request holds only what
sharing lets the partner see; sending it reaches the portal and the active contacts; the partner's yes
records one confirmed co-sell touch on the open opportunity (or the account), its no none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput, partner_user_actor, user_actor
from ecoops.actors import Role
from ecoops.attribution.models import PartnerTouch
from ecoops.audit import AuditEvent
from ecoops.automation.deliveries import Delivery
from ecoops.config import Settings
from ecoops.mapping import sharing
from ecoops.mapping.models import SharingLevel
from ecoops.permissions import Forbidden, NotFound
from ecoops.referrals import cosell, outbound, queries
from ecoops.referrals.access import get_referral
from ecoops.referrals.models import Referral, ReferralLink, Via
from ecoops.referrals.submission import ReferralInput, submit
from tests.factories import make_partner_user, make_user
from tests.referrals.cosell_scenario import CoSell, co_sell_scenario

ASK = "Could you introduce us, or work this account with us? Accept and we will get in touch."


@pytest.fixture
def scenario(session: Session, tmp_path: Path) -> CoSell:
    return co_sell_scenario(session, tmp_path)


def prefill(session: Session, scenario: CoSell, crm_id: str = "A2") -> ReferralInput:
    return cosell.prefill(
        session, scenario.seller_actor, partner_id=scenario.partner.id, account_crm_id=crm_id
    )


def ask(session: Session, settings: Settings, scenario: CoSell, crm_id: str = "A2") -> Referral:
    return cosell.ask_for_help(
        session,
        scenario.seller_actor,
        prefill(session, scenario, crm_id),
        partner_id=scenario.partner.id,
        account_crm_id=crm_id,
        settings=settings,
    )


def touches(session: Session) -> list[tuple[str, str, str, str, str]]:
    rows = session.scalars(
        select(PartnerTouch).where(PartnerTouch.kind == "co_sell").order_by(PartnerTouch.id)
    )
    return [(t.opportunity_crm_id, t.account_crm_id, t.status, t.evidence_type, t.evidence_ref) for t in rows]


def test_the_form_holds_their_own_view_and_none_of_our_fields_while_sharing_hides_them(session, scenario):
    data = prefill(session, scenario)
    assert data == ReferralInput(
        kind="intro",
        company="Globex",  # as their list names it
        contact_name="Sam Seller",
        contact_email="sam@example.com",
        notes=f"You list Globex among your Customers.\nYour account owner: Bob.\n{ASK}",
    )
    # Globex is in our open-opportunities population; counts only, even with the owner field: not listed.
    rule = sharing.Rule(SharingLevel.COUNTS, ("owner",))
    sharing.set_rules(
        session, user_actor(make_user(session, Role.ADMIN)), scenario.partner.id, {"open_opportunities": rule}
    )
    data = prefill(session, scenario)
    assert "Pete" not in data.notes


def test_our_owner_is_named_once_sharing_shows_it(session, scenario):
    admin = user_actor(make_user(session, Role.ADMIN))
    rules = {"open_opportunities": sharing.Rule(SharingLevel.OVERLAPPING, ("name", "owner"))}
    sharing.set_rules(session, admin, scenario.partner.id, rules)
    data = prefill(session, scenario)
    assert (
        data.notes
        == f"You list Globex among your Customers.\nYour account owner: Bob.\nOur account owner: Pete.\n{ASK}"
    )
    # Another partner's rule shows nothing to this one.
    sharing.set_rules(
        session,
        admin,
        scenario.partner.id,
        {"open_opportunities": sharing.Rule(SharingLevel.HIDDEN, ("owner",))},
    )
    sharing.set_rules(session, admin, scenario.other.id, rules)
    data = prefill(session, scenario)
    assert "Pete" not in data.notes


def test_shared_fields_are_those_of_rules_that_list_the_account():
    rules = {
        "a": sharing.Rule(SharingLevel.OVERLAPPING, ("owner",)),
        "b": sharing.Rule(SharingLevel.ALL, ("domain", "name")),
        "c": sharing.Rule(SharingLevel.COUNTS, ("country",)),
        "d": sharing.Rule(SharingLevel.HIDDEN, ("industry",)),
    }
    assert sharing.shared_fields(rules, ["a", "b", "c", "d"]) == ("name", "domain", "owner")
    assert sharing.shared_fields(rules, ["c", "d", "unruled"]) == ()


def test_only_an_account_in_their_current_list_can_be_asked_about(session, scenario):
    with pytest.raises(NotFound):  # Hooli: not in their list
        cosell.prefill(session, scenario.seller_actor, partner_id=scenario.partner.id, account_crm_id="A5")
    with pytest.raises(NotFound):  # Globex is not in Contoso's (it has none)
        cosell.prefill(session, scenario.seller_actor, partner_id=scenario.other.id, account_crm_id="A2")
    data = ReferralInput(kind="intro", company="Hooli")
    with pytest.raises(NotFound):
        cosell.ask_for_help(
            session,
            scenario.seller_actor,
            data,
            partner_id=scenario.partner.id,
            account_crm_id="A5",
            settings=Settings(),
        )


def test_viewers_and_partners_may_not_ask(session, settings, scenario):
    for actor in (user_actor(make_user(session, Role.VIEWER)), scenario.contact_actor):
        with pytest.raises(Forbidden):
            cosell.prefill(session, actor, partner_id=scenario.partner.id, account_crm_id="A2")


def test_sending_reaches_the_portal_and_each_active_contact_with_an_answer_link(session, settings, scenario):
    referral = ask(session, settings, scenario)
    assert (referral.direction, referral.kind, referral.status, referral.account_crm_id) == (
        "outbound",
        "intro",
        "sent",
        "A2",
    )
    assert referral.sla_due_at == referral.submitted_at + timedelta(hours=48)
    assert get_referral(session, scenario.contact_actor, referral.id) is referral  # in their portal
    link = session.scalars(select(ReferralLink).where(ReferralLink.referral_id == referral.id)).one()
    assert link.expires_at - link.created_at == timedelta(days=30)
    mails = session.scalars(select(Delivery).where(Delivery.source == "co_sell").order_by(Delivery.id)).all()
    assert [(m.target, m.partner_id) for m in mails] == [
        ("ann@northwind.example", scenario.partner.id),
        ("nick@northwind.example", scenario.partner.id),
    ]  # not the inactive contact, nor Contoso's
    assert mails[0].body.subject == "Sam Seller would like an introduction: Globex"
    assert (
        "http://localhost:8000/r/" in mails[0].body.text and "Your account owner: Bob." in mails[0].body.text
    )
    assert f"/portal/referrals/{referral.id}" in mails[0].body.text


def test_a_yes_records_one_confirmed_co_sell_touch_on_the_open_opportunity(session, settings, scenario):
    referral = ask(session, settings, scenario)
    stranger = partner_user_actor(make_partner_user(session, scenario.other))
    with pytest.raises(NotFound):  # another partner's request does not exist for Contoso
        outbound.respond(session, stranger, referral.id, accept=True, settings=settings)
    outbound.respond(
        session, scenario.contact_actor, referral.id, accept=True, settings=settings, reason="on it"
    )
    assert (referral.status, referral.opportunity_crm_id) == ("accepted", "O2")
    assert touches(session) == [("O2", "A2", "confirmed", "referral", str(referral.id))]
    touch = session.scalars(select(PartnerTouch).where(PartnerTouch.kind == "co_sell")).one()
    assert touch.touched_on == settings.today() and touch.partner_id == scenario.partner.id
    assert [t.id for t in queries.touches_of(session, referral)] == [touch.id]
    with pytest.raises(InvalidInput):  # answered once
        outbound.respond(session, scenario.contact_actor, referral.id, accept=False, settings=settings)
    assert referral.status == "accepted" and len(touches(session)) == 1
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target_type == "referral", AuditEvent.target_id == str(referral.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["referral.sent", "referral.accepted"]
    assert [h.to_status for h in referral.history] == ["sent", "accepted"]


def test_a_yes_on_an_account_without_open_deal_touches_the_account(session, settings, scenario):
    referral = ask(session, settings, scenario, crm_id="A1")  # Acme: its only deal is won
    outbound.respond(session, scenario.contact_actor, referral.id, accept=True, settings=settings)
    assert touches(session) == [("", "A1", "confirmed", "referral", str(referral.id))]


def test_a_no_records_no_touch(session, settings, scenario):
    referral = ask(session, settings, scenario)
    outbound.respond(
        session, scenario.contact_actor, referral.id, accept=False, settings=settings, reason="no"
    )
    assert (referral.status, referral.reason) == ("declined", "no")
    assert touches(session) == []


def test_an_overdue_request_is_flagged_until_answered(session, settings, scenario):
    referral = ask(session, settings, scenario)
    due = referral.sla_due_at
    assert due is not None
    assert not queries.is_overdue(referral, due - timedelta(seconds=1))
    assert queries.is_overdue(referral, due + timedelta(seconds=1))
    outbound.respond(session, scenario.contact_actor, referral.id, accept=True, settings=settings)
    assert not queries.is_overdue(referral, due + timedelta(seconds=1))


def test_an_intro_cannot_be_submitted_inbound(session, settings, scenario):
    with pytest.raises(InvalidInput):
        submit(
            session,
            scenario.contact_actor,
            ReferralInput(kind="intro", company="Globex"),
            settings=settings,
            via=Via.PORTAL,
        )
