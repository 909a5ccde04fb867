"""The scanner emits each time-based event once: SLA breaches, expiring registrations, quiet partners."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import partner_user_actor, user_actor
from ecoops.actors import Role
from ecoops.attribution.models import PartnerTouch
from ecoops.automation.scanner import scan
from ecoops.automation.templates import build_message
from ecoops.config import Settings
from ecoops.events import Event, EventKind
from ecoops.referrals import outbound
from ecoops.referrals.models import Via
from ecoops.referrals.review import approve
from ecoops.referrals.submission import ReferralInput, submit
from tests.factories import make_partner, make_partner_user, make_user

pytestmark = pytest.mark.all_backends
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def kinds(session: Session, kind: EventKind) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.kind == kind.value).order_by(Event.id)))


def test_a_referral_past_its_sla_is_reported_once(session: Session, settings: Settings) -> None:
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    partner = make_partner(session, name="Late Partner", stage_since=TODAY)
    late = submit(
        session,
        manager,
        ReferralInput(kind="eql", company="Late Co"),
        settings=settings,
        via=Via.INTERNAL,
        partner_id=partner.id,
    )
    on_time = submit(
        session,
        manager,
        ReferralInput(kind="eql", company="Fresh Co"),
        settings=settings,
        via=Via.INTERNAL,
        partner_id=partner.id,
    )
    late.sla_due_at = NOW - timedelta(minutes=1)
    on_time.sla_due_at = NOW + timedelta(minutes=1)
    session.flush()

    assert scan(session, settings, NOW) == 1
    (event,) = kinds(session, EventKind.REFERRAL_SLA_BREACHED)
    assert (event.partner_id, event.payload["referral_id"], event.payload["company"]) == (
        partner.id,
        late.id,
        "Late Co",
    )
    assert scan(session, settings, NOW) == 0
    assert scan(session, settings, NOW + timedelta(minutes=2)) == 1  # now the second one is late too
    assert len(kinds(session, EventKind.REFERRAL_SLA_BREACHED)) == 2


def test_our_request_the_partner_leaves_unanswered_past_its_sla_is_reported_once(
    session: Session, settings: Settings
) -> None:
    seller = user_actor(make_user(session, Role.SALES))
    partner = make_partner(session, name="Slow Partner", stage_since=TODAY)
    contact = partner_user_actor(make_partner_user(session, partner))

    def ask(company: str, due: datetime):
        request = outbound.refer_out(
            session,
            seller,
            ReferralInput(kind="intro", company=company),
            partner_id=partner.id,
            settings=settings,
            via=Via.INTERNAL,
        )
        request.sla_due_at = due
        session.flush()
        return request

    unanswered = ask("Waiting Co", NOW - timedelta(minutes=1))
    answered = ask("Answered Co", NOW - timedelta(minutes=1))
    outbound.respond(session, contact, answered.id, accept=False, settings=settings)
    ask("Due Co", NOW)  # due this very minute: not late yet

    assert scan(session, settings, NOW) == 1
    (event,) = kinds(session, EventKind.REFERRAL_SLA_BREACHED)
    assert (event.payload["referral_id"], event.payload["direction"]) == (unanswered.id, "outbound")
    message = build_message(event, subject_template="", body_template="", base_url="", currency="EUR")
    assert message.subject == "Unanswered by Slow Partner: Waiting Co"
    assert message.text.startswith("Slow Partner has not answered our request about Waiting Co by its SLA")
    assert scan(session, settings, NOW) == 0


def test_a_registration_about_to_expire_is_reported_once(session: Session, settings: Settings) -> None:
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    partner = make_partner(session, stage_since=TODAY)
    deal = submit(
        session,
        manager,
        ReferralInput(kind="deal_registration", company="Expiring Co"),
        settings=settings,
        via=Via.INTERNAL,
        partner_id=partner.id,
    )
    approve(session, manager, deal.id, settings=settings)
    deal.sla_due_at = NOW + timedelta(days=1)
    deal.registration_expires_on = TODAY + timedelta(days=settings.registration_expiry_warning_days + 1)
    session.flush()
    assert scan(session, settings, NOW) == 0  # not yet inside the warning window

    deal.registration_expires_on = TODAY + timedelta(days=settings.registration_expiry_warning_days)
    session.flush()
    assert scan(session, settings, NOW) == 1
    (event,) = kinds(session, EventKind.REGISTRATION_EXPIRING)
    assert event.payload["expires_on"] == str(deal.registration_expires_on)
    assert scan(session, settings, NOW + timedelta(days=1)) == 0


def test_a_quiet_partner_is_reported_once_per_quiet_spell(session: Session, settings: Settings) -> None:
    days = settings.partner_inactive_days
    quiet = make_partner(session, name="Quiet", stage="active", stage_since=TODAY - timedelta(days=days))
    recent = make_partner(
        session, name="Recent", stage="active", stage_since=TODAY - timedelta(days=days - 1)
    )
    make_partner(session, name="Prospect", stage="prospect", stage_since=date(2020, 1, 1))
    make_partner(session, name="Churned", stage="churned", stage_since=date(2020, 1, 1))
    touched = make_partner(session, name="Touched", stage="active", stage_since=date(2020, 1, 1))
    session.add(PartnerTouch(partner_id=touched.id, kind="referral", touched_on=TODAY, recorded_at=NOW))
    session.flush()

    assert scan(session, settings, NOW) == 1
    (event,) = kinds(session, EventKind.PARTNER_INACTIVE)
    assert event.partner_id == quiet.id
    assert event.payload == {
        "partner_name": "Quiet",
        "days": days,
        "last_activity": str(TODAY - timedelta(days=days)),
        "link": f"/partners/{quiet.id}",
    }
    assert scan(session, settings, NOW + timedelta(days=3)) == 1  # Recent's turn; Quiet's spell goes on
    assert [e.partner_id for e in kinds(session, EventKind.PARTNER_INACTIVE)] == [quiet.id, recent.id]

    session.add(PartnerTouch(partner_id=quiet.id, kind="referral", touched_on=TODAY, recorded_at=NOW))
    session.flush()
    assert scan(session, settings, NOW + timedelta(days=days - 1)) == 0
    assert scan(session, settings, NOW + timedelta(days=days)) == 2  # Quiet's new spell; Touched's first
    quiet_events = [e for e in kinds(session, EventKind.PARTNER_INACTIVE) if e.partner_id == quiet.id]
    assert [e.payload["last_activity"] for e in quiet_events] == [
        str(TODAY - timedelta(days=days)),
        str(TODAY),
    ]


def test_quiet_partners_are_looked_for_once_an_hour(session: Session, settings: Settings) -> None:
    assert scan(session, settings, NOW) == 0
    make_partner(session, name="Long quiet", stage="active", stage_since=date(2020, 1, 1))
    assert scan(session, settings, NOW + timedelta(minutes=59)) == 0  # the same hour: not looked for
    assert scan(session, settings, NOW + timedelta(hours=1)) == 1
