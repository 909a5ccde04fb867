"""The portal's referrals: a partner user sees and answers its own partner's only, and admins invite."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ecoops.accounts.models import PartnerUser
from ecoops.accounts.service import user_actor
from ecoops.actors import Role
from ecoops.referrals import outbound
from ecoops.referrals.models import Via
from ecoops.referrals.submission import ReferralInput, submit
from tests.factories import PASSWORD, csrf_from, make_partner, make_partner_user, make_user, sign_in


def test_a_partner_user_submits_and_follows_its_referral(client, session, settings):
    manager = make_user(session, Role.PARTNER_MANAGER, name="Maria Manager")
    partner = make_partner(session, name="Own Partner", owner_id=manager.id)
    sign_in(client, make_partner_user(session, partner).email)
    form = client.get("/portal/referrals/new").text
    data = {"csrf_token": csrf_from(form), "kind": "deal_registration", "company": "<script>x</script>"}
    refused = client.post("/portal/referrals", data=data | {"estimated_value": "a lot"})
    assert refused.status_code == 400 and "must be a number" in refused.text
    response = client.post("/portal/referrals", data=data | {"domain": "scripted.com"})
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "submitted" in page and "via portal" in page
    home = client.get("/portal").text
    assert "Maria Manager" in home and "submitted</span> 1" in home


def test_the_partner_answers_an_outbound_referral(client, session, settings):
    partner = make_partner(session)
    seller = user_actor(make_user(session, Role.SALES))
    data = ReferralInput(kind="eql", company="Needs Help")
    referral = outbound.refer_out(
        session, seller, data, partner_id=partner.id, settings=settings, via=Via.INTERNAL
    )
    session.flush()
    sign_in(client, make_partner_user(session, partner).email)
    page = client.get(f"/portal/referrals/{referral.id}").text
    client.post(
        f"/portal/referrals/{referral.id}/answer",
        data={"csrf_token": csrf_from(page), "accept": "false", "reason": "not our field"},
    )
    page = client.get(f"/portal/referrals/{referral.id}").text
    assert "declined" in page and "not our field" in page and "Decline</button>" not in page


def test_partner_admins_invite_colleagues_of_their_own_partner(client, session):
    partner = make_partner(session)
    admin = make_partner_user(session, partner, is_partner_admin=True)
    sign_in(client, admin.email)
    home = client.get("/portal").text
    assert "Add a colleague" in home
    form = {"csrf_token": csrf_from(home), "email": "new@colleague.com", "name": "New", "password": PASSWORD}
    assert client.post("/portal/colleagues", data=form).status_code == 303
    invited = session.scalar(select(PartnerUser).where(PartnerUser.email == "new@colleague.com"))
    assert invited.partner_id == partner.id and not invited.is_partner_admin
    assert "new@colleague.com" in client.get("/portal").text


def test_internal_users_are_refused_the_portal_pages(client, session):
    sign_in(client, make_user(session, Role.ADMIN).email)
    assert client.get("/portal/referrals").status_code == 403


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    referrals=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from(["inbound", "outbound"]),
            st.sampled_from(["eql", "deal_registration", "intro"]),  # an intro is asked, never submitted
        ),
        min_size=1,
        max_size=8,
    ),
    viewer=st.integers(0, 3),
)
def test_no_partner_user_reaches_another_partners_referral(client, session, settings, referrals, viewer):
    """Random partners and referrals, co-sell intro requests among them: every read or write of another
    partner's referral by id is a 404, its company never shows in lists or exports, and the internal
    pages and API refuse partner users."""
    admin = user_actor(make_user(session, Role.ADMIN))
    partners = [make_partner(session) for _ in range(4)]
    made = []
    for n, (owner, direction, kind) in enumerate(referrals):
        data = ReferralInput(kind=kind, company=f"Secret Company {n} {partners[owner].id}")
        if direction == "inbound" and kind != "intro":
            referral = submit(
                session, admin, data, settings=settings, via=Via.INTERNAL, partner_id=partners[owner].id
            )
        else:
            referral = outbound.refer_out(
                session, admin, data, partner_id=partners[owner].id, settings=settings, via=Via.INTERNAL
            )
        made.append(referral)
    me = make_partner_user(session, partners[viewer], is_partner_admin=True)
    session.flush()
    client.cookies.clear()
    sign_in(client, me.email)
    token = csrf_from(client.get("/portal").text)
    listing = client.get("/portal/referrals").text
    export = client.get("/portal/referrals/export.csv").text
    assert client.get("/referrals/export.csv").status_code == 403
    for referral in made:
        own = referral.partner_id == partners[viewer].id
        assert (referral.company in listing) == own and (referral.company in export) == own
        read = client.get(f"/portal/referrals/{referral.id}")
        assert read.status_code == (200 if own else 404)
        write = client.post(
            f"/portal/referrals/{referral.id}/answer", data={"csrf_token": token, "accept": "true"}
        )
        if not own:
            assert write.status_code == 404 and referral.status in ("submitted", "sent")
        for path in (f"/referrals/{referral.id}", f"/api/v1/referrals/{referral.id}"):
            assert client.get(path).status_code in (401, 403)  # the same answer for any id: nothing leaks
        assert client.post(f"/referrals/{referral.id}/approve", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/mapping/partners/{partners[viewer].id}/co-sell/A1").status_code == 403  # ours to ask
