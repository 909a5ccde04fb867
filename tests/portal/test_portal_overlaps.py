"""Partner users see their overlaps through the same shared view as the preview, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.accounts.service import partner_user_actor
from ecoops.actors import SYSTEM
from ecoops.mapping import runs, sharing, uploads
from ecoops.mapping.models import SharingLevel
from ecoops.permissions import NotFound
from tests.factories import make_partner, make_partner_user, sign_in
from tests.mapping.test_mapping_runs import PARTNER_ROWS, our_accounts, write


def _mapped_partner(session: Session, tmp_path: Path, name: str):
    partner = make_partner(session, name=name)
    uploads.upload_partner_list(
        session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS, f"{name}.csv"), "p.csv"
    )
    runs.run_mapping(session, SYSTEM, partner.id)
    return partner


def test_portal_shows_only_what_the_rules_allow(client: TestClient, session: Session, tmp_path: Path) -> None:
    our_accounts(session)
    partner = _mapped_partner(session, tmp_path, "Shared")
    sharing.set_rules(
        session,
        SYSTEM,
        partner.id,
        {
            "prospects": sharing.Rule(SharingLevel.OVERLAPPING, ("name",)),
            "customers": sharing.Rule(SharingLevel.COUNTS),
        },
    )
    user = make_partner_user(session, partner)
    session.flush()
    sign_in(client, user.email)
    page = client.get("/portal/overlaps")
    assert page.status_code == 200
    assert "Initech" in page.text  # an overlapping prospect, its name shared
    assert "Hooli" not in page.text  # a prospect that does not overlap
    assert "Acme" not in page.text and "Umbrella" not in page.text  # customers: counts only
    assert "Olga" not in page.text  # the owner field is not shared
    assert "Customers 2" in page.text


def test_nothing_shared_shows_an_empty_state(client: TestClient, session: Session, tmp_path: Path) -> None:
    our_accounts(session)
    partner = _mapped_partner(session, tmp_path, "Hidden")
    user = make_partner_user(session, partner)
    session.flush()
    sign_in(client, user.email)
    page = client.get("/portal/overlaps")
    assert "Nothing is shared" in page.text and "Initech" not in page.text


@pytest.mark.all_backends
def test_a_partner_user_cannot_read_another_partners_view(session: Session, tmp_path: Path) -> None:
    our_accounts(session)
    mine, theirs = _mapped_partner(session, tmp_path, "Mine"), _mapped_partner(session, tmp_path, "Theirs")
    sharing.set_rules(session, SYSTEM, None, {"prospects": sharing.Rule(SharingLevel.ALL, ("name",))})
    actor = partner_user_actor(make_partner_user(session, mine))
    assert sharing.shared_view(session, actor, mine.id)
    with pytest.raises(NotFound):
        sharing.shared_view(session, actor, theirs.id)
