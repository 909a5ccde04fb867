"""The demo's co-sell requests: asked through the co-sell service once the lists are mapped, in every
state (accepted, declined, waiting within and past the SLA), each accepted one with its co-sell touch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.db import session_factory, transaction
from ecoops.demo.cosell import REQUESTS, seed_co_sell
from ecoops.demo.mapping import map_partner_lists
from ecoops.demo.partner_exports import write_partner_exports
from ecoops.referrals.models import Referral
from ecoops.referrals.queries import is_overdue
from tests.demo.conftest import SeededDatabase


def test_co_sell_requests_come_in_every_state_with_their_touches(
    seed_database: Callable[..., SeededDatabase],
) -> None:
    workspace = seed_database()
    paths = write_partner_exports(workspace.seeded.exports, workspace.folder)
    with transaction(session_factory(workspace.engine)) as session:
        map_partner_lists(session, SYSTEM, workspace.seeded.exports, paths, workspace.as_of)
        made = seed_co_sell(session, 11, workspace.as_of)
    assert made == len(REQUESTS)
    with session_factory(workspace.engine)() as session:
        requests = session.scalars(select(Referral).where(Referral.kind == "intro")).all()
        assert Counter(r.status for r in requests) == {"accepted": 3, "declined": 1, "sent": 2}
        end_of_day = datetime.combine(workspace.as_of, time.max, UTC)
        assert all(r.submitted_at.replace(tzinfo=UTC) <= end_of_day for r in requests)
        waiting = sorted((r for r in requests if r.status == "sent"), key=lambda r: r.submitted_at)
        assert [is_overdue(r, end_of_day) for r in waiting] == [True, False]
        touches = session.scalars(
            select(PartnerTouch).where(
                PartnerTouch.kind == "co_sell", PartnerTouch.evidence_type == "referral"
            )
        ).all()  # the simulated history has co-sell touches of its own
        accepted = {str(r.id): r for r in requests if r.status == "accepted"}
        assert sorted(t.evidence_ref for t in touches) == sorted(accepted)
        for touch in touches:
            request = accepted[touch.evidence_ref]
            assert touch.account_crm_id == request.account_crm_id
            assert (
                request.submitted_at.date() < touch.touched_on <= request.submitted_at.date() + timedelta(3)
            )
