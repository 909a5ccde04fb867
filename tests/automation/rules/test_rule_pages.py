"""The rule editor through the web app: create with a clear refusal of bad input, try on the last 30
days (nothing sent), switch on, edit, delete; my tasks; linking Slack ids."""

from __future__ import annotations

from sqlalchemy import func, select

from ecoops.actors import Role
from ecoops.automation.deliveries import Delivery
from ecoops.automation.rules import Rule
from ecoops.automation.tasks import Task, add_task
from ecoops.events import EventKind, emit
from tests.factories import csrf_from, make_user, sign_in


def form(**fields: str) -> dict[str, str]:
    base = {
        "name": "Big customer overlaps",
        "trigger": "overlap.began",
        "population": "Customers",
        "min_amount": "5,000",
        "action_0_kind": "slack",
        "action_0_to": "account_owner",
        "action_1_kind": "email",
        "action_1_to": "partner_manager",
    }
    return base | fields


def test_create_try_switch_on_edit_and_delete(client, session, ws):
    admin = make_user(session, Role.PARTNER_MANAGER, email="pm@example.com")
    emit(
        session,
        EventKind.OVERLAP_BEGAN,
        partner_id=ws.partner.id,
        account_crm_id="A1",
        account_name="Acme",
        account_owner="Olga Owner",
        population="Customers",
        amount="7500.00",
        partner_name="Alpha Partners",
    )
    emit(
        session,
        EventKind.OVERLAP_BEGAN,
        partner_id=ws.partner.id,
        account_crm_id="A2",
        account_name="Small",
        account_owner="Nobody",
        population="Customers",
        amount="10.00",
        partner_name="Alpha Partners",
    )
    session.flush()
    sign_in(client, admin.email)
    token = csrf_from(client.get("/automation/rules/new").text)

    refused = client.post("/automation/rules", data=form(action_0_to="partner_contacts", csrf_token=token))
    assert refused.status_code == 400
    assert "a slack action cannot go to &#39;partner contacts&#39;" in refused.text
    assert 'value="Big customer overlaps"' in refused.text  # what was typed is kept
    assert session.scalar(select(func.count()).select_from(Rule)) == 0

    created = client.post("/automation/rules", data=form(csrf_token=token))
    assert created.status_code == 303
    rule = session.scalars(select(Rule)).one()
    assert (rule.enabled, rule.conditions) == (False, {"population": "Customers", "min_amount": "5000"})

    detail = client.get(f"/automation/rules/{rule.id}").text
    # Recipients resolved on the latest stored event: its owner is no user of ours, and the page says so.
    assert "not sent: account owner &#39;Nobody&#39; is not one of our active users" in detail
    assert "Maria Manager &lt;maria@example.com&gt; (partner manager)" in detail
    tried = client.get(f"/automation/rules/{rule.id}/try").text
    assert "2 overlap.began events in the last 30 days" in tried
    assert (
        "would have sent 2 messages" in tried
    )  # Acme to Olga on Slack and to Maria by e-mail; Small fails the amount
    assert "New overlap: Acme is in Alpha Partners&#39;s Customers" in tried
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0

    client.post(f"/automation/rules/{rule.id}/enabled", data={"enabled": "true", "csrf_token": token})
    session.refresh(rule)
    assert rule.enabled and rule.enabled_since is not None

    edited = client.post(
        f"/automation/rules/{rule.id}", data=form(name="Renamed", min_amount="", csrf_token=token)
    )
    assert edited.status_code == 303
    session.refresh(rule)
    assert (rule.name, rule.conditions) == ("Renamed", {"population": "Customers"})

    client.post(f"/automation/rules/{rule.id}/delete", data={"csrf_token": token})
    assert session.scalar(select(func.count()).select_from(Rule)) == 0


def test_the_template_preview_renders_the_latest_event_or_names_the_error(client, session, ws):
    admin = make_user(session, Role.ADMIN)
    emit(
        session,
        EventKind.PARTNER_STAGE_CHANGED,
        partner_id=ws.partner.id,
        partner_name="Alpha Partners",
        from_stage="signed",
        to_stage="active",
        on="2026-01-01",
    )
    session.flush()
    sign_in(client, admin.email)
    token = csrf_from(client.get("/automation/rules/new").text)
    shown = client.post(
        "/automation/template-preview",
        data={
            "trigger": "partner.stage_changed",
            "subject_template": "{{ partner_name }} is now {{ to_stage }}",
            "csrf_token": token,
        },
    )
    assert "Alpha Partners is now active" in shown.text
    broken = client.post(
        "/automation/template-preview",
        data={"trigger": "partner.stage_changed", "subject_template": "{% if %}", "csrf_token": token},
    )
    assert "template error on line 1" in broken.text
    none_yet = client.post(
        "/automation/template-preview", data={"trigger": "opportunity.won", "csrf_token": token}
    )
    assert "No opportunity.won event is stored yet" in none_yet.text


def test_my_tasks_lists_only_mine_and_ticks_off(client, session, ws):
    mine = add_task(session, uid="t1", user_id=ws.owner.id, title="Follow up Acme", link="/accounts/1")
    add_task(session, uid="t2", user_id=ws.manager.id, title="Someone else's")
    session.flush()
    sign_in(client, ws.owner.email)
    page = client.get("/tasks").text
    assert "Follow up Acme" in page and "Someone else" not in page
    token = csrf_from(page)
    assert (
        client.post(f"/tasks/{mine.id}/done", data={"done": "true", "csrf_token": token}).status_code == 303
    )
    session.refresh(mine)
    assert mine.done_at is not None
    assert "“Follow up Acme” done." in client.get("/tasks").text  # the flash, once
    assert "Follow up Acme" not in client.get("/tasks").text
    other = session.scalars(select(Task).where(Task.uid == "t2")).one()
    assert (
        client.post(f"/tasks/{other.id}/done", data={"done": "true", "csrf_token": token}).status_code == 404
    )


def test_linking_slack_ids_refuses_bad_and_taken_ids(client, session, ws):
    admin = make_user(session, Role.ADMIN)
    session.flush()
    sign_in(client, admin.email)
    token = csrf_from(client.get("/automation/slack-users").text)
    client.post(
        f"/automation/slack-users/{ws.manager.id}", data={"slack_user_id": "u0maria", "csrf_token": token}
    )
    session.refresh(ws.manager)
    assert ws.manager.slack_user_id == "U0MARIA"
    assert "Maria Manager: linked to U0MARIA." in client.get("/automation/slack-users").text
    client.post(
        f"/automation/slack-users/{ws.manager.id}", data={"slack_user_id": "U0OLGA", "csrf_token": token}
    )
    assert "U0OLGA is already linked to Olga Owner" in client.get("/automation/slack-users").text
    client.post(
        f"/automation/slack-users/{ws.manager.id}", data={"slack_user_id": "#general", "csrf_token": token}
    )
    assert "not a Slack member id" in client.get("/automation/slack-users").text
    session.refresh(ws.manager)
    assert ws.manager.slack_user_id == "U0MARIA"


def test_the_api_creates_reads_and_tries_a_rule(client, session, ws):
    from tests.factories import bearer

    headers = bearer(session, ws.manager)
    emit(
        session, EventKind.PARTNER_INACTIVE, partner_id=ws.partner.id, partner_name="Alpha Partners", days=40
    )
    session.flush()
    bad = client.post(
        "/api/v1/automation/rules",
        headers=headers,
        json={
            "name": "x",
            "trigger": "partner.inactive",
            "conditions": {"colour": "red"},
            "actions": [{"kind": "task", "to": "partner_manager"}],
        },
    )
    assert (bad.status_code, bad.json()["detail"]) == (400, "unknown condition 'colour'")
    made = client.post(
        "/api/v1/automation/rules",
        headers=headers,
        json={
            "name": "Quiet partners",
            "trigger": "partner.inactive",
            "conditions": {"partner_type": "technology"},
            "actions": [{"kind": "task", "to": "partner_manager", "due_days": 5}],
        },
    )
    assert made.status_code == 201
    rule = made.json()
    assert (rule["enabled"], rule["conditions"], rule["actions"][0]["due_days"]) == (
        False,
        {"partner_type": "technology"},
        5,
    )
    assert (
        client.get(f"/api/v1/automation/rules/{rule['id']}", headers=headers).json()["name"]
        == "Quiet partners"
    )
    tried = client.get(f"/api/v1/automation/rules/{rule['id']}/preview", headers=headers).json()
    assert tried["events"] == 1
    (plan,) = tried["planned"]
    assert (plan["action"], plan["target"], plan["problem"]) == ("task", str(ws.manager.id), "")
    assert plan["subject"] == "Alpha Partners has been quiet for 40 days"
    assert session.scalar(select(func.count()).select_from(Task)) == 0
