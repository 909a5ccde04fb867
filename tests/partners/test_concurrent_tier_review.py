"""Tier review with several clients at once, on both backends: two managers approving the same proposal
apply it exactly once; two evaluations at once leave one open proposal per partner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.partners.models import Membership, PartnerChange, TierProposal
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.factories import bearer, make_user
from tests.partners.tier_scenario import AS_OF, seed

ROUNDS = 3


@pytest.fixture
def site(committed_engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, FastAPI]]:
    engine = committed_engine
    yield engine, create_app(Settings(env="test", var_dir=tmp_path / "var", secret_key="t" * 40), engine)
    engine.dispose()


def _at_once(app: FastAPI, calls: list[tuple[str, dict[str, object], dict[str, str]]]) -> list[int]:
    """POST each (path, body, headers) from its own client, released together; the status codes, sorted."""

    def post(path: str, body: dict[str, object], headers: dict[str, str]) -> Callable[[], int]:
        return lambda: TestClient(app).post(path, json=body, headers=headers).status_code

    return sorted(at_once(*(post(*call) for call in calls)))


@pytest.mark.all_backends
def test_two_managers_approving_one_proposal_apply_it_once(site: tuple[Engine, FastAPI]) -> None:
    engine, app = site
    with Session(engine) as session:
        scenario = seed(session)
        managers = [bearer(session, make_user(session, Role.PARTNER_MANAGER)) for _ in range(2)]
        ada_id, silver_id = scenario.partners["ada"].id, scenario.silver.id
        session.commit()
    evaluated = TestClient(app).post(
        "/api/v1/tier-evaluations", json={"as_of": str(AS_OF)}, headers=managers[0]
    )
    assert evaluated.status_code == 200
    (ada,) = [p for p in evaluated.json()["proposed"] if p["partner_id"] == ada_id]
    path = f"/api/v1/tier-proposals/{ada['id']}/approve"
    assert _at_once(app, [(path, {}, managers[0]), (path, {}, managers[1])]) == [200, 400]
    with Session(engine) as session:
        assert session.scalar(select(Membership.tier_id).where(Membership.partner_id == ada_id)) == silver_id
        tier_lines = session.scalar(
            select(func.count()).where(PartnerChange.partner_id == ada_id, PartnerChange.field == "tier")
        )
        assert tier_lines == 1
        assert session.get_one(TierProposal, ada["id"]).status == "approved"


@pytest.mark.all_backends
def test_evaluations_at_once_leave_one_open_proposal_per_partner(site: tuple[Engine, FastAPI]) -> None:
    engine, app = site
    with Session(engine) as session:
        seed(session)
        headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
        session.commit()
    for _ in range(ROUNDS):
        call = ("/api/v1/tier-evaluations", {"as_of": str(AS_OF)}, headers)
        assert _at_once(app, [call, call]) == [200, 200]
    with Session(engine) as session:
        open_ones = session.execute(
            select(TierProposal.partner_id, func.count())
            .where(TierProposal.status == "open")
            .group_by(TierProposal.partner_id)
        ).all()
        assert len(open_ones) == 3
        assert all(count == 1 for _, count in open_ones)
