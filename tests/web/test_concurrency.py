"""Sixteen people at once on one server: sign-ins, API reads and writes, no-login submissions.

A real `ecoops serve` (the in-process worker running) on the demo; every answer must be the one a
person expects (no 5xx, no reset connection), and every write that was acknowledged must be stored.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.web.live_site import LinkBudget, Person, demo_site, make_keys, run_people, serve, stored

CLIENTS = 16
SECONDS = {"sqlite": 30.0, "postgresql": 10.0}  # PostgreSQL never locked: a shorter run suffices
MAX_ACTIONS = 100_000  # per client; the time bound ends the run first
MIX = {Person.sign_in: 2, Person.api_read: 4, Person.api_write: 3, Person.no_login: 2}


@pytest.mark.all_backends
def test_sixteen_people_at_once_get_answers_and_lose_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    site = demo_site(backend, tmp_path, request)
    keys = make_keys(site)
    _, _, sign_ins_before = stored(site)
    log = tmp_path / "server.log"
    with serve(site, log) as url:
        tally, _ = run_people(
            url,
            keys,
            LinkBudget(keys.link_tokens),
            clients=CLIENTS,
            seconds=SECONDS[backend],
            mix=MIX,
            max_actions=MAX_ACTIONS,
        )
    partners, referrals, sign_ins = stored(site)

    problems = []  # all of them at once: a lost write matters more than the errors around it
    if tally.errors:
        problems.append(f"{len(tally.errors)} of {tally.requests} requests failed:\n{tally.summary()}")
    lost = sorted(set(tally.partners) - partners) + sorted(set(tally.referrals) - referrals)
    if lost:
        problems.append(f"{len(lost)} acknowledged writes are not in the database: {lost[:10]}")
    if sign_ins - sign_ins_before < tally.sign_ins:
        problems.append(f"{tally.sign_ins} sign-ins answered 303, {sign_ins - sign_ins_before} audited")
    if problems or "Traceback" in log.read_text():
        problems.append(server_notes(log))
    assert not problems, "\n\n".join(problems)
    assert tally.partners and tally.referrals and tally.sign_ins >= CLIENTS and not tally.skipped, (
        "too little ran"
    )


def server_notes(log: Path) -> str:
    """What the server logged besides its access lines (warnings, tracebacks), the last of it."""
    notes = [line for line in log.read_text().splitlines() if not re.search(r'HTTP/1.1" \d{3}', line)]
    return "server log:\n" + "\n".join(notes[-40:])
