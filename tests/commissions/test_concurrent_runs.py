"""Two finance users at once, on both backends: two accrual runs credit each line once, and two
approvals of the same lines move each line once (the second finds it moved and skips it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.commissions import accruals, ledger
from ecoops.commissions.models import Status
from ecoops.config import Settings
from tests.at_once import at_once
from tests.commissions.world import entries, plan, program_with_partners, won_deal

ROUNDS = 3


def _at_once(engine: Engine, work: Callable[[Session], object]) -> list[BaseException]:
    """Run `work` twice at once, each in its own committed session; the errors they raised."""

    def one() -> BaseException | None:
        with Session(engine) as session:
            try:
                work(session)
                session.commit()
            except BaseException as error:  # reported to the test
                return error
        return None

    return [error for error in at_once(one, one) if error is not None]


@pytest.mark.all_backends
def test_two_runs_and_two_approvals_at_once(committed_engine: Engine, tmp_path: Path) -> None:
    engine = committed_engine
    config = Settings(env="test", var_dir=tmp_path / "var", secret_key="c" * 40)
    with Session(engine) as session:
        program, (partner,) = program_with_partners(session)
        plan(session, program)
        for day in range(1, 6):
            won_deal(session, partner, "1000", date(2025, 3, day))
        session.commit()
    for round_ in range(ROUNDS):
        as_of = date(2025, 3, 10 + round_)
        assert _at_once(engine, lambda s, on=as_of: accruals.accrue(s, SYSTEM, config, on)) == []
        with Session(engine) as session:
            assert [e.amount_cents for e in entries(session)] == [10000] * 5
    with Session(engine) as session:
        ids = [e.id for e in entries(session)]
    decisions: list[ledger.Decision] = []
    assert _at_once(engine, lambda s: decisions.append(ledger.decide(s, SYSTEM, ids, Status.APPROVED))) == []
    assert sorted(len(d.changed) for d in decisions) == [0, 5]
    with Session(engine) as session:
        assert {e.status for e in entries(session)} == {"approved"}
    engine.dispose()
