"""The sequence editor through the web app (htmx partials and plain posts) and the partner page's history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ecoops.actors import Role
from ecoops.automation.deliveries import Delivery, DeliveryStatus
from ecoops.automation.nurture.models import NurtureSequence
from ecoops.automation.nurture.runner import run_nurture
from tests.automation.nurture.conftest import at, move, onboarding
from tests.factories import csrf_from, make_user, sign_in

pytestmark = pytest.mark.all_backends

HTMX = {"hx-request": "true"}


@pytest.fixture
def signed_in(session, client):
    make_user(session, Role.PARTNER_MANAGER, email="pm@example.com")
    session.flush()
    sign_in(client, "pm@example.com")
    return csrf_from(client.get("/automation/nurture").text)


def test_create_a_sequence_add_steps_with_htmx_and_switch_it_on(session, client, signed_in):
    created = client.post(
        "/automation/nurture", data={"name": "Onboarding", "stage": "onboarding", "csrf_token": signed_in}
    )
    assert created.status_code == 303
    sequence = session.scalars(select(NurtureSequence)).one()
    assert created.headers["location"] == f"/automation/nurture/{sequence.id}"

    form = {"channel": "partner_email", "body": "Hello {{ recipient_name }}", "csrf_token": signed_in}
    for delay, subject in (("7", "Check-in"), ("0", "Welcome {{ partner_name }}")):
        added = client.post(
            f"/automation/nurture/{sequence.id}/steps",
            data=form | {"delay_days": delay, "subject": subject},
            headers=HTMX,
        )
        assert added.status_code == 200
        assert added.text.lstrip().startswith('<div id="nurture-steps">')  # the part htmx swaps in
    # Day 0 first whatever the order they were added in; subjects previewed with sample values.
    assert added.text.index("Day 0") < added.text.index("Day 7")
    assert "Welcome Acme Cloud" in added.text

    refused = client.post(
        f"/automation/nurture/{sequence.id}/steps",
        data=form | {"delay_days": "-3", "subject": "Too early"},
        headers=HTMX,
    )
    assert "the delay cannot be negative" in refused.text
    assert 'value="Too early"' in refused.text  # what was typed stays in the form
    assert len(sequence.steps) == 2

    switched = client.post(
        f"/automation/nurture/{sequence.id}/enabled", data={"enabled": "true", "csrf_token": signed_in}
    )
    assert switched.status_code == 303
    session.refresh(sequence)
    assert sequence.is_enabled and sequence.enabled_at is not None
    listing = client.get("/automation/nurture").text
    assert "day 0, day 7" in listing


def test_a_refused_rename_changes_nothing(session, client, signed_in):
    onboarding(session, name="Onboarding")
    recruit = onboarding(session, name="Recruiting", stage="recruiting")
    session.flush()

    response = client.post(
        f"/automation/nurture/{recruit.id}",
        data={"name": "ONBOARDING", "stage": "prospect", "description": "x", "csrf_token": signed_in},
    )

    assert response.status_code == 400
    assert "a sequence named &#39;ONBOARDING&#39; already exists" in response.text
    session.refresh(recruit)
    assert (recruit.name, recruit.stage, recruit.description) == ("Recruiting", "recruiting", "")


def test_the_partner_page_shows_the_enrolment_and_everything_sent(session, client, signed_in, settings, ws):
    onboarding(session)
    move(session, ws.partner, "onboarding", date(2030, 3, 2))
    run_nurture(session, settings, at(date(2030, 3, 2)))
    first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
    first.status, first.delivered_at = DeliveryStatus.DELIVERED.value, at(date(2030, 3, 2), 13)
    session.flush()

    page = client.get(f"/partners/{ws.partner.id}").text

    section = page[page.index("Nurture and messages sent") :]
    assert "Onboarding" in section and "2030-03-02" in section
    assert "Welcome to the program, Acme Cloud" in section
    assert section.count("pat@acme.example") == 1 and section.count("quinn@acme.example") == 1
    assert "delivered" in section and "pending" in section
    assert "e-mailed 2 partner contact(s)" in section


def test_the_partner_page_says_when_nothing_was_sent(session, client, signed_in, ws):
    page = client.get(f"/partners/{ws.partner.id}").text
    assert "Not enrolled in a nurture sequence" in page
    assert "No message about Acme Cloud has been sent yet." in page
