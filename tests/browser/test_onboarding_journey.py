"""A company applies on the public form without signing in; a partner manager approves it as a
signed partner; the move to onboarding is refused until the program's checklist item is checked off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ecoops.onboarding import form_guard
from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the partner and checklist made here would change other tests' pages


def test_apply_approve_and_pass_the_checklist(page: Page) -> None:
    sign_in(page, "pm@example.com")
    page.get_by_role("link", name="Programs and tiers").click()
    page.get_by_text("Add a checklist item to Technology").click()
    page.get_by_label("Title").fill("Kick-off call")
    page.get_by_label("Holds moves into").select_option("onboarding")
    page.get_by_role("button", name="Add item").click()
    expect(page.get_by_role("status")).to_contain_text("Kick-off call now holds moves into onboarding.")
    page.get_by_role("button", name="Sign out").click()

    page.goto("/apply")
    page.get_by_label("Company name").fill("Glacier Integrations")
    page.get_by_label("Website").fill("https://www.glacier-integrations.example")
    page.get_by_label("Country").fill("NO")
    page.get_by_label("Kind of partnership").select_option("systems_integrator")
    page.get_by_label("Program").select_option(label="Technology")
    page.get_by_label("Your name").fill("Ingrid Berg")
    page.get_by_label("E-mail").fill("ingrid@glacier-integrations.example")
    page.get_by_label("Message").fill("We integrate your platform for Nordic retailers.")
    page.wait_for_timeout(form_guard.MIN_FILL_SECONDS * 1000 + 300)  # a person takes a moment
    page.get_by_role("button", name="Send application").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("We received the application of Glacier Integrations")).to_be_visible()

    sign_in(page, "pm@example.com")
    page.goto("/partners")
    page.get_by_role("link", name="Applications").click()
    page.get_by_role("link", name="Glacier Integrations").click()
    page.get_by_label("Stage").select_option("signed")
    page.get_by_role("button", name="Approve and create partner").click()
    expect(page.get_by_role("status")).to_contain_text("Glacier Integrations is in the directory, signed")
    expect(page.get_by_role("heading", name="Glacier Integrations")).to_contain_text("signed")
    expect(page.locator("dl.facts")).to_contain_text("glacier-integrations.example")

    # The move form offers onboarding first: refused while the kick-off call is open.
    page.get_by_role("button", name="Record move").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The move was not recorded: open onboarding items hold the move to onboarding: "
        "Kick-off call (Technology)"
    )
    expect(page.get_by_role("heading", name="Glacier Integrations")).to_contain_text("signed")

    page.get_by_role("button", name="Check off: Kick-off call").click()
    expect(page.get_by_role("status")).to_contain_text("Checked off.")
    expect(page.get_by_role("list", name="Onboarding checklist")).to_contain_text(
        "checked off by pm@example.com"
    )
    page.get_by_role("button", name="Record move").click()
    expect(page.get_by_role("status")).to_contain_text("Glacier Integrations is now onboarding")
    expect(page.get_by_role("heading", name="Glacier Integrations")).to_contain_text("onboarding")
