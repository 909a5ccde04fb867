"""The demo's referrals and registrations: made through the referrals services in every state, dated in the
past, and feeding real figures into the EQL funnel and give-and-get."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.db import session_factory, transaction
from ecoops.demo.referrals import seed_referrals
from ecoops.metrics import service
from ecoops.referrals.models import Referral
from tests.demo.conftest import SeededDatabase


@pytest.fixture(scope="module")
def with_referrals(seed_database: Callable[..., SeededDatabase]) -> tuple[SeededDatabase, int]:
    """A workspace of its own (the shared ones stay as `seed_workspace` leaves them), with referrals."""
    workspace = seed_database()
    with transaction(session_factory(workspace.engine)) as session:
        made = seed_referrals(session, 11, workspace.as_of, "USD")
    return workspace, made


def test_referrals_come_in_every_state_dated_before_the_as_of_date(
    with_referrals: tuple[SeededDatabase, int],
) -> None:
    small_workspace, made = with_referrals
    referrals = small_workspace.rows(Referral)
    states = Counter((r.direction, r.status) for r in referrals)
    for state in (("inbound", "approved"), ("inbound", "rejected"), ("inbound", "submitted")):
        assert states[state] > 0, state
    assert states[("outbound", "accepted")] + states[("outbound", "declined")] > 0
    assert {r.kind for r in referrals} == {"eql", "deal_registration"}
    end_of_day = datetime.combine(small_workspace.as_of, datetime.max.time())
    assert all(r.submitted_at <= end_of_day for r in referrals)
    assert made == len(referrals)
    # Each approved one became an opportunity and a partner touch dated the day it was submitted.
    touches = {t.evidence_ref: t for t in small_workspace.rows(PartnerTouch) if t.evidence_type == "referral"}
    for referral in referrals:
        if referral.status == "approved":
            assert referral.opportunity_crm_id
            touch = touches[str(referral.id)]
            assert touch.touched_on == referral.submitted_at.replace(tzinfo=UTC).date()
            assert touch.opportunity_crm_id == referral.opportunity_crm_id


def test_the_eql_funnel_and_give_and_get_show_real_figures(
    with_referrals: tuple[SeededDatabase, int], tmp_path: Path
) -> None:
    small_workspace, _made = with_referrals
    settings = Settings(env="test", var_dir=tmp_path, secret_key="t" * 40)
    query = service.build_query(small_workspace.as_of)
    with session_factory(small_workspace.engine)() as session:
        figures = service.report(session, SYSTEM, settings, query, ["eql_funnel", "give_and_get"]).figures
        stored = list(session.scalars(select(Referral)))
    (funnel,) = figures["eql_funnel"].to_pylist()
    eqls = [r for r in stored if r.status not in ("rejected", "declined")]
    assert funnel["eqls"] == len(eqls) > 0
    assert funnel["sqls"] == sum(bool(r.opportunity_crm_id) for r in eqls) > 0
    assert 0 < funnel["eql_to_sql_conversion"] < 1
    exchanged = figures["give_and_get"].to_pylist()
    assert sum(r["referrals_sent"] for r in exchanged) > 0
    assert sum(r["referrals_received"] for r in exchanged) > 0
