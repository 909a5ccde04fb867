"""`make demo-partner`: the demo and a second instance for its partner Mapleware, each a real uvicorn server
on a free loopback port, seeded and connected by the same commands as `make demo` and `make demo-partner`
(run in-process), then a private exchange started from the partner's page.

The expected counts are worked out here, apart from the exchange: each side's accounts and their keys,
each side's populations read from its opportunities, and the plaintext join of the two on equal keys,
cut down to what both sides' sharing rules (partner_instance.DEMO_RULES / PARTNER_RULES) let in.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, expect, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ecoops.cli import app as cli
from ecoops.config import Settings, get_settings
from ecoops.crm.models import Account, Opportunity
from ecoops.db import make_engine, session_factory
from ecoops.demo.partner_instance import DEMO_RULES, PARTNER_RULES, read_list
from ecoops.demo.people import DEMO_PASSWORD
from ecoops.mapping.models import Match, SharingLevel
from ecoops.mapping.populations import BUILT_IN
from ecoops.partners.models import Partner
from ecoops.psi.items import account_keys
from ecoops.psi.models import ExchangeStatus, PsiExchange
from ecoops.web.app import create_app
from tests.automation.delivery.standins import free_port
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import csrf_from

COUNTED = (SharingLevel.COUNTS, SharingLevel.OVERLAPPING, SharingLevel.ALL)
REVEALED = (SharingLevel.OVERLAPPING, SharingLevel.ALL)


@dataclass
class Server:
    url: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    server: uvicorn.Server
    thread: threading.Thread

    def browser(self, email: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        login = client.get("/login")
        signed_in = client.post(
            "/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf_from(login.text)}
        )
        assert signed_in.status_code == 303, signed_in.text
        return client

    def exchanges(self) -> list[PsiExchange]:
        with self.sessions() as session:
            return list(session.scalars(select(PsiExchange).order_by(PsiExchange.id)))

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.engine.dispose()


def _ecoops(monkeypatch: pytest.MonkeyPatch, var_dir: Path, *args: str) -> str:
    """Run an `ecoops` command in this process, as `make` would, with ECOOPS_VAR_DIR set."""
    monkeypatch.setenv("ECOOPS_VAR_DIR", str(var_dir))
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, list(args))
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


def _serve(var_dir: Path, port: int) -> Server:
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="test",
        var_dir=var_dir,
        public_url=url,
        psi_allow_http_loopback=True,
        session_cookie=f"ecoops_session_{port}",
        worker="inprocess",  # runs the exchanges the pages queue
        worker_poll_seconds=0.2,
    )
    engine = make_engine(settings.effective_database_url)
    config = uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, f"{url} did not start"
        time.sleep(0.05)
    return Server(url, settings, engine, session_factory(engine), server, thread)


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """`make demo` (a small one), then `make demo-partner` while the demo serves."""
    folder = tmp_path_factory.mktemp("two-demos")
    demo_dir, partner_dir = folder / "var", folder / "var" / "demo-partner"
    demo_port, partner_port = free_port(), free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOOPS_ENV", "test")
        _ecoops(patch, demo_dir, "demo", "--accounts", "400", "--as-of", "2026-06-01")
        demo = _serve(demo_dir, demo_port)
        output = _ecoops(
            patch,
            partner_dir,
            "demo-partner",
            "--port",
            str(partner_port),
            "--demo-url",
            demo.url,
            "--demo-var-dir",
            str(demo_dir),
        )
        assert "now connected" in output
        partner = _serve(partner_dir, partner_port)
        yield demo, partner
        partner.stop()
        demo.stop()


def _populations(session: Session) -> dict[str, set[str]]:
    """crm_id → its built-in populations, read from the opportunities (not from mapping.populations)."""
    won = set(session.scalars(select(Opportunity.account_crm_id).where(Opportunity.is_won.is_(True))))
    open_ = set(session.scalars(select(Opportunity.account_crm_id).where(Opportunity.is_closed.is_(False))))
    found = {}
    for crm_id, account_type in session.execute(select(Account.crm_id, Account.account_type)):
        customer = crm_id in won or account_type.lower() == "customer"
        found[crm_id] = {
            k for k, held in (("customers", customer), ("open_opportunities", crm_id in open_)) if held
        }
        found[crm_id] = found[crm_id] or {"prospects"}
    return found


def _plaintext_join(
    demo: Server, partner: Server, levels: tuple[SharingLevel, ...]
) -> list[tuple[str, str, str]]:
    """(our crm_id, our population key, their population name) for each pair of accounts sharing a key,
    once per pair of populations the rules let in at `levels`, as the demo sees them."""
    sides = []
    for server, rules in ((demo, DEMO_RULES), (partner, PARTNER_RULES)):
        with server.sessions() as session:
            keys, populations = account_keys(session), _populations(session)
        entering = {key for key, rule in rules.items() if rule.level in levels}
        sides.append(
            {crm_id: (set(keys[crm_id].values()), populations[crm_id] & entering) for crm_id in keys}
        )
    ours, theirs = sides
    holders: dict[str, set[str]] = {}
    for crm_id, (keys, _) in theirs.items():
        for key in keys:
            holders.setdefault(key, set()).add(crm_id)
    return [
        (crm_id, our_population, BUILT_IN[their_population])
        for crm_id, (keys, populations) in ours.items()
        for their_id in set().union(*(holders.get(key, set()) for key in keys))
        for our_population in populations
        for their_population in theirs[their_id][1]
    ]


@pytest.fixture(scope="module")
def exchanged(instances: tuple[Server, Server]) -> tuple[Server, Server]:
    """Run now, pressed on the partner's Private mapping page by its admin."""
    demo, partner = instances
    client = partner.browser("admin@mapleware.example")
    with partner.sessions() as session:
        fernhill = session.scalars(select(Partner.id).where(Partner.name == "Fernhill")).one()
    page = client.get(f"/mapping/partners/{fernhill}/private")
    assert "active" in page.text
    started = client.post(
        f"/mapping/partners/{fernhill}/private/run", data={"csrf_token": csrf_from(page.text)}
    )
    assert started.status_code == 303
    deadline = time.monotonic() + 120
    while sum(e.status != ExchangeStatus.RUNNING.value for e in demo.exchanges()) < 2:
        assert time.monotonic() < deadline, "the exchanges did not finish"
        time.sleep(0.3)
    return demo, partner


def test_the_partner_is_the_first_partner_whose_list_the_demo_mapped(
    instances: tuple[Server, Server],
) -> None:
    demo, partner = instances
    exported = read_list(next((demo.settings.var_dir / "demo" / "partner-exports").glob("mapleware-*.csv")))
    with partner.sessions() as session:
        stored = set(session.scalars(select(Account.crm_id)))
    assert stored == {row[0] for row in exported}
    with demo.sessions() as session:
        assert session.scalars(select(Partner.name).order_by(Partner.id)).first() == "Mapleware"


def test_counts_equal_the_plaintext_join_of_the_two_workspaces(exchanged: tuple[Server, Server]) -> None:
    demo, partner = exchanged
    exchanges = demo.exchanges()
    assert [(e.role, e.mode, e.status) for e in exchanges] == [
        ("responder", "count", "done"),
        ("responder", "reveal", "done"),
    ]
    counted = Counter({(ours, theirs): n for ours, theirs, n in exchanges[0].counts})
    expected = Counter((ours, theirs) for _, ours, theirs in _plaintext_join(demo, partner, COUNTED))
    assert sum(expected.values()) >= 5, "the seeded lists must overlap"
    assert counted == expected


def test_revealed_accounts_are_those_both_sides_reveal(exchanged: tuple[Server, Server]) -> None:
    demo, partner = exchanged
    with demo.sessions() as session:
        mapleware = session.scalars(select(Partner.id).where(Partner.name == "Mapleware")).one()
        revealed = set(
            session.scalars(
                select(Match.our_crm_id).where(Match.partner_id == mapleware, Match.method == "psi")
            )
        )
    expected = {crm_id for crm_id, _, _ in _plaintext_join(demo, partner, REVEALED)}
    assert len(expected) >= 2, "some customers must be revealed"
    assert revealed == expected


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.mark.browser
def test_in_one_browser_both_sign_ins_hold_and_the_exchange_runs_from_the_page(
    instances: tuple[Server, Server], chromium: Browser
) -> None:
    """One browser, both instances on one host: each keeps its own session cookie (named by port)."""
    demo, partner = instances
    finished = sum(e.status != ExchangeStatus.RUNNING.value for e in demo.exchanges())
    context = chromium.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    for server, email in ((demo, "admin@fernhill.example"), (partner, "admin@mapleware.example")):
        page.goto(f"{server.url}/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    page.goto(f"{partner.url}/mapping")
    page.get_by_role("link", name="Fernhill").first.click()
    page.get_by_role("link", name="Private mapping").first.click()
    page.get_by_role("button", name="Run now").click()
    deadline = time.monotonic() + 120
    while sum(e.status != ExchangeStatus.RUNNING.value for e in demo.exchanges()) < finished + 2:
        assert time.monotonic() < deadline, "the exchanges did not finish"
        time.sleep(0.3)
    page.reload()
    expect(page.get_by_text("Overlap counts from a private exchange")).to_be_visible()
    page.goto(f"{demo.url}/mapping")  # still signed in on the demo
    page.get_by_role("link", name="Mapleware").first.click()
    page.get_by_role("link", name="Private mapping").first.click()
    expect(page.get_by_text("Overlap counts from a private exchange")).to_be_visible()
    assert {c["name"] for c in context.cookies()} >= {
        f"ecoops_session_{demo.url.rsplit(':', 1)[1]}",
        f"ecoops_session_{partner.url.rsplit(':', 1)[1]}",
    }
    context.close()
