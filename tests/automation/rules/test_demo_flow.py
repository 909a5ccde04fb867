"""The issue's "done when" for rules, on a small demo workspace with its demo rules, through the real
worker and stand-ins: a new overlap posts a Slack message to the account owner (mentioned) at a local
Slack stand-in and e-mails the partner manager at an aiosmtpd server; a deal registration posted to
#partner-deals is approved by a signed Slack button press."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts.models import User
from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM
from ecoops.automation.deliveries import Delivery
from ecoops.automation.worker import Worker
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.demo.mapping import map_partner_lists
from ecoops.demo.partner_exports import PartnerExport, write_partner_exports
from ecoops.demo.people import STAFF
from ecoops.demo.rules import DEALS_CHANNEL, seed_rules
from ecoops.demo.workspace import seed_workspace
from ecoops.mapping import runs, uploads
from ecoops.mapping.models import Match
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral, Via
from ecoops.referrals.submission import ReferralInput, submit
from ecoops.web.app import create_app
from tests.automation.delivery.standins import Inbox, StandIn, start_smtp
from tests.automation.rules.slack_requests import SIGNING_SECRET, button_payload, signed
from tests.factories import cheap_password_hashing

AS_OF = date(2026, 6, 1)


@dataclass
class Demo:
    sessions: sessionmaker[Session]
    settings: Settings
    engine: Engine
    export: PartnerExport
    path: Path
    slack: StandIn
    inbox: Inbox


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = Path(tmp_path_factory.mktemp("demo-rules"))
    slack = StandIn()
    controller, inbox = start_smtp()
    settings = Settings(
        env="test",
        var_dir=folder,
        secret_key="r" * 40,
        slack_bot_token="xoxb-demo",
        slack_api_url=slack.url + "/api/",
        slack_signing_secret=SIGNING_SECRET,
        slack_min_interval=0,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        mail_from="ecoops@fernhill.example",
        public_url="https://ecoops.fernhill.example",
    )
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    sessions = session_factory(engine)
    with cheap_password_hashing():
        with transaction(sessions) as session:
            seeded = seed_workspace(session, SYSTEM, seed=5, as_of=AS_OF, account_count=250)
        paths = write_partner_exports(seeded.exports, folder / "demo")
        with transaction(sessions) as session:
            map_partner_lists(session, SYSTEM, seeded.exports, paths, AS_OF)
        with transaction(sessions) as session:
            seed_rules(session, SYSTEM)
        export, path = seeded.exports[0], paths[0]
        yield Demo(sessions, settings, engine, export, path, slack, inbox)
    controller.stop()
    slack.close()
    engine.dispose()


def test_the_demo_opens_without_a_flood(demo: Demo) -> None:
    """The overlaps the demo opens with happened before its rules were switched on: no rule sends."""
    Worker(demo.sessions, demo.settings).run(once=True)  # also sends the demo's nurture welcomes
    with demo.sessions() as session:
        assert session.scalars(select(Delivery).where(Delivery.source == "rule")).all() == []
    assert demo.slack.requests == []
    demo.inbox.messages.clear()


def unfolded(header: str) -> str:
    """A header as a mail client shows it (long ones arrive folded over lines)."""
    return " ".join(header.split())


def _unlisted_owned_account(session: Session, partner_id: int) -> tuple[Account, User]:
    """One of our accounts the partner's list does not hold yet, owned by a staff member."""
    matched = select(Match.our_crm_id).where(Match.partner_id == partner_id)
    staff = {s.name for s in STAFF}
    for account in session.scalars(
        select(Account).where(Account.crm_id.not_in(matched)).order_by(Account.id)
    ):
        if account.owner in staff and account.domain:
            owner = session.scalar(select(User).where(User.name == account.owner))
            assert owner is not None
            return account, owner
    raise AssertionError("the demo has no unlisted account owned by staff")


def test_a_new_overlap_reaches_the_owner_on_slack_and_the_manager_by_email(demo: Demo) -> None:
    partner_id = demo.export.partner.id
    with demo.sessions() as session:
        account, owner = _unlisted_owned_account(session, partner_id)
        partner = session.get(Partner, partner_id)
        assert partner is not None and partner.owner_id is not None
        manager = session.get(User, partner.owner_id)
        assert manager is not None
        owner_slack, manager_email, partner_name = owner.slack_user_id, manager.email, partner.name
    assert owner_slack.startswith("U0DEMO")

    # The partner sends a new list: the same accounts, and one of ours as their customer.
    new_list = demo.path.with_name("with-new-customer.csv")
    with demo.path.open(newline="", encoding="utf-8") as source, new_list.open("w", newline="") as target:
        rows = list(csv.reader(source))
        writer = csv.writer(target)
        writer.writerows(rows)
        writer.writerow(["NEW-ROW-1", account.name, account.domain, "", "Customers"])
    with transaction(demo.sessions) as session:
        uploads.upload_partner_list(session, SYSTEM, partner_id, new_list, new_list.name)
        runs.run_mapping(session, SYSTEM, partner_id, today=AS_OF)

    Worker(demo.sessions, demo.settings).run(once=True)
    with demo.sessions() as session:
        sent = session.scalars(select(Delivery).where(Delivery.source == "rule")).all()
        assert sorted((d.channel, d.status) for d in sent) == [("email", "delivered"), ("slack", "delivered")]

    (post,) = demo.slack.posts_to("/api/chat.postMessage")
    body = post.json()
    assert body["channel"] == owner_slack  # straight to the account owner
    assert body["text"].startswith(f"<@{owner_slack}> ")  # and they are mentioned
    assert account.name in body["text"] and partner_name in body["text"]
    (mail,) = [m for m in demo.inbox.messages if unfolded(m["Subject"]).startswith("New overlap")]
    assert mail["To"] == manager_email
    assert unfolded(mail["Subject"]) == f"New overlap: {account.name} is in {partner_name}'s Customers"
    text = (
        next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    )
    assert f"(owner: {account.owner})" in text
    assert f"https://ecoops.fernhill.example/mapping/partners/{partner_id}/overlaps" in text


def test_a_registration_is_posted_with_buttons_and_approved_from_slack(demo: Demo) -> None:
    demo.slack.requests.clear()
    partner_id = demo.export.partner.id
    with demo.sessions() as session:
        reviewer = session.scalar(select(User).where(User.email == "partners@fernhill.example"))
        assert reviewer is not None
        reviewer_slack = reviewer.slack_user_id
    with transaction(demo.sessions) as session:
        data = ReferralInput(
            kind="deal_registration", company="Brand New Prospect Ltd", domain="brandnewprospect.io"
        )
        referral_id = submit(
            session,
            user_actor(reviewer),
            data,
            settings=demo.settings,
            via=Via.INTERNAL,
            partner_id=partner_id,
        ).id

    Worker(demo.sessions, demo.settings).run(once=True)
    (post,) = demo.slack.posts_to("/api/chat.postMessage")
    body = post.json()
    assert body["channel"] == DEALS_CHANNEL
    (actions,) = [b for b in body["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("registration.approve", str(referral_id)),
        ("registration.reject", str(referral_id)),
    ]

    # The reviewer presses Approve: Slack posts the signed interaction to our endpoint.
    payload = button_payload(reviewer_slack, "registration.approve", referral_id)
    payload["message"] = {"text": body["text"], "blocks": body["blocks"]}
    request_body, headers = signed(payload)
    with TestClient(create_app(demo.settings, demo.engine)) as client:
        response = client.post("/integrations/slack/actions", content=request_body, headers=headers)
    assert response.status_code == 200
    assert response.json()["blocks"][-1]["elements"][0]["text"].endswith("Approved by Priya Raman")
    with demo.sessions() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert (referral.status, referral.reviewer_id) == ("approved", reviewer.id)
