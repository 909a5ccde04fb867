"""The API and the pages that run the program: programs, tiers, and editing a partner with its history."""

from datetime import date

from ecoops.actors import SYSTEM, Role
from ecoops.partners import programs
from tests.factories import bearer, csrf_from, make_partner, make_user, sign_in


def test_programs_and_tiers_through_the_api(client, session):
    headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    created = client.post("/api/v1/programs", json={"name": "Resell", "tiers": ["Silver"]}, headers=headers)
    assert created.status_code == 201, created.text
    program_id = created.json()["id"]
    duplicate = client.post("/api/v1/programs", json={"name": "resell"}, headers=headers)
    assert (duplicate.status_code, duplicate.json()["detail"]) == (
        400,
        "name: a program named 'resell' already exists",
    )
    gold = client.post(f"/api/v1/programs/{program_id}/tiers", json={"name": "Gold"}, headers=headers).json()
    assert (gold["name"], gold["rank"], gold["retired_on"]) == ("Gold", 1, None)
    retired = client.patch(f"/api/v1/programs/{program_id}", json={"retired": True}, headers=headers).json()
    assert retired["retired_on"] is not None and retired["name"] == "Resell"
    active = client.get("/api/v1/programs", params={"include_retired": "false"}, headers=headers).json()
    assert active == []
    assert [p["name"] for p in client.get("/api/v1/programs", headers=headers).json()] == ["Resell"]
    assert (
        client.delete(f"/api/v1/programs/{program_id}/tiers/{gold['id']}", headers=headers).status_code == 204
    )
    assert client.delete(f"/api/v1/programs/{program_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/programs", headers=headers).json() == []


def test_a_program_in_use_is_refused_deletion_through_the_api(client, session):
    headers = bearer(session, make_user(session, Role.ADMIN))
    program = programs.create_program(session, SYSTEM, name="Used", tiers=["Silver"])
    make_partner(session, tiers=[program.tiers[0]])
    refused = client.delete(f"/api/v1/programs/{program.id}", headers=headers)
    assert refused.status_code == 400
    assert "retire it instead" in refused.json()["detail"]


def test_a_sales_user_may_read_but_not_change_programs(client, session):
    headers = bearer(session, make_user(session, Role.SALES))
    assert client.get("/api/v1/programs", headers=headers).status_code == 200
    assert client.post("/api/v1/programs", json={"name": "Nope"}, headers=headers).status_code == 403


def test_editing_a_partner_through_the_api_keeps_a_dated_history(client, session):
    ana = make_user(session, Role.PARTNER_MANAGER, name="Ana", email="ana@example.com")
    headers = bearer(session, ana)
    program = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver", "Gold"])
    partner = make_partner(session, owner_id=ana.id, tiers=[program.tiers[0]])
    response = client.patch(
        f"/api/v1/partners/{partner.id}",
        json={"tier_ids": [program.tiers[1].id], "owner_id": None, "changed_on": "2025-03-01"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["owner_id"] is None
    assert [
        (c["changed_on"], c["field"], c["old_value"], c["new_value"], c["recorded_by"])
        for c in body["changes"]
    ] == [
        ("2025-03-01", "owner", "Ana", "", "ana@example.com"),
        ("2025-03-01", "tier", "Resell · Silver", "Resell · Gold", "ana@example.com"),
    ]
    # Fields left out stay as they are: the name, and (not given this time) the owner.
    again = client.patch(
        f"/api/v1/partners/{partner.id}", json={"website": "https://p.example"}, headers=headers
    )
    assert (again.json()["name"], len(again.json()["changes"])) == (partner.name, 3)
    future = client.patch(
        f"/api/v1/partners/{partner.id}", json={"name": "Later", "changed_on": "2999-01-01"}, headers=headers
    )
    assert future.status_code == 400 and future.json()["detail"].startswith("changed_on: ")


def test_the_programs_page_creates_a_program_and_shows_refusals(client, session):
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    page = client.get("/programs").text
    created = client.post(
        "/programs", data={"name": "Tech", "tiers": "Registered\nPremier", "csrf_token": csrf_from(page)}
    )
    assert created.status_code == 303
    listed = client.get("/programs").text
    assert "Program Tech created with 2 tier(s)." in listed and "Premier" in listed
    client.post("/programs", data={"name": " ", "csrf_token": csrf_from(listed)})
    assert "Nothing was changed: name: must not be blank." in client.get("/programs").text


def test_the_edit_page_changes_the_tier_and_the_partner_page_shows_the_history_line(client, session):
    manager = make_user(session, Role.PARTNER_MANAGER, email="pm@example.com")
    program = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver", "Gold"])
    partner = make_partner(session, name="Acme", partner_type="reseller", tiers=[program.tiers[0]])
    sign_in(client, manager.email)
    form = client.get(f"/partners/{partner.id}/edit").text
    today = date.today().isoformat()
    assert f'name="changed_on" value="{today}"' in form
    response = client.post(
        f"/partners/{partner.id}/edit",
        data={
            "name": "Acme",
            "partner_type": "reseller",
            "tier_ids": [str(program.tiers[1].id)],
            "changed_on": today,
            "csrf_token": csrf_from(form),
        },
    )
    assert response.status_code == 303, response.text
    page = client.get(f"/partners/{partner.id}").text
    assert f"<strong>{today}</strong> — tier: Resell · Silver → Resell · Gold" in page
    assert "recorded by pm@example.com" in page
    refused = client.post(
        f"/partners/{partner.id}/edit",
        data={"name": "", "partner_type": "reseller", "changed_on": today, "csrf_token": csrf_from(form)},
    )
    assert refused.status_code == 400
    assert "Please correct this: name: a partner needs a name of 1 to 200 characters." in refused.text
