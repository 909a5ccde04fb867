"""An admin in a real browser changes a colleague's role on /users, then adds an e-mail-only
customer-success contact on a partner's page, leaving the password empty as such a contact needs."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # a role changed and a contact added would change other tests' listings


def test_change_a_role_then_add_an_email_only_contact(page: Page) -> None:
    sign_in(page, "admin@example.com")
    page.goto("/users")
    page.get_by_label("Role of Viewer").select_option(label="sales")
    page.get_by_role("row", name="Viewer").get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_contain_text("viewer@example.com is now sales.")
    expect(page.get_by_label("Role of Viewer")).to_have_value("sales")

    page.goto("/partners?q=aurora")
    page.get_by_role("link", name="Aurora Analytics").click()
    page.get_by_text("Add a contact").click()
    form = page.locator("details", has_text="Add a contact")
    form.get_by_role("textbox", name="E-mail").fill("success@aurora.example")
    form.get_by_role("textbox", name="Name").fill("Casey")
    form.get_by_role("combobox", name="Role at the partner").select_option(label="customer success")
    form.get_by_role("combobox", name="Access").select_option(label="e-mail only, no sign-in")
    form.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("status")).to_contain_text("they receive e-mail but do not sign in")
    row = page.get_by_role("row", name="Casey")
    expect(row).to_contain_text("customer success")
    expect(row).to_contain_text("e-mail only")
