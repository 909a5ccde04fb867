"""A local HubSpot for every test here, and a connection to it by a private app's token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from sqlalchemy.orm import Session

from ecoops.actors import cli_actor
from ecoops.config import Settings
from ecoops.crm.hubspot import service
from tests.crm.hubspot_server import FakeHubSpot

ADMIN = cli_actor("admin@example.com")


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    server = FakeHubSpot().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, fake: FakeHubSpot) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        secret_key="t" * 40,
        hubspot_api_url=fake.url,
        hubspot_app_url=fake.url,
        crm_max_wait_seconds=0.05,
        public_url="http://testserver",
    )


def connect(session: Session, settings: Settings, fake: FakeHubSpot) -> None:
    service.connect_private_app(session, ADMIN, settings, token=fake.private_token)
    session.commit()


def connect_oauth(session: Session, settings: Settings, fake: FakeHubSpot) -> None:
    """The authorization-code flow: the admin's browser at HubSpot's install page (the fake grants at
    once and sends it back with a code), then our callback trades the code."""
    link = service.start_oauth(
        session, ADMIN, settings, client_id=fake.client_id, client_secret=fake.client_secret
    )
    session.commit()
    back = requests.get(link, allow_redirects=False, timeout=10).headers["Location"]
    query = parse_qs(urlparse(back).query)
    service.finish_oauth(session, ADMIN, settings, code=query["code"][0], state=query["state"][0])
    session.commit()
