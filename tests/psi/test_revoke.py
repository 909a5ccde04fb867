"""Either side revokes: the other is told at once, and an exchange over the revoked connection is
refused, with the initiator learning that the connection is revoked."""

from __future__ import annotations

from sqlalchemy import select
from tests.psi.conftest import Instance, connect

from ecoops.psi import exchange
from ecoops.psi.models import ConnectionState, PsiConnection, PsiExchange


def _connection(instance: Instance) -> PsiConnection:
    with instance.sessions() as session:
        return session.scalars(select(PsiConnection).order_by(PsiConnection.id.desc())).first()  # type: ignore[return-value]


def test_revoking_stops_the_next_exchange_on_both_sides(pair: tuple[Instance, Instance]) -> None:
    alpha, beta = pair
    _, b = connect(alpha, beta)
    token = _connection(alpha).outbound_token
    revoked = beta.post_form(b, f"/mapping/partners/{beta.partner_id}/private/revoke")
    assert revoked.status_code == 303
    told = b.get(revoked.headers["location"]).text
    assert "has been told" in told, told[told.find("flash") : told.find("flash") + 400]
    for instance in (alpha, beta):
        assert _connection(instance).state == ConnectionState.REVOKED
    assert _connection(alpha).revoked_by == f"peer {beta.url}"

    # As if Alpha had not heard (Beta could not reach it): Alpha's next run is refused, nothing crosses.
    with alpha.sessions() as session:
        connection = session.scalars(select(PsiConnection)).one()
        connection.state, connection.outbound_token = ConnectionState.ACTIVE.value, token
        session.commit()
    outcomes = exchange.run_exchanges(alpha.sessions, alpha.settings, _connection(alpha).id)
    assert [(o.mode, o.status) for o in outcomes] == [("count", "failed")]
    assert "revoked" in outcomes[0].error
    assert _connection(alpha).state == ConnectionState.REVOKED  # and now Alpha knows
    with beta.sessions() as session:
        assert session.scalars(select(PsiExchange)).all() == []


def test_an_invitation_code_expires_and_works_once(pair: tuple[Instance, Instance]) -> None:
    alpha, beta = pair
    a, b = alpha.browser(), beta.browser()
    page = alpha.post_form(a, f"/mapping/partners/{alpha.partner_id}/private/invitations", interval_hours="0")
    code = page.text.split('<pre id="invitation-code">')[1].split("</pre>")[0]
    with alpha.sessions() as session:
        invitation = session.scalars(select(PsiConnection).order_by(PsiConnection.id.desc())).first()
        assert invitation is not None and invitation.state == ConnectionState.INVITED
        assert invitation.invite_hash and invitation.invite_hash not in code  # only a hash is kept
        invitation.invite_expires_at = invitation.created_at  # already over
        session.commit()
    refused = beta.post_form(b, f"/mapping/partners/{beta.partner_id}/private/redeem", code=code)
    assert "the invitation has expired" in b.get(refused.headers["location"]).text
    damaged = beta.post_form(b, f"/mapping/partners/{beta.partner_id}/private/redeem", code="ecoops-psi1.xx")
    assert "not an invitation code" in b.get(damaged.headers["location"]).text
