"""A real uvicorn server on a free port, with its own seeded SQLite file, and Debian's Chromium to drive it.

The server runs in a thread of the test process; Chromium runs headless, so no display is needed.
Every page a test opens fails the test if the browser logs an error (a CSP violation, a failed asset).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from ecoops.accounts import service as accounts
from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.partners import service as partners
from ecoops.web.app import create_app
from tests.factories import PASSWORD
from tests.pg_server import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_SIZE = 10
ACCOUNTS = 25  # three pages


@dataclass(frozen=True)
class Site:
    url: str
    engine: Engine
    settings: Settings  # the server's: where it keeps uploaded files


def _seed(engine: Engine, today: date) -> None:
    """A small workspace, made through the services as an admin would."""
    with transaction(session_factory(engine)) as session:
        for email, role in [
            ("admin@example.com", Role.ADMIN),
            ("pm@example.com", Role.PARTNER_MANAGER),
            ("sales@example.com", Role.SALES),
            ("viewer@example.com", Role.VIEWER),
        ]:
            accounts.create_user(
                session, SYSTEM, email=email, name=email.split("@")[0].title(), role=role, password=PASSWORD
            )
        manager = accounts.authenticate(session, "pm@example.com", PASSWORD)
        assert manager is not None
        program = partners.create_program(session, SYSTEM, name="Technology", tiers=["Registered", "Premier"])
        since = today - timedelta(days=90)
        for name, partner_type, stage, tier in [
            ("Aurora Analytics", "technology", "active", 1),
            ("Borealis Data", "technology", "onboarding", 0),
            ("Cirrus Cloud", "reseller", "onboarding", None),
            ("Delta Consulting", "agency", "prospect", None),
            ("Equinox Systems", "systems_integrator", "signed", None),
            ("Fjord Referrals", "referral", "prospect", None),
        ]:
            partner = partners.create_partner(
                session,
                SYSTEM,
                name=name,
                partner_type=partner_type,
                stage=stage,
                stage_since=since,
                owner_id=manager.id,
                domains=[name.split()[0].lower() + ".example"],
                tiers=[program.tiers[tier]] if tier is not None else [],
            )
            if name == "Aurora Analytics":
                accounts.create_partner_user(
                    session,
                    SYSTEM,
                    partner_id=partner.id,
                    email="pat@aurora.example",
                    name="Pat",
                    password=PASSWORD,
                )
        session.add_all(
            Account(
                crm_id=f"001BROWSER{n:05d}",
                name=f"Account {n:02d}",
                domain=f"account{n}.example",
                owner="Ana",
            )
            for n in range(ACCOUNTS)
        )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = Path(tmp_path_factory.mktemp("browser"))
    yield from serve(Settings(env="test", var_dir=folder, secret_key="b" * 40, page_size=PAGE_SIZE))


@pytest.fixture(scope="module")
def own_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The same seeded site for one test module alone, for tests that add or change records which other
    browser tests on the shared site count (partners, accounts, EQLs, tiers). A module overrides `site`
    with it, so `page` opens it."""
    folder = Path(tmp_path_factory.mktemp("own-site"))
    yield from serve(Settings(env="test", var_dir=folder, secret_key="o" * 40, page_size=PAGE_SIZE))


def serve(settings: Settings) -> Iterator[Site]:
    """The seeded app on a uvicorn server in a thread, for as long as the generator is not closed."""
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    _seed(engine, settings.today())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", engine, settings)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_errors() -> list[str]:
    """What the browser logged as errors; a test expecting one (a 403 page) removes it."""
    return []


@pytest.fixture
def page(browser: Browser, site: Site, browser_errors: list[str]) -> Iterator[Page]:
    yield from open_page(browser, site.url, browser_errors)


def open_page(browser: Browser, base_url: str, errors: list[str], **options: Any) -> Iterator[Page]:
    """A fresh browser context (no cookies; `options` for the context) whose page fails the test on any
    browser-side error."""
    context = browser.new_context(base_url=base_url, **options)
    tab = context.new_page()
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
