"""Issue 17's "done when", walked in a real browser on the demo (`ecoops demo`, then `ecoops serve`, as a
new user starts), clicking the links people click:

- the maturity page places the workspace in a stage, each criterion with its figure, threshold and records;
- the roadmap of that stage holds the template's six tasks with live figures (the content task's is the
  library's "content utilisation by Sales on referrals");
- a seller opens a playbook's content from a referral nobody opened content from, and the figure moves by
  one referral on the library and on the roadmap;
- the recruiting list ranks candidates by score with their reasons;
- the ROI dashboard opens to its records;
- a partner's QBR pack renders for staff (and as PDF) and for the partner's own user in the portal, who
  cannot open another partner's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import open_page, sign_in
from tests.web.live_site import PARTNER_MANAGER, PARTNER_USER, PASSWORD, SELLER, seed_demo, serve

pytestmark = pytest.mark.browser
FIGURE = re.compile(r"(\d+) of (\d+) inbound referrals")
CONTENT_TASK = "Better-together content and sales enablement"
TEMPLATE_TASKS = (
    "Partner nurture across the life cycle",
    "Account-mapping populations and overlap analytics",
    "Cross-channel orchestration",
    "Connect mapping data and processes to the CRM",
    CONTENT_TASK,
    "Partner playbooks for the nurture",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = Path(tmp_path_factory.mktemp("demo17"))
    site = seed_demo(f"sqlite:///{folder / 'ecoops.db'}", folder / "var", accounts=300)
    with serve(site, folder / "server.log") as url:
        yield url


@pytest.fixture
def tab(browser: Browser, demo: str, browser_errors: list[str]) -> Iterator[Page]:
    yield from open_page(browser, demo, browser_errors, accept_downloads=True)


def _sign_in(page: Page, email: str) -> None:
    page.context.clear_cookies()
    sign_in(page, email, PASSWORD)


def _library_figure(page: Page) -> tuple[int, int]:
    page.get_by_role("link", name="Enablement", exact=True).click()
    found = FIGURE.search(page.locator("#utilisation").inner_text())
    assert found, page.locator("#utilisation").inner_text()
    return int(found.group(1)), int(found.group(2))


def _content_task_value(page: Page) -> str:
    page.goto("/roadmap")
    card = page.locator(".task-card", has_text=CONTENT_TASK)
    expect(card).to_contain_text("Content utilisation by Sales on referrals")
    return card.locator(".kpi-value").inner_text()


def test_the_maturity_stage_its_roadmap_and_a_sellers_view_moving_utilisation(tab: Page) -> None:
    _sign_in(tab, PARTNER_MANAGER)
    tab.get_by_role("link", name="Maturity", exact=True).click()
    stage = tab.locator("h1 .maturity-stage").inner_text()
    assert stage in ("Launch", "Prove", "Scale", "Embed")
    current = tab.locator("section", has=tab.locator(".maturity-stage", has_text="current"))
    expect(current.locator("h2")).to_contain_text(stage)
    expect(current.locator(".status-rejected").first).to_be_visible()  # the stage's unmet criterion
    integrations = tab.locator('tr[data-criterion="validated_integrations"]')
    expect(integrations.locator("td").nth(2)).to_have_text("≥ 2")
    shown = int(integrations.locator("td").nth(1).inner_text())
    integrations.get_by_role("link", name="records").click()  # the evidence: the registry's rows
    expect(tab).to_have_url(re.compile(r"/integrations\?"))
    expect(tab.locator("main table tbody tr")).to_have_count(shown)
    tab.go_back()
    tab.locator('tr[data-criterion="referrals_received"]').get_by_role("link", name="records").click()
    expect(tab).to_have_url(re.compile(r"/dashboards/figures/give_and_get/records"))
    expect(tab.locator("main table tbody tr").first).to_be_visible()
    tab.go_back()

    tab.get_by_role("link", name=f"Roadmap for {stage}").click()
    expect(tab).to_have_url(re.compile(rf"/roadmap\?stage={stage.lower()}$"))
    cards = tab.locator(".task-card")
    expect(cards).to_have_count(len(TEMPLATE_TASKS))
    for title in TEMPLATE_TASKS:
        expect(cards.filter(has_text=title).locator(".kpi-value")).to_have_text(re.compile(r"^[\d,.]+%?$"))
    opened, total = _library_figure(tab)
    assert f"{opened / total:.1%}" == _content_task_value(tab)  # the roadmap's figure is the library's

    _sign_in(tab, SELLER)
    tab.get_by_role("link", name="Enablement", exact=True).click()
    tab.locator("#utilisation + details summary").click()
    waiting = tab.locator("#utilisation + details tbody tr", has=tab.locator("td:last-child", has_text="no"))
    waiting.first.get_by_role("link").click()  # a referral no seller opened content from yet
    playbook = tab.locator("details.playbook").first
    expect(playbook).to_contain_text("Referral: from a partner's lead to the first meeting")
    with tab.expect_download():
        playbook.get_by_role("link", name=re.compile("bill of materials")).click()
    assert _library_figure(tab) == (opened + 1, total)
    assert _content_task_value(tab) == f"{(opened + 1) / total:.1%}"


def _sections(page: Page) -> dict[str, str]:
    """The QBR pack's sections compared between staff and portal: those without drill links."""
    wanted = ("Referrals in the quarter", "Overlaps with our accounts", "Goals")
    return {
        title: page.locator("section", has=page.get_by_role("heading", name=title, exact=True)).inner_text()
        for title in wanted
    }


def test_recruiting_list_roi_records_and_a_partners_qbr_pack(tab: Page) -> None:
    _sign_in(tab, PARTNER_MANAGER)
    tab.goto("/fit")
    rows = tab.locator("#ranking > tbody > tr")
    expect(rows.first).to_be_visible()
    scores = [float(s) for s in rows.locator("> td:nth-child(5)").all_inner_texts()]
    assert len(scores) >= 3 and scores == sorted(scores, reverse=True)
    assert [r.split("\t")[0].strip() for r in rows.all_inner_texts()] == [
        str(n + 1) for n in range(len(scores))
    ]
    expect(rows.first.locator("summary")).to_contain_text(re.compile(r"Partner type \+|Overlap"))
    rows.first.locator("summary").click()
    expect(rows.first.locator("details table")).to_contain_text("Partner type")

    tab.goto("/roi")
    expect(tab.get_by_role("heading", name="Program ROI and efficiency")).to_be_visible()
    expect(tab.locator("[data-figure=roi_sourced]")).to_have_text(re.compile(r"%$"))  # costs are entered
    tab.locator("#roi-figures tr", has_text="Sourced revenue").get_by_role("link", name="records").click()
    expect(tab).to_have_url(re.compile(r"/dashboards/figures/revenue/records\?.*cohort=sourced"))
    expect(tab.locator("main table tbody tr").first).to_be_visible()

    tab.goto("/reports")
    tab.locator("#qbr-partners").get_by_role("link", name="Mapleware", exact=True).click()
    expect(tab.get_by_role("heading", name="Quarterly business review: Mapleware")).to_be_visible()
    for section in ("Results", "Joint plans"):
        expect(tab.get_by_role("heading", name=section)).to_be_visible()
    staff_pack = _sections(tab)
    assert "Customers" in staff_pack["Overlaps with our accounts"]  # shared with the partner, not "None."
    assert "None." not in staff_pack["Goals"]
    assert "None." not in staff_pack["Referrals in the quarter"]
    other = tab.url
    pdf = tab.context.request.get(other.replace("/qbr", "/qbr.pdf"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    _sign_in(tab, PARTNER_USER)
    tab.get_by_role("link", name="QBR", exact=True).click()
    expect(tab.get_by_role("heading", name="Quarterly business review: Mapleware")).to_be_visible()
    assert _sections(tab) == staff_pack  # the pack shown in the meeting is the one the partner has
    refused = tab.context.request.get(other.rsplit("/", 2)[0] + "/1/qbr")
    assert refused.status == 403
