"""The portal and the e-mailed link answering one co-sell request at the same moment, on committed
databases of both backends: exactly one answer is recorded, with one history entry and one touch."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts.service import InvalidInput
from ecoops.attribution.models import PartnerTouch
from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.referrals import answer_links, cosell, links, outbound
from ecoops.referrals.models import Referral, ReferralLink, ReferralStatusChange
from tests.conftest import fresh_postgres_database
from tests.referrals.cosell_scenario import co_sell_scenario


@pytest.fixture
def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    """A fresh, migrated database whose commits are real: each answer runs in its own transaction."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.mark.all_backends
def test_the_portal_and_the_link_at_once_record_one_answer_and_one_touch(
    db: sessionmaker[Session], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(db) as session:
        scenario = co_sell_scenario(session, tmp_path)
        seller, partner_id = scenario.seller_actor, scenario.partner.id
        data = cosell.prefill(session, seller, partner_id=partner_id, account_crm_id="A2")
        referral = cosell.ask_for_help(
            session, seller, data, partner_id=partner_id, account_crm_id="A2", settings=settings
        )
        link = session.scalars(select(ReferralLink).where(ReferralLink.referral_id == referral.id)).one()
        referral_id, token, contact = referral.id, links.link_token(link, settings), scenario.contact_actor

    # Both have read the request as `sent` before either writes (PostgreSQL); SQLite's write lock lets
    # only one in at a time, so there the first waits at the meeting point in vain and goes on.
    meeting = threading.Barrier(2)

    def meet_then_update(*args: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(timeout=3)
        return update(*args)

    monkeypatch.setattr(outbound, "update", meet_then_update)
    outcomes: dict[str, str] = {}

    def portal() -> None:
        with transaction(db) as session:
            outbound.respond(session, contact, referral_id, accept=True, settings=settings)

    def link_in_mail() -> None:
        with transaction(db) as session:
            answer_links.answer_through_link(session, token, accept=True, reason="", settings=settings)

    def run(name: str, answer: Any) -> None:
        try:
            answer()
            outcomes[name] = "answered"
        except (InvalidInput, answer_links.Gone) as refused:
            outcomes[name] = f"refused: {refused}"

    threads = [
        threading.Thread(target=run, args=(name, f))
        for name, f in (("portal", portal), ("link", link_in_mail))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["answered", "refused"], outcomes

    with db() as session:
        assert session.get_one(Referral, referral_id).status == "accepted"
        moves = session.scalars(
            select(ReferralStatusChange.to_status).where(ReferralStatusChange.referral_id == referral_id)
        ).all()
        assert sorted(moves) == ["accepted", "sent"]
        touches = session.scalar(select(func.count()).where(PartnerTouch.kind == "co_sell"))
        accepted = session.scalar(select(func.count()).where(AuditEvent.action == "referral.accepted"))
        assert (touches, accepted) == (1, 1)
