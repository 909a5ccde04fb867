"""The demo's enablement: a library with a bill of materials per portal partner, referral and co-sell
playbooks published, content on recent inbound referrals with some opened by sellers, a joint plan with
the first portal partner over accounts both have."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.demo.enablement import seed_enablement
from ecoops.demo.referrals import seed_referrals
from ecoops.enablement import content, plans, playbooks, uses
from ecoops.enablement.models import ContentAttachment
from tests.demo.conftest import SeededDatabase


def test_demo_enablement_shows_every_part(small_workspace: SeededDatabase, settings: Settings) -> None:
    today = small_workspace.as_of
    with small_workspace.engine.connect() as connection:
        outer = connection.begin()
        try:
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            seed_referrals(session, 11, today, "USD")
            count = seed_enablement(session, settings, today)
            library = content.search_content(session, SYSTEM, content.ContentFilters(), per_page=100).items
            assert len(library) == count >= 7
            assert any(i.kind == "bill_of_materials" and i.partner_id for i in library)
            assert any(i.is_file for i in library) and any(i.link for i in library)
            published = {p.motion for p in playbooks.list_playbooks(session, SYSTEM) if p.published}
            assert published == {"referral", "co_sell"}
            assert len(session.scalars(select(ContentAttachment)).all()) == 12
            figure = uses.utilisation(session, SYSTEM, today.replace(month=1, day=1), today)
            assert 0 < figure.opened < figure.total
            newest = figure.referrals[0]
            assert not newest.opened, "the newest referral waits for a seller to open its content"
            assert len(plans.list_plans(session, SYSTEM)) == 1  # no mapping in this workspace: no accounts
        finally:
            outer.rollback()
