"""Views and shares are counted once per person, item, action and UTC day, and the utilisation figure
against hand-worked periods, on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.db import make_engine, migrate
from ecoops.enablement import uses
from ecoops.enablement.models import ContentUse, UseAction
from ecoops.permissions import NotFound
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.conftest import fresh_postgres_database
from tests.enablement.scenario import file_item, seed
from tests.factories import cheap_password_hashing, make_user, sign_in

VIEW, SHARE = UseAction.VIEW, UseAction.SHARE


def _uses(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ContentUse)) or 0


@pytest.mark.all_backends
def test_a_person_counts_once_per_item_action_and_day(session: Session, settings: Settings) -> None:
    w = seed(session, settings)
    seller = w.actor(w.seller)
    assert uses.record_use(session, seller, w.for_all, VIEW, date(2025, 3, 31)) is True
    assert uses.record_use(session, seller, w.for_all, VIEW, date(2025, 3, 31)) is False  # same day
    assert uses.record_use(session, seller, w.for_all, VIEW, date(2025, 4, 1)) is True  # the next day
    assert (
        uses.record_use(session, seller, w.for_all, SHARE, date(2025, 4, 1)) is True
    )  # a share is not a view
    assert uses.record_use(session, seller, w.alpha_file, VIEW, date(2025, 4, 1)) is True  # another item
    assert uses.record_use(session, w.actor(w.other_seller), w.for_all, VIEW, date(2025, 4, 1)) is True
    partner = w.actor(w.alpha_user)
    assert uses.record_use(session, partner, w.for_all, VIEW, date(2025, 4, 1)) is True
    assert uses.record_use(session, partner, w.for_all, VIEW, date(2025, 4, 1)) is False
    assert _uses(session) == 6
    counts = uses.item_counts(session, w.actor(w.manager), [w.for_all.id, w.alpha_file.id, w.beta_file.id])
    assert counts[w.for_all.id] == uses.ItemCounts(
        internal_views=3, partner_views=1, internal_shares=1, partner_shares=0, people=3
    )
    assert counts[w.alpha_file.id] == uses.ItemCounts(internal_views=1, people=1)
    assert w.beta_file.id not in counts  # never used


def test_a_use_names_only_a_referral_the_person_may_read(session: Session, settings: Settings) -> None:
    w = seed(session, settings)
    alphas = w.referrals[0].id
    assert uses.record_use(session, w.actor(w.alpha_user), w.for_all, VIEW, date(2025, 3, 2), alphas)
    with pytest.raises(NotFound):
        uses.record_use(session, w.actor(w.beta_user), w.for_all, VIEW, date(2025, 3, 2), alphas)


@pytest.mark.all_backends
def test_utilisation_by_sales_on_referrals_against_hand_worked_periods(
    session: Session, settings: Settings
) -> None:
    w = seed(session, settings)
    r0, r1, r2 = w.referrals  # submitted 2025-03-01 09:00, 03-31 23:59, 04-01 00:00
    seller, manager = w.actor(w.seller), w.actor(w.manager)
    uses.record_use(session, seller, w.for_all, VIEW, date(2025, 3, 5), r0.id)
    uses.record_use(session, manager, w.for_all, VIEW, date(2025, 3, 31), r1.id)  # not a seller
    uses.record_use(
        session, seller, w.for_all, VIEW, date(2025, 3, 5), r1.id
    )  # already counted today, from r0
    uses.record_use(session, seller, w.for_all, SHARE, date(2025, 3, 6), r1.id)  # a share is not an opening
    uses.record_use(session, seller, w.alpha_file, VIEW, date(2025, 4, 2), r1.id)  # after March
    march = uses.utilisation(session, manager, date(2025, 3, 1), date(2025, 3, 31))
    assert [(u.referral.id, u.opened) for u in march.referrals] == [(r1.id, False), (r0.id, True)]
    assert (march.opened, march.total, march.share) == (1, 2, 0.5)
    spring = uses.utilisation(session, manager, date(2025, 3, 1), date(2025, 4, 30))
    assert (spring.opened, spring.total) == (2, 3)  # r1 opened on 04-02; r2 never
    april_first = uses.utilisation(session, manager, date(2025, 4, 1), date(2025, 4, 1))
    assert [(u.referral.id, u.opened) for u in april_first.referrals] == [(r2.id, False)]  # April's midnight
    empty = uses.utilisation(session, manager, date(2024, 1, 1), date(2024, 1, 31))
    assert (empty.total, empty.share) == (0, None)


@pytest.mark.all_backends
def test_two_views_at_once_count_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'uses.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(url)
    migrate(engine)
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="u" * 40)
    try:
        with cheap_password_hashing():
            with Session(engine) as session:
                email = make_user(session, Role.SALES).email
                item_id = file_item(session, settings, "Race BOM", None).id
                session.commit()
            app = create_app(settings, engine)
            clients = [TestClient(app, follow_redirects=False) for _ in range(2)]
            for client in clients:
                sign_in(client, email)  # two browser sessions of the same person
        for day in (date(2025, 5, 1), date(2025, 5, 2)):  # the second day counts once more
            monkeypatch.setattr(Settings, "today", lambda self, day=day: day)
            statuses = at_once(*(lambda c=c: c.get(f"/content/{item_id}/open").status_code for c in clients))
            assert statuses == [200, 200]
        with Session(engine) as session:
            days = session.scalars(select(ContentUse.day).order_by(ContentUse.day)).all()
            assert days == [date(2025, 5, 1), date(2025, 5, 2)]
    finally:
        engine.dispose()
