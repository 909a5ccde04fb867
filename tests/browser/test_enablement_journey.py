"""The issue's "done when" in a real browser: on the demo's enablement (seeded by the demo's own code), a
seller opens a playbook's content from a referral, clicking the real links, and the figure "content
utilisation by Sales on referrals" on the library page moves by one referral."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ecoops.db import session_factory, transaction
from ecoops.demo.enablement import seed_enablement
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral
from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser
FIGURE = re.compile(r"(\d+) of (\d+) inbound referrals")


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the referrals and library added here would change other tests' counts


def _seed(site: Site) -> None:
    """Four inbound referrals from Aurora over the last weeks, then the demo's enablement on top."""
    now = datetime.now(UTC)
    with transaction(session_factory(site.engine)) as session:
        aurora = session.scalars(select(Partner).where(Partner.name == "Aurora Analytics")).one()
        for days, company in [
            (20, "Oldest Lead"),
            (12, "Older Lead"),
            (6, "Recent Lead"),
            (1, "Newest Lead"),
        ]:
            session.add(
                Referral(
                    direction="inbound",
                    kind="eql",
                    partner_id=aurora.id,
                    company=company,
                    status="approved",
                    submitted_via="portal",
                    submitted_at=now - timedelta(days=days),
                )
            )
        session.flush()
        seed_enablement(session, site.settings, now.date())


def _figure(page: Page) -> tuple[int, int]:
    page.get_by_role("link", name="Enablement", exact=True).click()
    text = page.locator("#utilisation").inner_text()
    found = FIGURE.search(text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


def test_a_seller_opens_a_playbooks_content_from_a_referral_and_the_figure_moves(
    page: Page, site: Site
) -> None:
    _seed(site)
    sign_in(page, "sales@example.com")
    opened, total = _figure(page)
    assert total == 4 and opened < total
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("link", name="Newest Lead").click()
    expect(page.get_by_role("heading", name="Enablement")).to_be_visible()
    playbook = page.locator("details.playbook").first
    expect(playbook).to_contain_text("Referral: from a partner's lead to the first meeting")
    with page.expect_download() as download:
        playbook.get_by_role("link", name="Better-together bill of materials: a partner").click()
    assert download.value.suggested_filename == "bill-of-materials.csv"
    assert _figure(page) == (opened + 1, total)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("link", name="Newest Lead").click()
    with page.expect_download():
        page.locator("details.playbook").first.get_by_role(
            "link", name=re.compile("bill of materials")
        ).click()
    assert _figure(page) == (opened + 1, total), "the same seller's second view the same day counts once"
