"""Seeding works in the caller's transaction, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.audit import AuditEvent
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.demo.workspace import has_data, seed_workspace
from ecoops.partners.models import Partner
from tests.demo.conftest import AS_OF


@pytest.mark.all_backends
def test_seeding_fills_an_empty_workspace_in_one_transaction(session, backend):
    assert not has_data(session)

    seeded = seed_workspace(session, SYSTEM, seed=5, as_of=AS_OF, account_count=80)

    def count(model: type) -> int:
        return session.scalar(select(func.count()).select_from(model))

    assert has_data(session)
    assert count(Account) == seeded.counts["accounts"] == 80
    assert count(Opportunity) == seeded.counts["opportunities"]
    assert count(OpportunityStageChange) == seeded.counts["stage changes"]
    assert count(PartnerTouch) == seeded.counts["partner touches"]
    assert count(Partner) == seeded.counts["partners"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "demo.seeded"))
    assert event is not None and event.details["counts"] == seeded.counts
