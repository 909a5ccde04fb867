"""QBR packs: the hand-worked figures of Acme's first quarter of 2025 (tests/goals/scenario.py), and a
partner user sees its own pack only: by page, by PDF, and by guessing another partner's id."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.accounts.service import partner_user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.enablement import plans
from ecoops.engines.metrics import Period
from ecoops.permissions import NotFound
from ecoops.reports.document import Document
from ecoops.reports.qbr import qbr_pack, quarter_of
from tests.enablement.scenario import map_alpha
from tests.enablement.scenario import seed as enablement_seed
from tests.factories import make_partner_user, make_user, sign_in
from tests.goals.scenario import seed
from tests.pdf_text import pdf_lines

Q1 = Period(date(2025, 1, 1), date(2025, 3, 31))


def _figures(document: Document, title: str) -> dict[str, str]:
    (section,) = [s for s in document.sections if s.title == title]
    return {f.label: f.value for f in section.figures}


def test_quarters_run_from_their_first_to_their_last_day() -> None:
    assert quarter_of(date(2025, 3, 31)) == Q1
    assert quarter_of(date(2025, 12, 31)) == Period(date(2025, 10, 1), date(2025, 12, 31))


def test_acmes_first_quarter_as_worked_by_hand(session: Session, settings: Settings) -> None:
    w = seed(session)
    document = qbr_pack(session, SYSTEM, settings, w.acme.id, Q1, date(2025, 6, 1))
    assert document.subtitle == "2025-01-01 to 2025-03-31, figures as of 2025-03-31"
    assert _figures(document, "Results") == {
        "Sourced revenue (won in the quarter)": "1,000.00 USD",
        "Influenced revenue (won in the quarter)": "0.00 USD",
        "Sourced open pipeline on 2025-03-31": "2,000.00 USD",
        "Influenced open pipeline on 2025-03-31": "0.00 USD",
    }
    # Submitted 31 March 23:30 UTC: in the quarter; the one of 1 April 00:30 is not.
    assert _figures(document, "Referrals in the quarter") == {
        "Received from the partner": "1",
        "Sent to the partner": "0",
        "Became an opportunity": "0",
    }


@pytest.mark.all_backends
def test_a_partner_user_sees_its_own_pack_only(
    client: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = seed(session)
    monkeypatch.setattr(Settings, "today", lambda self: date(2025, 3, 31))
    own = make_partner_user(session, w.acme)
    with pytest.raises(NotFound):
        qbr_pack(session, partner_user_actor(own), settings, w.beta.id, Q1, date(2025, 3, 31))
    session.flush()
    sign_in(client, own.email)
    page = client.get("/portal/qbr")
    assert page.status_code == 200
    assert "Quarterly business review: Acme" in page.text and "Beta" not in page.text
    pdf = client.get("/portal/qbr.pdf", params={"quarter": "2025-02-10"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Quarterly business review: Acme" in pdf_lines(pdf.content)
    for guessed in (w.beta.id, w.acme.id, 999_999):
        assert client.get(f"/partners/{guessed}/qbr").status_code == 403
        assert client.get(f"/partners/{guessed}/qbr.pdf").status_code == 403


def test_staff_open_any_partners_pack_and_its_pdf(client: TestClient, session: Session) -> None:
    w = seed(session)
    viewer = make_user(session, Role.VIEWER)
    session.flush()
    sign_in(client, viewer.email)
    page = client.get(f"/partners/{w.beta.id}/qbr", params={"quarter": "2025-03-01"})
    assert page.status_code == 200 and "Quarterly business review: Beta" in page.text
    assert "Every plan with the partner and every action in it" in page.text
    pdf = client.get(f"/partners/{w.beta.id}/qbr.pdf", params={"quarter": "2025-03-01"})
    assert "Influenced revenue (won in the quarter)" in " ".join(pdf_lines(pdf.content))
    assert client.get("/partners/999999/qbr").status_code == 404


def test_the_pack_holds_the_partners_joint_plans_as_its_people_see_them(
    session: Session, settings: Settings
) -> None:
    w = enablement_seed(session, settings)
    map_alpha(session, settings, w.alpha)
    manager = w.actor(w.manager)
    plan = plans.create_plan(session, manager, partner_id=w.alpha.id, title="Alpha Q3")
    plans.add_account(session, manager, plan, "001GLOBEX")
    call = plans.add_action(
        session, manager, plan, title="Joint call", owner=f"ours:{w.seller.id}", due_on=date(2025, 3, 31)
    )
    plans.add_action(session, manager, plan, title="Intro", owner=f"partner:{w.alpha_user.id}", due_on=None)
    plans.set_status(session, manager, plan, call.id, "in_progress")
    plans.set_status(session, manager, plan, call.id, "done")
    plans.create_plan(session, manager, partner_id=w.beta.id, title="Beta only")
    for actor in (SYSTEM, w.actor(w.alpha_user)):
        document = qbr_pack(session, actor, settings, w.alpha.id, Q1, date(2025, 6, 1))
        assert _figures(document, "Joint plans") == {
            "Plans": "1",
            "Accounts in them": "1",
            "Actions done": "1 of 2",
        }
        (section,) = [s for s in document.sections if s.title == "Joint plans"]
        assert section.rows == [
            ("Alpha Q3", "Joint call", w.seller.name, "2025-03-31", "done"),
            ("Alpha Q3", "Intro", w.alpha_user.name, "", "open"),
        ]
