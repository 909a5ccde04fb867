"""The import page: upload, see the recognised format and preview, dry-run, commit, history and report."""

import csv
import io
import json
import re

from sqlalchemy import select

from ecoops.actors import Role
from ecoops.crm.models import Account, ImportRun
from tests.factories import csrf_from, make_user, sign_in

ACCOUNTS = (
    "Record ID,Company name,Company Domain Name,Create Date\r\n"
    "101,Acme,acme.com,2024-01-15\r\n"
    "102,Globex,globex.com,2024-02-01\r\n"
)
BAD = ACCOUNTS + "103,=cmd|' /C calc'!A0,bad.com,2024-13-45\r\n"


def _upload(client, text: str, name: str = "companies.csv", **form: str):
    token = csrf_from(client.get("/imports").text)
    files = {"file": (name, text.encode(), "text/csv")}
    return client.post("/imports", data={"csrf_token": token, **form}, files=files)


def _run(client, review_url: str, action: str, **form: str):
    page = client.get(review_url)
    mapping = re.search(r'name="mapping" value="([^"]*)"', page.text).group(1).replace("&#34;", '"')
    data = {"csrf_token": csrf_from(page.text), "action": action, "mapping": mapping, **form}
    return client.post(review_url.split("?")[0], data=data)


def test_upload_preview_dry_run_commit(client, session, settings):
    sign_in(client, make_user(session, Role.OPS).email)
    uploaded = _upload(client, ACCOUNTS)
    assert uploaded.status_code == 303
    review_url = uploaded.headers["location"]
    review = client.get(review_url)
    assert review.status_code == 200
    assert "hubspot · accounts" in review.text and "UTF-8" in review.text
    assert "<td>acme.com</td>" in review.text  # the preview shows the parsed records

    dry = _run(client, review_url, "dry_run")
    assert dry.status_code == 200 and "Dry run" in dry.text
    assert re.search(r"<dt>New</dt><dd>2</dd>", dry.text)
    assert session.scalars(select(Account)).all() == []

    committed = _run(client, review_url, "commit")
    assert committed.status_code == 303
    run_page = client.get(committed.headers["location"])
    assert "committed" in run_page.text and "Imported 2 rows: 2 new, 0 updated." in run_page.text
    assert sorted(session.scalars(select(Account.name))) == ["Acme", "Globex"]
    assert client.get(review_url).status_code == 404  # the upload is removed once committed
    assert "companies.csv" in client.get("/imports").text
    assert list(settings.uploads_dir.iterdir()) == []


def test_a_refused_file_shows_its_errors_and_the_report_downloads(client, session):
    sign_in(client, make_user(session, Role.ADMIN).email)
    review_url = _upload(client, BAD).headers["location"]
    dry = _run(client, review_url, "dry_run")
    assert "would be refused whole" in dry.text and "no such date" in dry.text
    dry_report = client.get(review_url.split("?")[0] + "/errors.csv")
    assert dry_report.status_code == 200

    committed = _run(client, review_url, "commit")
    run_id = int(committed.headers["location"].rsplit("/", 1)[1])
    assert session.get(ImportRun, run_id).status == "rejected"
    assert session.scalars(select(Account)).all() == []
    report = client.get(f"/imports/{run_id}/errors.csv")
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows == [
        ["line", "column", "value", "problem"],
        ["4", "Create Date", "2024-13-45", "no such date: '2024-13-45'"],
    ]


def test_accepting_the_valid_rows_from_the_page(client, session):
    sign_in(client, make_user(session, Role.OPS).email)
    review_url = _upload(client, BAD).headers["location"]
    committed = _run(client, review_url, "commit", accept_valid="true")
    run_id = int(committed.headers["location"].rsplit("/", 1)[1])
    stored = session.get(ImportRun, run_id)
    assert (stored.status, stored.new, stored.rejected) == ("committed", 2, 1)


def test_an_unknown_file_is_mapped_with_the_form(client, session):
    sign_in(client, make_user(session, Role.OPS).email)
    review_url = _upload(client, "Kundennummer,Firma\r\nK1,Erste GmbH\r\n").headers["location"]
    unknown = client.get(review_url)
    assert unknown.status_code == 400 and "not an export we recognise" in unknown.text
    assert '<option value="Kundennummer"' in unknown.text
    mapped_url = review_url + "?mapped=1&kind=accounts&col_crm_id=Kundennummer&col_name=Firma"
    mapped = client.get(mapped_url)
    assert mapped.status_code == 200 and "custom · accounts" in mapped.text
    assert json.loads(
        re.search(r'name="mapping" value="([^"]*)"', mapped.text).group(1).replace("&#34;", '"')
    ) == {
        "kind": "accounts",
        "mapped": "1",
        "col_crm_id": "Kundennummer",
        "col_name": "Firma",
    }
    assert _run(client, mapped_url, "commit").status_code == 303
    assert session.scalar(select(Account.name)) == "Erste GmbH"


def test_sales_cannot_import(client, session):
    sign_in(client, make_user(session, Role.SALES).email)
    assert client.get("/imports").status_code == 403
