"""Every filter form on the staff pages, submitted as a browser does with the values left in place
(empty selects, dates and search boxes sent as `name=`), answers the page: an empty field is "not given"."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.web.blank_query import BlankQueryValues, without_blanks
from tests.asgi import run_asgi
from tests.factories import make_account, make_opportunity, make_partner, make_user, sign_in
from tests.web.page_forms import get_forms

PAGES_WITH_FILTERS = [
    "/partners",
    "/accounts",
    "/referrals",
    "/outbound-referrals/new",
    "/audit",
    "/automation/deliveries",
    "/automation/deliveries/dead",
    "/attribution/touches",
    "/mapping/co-sell",
    "/dashboards/overview",
    "/goals",
    "/dashboards/opportunities/006FORMS",
]


@pytest.fixture
def admin(session: Session, client: TestClient) -> TestClient:
    partner = make_partner(session, name="Forms Partner")
    make_account(session, crm_id="001FORMS", owner="Ana")
    make_opportunity(session, crm_id="006FORMS", account_crm_id="001FORMS", partner_source=partner.name)
    user = make_user(session, Role.ADMIN)
    session.flush()
    sign_in(client, user.email)
    return client


@pytest.mark.parametrize("path", PAGES_WITH_FILTERS)
def test_each_filter_form_left_as_it_is_answers_its_page(admin: TestClient, path: str) -> None:
    page = admin.get(path)
    assert page.status_code == 200, page.text
    forms = get_forms(f"http://testserver{path}", page.text)
    assert forms, f"{path} has no GET form"
    for form in forms:
        emptied = form.url(**{name: "" for name, _ in form.fields})  # every field cleared
        for url in (form.url(), emptied):
            answer = admin.get(url)
            assert answer.status_code == 200, (url, answer.text[-500:])


def test_blank_pairs_are_dropped_and_filled_ones_kept_exactly() -> None:
    assert without_blanks(b"a=&b=1&c&d=%20x&&e=") == b"b=1&d=%20x"
    assert without_blanks(b"partner=&partner=3&as_of=") == b"partner=3"


def test_the_api_keeps_its_query_as_sent() -> None:
    # API clients write their URLs themselves: a blank there is a value, validated like any other.
    seen: dict[str, bytes] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen[scope["path"]] = scope["query_string"]

    for path in ("/api/v1/metrics", "/psi/v1/connect", "/dashboards/overview"):
        scope = {"type": "http", "path": path, "query_string": b"as_of=&partner=3"}
        run_asgi(BlankQueryValues(app), scope, None, None)
    assert seen == {
        "/api/v1/metrics": b"as_of=&partner=3",
        "/psi/v1/connect": b"as_of=&partner=3",
        "/dashboards/overview": b"partner=3",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/partners?program_id=",
        "/partners?owner_id=",
        "/referrals?partner_id=",
        "/automation/deliveries?rule=",
    ],
)
def test_an_id_filter_the_database_cannot_hold_is_a_422_page_not_a_500(admin: TestClient, path: str) -> None:
    for value in ("99999999999999999999", "2147483648", "abc"):
        answer = admin.get(path + value)
        assert answer.status_code == 422, (path + value, answer.text[-300:])
        assert "invalid input" in answer.text
