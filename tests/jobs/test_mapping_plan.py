"""A mapping job matches in a read-only transaction and stores in a short write transaction: a plan
made before the list changed, or before another run was stored, is not stored as it is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.mapping import runs, uploads
from tests.factories import make_partner
from tests.mapping.test_mapping_runs import PARTNER_ROWS, our_accounts, write


def _plan(session: Session, partner_id: int) -> runs.Plan:
    planned = runs.plan_mapping(session, SYSTEM, partner_id)
    assert isinstance(planned, runs.Plan)
    return planned


def test_a_plan_is_current_until_a_new_list_or_another_run_is_stored(
    session: Session, tmp_path: Path
) -> None:
    our_accounts(session)
    partner = make_partner(session, name="Northwind")
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS), "v1.csv")
    first, second = _plan(session, partner.id), _plan(session, partner.id)
    assert runs.plan_is_current(session, first) and runs.plan_is_current(session, second)

    stored = runs.store_mapping(session, SYSTEM, first, first.started_at.date())
    assert stored.run is not None and stored.run.matches == first.pairs.num_rows
    assert not runs.plan_is_current(session, second)  # a run was stored since it read

    assert runs.plan_mapping(session, SYSTEM, partner.id) == runs.RunOutcome(partner.id, stored.run, True)
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS[:2]), "v2.csv")
    third = _plan(session, partner.id)
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS[:3]), "v3.csv")
    assert not runs.plan_is_current(session, third)  # the list it matched is no longer current
