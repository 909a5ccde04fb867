"""Sharing rules on a mapped partner: defaults for partners without rules, a partner's own rules, the
shared view and the "view as this partner" preview showing only what the rules allow."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import SYSTEM, Role
from ecoops.mapping import runs, sharing, uploads
from ecoops.mapping.models import SharingLevel
from tests.factories import make_partner, make_user, sign_in
from tests.mapping.test_mapping_runs import PARTNER_ROWS, our_accounts, write

Rule = sharing.Rule


@pytest.mark.all_backends
def test_defaults_then_own_rules_decide_the_shared_view(session: Session, tmp_path: Path) -> None:
    our_accounts(session)
    partner = make_partner(session)
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS), "p.csv")
    runs.run_mapping(session, SYSTEM, partner.id)
    assert sharing.shared_view(session, SYSTEM, partner.id) == []  # no rule at all: hidden

    sharing.set_rules(session, SYSTEM, None, {"customers": Rule(SharingLevel.COUNTS)})
    (customers,) = sharing.shared_view(session, SYSTEM, partner.id)
    assert (customers.key, customers.counts, customers.accounts) == ("customers", {"Customers": 2}, [])

    sharing.set_rules(
        session,
        SYSTEM,
        partner.id,
        {
            "customers": Rule(SharingLevel.HIDDEN),
            "prospects": Rule(SharingLevel.OVERLAPPING, ("name", "owner")),
            "open_opportunities": Rule(SharingLevel.ALL, ("name",)),
        },
    )
    shown = {p.key: p for p in sharing.shared_view(session, SYSTEM, partner.id)}
    assert set(shown) == {"prospects", "open_opportunities"}
    assert shown["prospects"].accounts == [{"name": "Initech", "owner": "", "overlaps": "yes"}]  # not Hooli
    assert shown["open_opportunities"].accounts == [
        {"name": "Globex", "overlaps": "yes"},
        {"name": "Umbrella", "overlaps": "yes"},
    ]
    with pytest.raises(InvalidInput, match="cannot be shared: website"):
        sharing.set_rules(session, SYSTEM, partner.id, {"customers": Rule(SharingLevel.ALL, ("website",))})


def test_preview_page_shows_what_the_partner_sees(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    our_accounts(session)
    partner = make_partner(session)
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS), "p.csv")
    runs.run_mapping(session, SYSTEM, partner.id)
    sharing.set_rules(session, SYSTEM, partner.id, {"prospects": Rule(SharingLevel.ALL, ("name",))})
    viewer = make_user(session, Role.VIEWER)
    session.flush()
    sign_in(client, viewer.email)
    page = client.get(f"/mapping/partners/{partner.id}/preview")
    assert (
        "Hooli" in page.text
        and "Initech" in page.text
        and "Olga" not in page.text
        and "Acme" not in page.text
    )
