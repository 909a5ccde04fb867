"""The reports page: schedule a pack through its form (bad input named), pause it, see the periods sent."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.reports import packs
from tests.factories import csrf_from, make_user, sign_in
from tests.pdf_text import pdf_lines


def test_schedule_pause_and_list_report_packs(
    client: TestClient, session: Session, settings: Settings
) -> None:
    ops = make_user(session, Role.OPS)
    session.flush()
    sign_in(client, ops.email)
    page = client.get("/reports").text
    assert "No report pack is scheduled." in page and "No pack sent yet." in page
    form = {
        "name": "Board monthly",
        "audience": "leadership",
        "cadence": "monthly",
        "csrf_token": csrf_from(page),
    }
    refused = client.post("/reports/schedules", data=form | {"recipients": "board"}, follow_redirects=True)
    assert "Nothing was changed: recipients: &#39;board&#39; is not an e-mail address." in refused.text
    done = client.post(
        "/reports/schedules", data=form | {"recipients": "board@example.com"}, follow_redirects=True
    )
    assert "Report pack &#39;Board monthly&#39; scheduled monthly." in done.text
    (schedule,) = packs.schedules(session, SYSTEM)
    packs.send_report_packs(session, settings, datetime(2025, 5, 2, tzinfo=UTC))
    session.flush()
    listed = client.get("/reports").text
    assert "<td>Board monthly</td><td>2025-04</td>" in listed
    preview = client.get(f"/reports/schedules/{schedule.id}/preview").text
    assert "Board monthly: Partner program report (leadership)" in preview and "Open pipeline on" in preview
    pdf = client.get(f"/reports/schedules/{schedule.id}/preview.pdf")
    assert "Partner program report (leadership)" in pdf_lines(pdf.content)
    paused = client.post(
        f"/reports/schedules/{schedule.id}/active",
        data={"active": "false", "csrf_token": csrf_from(listed)},
        follow_redirects=True,
    )
    assert "Report pack &#39;Board monthly&#39; paused." in paused.text and ">paused<" in paused.text
