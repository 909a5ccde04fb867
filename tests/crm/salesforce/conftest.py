"""A local Salesforce for every test here, and a connection to it made by the JWT bearer flow."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import cli_actor
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
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


def check_seeded_deals(session: Session) -> tuple[Opportunity, Opportunity]:
    """What seed_org's Deal 0 and Deal 2 are once synced, whichever way they were read; both."""
    deal0 = session.scalar(select(Opportunity).where(Opportunity.name == "Deal 0"))
    assert deal0 is not None
    # EUR at 0.8 per USD: 1000 EUR is 1250 USD; the record's own amount and currency are kept
    money = (deal0.currency, deal0.original_amount, deal0.amount)
    assert money == ("EUR", Decimal("1000.00"), Decimal("1250.00"))
    assert deal0.partner_source and deal0.owner == "Ada Seller" and deal0.lead_source == "Partner Referral"
    won = session.scalar(select(Opportunity).where(Opportunity.name == "Deal 2"))
    assert won is not None and (won.stage, won.is_closed, won.is_won) == ("Closed Won", True, True)
    return deal0, won
