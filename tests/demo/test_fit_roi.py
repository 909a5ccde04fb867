"""The demo's candidates with mapped account lists, its program costs and report pack schedules: the
recruiting list ranks candidates with reasons, the ROI dashboard has costs, a QBR pack renders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.demo.fit import seed_fit
from ecoops.demo.roi import seed_roi
from ecoops.engines.metrics import Period
from ecoops.fit import service as fit
from ecoops.fit.models import Criterion
from ecoops.partners.models import Partner
from ecoops.reports import packs
from ecoops.reports.qbr import qbr_pack, quarter_of
from ecoops.roi import service as roi
from tests.demo.conftest import SeededDatabase


def test_demo_candidates_rank_with_reasons_and_roi_has_costs(
    small_workspace: SeededDatabase, settings: Settings
) -> None:
    today = small_workspace.as_of
    with small_workspace.engine.connect() as connection:
        outer = connection.begin()
        try:
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            assert seed_fit(session, SYSTEM, 11, today) > 0
            ranked = fit.ranked(session, SYSTEM, who="candidates")
            assert ranked and ranked[0].fit.score >= ranked[-1].fit.score
            overlaps = [
                line.value
                for r in ranked
                for line in r.fit.lines
                if line.criterion == Criterion.CUSTOMER_OVERLAP
            ]
            assert any(value != "0" for value in overlaps), "some candidate overlaps our customers"
            assert seed_roi(session, SYSTEM, 11, today) >= 24
            found = roi.roi(session, SYSTEM, settings, Period(today.replace(month=1, day=1), today))
            assert found.cost > 0 and found.roi_attached is not None
            assert [s.name for s in packs.schedules(session, SYSTEM)] == [
                "Finance weekly",
                "Leadership monthly",
            ]
            partner = session.scalar(
                select(Partner.id).where(Partner.stage == "producing").order_by(Partner.id)
            )
            assert partner is not None
            document = qbr_pack(session, SYSTEM, settings, partner, quarter_of(today), today)
            assert [s.title for s in document.sections][:2] == ["Results", "Referrals in the quarter"]
        finally:
            outer.rollback()
