"""What the field-mapping tests of both CRMs share: posting the page's form as a browser does, and
the accounts' industries as stored."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.crm.models import Account
from tests.factories import csrf_from


def post_mapping(client: TestClient, provider: str, **form: str) -> str:
    """The mapping form for `form["object"]` posted; the page it answers (a preview) or comes back to."""
    token = csrf_from(client.get(f"/crm/{provider}/fields?object={form['object']}").text)
    answer = client.post(f"/crm/{provider}/fields", data=form | {"csrf_token": token})
    if answer.status_code == 303:
        return html.unescape(client.get(answer.headers["location"]).text)
    assert answer.status_code == 200
    return html.unescape(answer.text)


def industries(session: Session) -> dict[str, str]:
    session.expire_all()
    return {a.name: a.industry for a in session.scalars(select(Account))}
