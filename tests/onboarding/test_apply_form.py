"""The public application form: anyone may apply; bots, link spam and floods are turned away."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from ecoops.actors import SYSTEM
from ecoops.audit import AuditEvent
from ecoops.events import Event, EventKind
from ecoops.onboarding import form_guard
from ecoops.onboarding.applications import domain_of
from ecoops.onboarding.models import PartnerApplication
from ecoops.partners import programs
from tests.factories import csrf_from
from tests.onboarding.helpers import form_fields


@pytest.fixture
def program(session):
    return programs.create_program(session, SYSTEM, name="Resellers", tiers=["Registered", "Gold"])


def _post(client, fields):
    token = csrf_from(client.get("/login").text)
    return client.post("/apply", data=fields | {"csrf_token": token})


def _stored(session) -> int:
    return session.scalar(select(func.count()).select_from(PartnerApplication)) or 0


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("https://www.Acme.io/partners?x=1", "acme.io"),
        ("acme.co.uk", "acme.co.uk"),
        ("http://shop.acme.com:8080", "shop.acme.com"),
        ("not a website", ""),
        ("localhost", ""),
        ("", ""),
    ],
)
def test_the_domain_is_read_from_the_website_as_typed(typed, domain):
    assert domain_of(typed) == domain


@pytest.mark.all_backends
def test_anyone_applies_and_the_application_is_stored_announced_and_audited(
    client, session, settings, program
):
    page = client.get("/apply")
    assert page.status_code == 200
    assert re.search(rf'<option value="{program.id}"\s*>Resellers</option>', page.text)
    response = _post(client, form_fields(settings, program.id))
    assert response.status_code == 200
    assert "We received the application of Acme Integrations" in response.text
    application = session.scalars(select(PartnerApplication)).one()
    assert (application.company, application.domain, application.country) == (
        "Acme Integrations",
        "acme-integrations.example",
        "DE",
    )
    assert (application.status, application.program_id, application.contact_role) == (
        "submitted",
        program.id,
        "sales",
    )
    assert application.submitted_from == "testclient"
    (event,) = session.scalars(
        select(Event).where(Event.kind == EventKind.PARTNER_APPLICATION_SUBMITTED.value)
    ).all()
    assert event.payload["company"] == "Acme Integrations"
    assert event.payload["program"] == "Resellers"
    assert event.payload["link"] == f"/applications/{application.id}"
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == str(application.id))) == (
        "partner_application.submitted"
    )


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({form_guard.HONEYPOT_FIELD: "+1 555 0100"}, 400, "could not be accepted"),
        ({"stamp": "forged"}, 400, "the form is damaged"),
        ({"stamp": "now"}, 400, "sent too quickly"),
        ({"stamp": "old"}, 400, "more than a day old"),
        ({"message": "see http://a.example http://b.example www.c.example"}, 400, "at most 2 links, not 3"),
    ],
)
def test_machines_and_link_spam_are_refused_and_nothing_is_stored(
    client, session, settings, program, changes, status, says
):
    stamps = {
        "now": form_guard.form_stamp(settings, time.time()),
        "old": form_guard.form_stamp(settings, time.time() - form_guard.MAX_FORM_AGE_SECONDS - 5),
    }
    if changes.get("stamp") in stamps:
        changes = {"stamp": stamps[changes["stamp"]]}
    response = _post(client, form_fields(settings, program.id, **changes))
    assert response.status_code == status
    assert says in response.text
    assert _stored(session) == 0


def test_two_links_are_still_welcome(client, session, settings, program):
    fields = form_fields(settings, program.id, message="https://acme.example and https://acme.example/cases")
    assert _post(client, fields).status_code == 200
    assert _stored(session) == 1


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("company", "  ", "a company name of 1 to 200 characters"),
        ("website", "acme", "your company&#39;s website, such as acme.com"),
        ("country", "Germany", "a two-letter country code"),
        ("partner_type", "friend", "choose the kind of partnership"),
        ("email", "ana-at-acme", "an e-mail address such as"),
        ("contact_role", "ceo", "unknown contact role"),
        ("program_id", "999999", "choose the program you apply to"),
    ],
)
def test_a_wrong_field_is_named_beside_it_and_the_form_keeps_what_was_typed(
    client, session, settings, program, field, value, says
):
    response = _post(client, form_fields(settings, program.id, **{field: value}))
    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">' in response.text
    assert says in response.text
    assert 'value="Ana Applicant"' in response.text
    assert _stored(session) == 0


def test_a_retired_program_takes_no_applications(client, session, settings, program):
    programs.set_program_retired(session, SYSTEM, program, retired=True, today=settings.today())
    session.flush()
    assert "no partner program is open" in client.get("/apply").text
    assert _post(client, form_fields(settings, program.id)).status_code == 400


@pytest.mark.all_backends
def test_one_address_sends_a_few_applications_an_hour_then_waits(client, session, settings, program):
    for n in range(form_guard.APPLICATIONS_PER_WINDOW):
        fields = form_fields(settings, program.id, email=f"ana{n}@acme.example")
        assert _post(client, fields).status_code == 200
    response = _post(client, form_fields(settings, program.id, email="one-more@acme.example"))
    assert response.status_code == 429
    assert "too many applications" in response.text
    assert _stored(session) == form_guard.APPLICATIONS_PER_WINDOW


def test_a_bot_spends_the_budget_too(client, session, settings, program):
    trapped = form_fields(settings, program.id, **{form_guard.HONEYPOT_FIELD: "x"})
    for _ in range(form_guard.APPLICATIONS_PER_WINDOW):
        assert _post(client, trapped).status_code == 400
    assert _post(client, form_fields(settings, program.id)).status_code == 429


@pytest.mark.parametrize(
    ("seconds", "refused"), [(2.9, True), (3.0, False), (86_400.0, False), (86_400.5, True)]
)
def test_the_fill_time_boundaries(settings, monkeypatch, seconds, refused):
    shown = 1_750_000_000
    stamp = form_guard.form_stamp(settings, shown)
    monkeypatch.setattr(form_guard.time, "time", lambda: shown + seconds)
    if refused:
        with pytest.raises(form_guard.LooksLikeSpam):
            form_guard.check_human(settings, stamp=stamp, honeypot="", texts=[])
    else:
        form_guard.check_human(settings, stamp=stamp, honeypot="", texts=[])
