"""Two people saving the same partner at once, on both backends: no 500, no duplicate membership,
and the partner ends as one of the two saves left it (last write wins), both in its history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.partners import programs
from ecoops.partners.models import Membership, PartnerChange
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.factories import bearer, make_partner, make_user

ROUNDS = 5


def _at_once(app: FastAPI, path: str, bodies: list[dict[str, object]], headers: dict[str, str]) -> list[int]:
    """PATCH `path` with each body from its own client, released together; the status codes."""

    def save(body: dict[str, object]) -> Callable[[], int]:
        return lambda: TestClient(app).patch(path, json=body, headers=headers).status_code

    return at_once(*(save(body) for body in bodies))


@pytest.mark.all_backends
def test_two_simultaneous_edits_of_one_partner(committed_engine: Engine, tmp_path: Path) -> None:
    engine = committed_engine
    with Session(engine) as session:
        headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
        program = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver", "Gold"])
        other = programs.create_program(session, SYSTEM, name="Tech", tiers=["Registered"])
        partner = make_partner(session, tiers=[program.tiers[0]])
        silver, gold, registered = program.tiers[0].id, program.tiers[1].id, other.tiers[0].id
        partner_id = partner.id
        session.commit()
    app = create_app(Settings(env="test", var_dir=tmp_path / "var", secret_key="c" * 40), engine)
    # Each save joins Tech (a new membership both would insert) and moves the Resell tier.
    bodies = [
        {"name": "Saved by A", "tier_ids": [gold, registered]},
        {"name": "Saved by B", "tier_ids": [silver, registered]},
    ]
    try:
        for _ in range(ROUNDS):
            statuses = _at_once(app, f"/api/v1/partners/{partner_id}", bodies, headers)
            assert statuses == [200, 200]
            final = TestClient(app).get(f"/api/v1/partners/{partner_id}", headers=headers).json()
            assert final["name"] in {"Saved by A", "Saved by B"}
            # Last write wins as a whole: the tier is the one the name's save chose.
            expected_tier = gold if final["name"] == "Saved by A" else silver
            assert sorted(m["tier_id"] for m in final["memberships"]) == sorted([expected_tier, registered])
            # Leave the partner out of Tech again for the next round.
            reset = {"name": "Reset", "tier_ids": [silver]}
            assert (
                TestClient(app)
                .patch(f"/api/v1/partners/{partner_id}", json=reset, headers=headers)
                .status_code
                == 200
            )
        with Session(engine) as session:
            assert (
                session.scalar(
                    select(func.count()).select_from(Membership).where(Membership.partner_id == partner_id)
                )
                == 1
            )
            names = session.scalars(
                select(PartnerChange.new_value).where(
                    PartnerChange.partner_id == partner_id, PartnerChange.field == "name"
                )
            ).all()
            # Every round: both saves renamed it (the second from the first's name), then the reset.
            assert len(names) == 3 * ROUNDS
    finally:
        engine.dispose()
