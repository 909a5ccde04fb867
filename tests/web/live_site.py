"""The demo served by a real `ecoops serve` process, and people using it over HTTP as a browser would.

Shared by the crawl and concurrency tests (tests/web) and the load benchmark (bench/load): each seeds
`ecoops demo` into a fresh database, serves it in a subprocess with the in-process worker running, and
drives it with httpx clients, one cookie jar per person.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ecoops.accounts.models import User
from ecoops.accounts.service import create_api_token, user_actor
from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.db import make_engine, session_factory, transaction
from ecoops.partners.models import Partner
from ecoops.referrals import links
from ecoops.referrals.models import Referral
from tests.conftest import fresh_postgres_database

ECOOPS = str(Path(sys.executable).parent / "ecoops")
PASSWORD = "demo-password"
ADMIN = "admin@fernhill.example"
PARTNER_MANAGER = "partners@fernhill.example"
SELLER = "olivia.chen@fernhill.example"
PARTNER_USER = "riley.brooks@mapleware.example"
STAFF = (ADMIN, PARTNER_MANAGER, SELLER)
SECRET = "live-site-secret-" + "x" * 32
LINKS = 200  # signed no-login links; each takes 20 submissions an hour (referrals/links.py)
SUBMISSIONS_PER_LINK = links.SUBMISSIONS_PER_HOUR
TIMEOUT = 30.0  # per request: longer is a failure a person would see
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


@dataclass(frozen=True)
class Site:
    """A seeded demo: where its database and files are, and the environment that serves it."""

    database_url: str
    var_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ECOOPS_ENV": "development",
            "ECOOPS_DATABASE_URL": self.database_url,
            "ECOOPS_VAR_DIR": str(self.var_dir),
            "ECOOPS_SECRET_KEY": SECRET,
            "ECOOPS_WORKER": "inprocess",
        }


def seed_demo(database_url: str, var_dir: Path, accounts: int = 300) -> Site:
    """`ecoops demo` into an empty database, as a new user would run it."""
    site = Site(database_url, var_dir)
    command = [ECOOPS, "demo", "--accounts", str(accounts)]
    done = subprocess.run(command, env=site.env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"`ecoops demo` failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return site


@dataclass(frozen=True)
class Keys:
    """What clients need beforehand: the admin's API token, no-login link tokens and a partner to refer to."""

    api_token: str
    link_tokens: list[str]
    partner_id: int


def make_keys(site: Site, link_count: int = LINKS) -> Keys:
    """An API token (as the API tokens page makes) and signed links (as the links page makes)."""
    engine = make_engine(site.database_url)
    settings = Settings(secret_key=SECRET, var_dir=site.var_dir, database_url=site.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            admin = session.scalars(select(User).where(User.email == ADMIN)).one()
            manager = user_actor(session.scalars(select(User).where(User.email == PARTNER_MANAGER)).one())
            _, secret = create_api_token(session, user_actor(admin), name=f"load {uuid.uuid4().hex[:6]}")
            partner_ids = list(session.scalars(select(Partner.id).order_by(Partner.id)))
            made = [
                links.create_link(
                    session, manager, partner_id=partner_ids[n % len(partner_ids)], days=1, settings=settings
                )
                for n in range(link_count)
            ]
            tokens = [links.link_token(link, settings) for link in made]
    finally:
        engine.dispose()
    return Keys(secret, tokens, partner_ids[0])


def free_port() -> int:
    """A free port, picked at random in 8200-8999."""
    for _ in range(200):
        port = random.randint(8200, 8999)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8200-8999")


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`command` in a subprocess writing to `log`, stopped however the block ends (SIGTERM, then
    SIGKILL after 30 s), so no server outlives a failed test or a Ctrl-C."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serve(site: Site, log: Path, env: dict[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    """`ecoops serve` on the site in a subprocess (`env` over the site's); yields its base URL, stops it
    afterwards."""
    port = free_port()
    command = [ECOOPS, "serve", "--port", str(port), "--workers", str(workers)]
    with running(command, site.env | (env or {}), log) as process:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`ecoops serve` did not start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url


def route(method: str, path: str) -> str:
    """A request's route: ids, page numbers and link tokens folded, so requests group by what they do."""
    return f"{method} " + re.sub(r"(?<=/r/)[\w.-]+|(?<=[/=])\d+", "…", path)


@dataclass
class Tally:
    """Every request's outcome, what was written, and the failures people would have seen."""

    requests: int = 0
    timings: list[tuple[str, float]] = field(default_factory=list)  # (route, seconds) of answered requests
    errors: list[tuple[str, str]] = field(default_factory=list)  # (route, what went wrong)
    partners: list[str] = field(default_factory=list)  # names of partners created (201)
    referrals: list[str] = field(default_factory=list)  # companies of referrals taken (API 201, link 200)
    sign_ins: int = 0
    skipped: int = 0  # no-login submissions not tried because every link's hourly budget was used
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def latencies(self) -> list[float]:
        return [seconds for _, seconds in self.timings]

    def summary(self) -> str:
        """Failures counted by route and outcome, the most frequent first, then a few in full."""
        kinds = Counter(f"{where}: {what.split('(')[0][:40]}" for where, what in self.errors)
        counts = [f"{count:6} {kind}" for kind, count in kinds.most_common()]
        return "\n".join(counts + [f"{where}: {what}" for where, what in self.errors[:10]])

    def add(self, other: Tally) -> None:
        with self.lock:
            self.requests += other.requests
            self.timings += other.timings
            self.errors += other.errors
            self.partners += other.partners
            self.referrals += other.referrals
            self.sign_ins += other.sign_ins
            self.skipped += other.skipped


class LinkBudget:
    """Hands out link tokens so no link goes over its hourly submissions (a 429 is not the test here)."""

    def __init__(self, tokens: list[str]) -> None:
        self._left = [token for token in tokens for _ in range(SUBMISSIONS_PER_LINK)]
        self._lock = threading.Lock()

    def take(self) -> str | None:
        with self._lock:
            return self._left.pop() if self._left else None


class Person:
    """One person (or script) with its own cookie jar; each action notes its requests in `tally`."""

    def __init__(self, url: str, keys: Keys, budget: LinkBudget, email: str, seed: int) -> None:
        self.client = httpx.Client(base_url=url, timeout=TIMEOUT, follow_redirects=False)
        self.origin = {"origin": url}  # what a browser sends with a form
        self.api = {"authorization": f"Bearer {keys.api_token}"}
        self.keys, self.budget, self.email = keys, budget, email
        self.random = random.Random(seed)
        self.tally = Tally()

    def close(self) -> None:
        self.client.close()

    def request(
        self, method: str, path: str, expect: tuple[int, ...], **kwargs: Any
    ) -> httpx.Response | None:
        """The response, if it has the expected status; else None, with the failure noted."""
        self.tally.requests += 1
        where = route(method, path)
        started = time.perf_counter()
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            self.noted(where, time.perf_counter() - started, repr(error), answered=False)
            return None
        seconds = time.perf_counter() - started
        if response.status_code not in expect:
            self.noted(where, seconds, f"{response.status_code} {response.text[:200]!r}")
            return None
        self.noted(where, seconds, None)
        return response

    def noted(self, where: str, seconds: float, error: str | None, answered: bool = True) -> None:
        """Every request's outcome goes through here (the locust benchmark reports it to locust too);
        the timings keep answered requests only."""
        if answered:
            self.tally.timings.append((where, seconds))
        if error is not None:
            self.tally.errors.append((where, error))

    def _form(self, path: str) -> dict[str, str] | None:
        """The hidden fields (CSRF token, nonce) of the form a GET of `path` shows."""
        response = self.request("GET", path, (200,))
        return dict(_HIDDEN.findall(response.text)) if response is not None else None

    def sign_in(self) -> None:
        """The real login form: a fresh browser session, its CSRF token, e-mail and password."""
        self.client.cookies.clear()
        hidden = self._form("/login")
        if hidden is None:
            return
        form = hidden | {"email": self.email, "password": PASSWORD}
        if self.request("POST", "/login", (303,), data=form, headers=self.origin) is not None:
            self.tally.sign_ins += 1

    def page(self) -> None:
        pages = [*STAFF_PAGES, f"/partners/{self.keys.partner_id}"]
        path = "/portal" if self.email == PARTNER_USER else self.random.choice(pages)
        self.request("GET", path, (200,))

    def dashboard(self) -> None:
        path = "/portal/overlaps" if self.email == PARTNER_USER else self.random.choice(DASHBOARDS)
        self.request("GET", path, (200,))

    def api_read(self) -> None:
        path = self.random.choice(["/api/v1/me", f"/api/v1/accounts?page={self.random.randint(1, 5)}"])
        self.request("GET", path, (200,), headers=self.api)

    def api_write(self) -> None:
        mark = uuid.uuid4().hex[:12]
        if self.random.random() < 0.5:
            body = {
                "name": f"Load Partner {mark}",
                "partner_type": "technology",
                "stage_since": str(date.today()),
            }
            if self.request("POST", "/api/v1/partners", (201,), json=body, headers=self.api) is not None:
                self.tally.partners.append(body["name"])
        else:
            body = {"kind": "eql", "company": f"Load Co {mark}", "contact_email": f"{mark}@load.example"}
            path = f"/api/v1/partners/{self.keys.partner_id}/referrals"
            if self.request("POST", path, (201,), json=body, headers=self.api) is not None:
                self.tally.referrals.append(body["company"])

    def no_login(self) -> None:
        """A partner's colleague opens a signed link and submits the referral form behind it."""
        token = self.budget.take()
        if token is None:
            self.tally.skipped += 1
            return
        hidden = self._form(f"/r/{token}")
        if hidden is None:
            return
        mark = uuid.uuid4().hex[:12]
        company = f"Link Co {mark}"
        form = hidden | {"kind": "eql", "company": company, "contact_email": f"{mark}@link.example"}
        if self.request("POST", f"/r/{token}", (200,), data=form, headers=self.origin) is not None:
            self.tally.referrals.append(company)


STAFF_PAGES = ["/partners", "/accounts", "/referrals", "/mapping"]  # those every staff role sees
DASHBOARDS = ["/dashboards/overview", "/dashboards/scorecard", "/dashboards/life-cycle"]
Action = Callable[[Person], None]


def run_people(
    url: str,
    keys: Keys,
    budget: LinkBudget,
    *,
    clients: int,
    seconds: float,
    mix: dict[Action, int],
    max_actions: int,
    sign_in_first: bool = True,
) -> tuple[Tally, float]:
    """`clients` people, each signing in, then doing weighted random actions until `seconds` pass
    (or `max_actions` each). All start together; the seconds returned are the whole run's."""
    emails = [*STAFF, PARTNER_USER]
    total = Tally()
    actions, weights = list(mix), list(mix.values())
    start_line = threading.Barrier(clients + 1)

    def one(n: int) -> None:
        person = Person(url, keys, budget, emails[n % len(emails)], seed=n)
        try:
            start_line.wait(timeout=120)
            deadline = time.monotonic() + seconds
            if sign_in_first:
                person.sign_in()
            for _ in range(max_actions):
                if time.monotonic() >= deadline:
                    break
                person.random.choices(actions, weights)[0](person)
        finally:
            person.close()
            total.add(person.tally)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait(timeout=120)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return total, time.perf_counter() - started


def stored(site: Site) -> tuple[set[str], set[str], int]:
    """Partner names, referral companies and sign-ins (audit rows) the database holds."""
    engine = make_engine(site.database_url)
    try:
        with session_factory(engine)() as session:
            partners = set(session.scalars(select(Partner.name)))
            referrals = set(session.scalars(select(Referral.company)))
            sign_ins = session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "session.signed_in")
            )
    finally:
        engine.dispose()
    return partners, referrals, sign_ins or 0


def demo_site(backend: str, folder: Path, request: pytest.FixtureRequest) -> Site:
    """The demo seeded into a fresh database: a file in `folder`, or a database on the suite's server."""
    if backend == "sqlite":
        database_url = f"sqlite:///{folder / 'ecoops.db'}"
    else:
        database_url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    return seed_demo(database_url, folder / "var")
