"""A local Salesforce for every test here, and a connection to it made by the JWT bearer flow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ecoops.actors import cli_actor
from ecoops.config import Settings
from ecoops.crm.salesforce import service
from tests.crm.salesforce_server import FakeSalesforce, rsa_key_pair

ADMIN = cli_actor("admin@example.com")


@pytest.fixture(scope="session")
def key_pair() -> tuple[str, str]:
    return rsa_key_pair()


@pytest.fixture
def fake(tmp_path: Path, key_pair: tuple[str, str]) -> Iterator[FakeSalesforce]:
    server = FakeSalesforce(tmp_path, public_key=key_pair[1]).start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, fake: FakeSalesforce) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        secret_key="t" * 40,
        crm_ca_bundle=fake.ca_file,
        crm_max_wait_seconds=0.05,
        public_url="http://testserver",
    )


def connect(session: Session, settings: Settings, fake: FakeSalesforce, private_key: str) -> None:
    service.connect_jwt(
        session,
        ADMIN,
        settings,
        login_url=fake.url,
        client_id=fake.client_id,
        username=fake.username,
        private_key=private_key,
    )
    session.commit()
