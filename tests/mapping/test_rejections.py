"""Rejecting a match withdraws the overlap it made: the period goes, its `overlap` touches are disputed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.audit import AuditEvent
from ecoops.events import Event, EventKind
from ecoops.mapping import overrides, runs, uploads
from ecoops.mapping.models import Decision, OverlapPeriod
from ecoops.partners.models import Partner
from tests.factories import make_account, make_opportunity, make_partner

pytestmark = pytest.mark.all_backends

DAY_1, DAY_2 = date(2026, 3, 2), date(2026, 3, 9)


@pytest.fixture
def partner(session: Session, tmp_path: Path) -> Partner:
    """Our Acme (two partner records in Customers: P1 by domain, P9 by name) and Globex (P2), each with
    an open deal; the partner lists both as customers."""
    make_account(session, crm_id="A1", name="Acme", domain="acme.com", country="US")
    make_opportunity(session, crm_id="O1", account_crm_id="A1", created_on=date(2026, 1, 5))
    make_account(session, crm_id="A2", name="Globex", domain="globex.com", country="US")
    make_opportunity(session, crm_id="O2", account_crm_id="A2", created_on=date(2026, 1, 5))
    partner = make_partner(session)
    path = tmp_path / "partner.csv"
    path.write_text(
        "Account ID,Account Name,Website,Billing Country,Population\n"
        "P1,Acme Inc,acme.com,US,Customers\n"
        "P2,Globex,globex.com,US,Customers\n"
    )
    uploads.upload_partner_list(session, SYSTEM, partner.id, path, "partner.csv")
    runs.run_mapping(session, SYSTEM, partner.id, today=DAY_1)
    return partner


def _periods(session: Session, partner: Partner) -> dict[str, tuple[date, date | None]]:
    return {
        p.account_crm_id: (p.began_on, p.ended_on)
        for p in session.scalars(select(OverlapPeriod).where(OverlapPeriod.partner_id == partner.id))
    }


def _touches(session: Session, partner: Partner) -> dict[str, tuple[str, str]]:
    return {
        t.opportunity_crm_id: (t.status, t.review_reason)
        for t in session.scalars(select(PartnerTouch).where(PartnerTouch.partner_id == partner.id))
    }


def test_a_rejected_match_leaves_no_overlap_and_its_touch_disputed(
    session: Session, partner: Partner
) -> None:
    assert _periods(session, partner) == {"A1": (DAY_1, None), "A2": (DAY_1, None)}
    statuses_before = {o: s for o, (s, _) in _touches(session, partner).items()}
    assert set(statuses_before) == {"O1", "O2"}

    overrides.decide(
        session,
        SYSTEM,
        partner.id,
        our_crm_id="A2",
        their_id="P2",
        decision=Decision.REJECTED,
        reason="not them",
    )
    # At once, before any run: the period is gone, the touch disputed with the rejection as its reason.
    assert _periods(session, partner) == {"A1": (DAY_1, None)}
    touches = _touches(session, partner)
    assert touches["O2"] == ("disputed", "match A2 ~ P2 rejected: not them")
    assert touches["O1"] == (statuses_before["O1"], "")
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["mapping.match_rejected", "touch.disputed", "mapping.overlap_withdrawn"]
    ended = session.scalars(select(Event).where(Event.kind == EventKind.OVERLAP_ENDED)).all()
    assert [(e.account_crm_id, e.payload["population"]) for e in ended] == [("A2", "Customers")]

    # The next runs neither bring the overlap back nor write a new touch for Globex's deal.
    runs.run_mapping(session, SYSTEM, partner.id, today=DAY_2)
    make_opportunity(session, crm_id="O3", account_crm_id="A2", created_on=DAY_2)
    runs.run_mapping(session, SYSTEM, partner.id, today=DAY_2)
    assert _periods(session, partner) == {"A1": (DAY_1, None)}
    assert set(_touches(session, partner)) == {"O1", "O2"}


def test_an_account_still_overlapping_through_another_record_keeps_its_period(
    session: Session, partner: Partner, tmp_path: Path
) -> None:
    path = tmp_path / "v2.csv"
    path.write_text(
        "Account ID,Account Name,Website,Billing Country,Population\n"
        "P1,Acme Inc,acme.com,US,Customers\n"
        "P2,Globex,globex.com,US,Customers\n"
        "P9,Acme Incorporated,,US,Customers\n"
    )
    uploads.upload_partner_list(session, SYSTEM, partner.id, path, "v2.csv")
    overrides.decide(session, SYSTEM, partner.id, our_crm_id="A1", their_id="P9", decision=Decision.CONFIRMED)
    runs.run_mapping(session, SYSTEM, partner.id, today=DAY_2)

    overrides.decide(session, SYSTEM, partner.id, our_crm_id="A1", their_id="P1", decision=Decision.REJECTED)
    assert _periods(session, partner) == {"A1": (DAY_1, None), "A2": (DAY_1, None)}
    assert _touches(session, partner)["O1"][0] != "disputed"


def test_rejecting_a_pair_that_never_matched_changes_no_overlap(session: Session, partner: Partner) -> None:
    overrides.decide(session, SYSTEM, partner.id, our_crm_id="A1", their_id="P2", decision=Decision.REJECTED)
    assert _periods(session, partner) == {"A1": (DAY_1, None), "A2": (DAY_1, None)}
    assert all(status != "disputed" for status, _ in _touches(session, partner).values())
