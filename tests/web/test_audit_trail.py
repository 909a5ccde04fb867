"""The audit trail page and API: newest first, filtered by action and by actor."""

from datetime import date

from ecoops.accounts.service import user_actor
from ecoops.actors import Role
from ecoops.partners import service as partners
from tests.factories import bearer, make_partner, make_user, sign_in


def test_filters_by_action_and_actor(client, session):
    manager = make_user(session, Role.PARTNER_MANAGER, email="mover@example.com")
    partner = make_partner(session, name="Audited", stage="signed", stage_since=date(2025, 1, 1))
    partners.change_stage(
        session, user_actor(manager), partner, to="onboarding", on=date(2025, 2, 1), today=date(2025, 3, 1)
    )
    auditor = make_user(session, Role.OPS)
    sign_in(client, auditor.email)

    moves = client.get("/audit?action=partner.stage_changed").text
    assert "mover@example.com" in moves and "to_stage: onboarding" in moves
    assert "user.created" not in moves.split("<tbody>")[1]
    by_mover = client.get("/audit?by=MOVER@").text.split("<tbody>")[1]
    assert "partner.stage_changed" in by_mover and "session.signed_in" not in by_mover
    assert "No event matches" in client.get("/audit?action=nothing.happened").text

    body = client.get(
        "/api/v1/audit-events?action=partner.stage_changed", headers=bearer(session, auditor)
    ).json()
    assert body["total"] == 1
    event = body["items"][0]
    assert (event["actor_label"], event["target_type"], event["target_id"]) == (
        "mover@example.com",
        "partner",
        str(partner.id),
    )
    assert event["details"]["from_stage"] == "signed" and event["at"]
    newest_first = client.get("/api/v1/audit-events", headers=bearer(session, auditor)).json()["items"]
    assert [e["id"] for e in newest_first] == sorted((e["id"] for e in newest_first), reverse=True)
