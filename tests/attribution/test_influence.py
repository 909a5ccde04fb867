"""Influence logs: a partner logs what it did on a deal, the deal owner confirms it and the figure moves;
who may log, see and decide; refusals that store nothing; one decision when two reviewers click at once."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import InvalidInput, partner_user_actor, user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.attribution import influence
from ecoops.attribution.models import InfluenceLog, PartnerTouch
from ecoops.attribution.review import Decision
from ecoops.audit import AuditEvent
from ecoops.automation.recipients import Resolver
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.events.models import Event, EventKind
from ecoops.metrics import service
from ecoops.partners.models import Partner
from ecoops.permissions import Forbidden, NotFound
from ecoops.referrals.models import Referral
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.factories import (
    bearer,
    csrf_from,
    make_account,
    make_opportunity,
    make_partner,
    make_user,
    sign_in,
)
from tests.factories import make_partner_user as new_partner_user

QUERY = service.MetricsQuery(date(2025, 3, 31), Period(date(2025, 1, 1), date(2025, 3, 31)))


@dataclass
class Deal:
    partner: Partner
    other: Partner
    owner: User  # the seller the opportunity's owner field names
    seller: User  # another seller
    manager: User
    partner_user: PartnerUser
    account_id: int
    crm_id: str


def _asked(session: Session, partner: Partner, opportunity_crm_id: str, account_crm_id: str) -> None:
    """Our co-sell request to the partner about the deal, accepted: the deal the partner may log for."""
    session.add(
        Referral(
            direction="outbound",
            kind="intro",
            partner_id=partner.id,
            company="Orbit Corp (their name)",
            status="accepted",
            submitted_via="internal",
            submitted_at=datetime(2025, 2, 2, 9, tzinfo=UTC),
            account_crm_id=account_crm_id,
            opportunity_crm_id=opportunity_crm_id,
        )
    )
    session.flush()


def deal(session: Session) -> Deal:
    """Orbit's deal: 2,500, created 1 Feb 2025, won 15 Mar 2025, owned by Dana Deal; no touch yet (direct)."""
    owner = make_user(session, Role.SALES, name="Dana Deal", email="dana@example.com")
    seller = make_user(session, Role.SALES, name="Sam Seller", email="sam@example.com")
    manager = make_user(session, Role.PARTNER_MANAGER, email="pm@example.com")
    account = make_account(session, crm_id="A-ORBIT", name="Orbit Corp", owner="Sam Seller")
    make_opportunity(
        session,
        crm_id="O-ORBIT",
        account_crm_id="A-ORBIT",
        name="Orbit expansion",
        owner="Dana Deal",
        amount=Decimal(2500),
        created_on=date(2025, 2, 1),
        close_date=date(2025, 3, 15),
        stage="Closed Won",
        is_closed=True,
        is_won=True,
    )
    partner = make_partner(session, name="Nimbus Consulting")
    other = make_partner(session, name="Other Partner")
    _asked(session, partner, "O-ORBIT", "A-ORBIT")
    member = new_partner_user(session, partner, email="nimbus@partner.example")
    return Deal(partner, other, owner, seller, manager, member, account.id, "O-ORBIT")


def influenced(session: Session, settings: Settings) -> object:
    figures = service.report(session, SYSTEM, settings, QUERY, ["revenue"]).figures["revenue"].to_pylist()
    return {r["classification"]: r["revenue"] for r in figures}.get("influenced")


def _form(client: TestClient, page: str) -> str:
    return csrf_from(client.get(page).text)


def test_partner_logs_the_deal_owner_confirms_the_figure_moves_and_the_partner_sees_it(
    client: TestClient, session: Session, settings: Settings
) -> None:
    d = deal(session)
    assert influenced(session, settings) is None  # direct: no partner touch

    sign_in(client, "nimbus@partner.example")
    form = client.get("/portal/influence/new").text
    assert "Orbit Corp (their name)" in form and 'value="O-ORBIT|"' in form
    answer = client.post(
        "/portal/influence",
        data={
            "csrf_token": csrf_from(form),
            "deal": "O-ORBIT|",
            "activity": "demo",
            "happened_on": "2025-03-01",
            "note": "Demoed the integration to their CIO",
            "link": "https://nimbus.example/notes/42",
        },
        files={"file": ("agenda.pdf", b"%PDF-1.4 agenda", "application/pdf")},
    )
    assert answer.status_code == 303, answer.text
    log = session.scalars(select(InfluenceLog)).one()
    touch = session.get_one(PartnerTouch, log.touch_id)
    assert (touch.kind, touch.status, touch.touched_on) == ("co_sell", "proposed", date(2025, 3, 1))
    assert (touch.evidence_type, touch.evidence_ref) == ("influence_log", str(log.id))
    assert (log.file_name, log.file_size, log.partner_id) == ("agenda.pdf", 15, d.partner.id)
    assert influenced(session, settings) is None  # a claim until someone confirms it
    (logged,) = session.scalars(select(Event).where(Event.kind == EventKind.INFLUENCE_LOGGED.value))
    owner, problem = Resolver(session).account_owner(logged)  # a rule's "account owner" reaches Dana
    assert (owner.id if owner else None, problem) == (d.owner.id, "")
    assert client.get(f"/influence/{log.id}/file").content == b"%PDF-1.4 agenda"
    client.cookies.clear()

    # Sam owns the account but not the deal: no buttons, and a decision is refused.
    sign_in(client, "sam@example.com")
    page = client.get(f"/accounts/{d.account_id}").text
    assert "Demoed the integration" in page and 'value="confirm"' not in page
    refused = client.post(
        f"/influence/{log.id}/decision", data={"csrf_token": csrf_from(page), "decision": "confirm"}
    )
    assert refused.status_code == 403
    client.cookies.clear()

    sign_in(client, "dana@example.com")
    page = client.get(f"/accounts/{d.account_id}").text
    assert 'value="confirm"' in page
    done = client.post(
        f"/influence/{log.id}/decision", data={"csrf_token": csrf_from(page), "decision": "confirm"}
    )
    assert done.status_code == 303
    session.refresh(touch)
    assert (touch.status, touch.reviewed_by) == ("confirmed", "dana@example.com")
    # By hand: the one won deal (2,500, closed 15 Mar) has a confirmed co-sell touch 14 days before its
    # close, within the 90-day look-back, and no sourcing touch: influenced, 2,500 in Q1.
    assert influenced(session, settings) == 2500.0
    explained = client.get("/dashboards/opportunities/O-ORBIT", params={"as_of": "2025-03-31"}).text
    assert f"influence log #{log.id}" in explained and "Demoed the integration" in explained
    client.cookies.clear()

    sign_in(client, "nimbus@partner.example")
    mine = client.get("/portal/influence").text
    assert re.search(r"status-confirmed\">confirmed</span>.*by dana@example.com", mine, re.S)
    # The deal as its referral named it: our CRM's opportunity name is not theirs to see.
    assert "Orbit Corp (their name)" in mine and "Orbit expansion" not in mine


def test_a_partner_user_logs_for_and_sees_only_its_own_partner(
    client: TestClient, session: Session, settings: Settings
) -> None:
    d = deal(session)
    _asked(session, d.other, "O-ORBIT", "A-ORBIT")
    theirs = new_partner_user(session, d.other)
    actors = {d.partner.id: partner_user_actor(d.partner_user), d.other.id: partner_user_actor(theirs)}
    logged: dict[int, set[int]] = {d.partner.id: set(), d.other.id: set()}
    for partner_id, actor in actors.items():
        for n in range(3):
            data = influence.LogInput(partner_id, "meeting", date(2025, 3, 1), f"meeting {n}", "", "O-ORBIT")
            logged[partner_id].add(influence.log_influence(session, actor, data, settings).id)
    # What our seller logs about the partner stays internal: the partner sees the logs of its own users.
    ours = influence.LogInput(d.partner.id, "intro", date(2025, 3, 2), "internal view", "", "O-ORBIT")
    internal = influence.log_influence(session, user_actor(d.seller), ours, settings).id
    every = logged[d.partner.id] | logged[d.other.id] | {internal}
    for partner_id, actor in actors.items():
        other_id = d.other.id if partner_id == d.partner.id else d.partner.id
        seen = {row.log.id for row in influence.search_logs(session, actor).items}
        assert seen == logged[partner_id]
        for log_id in range(1, max(every) + 3):  # every id, others' and unused ones alike: not found
            if log_id not in logged[partner_id]:
                with pytest.raises(NotFound):
                    influence.get_log(session, actor, log_id)
        with pytest.raises(NotFound):  # for another partner, as if it did not exist
            influence.log_influence(
                session,
                actor,
                influence.LogInput(other_id, "demo", date(2025, 3, 1), "x", "", "O-ORBIT"),
                settings,
            )
        with pytest.raises(Forbidden):  # a partner never decides
            influence.decide(session, actor, min(logged[partner_id]), Decision.CONFIRM)
    # A deal none of its referrals names is not offered, nor taken.
    make_opportunity(session, crm_id="O-ELSE", account_crm_id="A-ORBIT")
    with pytest.raises(NotFound):
        influence.log_influence(
            session,
            actors[d.partner.id],
            influence.LogInput(d.partner.id, "demo", date(2025, 3, 1), "x", "", "O-ELSE"),
            settings,
        )
    # Over the web: another partner's file is not found, and the portal list holds only its own.
    sign_in(client, "nimbus@partner.example")
    assert client.get(f"/influence/{min(logged[d.other.id])}/file").status_code == 404
    listed = {int(i) for i in re.findall(r'id="influence-(\d+)"', client.get("/portal/influence").text)}
    assert listed == logged[d.partner.id]


def test_refusals_name_the_field_and_store_nothing(session: Session, settings: Settings) -> None:
    d = deal(session)
    seller = user_actor(d.seller)
    good = influence.LogInput(d.partner.id, "intro", date(2025, 3, 1), "Introduced the CFO", "", "O-ORBIT")
    tomorrow = date.fromordinal(settings.today().toordinal() + 1)
    cases = [
        (replace(good, activity="lunch"), "activity"),
        (replace(good, happened_on=tomorrow), "date"),
        (replace(good, happened_on=None), "date"),
        (replace(good, note="  "), "note"),
        (replace(good, link="javascript:alert(1)"), "link"),
        (replace(good, opportunity_crm_id="O-NONE"), "opportunity"),
        (replace(good, opportunity_crm_id="", account_crm_id=""), "opportunity"),
        (replace(good, account_crm_id="A-OTHER"), "opportunity"),
    ]
    for data, field in cases:
        with pytest.raises(InvalidInput, match=f"^{field}:"):
            influence.log_influence(session, seller, data, settings)
    small = settings.model_copy(update={"influence_max_file_bytes": 10})
    with pytest.raises(InvalidInput, match=r"^file: big\.pdf is larger than 10 bytes"):
        influence.log_influence(
            session, seller, good, small, influence.Evidence(io.BytesIO(b"x" * 11), "big.pdf")
        )
    with pytest.raises(InvalidInput, match=r"^file: empty\.txt is empty"):
        influence.log_influence(
            session, seller, good, small, influence.Evidence(io.BytesIO(b""), "empty.txt")
        )
    assert session.scalar(select(func.count()).select_from(PartnerTouch)) == 0
    assert not any(influence.evidence_folder(small).glob("*"))
    # Today is the last day taken, the cap the largest file; a viewer may not log at all.
    today = replace(good, happened_on=settings.today())
    assert influence.log_influence(session, seller, today, settings).touch_id
    kept = influence.log_influence(
        session, seller, good, small, influence.Evidence(io.BytesIO(b"x" * 10), "C:\\notes\\exact.txt")
    )
    assert (kept.file_name, kept.file_size) == ("exact.txt", 10)
    with pytest.raises(Forbidden):
        influence.log_influence(session, user_actor(make_user(session, Role.VIEWER)), good, settings)


def test_dispute_needs_a_reason_and_a_decision_is_made_once(client: TestClient, session: Session) -> None:
    d = deal(session)
    headers = bearer(session, d.manager)
    body = {
        "activity": "content",
        "happened_on": "2025-03-02",
        "note": "Their case study",
        "opportunity_crm_id": "O-ORBIT",
    }
    created = client.post(f"/api/v1/partners/{d.partner.id}/influence", json=body, headers=headers)
    assert created.status_code == 201, created.text
    log = created.json()
    assert (log["kind"], log["status"], log["account_crm_id"]) == ("content", "proposed", "A-ORBIT")
    no_reason = client.post(f"/api/v1/influence/{log['id']}/dispute", json={"reason": " "}, headers=headers)
    assert no_reason.status_code == 400 and no_reason.json()["detail"].startswith("reason:")
    assert client.get(f"/api/v1/influence/{log['id']}", headers=headers).json()["status"] == "proposed"
    disputed = client.post(
        f"/api/v1/influence/{log['id']}/dispute", json={"reason": "not used"}, headers=headers
    )
    assert (disputed.status_code, disputed.json()["review_reason"]) == (200, "not used")
    again = client.post(f"/api/v1/influence/{log['id']}/confirm", json={}, headers=headers)
    assert again.status_code == 409 and "already disputed by pm@example.com" in again.json()["detail"]
    # A seller who does not own the deal may log, not decide.
    sam = bearer(session, d.seller)
    other = client.post(f"/api/v1/partners/{d.partner.id}/influence", json=body, headers=sam).json()
    assert client.post(f"/api/v1/influence/{other['id']}/confirm", json={}, headers=sam).status_code == 403
    listed = client.get("/api/v1/influence", params={"status": "disputed"}, headers=sam).json()
    assert [item["id"] for item in listed["items"]] == [log["id"]]


def _at_once(app: FastAPI, calls: list[tuple[str, dict[str, str]]]) -> list[int]:
    """POST a reason to each (path, headers) from its own client, released together; the statuses, sorted."""

    def post(path: str, headers: dict[str, str]) -> Callable[[], int]:
        return lambda: TestClient(app).post(path, json={"reason": "seen it"}, headers=headers).status_code

    return sorted(at_once(*(post(*call) for call in calls)))


@pytest.mark.all_backends
def test_two_reviewers_at_once_make_exactly_one_decision(committed_engine: Engine, tmp_path: Path) -> None:
    engine = committed_engine
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="d" * 40)
    with Session(engine) as session:
        d = deal(session)
        owner, manager = bearer(session, d.owner), bearer(session, d.manager)
        ids = []
        for n in range(4):
            data = influence.LogInput(d.partner.id, "demo", date(2025, 3, 1), f"demo {n}", "", "O-ORBIT")
            ids.append(influence.log_influence(session, SYSTEM, data, settings).id)
        session.commit()
    app = create_app(settings, engine)
    try:
        for log_id in ids:  # the owner confirms while the manager disputes, four times over
            statuses = _at_once(
                app,
                [
                    (f"/api/v1/influence/{log_id}/confirm", owner),
                    (f"/api/v1/influence/{log_id}/dispute", manager),
                ],
            )
            assert statuses == [200, 409]
        with Session(engine) as session:
            decisions = session.scalars(
                select(AuditEvent.target_id).where(
                    AuditEvent.action.in_(["influence.confirmed", "influence.disputed"])
                )
            ).all()
            assert sorted(int(i) for i in decisions) == ids  # one decision per log
            events = session.scalar(
                select(func.count())
                .select_from(Event)
                .where(
                    Event.kind.in_([EventKind.INFLUENCE_CONFIRMED.value, EventKind.INFLUENCE_DISPUTED.value])
                )
            )
            assert events == len(ids)
    finally:
        engine.dispose()


def test_a_seller_logs_from_the_account_page_and_a_refusal_keeps_what_was_typed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    d = deal(session)
    sign_in(client, "sam@example.com")
    account = client.get(f"/accounts/{d.account_id}").text
    assert f'href="/accounts/{d.account_id}/influence/new?opportunity=O-ORBIT"' in account
    assert "No partner influence logged on this account." in account
    form = client.get(f"/accounts/{d.account_id}/influence/new", params={"opportunity": "O-ORBIT"}).text
    assert '<option value="O-ORBIT" selected>' in form
    assert f'value="{settings.today().isoformat()}"' in form  # today, left in place by most people
    typed = {
        "csrf_token": csrf_from(form),
        "partner_id": str(d.partner.id),
        "opportunity_crm_id": "O-ORBIT",
        "activity": "meeting",
        "happened_on": "2025-03-04",
        "note": "Steering meeting with their CFO",
        "link": "ftp://files.example/notes",
    }
    refused = client.post(f"/accounts/{d.account_id}/influence", data=typed)
    assert refused.status_code == 400 and "Please correct this: link:" in refused.text
    assert "Steering meeting with their CFO" in refused.text  # what was typed comes back
    assert session.scalar(select(func.count()).select_from(InfluenceLog)) == 0
    done = client.post(
        f"/accounts/{d.account_id}/influence",
        data=typed | {"link": "https://files.example/notes"},
        files={"file": ("", b"", "application/octet-stream")},  # the file input left empty
    )
    assert done.status_code == 303
    log = session.scalars(select(InfluenceLog)).one()
    assert (log.activity, log.file_token, log.logged_by_partner) == ("meeting", "", False)
    page = client.get(f"/accounts/{d.account_id}").text
    assert (
        "Steering meeting with their CFO" in page and "waits for the deal owner or a partner manager" in page
    )
