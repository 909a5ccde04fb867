"""Demo workspaces seeded into fresh SQLite files, shared by the demo tests (seeding is the slow part)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Row, select

from ecoops.actors import SYSTEM
from ecoops.db import Base, make_engine, migrate, session_factory, transaction
from ecoops.demo.partner_exports import write_partner_exports
from ecoops.demo.workspace import SeededWorkspace, seed_workspace
from ecoops.partners.models import PartnerStageChange
from tests.factories import cheap_password_hashing

AS_OF = date(2026, 6, 1)
SMALL = 300


@dataclass(frozen=True)
class SeededDatabase:
    engine: Engine
    seeded: SeededWorkspace
    folder: Path  # where the partner lists were written
    as_of: date

    def rows(self, model: type[Base]) -> list[Row[Any]]:
        """Every stored row of a model's table, read back with plain SQL."""
        with self.engine.connect() as connection:
            return list(connection.execute(select(model.__table__)))

    def partner_histories(self) -> dict[int, list[Row[Any]]]:
        """Each partner's stage changes in the order they happened."""
        histories = defaultdict(list)
        for change in sorted(self.rows(PartnerStageChange), key=lambda c: (c.changed_on, c.id)):
            histories[change.partner_id].append(change)
        return dict(histories)


@pytest.fixture(scope="package", autouse=True)
def cheap_demo_password_hashing() -> Iterator[None]:
    with cheap_password_hashing():
        yield


@pytest.fixture(scope="package")
def seed_database(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., SeededDatabase]:
    """Seeds a new, migrated SQLite database and writes its partner lists next to it."""

    def seed(*, seed: int = 11, accounts: int = SMALL, as_of: date = AS_OF) -> SeededDatabase:
        folder = tmp_path_factory.mktemp("demo")
        engine = make_engine(f"sqlite:///{folder / 'ecoops.db'}")
        migrate(engine)
        with transaction(session_factory(engine)) as session:
            seeded = seed_workspace(session, SYSTEM, seed=seed, as_of=as_of, account_count=accounts)
        write_partner_exports(seeded.exports, folder / "demo")
        return SeededDatabase(engine, seeded, folder / "demo", as_of)

    return seed


@pytest.fixture(scope="package")
def small_workspace(seed_database: Callable[..., SeededDatabase]) -> SeededDatabase:
    return seed_database()


@pytest.fixture(scope="package")
def full_workspace(seed_database: Callable[..., SeededDatabase]) -> SeededDatabase:
    """The default size `ecoops demo` seeds, for the properties only a large sample shows."""
    return seed_database(seed=7, accounts=5000)
