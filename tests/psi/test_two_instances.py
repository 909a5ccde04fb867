"""Two ecoops instances map their accounts privately over loopback HTTP, set up by invitation.

Expected results are worked out by hand from the seeded data (conftest.py) and both sides' sharing
rules: the plaintext join on the same normalised keys, cut down to what each side's rules let the
other see.
- Keys that match: Acme (domain and name+country), Globex (name+country only: Beta has no domain),
  Umbrella (domain), Initech (domain, but Alpha's prospects are hidden, so it never enters).
- Alpha shows customers as overlapping accounts, open opportunities as counts; prospects hidden.
  Beta shows customers and open opportunities as overlapping accounts, prospects as counts.
- Revealed (both sides allow it): Acme only (Globex is counts-only on Alpha's side, Umbrella on Beta's).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from tests.at_once import at_once
from tests.psi.conftest import MAX_ITEMS, RAW_STRINGS, Capture, Instance, connect, wait_for_exchanges

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.engines.psi import EXACT_KEY_RECALL, Item, Party, new_session_id
from ecoops.events.models import Event, EventKind
from ecoops.jobs.models import Job
from ecoops.mapping.models import Match, PartnerAccount
from ecoops.mapping.overlaps import overlap_matrix
from ecoops.mapping.uploads import current_upload
from ecoops.psi.models import ConnectionState, PsiConnection, PsiExchange, PsiPartyState


@pytest.fixture(scope="module")
def exchanged(pair: tuple[Instance, Instance]) -> tuple[Instance, Instance]:
    """Connected by invitation, then one run started by hand on Alpha's page."""
    alpha, beta = pair
    a, _ = connect(alpha, beta)
    started = alpha.post_form(a, f"/mapping/partners/{alpha.partner_id}/private/run")
    assert started.status_code == 303
    wait_for_exchanges(alpha, 2)
    wait_for_exchanges(beta, 2)
    return alpha, beta


def _exchanges(instance: Instance) -> list[PsiExchange]:
    with instance.sessions() as session:
        return list(session.scalars(select(PsiExchange).order_by(PsiExchange.id)))


def test_both_sides_are_connected(exchanged: tuple[Instance, Instance]) -> None:
    for instance, other in (exchanged, exchanged[::-1]):
        with instance.sessions() as session:
            connection = session.scalars(select(PsiConnection)).one()
            assert (connection.state, connection.peer_url) == (ConnectionState.ACTIVE, other.url)
            assert connection.inbound_token_hash and connection.outbound_token
            assert connection.outbound_token not in connection.inbound_token_hash


def test_counts_equal_the_plaintext_join_per_population_pair(exchanged: tuple[Instance, Instance]) -> None:
    alpha, beta = exchanged
    by_side = {}
    for instance, role in ((alpha, "initiator"), (beta, "responder")):
        exchanges = [e for e in _exchanges(instance) if e.status == "done"]  # refusals are tested below
        assert [(e.role, e.mode) for e in exchanges] == [(role, "count"), (role, "reveal")]
        by_side[instance.name] = {(ours, theirs): n for ours, theirs, n in exchanges[0].counts}
    # Acme is in both of Alpha's shown populations; Initech (Alpha: hidden) is absent.
    assert by_side["alpha"] == {
        ("customers", "Customers"): 1,
        ("open_opportunities", "Customers"): 2,
        ("customers", "Prospects"): 1,
    }
    assert by_side["beta"] == {
        ("customers", "Customers"): 1,
        ("customers", "Open Opportunities"): 2,
        ("prospects", "Customers"): 1,
    }


def test_revealed_matches_are_the_partners_list_with_only_the_allowed_fields(
    exchanged: tuple[Instance, Instance],
) -> None:
    alpha, beta = exchanged
    with alpha.sessions() as session:
        upload = current_upload(session, alpha.partner_id)
        assert upload is not None and upload.filename.startswith("private exchange #")
        theirs = session.scalars(select(PartnerAccount).where(PartnerAccount.upload_id == upload.id)).all()
        assert [(r.name, r.domain, r.country, r.population, r.fields) for r in theirs] == [
            ("ACME GmbH", "acme-rockets.de", "", "Customers", {})  # Beta shows name and domain
        ]
        assert "B-ACME" not in theirs[0].their_id  # a pseudonym, never Beta's CRM id
        match = session.scalars(select(Match)).one()
        assert (match.our_crm_id, match.their_id, match.method) == ("001ALPHAACME", theirs[0].their_id, "psi")
        assert match.explanation["key_kinds"] == ["domain", "name_country"]
        assert "acme-rockets" not in str(match.explanation)
        matrix = overlap_matrix(session, SYSTEM, alpha.partner_id)
        assert matrix.counts == {("customers", "Customers"): 1, ("open_opportunities", "Customers"): 1}
        # Acme is a Beta customer while Alpha's Acme deal is open: a dated overlap touch.
        touch = session.scalars(select(PartnerTouch).where(PartnerTouch.kind == "overlap")).one()
        assert (touch.partner_id, touch.opportunity_crm_id) == (alpha.partner_id, "001ALPHAACME-OPEN")
        uploaded = session.scalars(
            select(Event).where(Event.kind == EventKind.PARTNER_LIST_UPLOADED.value)
        ).one()
        assert uploaded.payload["partner_name"] == "Beta" and uploaded.payload["rows"] == 1
        began = session.scalars(select(Event).where(Event.kind == EventKind.OVERLAP_BEGAN.value)).all()
        assert [e.account_crm_id for e in began] == ["001ALPHAACME"]
    with beta.sessions() as session:
        upload = current_upload(session, beta.partner_id)
        assert upload is not None
        theirs = session.scalars(select(PartnerAccount).where(PartnerAccount.upload_id == upload.id)).all()
        # Alpha shows name and country of customers; Globex (counts only) and Initech (hidden) are absent.
        assert [(r.name, r.domain, r.country, r.population) for r in theirs] == [
            ("Acme GmbH", "", "Germany", "Customers")
        ]
        assert [(m.our_crm_id, m.method) for m in session.scalars(select(Match))] == [("B-ACME", "psi")]


def test_the_pages_show_the_connection_and_the_counts(exchanged: tuple[Instance, Instance]) -> None:
    alpha, _ = exchanged
    page = alpha.browser().get(f"/mapping/partners/{alpha.partner_id}/private")
    assert page.status_code == 200
    assert "Overlap counts from a private exchange" in page.text and "exact normalised keys" in page.text
    assert "Run now" in page.text and "Revoke connection" in page.text
    # The measured recall cost of exact keys, beside the trusted-upload alternative.
    assert f"{EXACT_KEY_RECALL.exact_recall:.1%}" in page.text and "Upload Beta's export instead" in page.text
    mapping = alpha.browser().get(f"/mapping/partners/{alpha.partner_id}")  # the partner's matrix page
    assert "Overlap counts from a private exchange" in mapping.text and "private exchange #" in mapping.text


def test_run_now_was_a_job_of_the_worker_and_the_page_no_longer_follows_it(
    exchanged: tuple[Instance, Instance],
) -> None:
    alpha, _ = exchanged
    deadline = time.monotonic() + 30
    while True:  # the job is marked done just after its exchanges finish
        with alpha.sessions() as session:
            # The exchange's job; the worker's own daily ones (the maturity assessment) beside it.
            exchange_jobs = select(Job).where(Job.kind == "psi.exchange")
            jobs = [(j.kind, j.state, j.result) for j in session.scalars(exchange_jobs)]
        if (jobs and jobs[0][1] != "running") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert jobs == [("psi.exchange", "done", "count: 3 matched; reveal: 1 matched")]
    page = alpha.browser().get(f"/mapping/partners/{alpha.partner_id}/private").text
    assert "every 1s" not in page


def test_nothing_raw_crosses_between_the_servers(
    exchanged: tuple[Instance, Instance], capture: Capture
) -> None:
    assert len(capture.messages) >= 5  # connect, then start + finish for counts and for reveal
    wire = capture.everything().lower()
    leaked = [raw for raw in RAW_STRINGS if raw.lower().encode() in wire]
    assert not leaked, f"raw identifiers crossed between the servers: {leaked}"


def _call(beta: Instance, path: str, token: str, body: bytes, **headers: str) -> httpx.Response:
    credential = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(beta.url + path, content=body, headers={**credential, **headers}, timeout=60)


def _first_message(session_id: bytes) -> bytes:
    return Party(
        [Item("x", ("d:example.org",))], session_id=session_id, role="initiator", mode="reveal"
    ).step1()


def test_bad_peer_messages_are_refused_with_a_clear_error(exchanged: tuple[Instance, Instance]) -> None:
    alpha, beta = exchanged
    with alpha.sessions() as session:
        token = session.scalars(select(PsiConnection.outbound_token)).one()  # Alpha's credential at Beta
    start, finish = "/psi/v1/exchange/start", "/psi/v1/exchange/finish"
    session_id = new_session_id()
    headers = {"x-psi-session": session_id.hex(), "x-psi-mode": "reveal"}
    message = Party(
        [Item("x", ("d:example.org",))], session_id=session_id, role="initiator", mode="reveal"
    ).step1()

    wrong = _call(beta, start, "not-the-token", message, **headers)
    assert (wrong.status_code, wrong.json()["detail"]) == (401, "unknown connection token")
    assert _call(beta, start, "", message, **headers).status_code == 401

    malformed = _call(
        beta, start, token, b"EPSI" + b"\x00" * 20, **{**headers, "x-psi-session": new_session_id().hex()}
    )
    assert malformed.status_code == 400 and "MalformedMessage" in malformed.json()["detail"]

    other = new_session_id()
    own = _first_message(other)
    truncated = _call(beta, start, token, own[:-5], **{**headers, "x-psi-session": other.hex()})
    assert truncated.status_code == 400 and "MalformedMessage" in truncated.json()["detail"]

    elsewhere = _call(beta, start, token, message, **{**headers, "x-psi-session": new_session_id().hex()})
    assert elsewhere.status_code == 400 and "SessionMismatch" in elsewhere.json()["detail"]

    other = new_session_id()
    bad_point = _first_message(other)[:-32] + b"\xff" * 32
    invalid = _call(beta, start, token, bad_point, **{**headers, "x-psi-session": other.hex()})
    assert invalid.status_code == 400 and "InvalidElement" in invalid.json()["detail"]

    assert _call(beta, start, token, message, **headers).status_code == 200
    replayed = _call(beta, start, token, message, **headers)
    assert replayed.status_code == 409 and "replayed" in replayed.json()["detail"]
    stray = _call(beta, finish, token, message, **{**headers, "x-psi-session": new_session_id().hex()})
    assert stray.status_code == 409 and "message 3" in stray.json()["detail"]

    big_id = new_session_id()
    many = [Item(str(n), (f"d:n{n}.example",)) for n in range(MAX_ITEMS + 1)]
    oversized = Party(
        many, session_id=big_id, role="initiator", mode="count", max_items=10 * MAX_ITEMS
    ).step1()
    refused = _call(beta, start, token, oversized, **{"x-psi-session": big_id.hex(), "x-psi-mode": "count"})
    assert refused.status_code == 400 and "OversizedBatch" in refused.json()["detail"]

    huge = _call(beta, start, token, b"\x00" * (MAX_ITEMS * 600 + (1 << 20) + 1), **headers)
    assert huge.status_code == 413


def _waiting(beta: Instance, headers: dict[str, str]) -> int:
    """Beta's stored Parties waiting for message 3 of this exchange."""
    with beta.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(PsiPartyState)
                .join(PsiExchange, PsiExchange.id == PsiPartyState.exchange_id)
                .where(PsiExchange.session_id == headers["x-psi-session"])
            )
            or 0
        )


def _started(beta: Instance, token: str, mode: str = "count") -> tuple[Party, dict[str, str], bytes]:
    """An exchange of ours with Beta after message 2: our Party, the headers, and message 3."""
    session_id = new_session_id()
    headers = {"x-psi-session": session_id.hex(), "x-psi-mode": mode}
    ours = Party([Item("x", ("d:acme-rockets.de",))], session_id=session_id, role="initiator", mode="count")
    reply = _call(beta, "/psi/v1/exchange/start", token, ours.step1(), **headers)
    assert reply.status_code == 200, reply.text
    return ours, headers, ours.step3(reply.content)


def test_message_3_sent_twice_at_once_is_answered_once(exchanged: tuple[Instance, Instance]) -> None:
    alpha, beta = exchanged
    with alpha.sessions() as session:
        token = session.scalars(select(PsiConnection.outbound_token)).one()
    ours, headers, message = _started(beta, token)
    assert _waiting(beta, headers) == 1

    def finish() -> httpx.Response:
        return _call(beta, "/psi/v1/exchange/finish", token, message, **headers)

    answers = sorted(at_once(finish, finish), key=lambda r: r.status_code)
    assert [r.status_code for r in answers] == [200, 409], [r.text for r in answers]
    ours.finish(answers[0].content)
    assert sum(ours.result.counts.values()) == 1  # Acme's domain is among Beta's visible customers
    assert _waiting(beta, headers) == 0


def test_message_3_after_the_state_expired_is_refused(exchanged: tuple[Instance, Instance]) -> None:
    alpha, beta = exchanged
    with alpha.sessions() as session:
        token = session.scalars(select(PsiConnection.outbound_token)).one()
    _, headers, message = _started(beta, token)
    with beta.sessions() as session, session.begin():
        waiting = select(PsiExchange.id).where(PsiExchange.session_id == headers["x-psi-session"])
        for state in session.scalars(select(PsiPartyState).where(PsiPartyState.exchange_id.in_(waiting))):
            state.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    late = _call(beta, "/psi/v1/exchange/finish", token, message, **headers)
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    assert _waiting(beta, headers) == 0
