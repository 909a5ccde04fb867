"""The issue's done-when path through the web app: a partner manager uploads a partner's export, sees
the overlap matrix, opens a cell, sees why two records matched, rejects a match that stays rejected
after a re-run, and exports the cell as CSV with formulas neutralised; the same through the API."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.mapping import runs, uploads
from tests.factories import bearer, csrf_from, make_partner, make_user, sign_in
from tests.jobs.helpers import work_jobs
from tests.mapping.test_mapping_runs import HEADER, PARTNER_ROWS, our_accounts, write


def test_upload_matrix_why_reject_and_export(client: TestClient, session: Session, app: FastAPI) -> None:
    our_accounts(session)
    partner = make_partner(session, name="Northwind")
    manager = make_user(session, Role.PARTNER_MANAGER)
    session.flush()
    sign_in(client, manager.email)
    home = client.get(f"/mapping/partners/{partner.id}")
    rows = [*PARTNER_ROWS, "P9,=HYPERLINK(1),hooli.com,US,Prospects,=cmd"]
    body = (HEADER + "\n".join(rows) + "\n").encode()
    uploaded = client.post(
        f"/mapping/partners/{partner.id}/uploads",
        data={"csrf_token": csrf_from(home.text)},
        files={"file": ("northwind.csv", body, "text/csv")},
    )
    assert uploaded.status_code == 303

    page = client.get(f"/mapping/partners/{partner.id}")
    assert "7 accounts stored; mapping queued" in page.text and "lines 7" in page.text
    assert 'hx-trigger="every 1s"' in page.text and "Not mapped yet" in page.text  # the run, followed
    assert work_jobs(app.state.sessions, app.state.settings) == ["done"]
    page = client.get(f"/mapping/partners/{partner.id}")
    assert "every 1s" not in page.text  # the run after the upload has finished
    assert 'overlaps?ours=customers&amp;theirs=Customers"><strong class="count">2</strong>' in page.text

    cell = client.get(
        f"/mapping/partners/{partner.id}/overlaps", params={"ours": "customers", "theirs": "Customers"}
    )
    assert "same company domain acme.com" in cell.text and "Umbrella" in cell.text

    rejected = client.post(
        f"/mapping/partners/{partner.id}/decisions",
        data={
            "csrf_token": csrf_from(cell.text),
            "our_crm_id": "A1",
            "their_id": "P1",
            "decision": "rejected",
        },
    )
    assert rejected.status_code == 303
    runs.run_mapping(session, SYSTEM, partner.id)  # a later run keeps it rejected
    cell = client.get(
        f"/mapping/partners/{partner.id}/overlaps", params={"ours": "customers", "theirs": "Customers"}
    )
    assert "acme.com" not in cell.text and "Umbrella" in cell.text

    exported = client.get(f"/mapping/partners/{partner.id}/overlaps.csv", params={"ours": "prospects"})
    lines = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    hooli = next(line for line in lines if line["our_id"] == "A5")
    assert hooli["their_name"] == "'=HYPERLINK(1)" and hooli["Partner Rep"] == "'=cmd"


def test_api_matrix_overlaps_and_decisions(client: TestClient, session: Session, tmp_path: Path) -> None:
    our_accounts(session)
    partner = make_partner(session)
    headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS), "p.csv")
    runs.run_mapping(session, SYSTEM, partner.id)
    session.flush()

    matrix = client.get(f"/api/v1/mapping/partners/{partner.id}/matrix", headers=headers).json()
    cells = {(c["ours"], c["theirs"]): c["accounts"] for c in matrix["cells"]}
    assert cells[("prospects", "Prospects")] == 1
    pairs = client.get(
        f"/api/v1/mapping/partners/{partner.id}/overlaps", params={"theirs": "Prospects"}, headers=headers
    ).json()
    assert [(p["our_crm_id"], p["method"], p["explanation"]["domain_agreement"]) for p in pairs] == [
        ("A3", "domain", "same")
    ]
    made = client.post(
        f"/api/v1/mapping/partners/{partner.id}/decisions",
        json={"our_crm_id": "A5", "their_id": "P5", "decision": "confirmed", "reason": "same firm"},
        headers=headers,
    )
    assert made.status_code == 201
    pairs = client.get(f"/api/v1/mapping/partners/{partner.id}/overlaps", headers=headers).json()
    assert ("A5", "P5", "manual") in {(p["our_crm_id"], p["their_id"], p["method"]) for p in pairs}


def test_the_mapping_home_pages_partners_with_their_current_list_and_last_run(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    our_accounts(session)
    mapped = make_partner(session, name="Aaa Mapped")
    uploads.upload_partner_list(
        session, SYSTEM, mapped.id, write(tmp_path, PARTNER_ROWS[:2], "one.csv"), "one.csv"
    )
    runs.run_mapping(session, SYSTEM, mapped.id)
    uploads.upload_partner_list(
        session, SYSTEM, mapped.id, write(tmp_path, PARTNER_ROWS, "two.csv"), "two.csv"
    )
    last = runs.run_mapping(session, SYSTEM, mapped.id).run  # the second run, on the second list
    pending = make_partner(session, name="Aab Pending")
    uploads.upload_partner_list(
        session, SYSTEM, pending.id, write(tmp_path, PARTNER_ROWS[:3], "p.csv"), "p.csv"
    )
    for n in range(55):
        make_partner(session, name=f"Zz Partner {n:02}")
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    session.flush()

    first = client.get("/mapping").text
    rows = re.findall(r"<tr><td><a href=\"/mapping/partners/(\d+)\">(.*?)</a></td>(.*?)</tr>", first, re.S)
    assert len(rows) == 50 and "57 results · page 1 of 2" in first
    cells = {int(i): body for i, _name, body in rows}
    assert last is not None and "two.csv" in cells[mapped.id] and "one.csv" not in cells[mapped.id]
    assert f'<td class="num">{last.matches:,}</td>' in cells[mapped.id]
    assert "p.csv" in cells[pending.id] and cells[pending.id].count('<td class="num"></td>') == 1  # no run
    second = client.get("/mapping", params={"page": 2}).text
    assert len(re.findall(r'<a href="/mapping/partners/\d+">', second)) == 7 and "Zz Partner 54" in second
