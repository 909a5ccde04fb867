"""Partners move through the life cycle with a dated history; impossible moves are refused."""

from datetime import date

import pytest
from sqlalchemy import select

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.partners import service
from ecoops.partners.models import PartnerStageChange
from ecoops.permissions import Forbidden
from tests.factories import make_partner, make_user

pytestmark = pytest.mark.all_backends
TODAY = date(2026, 6, 1)


def test_history_keeps_every_move_with_its_date(session, backend):
    admin = make_user(session, Role.PARTNER_MANAGER)
    from ecoops.accounts.service import user_actor

    actor = user_actor(admin)
    partner = make_partner(session, stage="recruiting", stage_since=date(2025, 2, 1))
    service.change_stage(session, actor, partner, to="signed", on=date(2025, 4, 15), today=TODAY)
    service.change_stage(session, actor, partner, to="churned", on=date(2026, 1, 10), today=TODAY)
    service.change_stage(
        session, actor, partner, to="signed", on=date(2026, 3, 1), today=TODAY, note="re-signed"
    )
    session.expire_all()

    history = session.scalars(
        select(PartnerStageChange)
        .where(PartnerStageChange.partner_id == partner.id)
        .order_by(PartnerStageChange.id)
    ).all()
    assert [(c.from_stage, c.to_stage, c.changed_on) for c in history] == [
        (None, "recruiting", date(2025, 2, 1)),
        ("recruiting", "signed", date(2025, 4, 15)),
        ("signed", "churned", date(2026, 1, 10)),
        ("churned", "signed", date(2026, 3, 1)),
    ]
    assert (partner.stage, partner.stage_since) == ("signed", date(2026, 3, 1))
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(partner.id))).all()
    assert actions.count("partner.stage_changed") == 3


@pytest.mark.parametrize("stage", ["prospect", "recruiting"])
def test_cannot_churn_before_signing(session, stage):
    partner = make_partner(session, stage=stage)
    from ecoops.actors import SYSTEM

    with pytest.raises(InvalidInput, match="only after signing"):
        service.change_stage(session, SYSTEM, partner, to="churned", on=TODAY, today=TODAY)


def test_dates_must_not_go_backwards_or_into_the_future(session):
    from ecoops.actors import SYSTEM

    partner = make_partner(session, stage="signed", stage_since=date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="before the current stage began"):
        service.change_stage(session, SYSTEM, partner, to="onboarding", on=date(2025, 12, 31), today=TODAY)
    with pytest.raises(InvalidInput, match="in the future"):
        service.change_stage(session, SYSTEM, partner, to="onboarding", on=date(2026, 6, 2), today=TODAY)


def test_viewers_and_sales_cannot_move_partners(session):
    from ecoops.accounts.service import user_actor

    partner = make_partner(session)
    for role in (Role.VIEWER, Role.SALES):
        with pytest.raises(Forbidden):
            service.change_stage(
                session, user_actor(make_user(session, role)), partner, to="producing", on=TODAY, today=TODAY
            )
