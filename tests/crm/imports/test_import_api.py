"""`POST /api/v1/imports`: 200 for a dry run, 201 when committed, 422 with the problems when refused."""

import json

from sqlalchemy import select

from ecoops.accounts import service as accounts
from ecoops.actors import Role
from ecoops.crm.models import Contact
from tests.factories import make_user

CONTACTS = "Id,AccountId,FirstName,LastName,Email\n003A01,001A01,Ada,Lovelace,ada@example.com\n"


def _token(session, role: Role) -> dict[str, str]:
    _, secret = accounts.create_api_token(session, accounts.user_actor(make_user(session, role)), name="t")
    session.flush()
    return {"authorization": f"Bearer {secret}"}


def test_dry_run_commit_and_refusal(client, session):
    headers = _token(session, Role.OPS)
    files = {"file": ("contacts.csv", CONTACTS.encode(), "text/csv")}
    dry = client.post("/api/v1/imports", headers=headers, files=files, data={"dry_run": "true"})
    assert (dry.status_code, dry.json()["new"], dry.json()["run_id"]) == (200, 1, None)
    done = client.post("/api/v1/imports", headers=headers, files=files)
    assert (done.status_code, done.json()["status"], done.json()["kind"]) == (201, "committed", "contacts")
    assert session.scalar(select(Contact.email)) == "ada@example.com"

    bad = {"file": ("contacts.csv", (CONTACTS + "003A02,001A01,Bob,,not-an-email\n").encode(), "text/csv")}
    refused = client.post("/api/v1/imports", headers=headers, files=bad)
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {
            "line": 3,
            "field": "Email",
            "value": "not-an-email",
            "message": "not an e-mail address: 'not-an-email'",
        }
    ]


def test_an_unrecognised_file_is_a_400(client, session):
    files = {"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    response = client.post("/api/v1/imports", headers=_token(session, Role.ADMIN), files=files)
    assert response.status_code == 400 and "not an export we recognise" in response.json()["detail"]


def test_sales_tokens_cannot_import(client, session):
    files = {"file": ("contacts.csv", CONTACTS.encode(), "text/csv")}
    assert client.post("/api/v1/imports", headers=_token(session, Role.SALES), files=files).status_code == 403


def test_a_mapping_of_the_wrong_shape_is_a_400_naming_it(client, session):
    """JSON not shaped `{"kind": …, "columns": {…}}` (schemathesis sent `false`) is refused, not a 500."""
    headers = _token(session, Role.OPS)
    files = {"file": ("contacts.csv", CONTACTS.encode(), "text/csv")}
    for mapping in (
        "false",
        "[]",
        '"contacts"',
        '{"kind": "contacts", "columns": ["Id"]}',
        '{"kind": "contacts", "stage_columns": 3}',
    ):
        response = client.post("/api/v1/imports", headers=headers, files=files, data={"mapping": mapping})
        assert response.status_code == 400, (mapping, response.text)
        assert response.json()["detail"] == 'the mapping: expected {"kind": …, "columns": {field: column}}'
    columns = {"crm_id": "Id", "account_crm_id": "AccountId", "email": "Email"}
    for order in (["MDY"], {"a": 1}, "YMD"):
        mapping = {"kind": "contacts", "columns": columns, "date_order": order}
        response = client.post(
            "/api/v1/imports", headers=headers, files=files, data={"mapping": json.dumps(mapping)}
        )
        assert response.status_code == 400, (order, response.text)
        assert "date_order must be MDY or DMY" in response.json()["detail"]
    mapping = {"kind": "contacts", "columns": columns, "date_order": "DMY"}
    response = client.post(
        "/api/v1/imports",
        headers=headers,
        files=files,
        data={"mapping": json.dumps(mapping), "dry_run": "true"},
    )
    assert response.status_code == 200, response.text
