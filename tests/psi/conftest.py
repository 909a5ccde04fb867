"""Two ecoops instances on loopback, each with its own SQLite file and a real uvicorn server in a
thread, and a recorder of every HTTP message that crosses between them.

Alpha and Beta are two companies; each runs ecoops and has the other as a partner. The recorder
wraps the one HTTP client the servers use to talk to each other (ecoops.psi.transport.peer_client),
so it sees every request one server makes of the other and every answer.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import PASSWORD, csrf_from
from tests.pg_server import free_port

from ecoops.accounts import service as accounts
from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.mapping.models import SharingLevel
from ecoops.mapping.sharing import Rule, set_rules
from ecoops.partners import service as partners
from ecoops.psi import transport
from ecoops.psi.models import ExchangeStatus, PsiExchange
from ecoops.web.app import create_app

MAX_ITEMS = 1000


@dataclass
class Instance:
    name: str
    url: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    partner_id: int  # the other company, as a partner record of this instance
    server: uvicorn.Server
    thread: threading.Thread

    def browser(self) -> httpx.Client:
        """A signed-in admin's browser on this instance (cookies kept, redirects not followed)."""
        client = httpx.Client(base_url=self.url, timeout=60)
        login = client.get("/login")
        response = client.post(
            "/login",
            data={
                "email": f"admin@{self.name}.example",
                "password": PASSWORD,
                "csrf_token": csrf_from(login.text),
            },
        )
        assert response.status_code == 303, response.text
        return client

    def post_form(self, client: httpx.Client, path: str, **form: str) -> httpx.Response:
        page = client.get(f"/mapping/partners/{self.partner_id}/private")
        return client.post(path, data={"csrf_token": csrf_from(page.text), **form})


@dataclass
class Capture:
    """Every request one server made of the other, and the answer, as raw bytes."""

    messages: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # (url, request, response)

    def everything(self) -> bytes:
        return b"\n".join(url.encode() + b"\n" + sent + b"\n" + got for url, sent, got in self.messages)


class Recording(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, capture: Capture) -> None:
        self.inner, self.capture = inner, capture

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = b"".join(f"{k}: {v}\n".encode() for k, v in request.headers.items()) + request.read()
        response = self.inner.handle_request(request)
        got = b"".join(f"{k}: {v}\n".encode() for k, v in response.headers.items()) + response.read()
        self.capture.messages.append((str(request.url), sent, got))
        return response

    def close(self) -> None:
        self.inner.close()


# (crm_id, name, domain, country, customer?, open opportunity?)
ALPHA_ACCOUNTS = [
    ("001ALPHAACME", "Acme GmbH", "acme-rockets.de", "Germany", True, True),
    ("001ALPHAGLOBEX", "Globex", "globex-alpha.com", "US", False, True),
    ("001ALPHAINITECH", "Initech", "initech-software.io", "US", False, False),
    ("001ALPHAUMBRELLA", "Umbrella Corp", "umbrella-pharma.com", "GB", True, False),
    ("001ALPHAHOOLI", "Hooli", "hooli-search.com", "US", False, False),
]
BETA_ACCOUNTS = [
    ("B-ACME", "ACME GmbH", "acme-rockets.de", "DE", True, False),
    ("B-GLOBEX", "Globex Corporation", "", "United States", True, False),
    ("B-INITECH", "Initech", "https://www.initech-software.io/about", "US", False, True),
    ("B-UMBRELLA", "Umbrella", "umbrella-pharma.com", "GB", False, False),
    ("B-SOYLENT", "Soylent", "soylent-foods.com", "US", True, False),
]
# What each side lets the other see (docs/private-mapping.md: a private exchange maps these onto
# counts-only or reveal; hidden populations never enter).
ALPHA_RULES = {
    "customers": Rule(SharingLevel.OVERLAPPING, ("name", "country")),
    "open_opportunities": Rule(SharingLevel.COUNTS),
    "prospects": Rule(SharingLevel.HIDDEN),
}
BETA_RULES = {
    "customers": Rule(SharingLevel.OVERLAPPING, ("name", "domain")),
    "open_opportunities": Rule(SharingLevel.OVERLAPPING),
    "prospects": Rule(SharingLevel.COUNTS),
}
# Nothing of this may cross between the servers in the clear: ids, names, domains, name keys.
RAW_STRINGS = [
    *(row[0] for row in ALPHA_ACCOUNTS + BETA_ACCOUNTS),
    *(row[1] for row in ALPHA_ACCOUNTS + BETA_ACCOUNTS),
    *("acme-rockets", "globex-alpha", "initech-software", "umbrella-pharma", "hooli-search", "soylent-foods"),
    *("acme", "globex", "initech", "umbrella", "hooli", "soylent"),
]


def seed_instance(
    engine: Engine,
    name: str,
    partner_name: str,
    rows: list[tuple[str, str, str, str, bool, bool]],
    rules: dict[str, Rule],
) -> int:
    with transaction(session_factory(engine)) as session:
        accounts.create_user(
            session, SYSTEM, email=f"admin@{name}.example", name="Admin", role=Role.ADMIN, password=PASSWORD
        )
        partner = partners.create_partner(
            session,
            SYSTEM,
            name=partner_name,
            partner_type="technology",
            stage="active",
            stage_since=date(2025, 1, 1),
            domains=[f"{partner_name.lower()}.example"],
        )
        for n, (crm_id, account_name, domain, country, customer, open_deal) in enumerate(rows):
            website = domain if domain.startswith("http") else ""
            session.add(
                Account(
                    crm_id=crm_id,
                    name=account_name,
                    domain="" if website else domain,
                    website=website,
                    country=country,
                    industry="Manufacturing",
                    owner=f"Owner {n}",
                )
            )
            if customer:
                session.add(_deal(f"{crm_id}-WON", crm_id, won=True))
            if open_deal:
                session.add(_deal(f"{crm_id}-OPEN", crm_id, won=False))
        session.flush()
        set_rules(session, SYSTEM, partner.id, rules)
        return partner.id


def _deal(crm_id: str, account: str, *, won: bool) -> Opportunity:
    return Opportunity(
        crm_id=crm_id,
        name=crm_id,
        account_crm_id=account,
        stage="Closed Won" if won else "Prospecting",
        amount=Decimal("5000.00"),
        is_closed=won,
        is_won=won,
        created_on=date(2025, 3, 1),
        close_date=date(2025, 6, 30) if won else date(2030, 6, 30),
    )


def start_instance(
    folder: Path,
    name: str,
    partner_name: str,
    rows: list[tuple[str, str, str, str, bool, bool]],
    rules: dict[str, Rule],
) -> Instance:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="test",
        var_dir=folder / name,
        secret_key=name[0] * 40,
        public_url=url,
        psi_allow_http_loopback=True,
        psi_max_items=MAX_ITEMS,
        psi_timeout_seconds=60,
        worker="inprocess",  # runs the exchanges queued by the pages and the schedule
        worker_poll_seconds=0.2,
    )
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    partner_id = seed_instance(engine, name, partner_name, rows, rules)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.05)
    return Instance(name, url, settings, engine, session_factory(engine), partner_id, server, thread)


@pytest.fixture(scope="module")
def capture() -> Iterator[Capture]:
    recorded = Capture()
    original = transport.peer_client

    def recording_client(settings: Settings) -> httpx.Client:
        client = original(settings)
        inner = httpx.HTTPTransport(verify=settings.psi_ca_bundle or True)
        return httpx.Client(
            transport=Recording(inner, recorded),
            timeout=client.timeout,
            headers=client.headers,
            follow_redirects=False,
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transport, "peer_client", recording_client)
        yield recorded


def wait_for_exchanges(instance: Instance, count: int, timeout: float = 60) -> list[PsiExchange]:
    """The instance's exchanges once `count` of them have finished (done or failed)."""
    deadline = time.monotonic() + timeout
    while True:
        with instance.sessions() as session:
            finished = list(
                session.scalars(
                    select(PsiExchange)
                    .where(PsiExchange.status != ExchangeStatus.RUNNING.value)
                    .order_by(PsiExchange.id)
                )
            )
        if len(finished) >= count:
            return finished
        assert time.monotonic() < deadline, f"{instance.name}: {len(finished)} of {count} exchanges finished"
        time.sleep(0.2)


def connect(alpha: Instance, beta: Instance) -> tuple[httpx.Client, httpx.Client]:
    """Alpha invites Beta through its pages; Beta redeems the code on its own pages. Both browsers."""
    a, b = alpha.browser(), beta.browser()
    page = alpha.post_form(a, f"/mapping/partners/{alpha.partner_id}/private/invitations", interval_hours="0")
    assert page.status_code == 201, page.text
    found = re.search(r'<pre id="invitation-code">([^<]+)</pre>', page.text)
    assert found, "no invitation code on the page"
    code = found.group(1)
    assert code not in a.get(f"/mapping/partners/{alpha.partner_id}/private").text, "the code is shown once"
    redeemed = beta.post_form(b, f"/mapping/partners/{beta.partner_id}/private/redeem", code=code)
    assert redeemed.status_code == 303, redeemed.text
    again = beta.post_form(b, f"/mapping/partners/{beta.partner_id}/private/redeem", code=code)
    assert "already has an active connection" in b.get(again.headers["location"]).text
    return a, b


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, capture: Capture) -> Iterator[tuple[Instance, Instance]]:
    folder = Path(tmp_path_factory.mktemp("psi"))
    alpha = start_instance(folder, "alpha", "Beta", ALPHA_ACCOUNTS, ALPHA_RULES)
    beta = start_instance(folder, "beta", "Alpha", BETA_ACCOUNTS, BETA_RULES)
    yield alpha, beta
    for instance in (alpha, beta):
        instance.server.should_exit = True
        instance.thread.join(timeout=10)
        instance.engine.dispose()
