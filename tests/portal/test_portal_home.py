"""The portal landing page shows a partner user its own partner only; internal users are sent home."""

from datetime import date

import pytest
from sqlalchemy import event

from ecoops.accounts.service import partner_user_actor, user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.partners import service as partners
from ecoops.partners.tier_terms import TierTerms, set_tier_terms
from ecoops.permissions import NotFound
from ecoops.portal.service import portal_home
from tests.factories import make_partner, make_partner_user, make_user, sign_in


def test_partner_user_sees_its_partner_and_manager(client, session):
    manager = make_user(session, Role.PARTNER_MANAGER, name="Maria Manager", email="maria@example.com")
    program = partners.create_program(session, user_actor(manager), name="Resell", tiers=["Silver", "Gold"])
    own = make_partner(session, name="Own Partner", owner_id=manager.id, tiers=[program.tiers[1]])
    make_partner(session, name="Other Partner")
    sign_in(client, make_partner_user(session, own).email)

    page = client.get("/portal").text
    assert "Own Partner" in page and "Resell · Gold" in page and "active since 2025-01-01" in page
    assert "Maria Manager" in page and "mailto:maria@example.com" in page
    assert "Other Partner" not in page
    assert client.get("/partners").status_code == 403


def test_partner_user_sees_its_own_tiers_benefits_only(client, session):
    program = partners.create_program(session, SYSTEM, name="Resell", tiers=["Silver", "Gold"])
    silver, gold = program.tiers
    set_tier_terms(session, SYSTEM, silver, TierTerms(commission_class="C1", portal_content="Silver kit"))
    set_tier_terms(
        session,
        SYSTEM,
        gold,
        TierTerms(registration_days=120, mdf_eligible=True, portal_content="Gold MDF form"),
    )
    own = make_partner(session, name="Own Partner", tiers=[gold])
    make_partner(session, name="Other Partner", tiers=[silver])
    sign_in(client, make_partner_user(session, own).email)
    page = client.get("/portal").text
    assert "Your Gold benefits in Resell" in page
    assert "protected for 120 days once approved" in page and "Gold MDF form" in page
    assert "Silver kit" not in page and "C1" not in page


def test_home_leads_to_the_shared_accounts_the_overlaps_tab_shows(client, session):
    sign_in(client, make_partner_user(session, make_partner(session)).email)
    home = client.get("/portal").text
    assert 'href="/portal/overlaps"' in home.split('id="shared-accounts"')[1]
    assert "will appear here" not in home
    assert client.get("/portal/overlaps").status_code == 200


def test_without_a_manager_the_page_says_so(client, session):
    sign_in(client, make_partner_user(session, make_partner(session)).email)
    assert "No partner manager is assigned yet" in client.get("/portal").text


def test_internal_users_are_sent_to_their_start_page(client, session):
    sign_in(client, make_user(session, Role.SALES).email)
    response = client.get("/portal")
    assert (response.status_code, response.headers["location"]) == (303, "/")


def test_another_partners_record_is_not_found_for_a_partner_user(session):
    own, other = make_partner(session), make_partner(session, stage_since=date(2025, 2, 1))
    actor = partner_user_actor(make_partner_user(session, own))
    assert partners.get_partner(session, actor, own.id).id == own.id
    with pytest.raises(NotFound):
        partners.get_partner(session, actor, other.id)
    found = partners.search_partners(session, actor, partners.PartnerFilters())
    assert [p.id for p in found.items] == [own.id]


def _tables_read(connection, work) -> str:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    return "\n".join(statements)


def test_the_home_leaves_the_partners_history_unread_where_the_partner_page_reads_it(connection, session):
    # The home is every partner user's first page: its partner's stage and change history, read and not
    # shown, was a twentieth of a loaded web process.
    manager = make_user(session, Role.PARTNER_MANAGER)
    program = partners.create_program(session, SYSTEM, name="Resell", tiers=["Silver"])
    own = make_partner(session, owner_id=manager.id, tiers=[program.tiers[0]])
    partners.change_stage(session, SYSTEM, own, to="producing", on=date(2025, 3, 1), today=date(2025, 3, 2))
    actor = partner_user_actor(make_partner_user(session, own))
    session.flush()
    session.expire_all()

    home_sql = _tables_read(connection, lambda: portal_home(session, actor))
    assert "partner_stage_changes" not in home_sql and "partner_changes" not in home_sql
    assert "memberships" in home_sql and "tiers" in home_sql
    session.expire_all()
    page_sql = _tables_read(connection, lambda: partners.get_partner(session, SYSTEM, own.id))
    assert "partner_stage_changes" in page_sql and "partner_changes" in page_sql
