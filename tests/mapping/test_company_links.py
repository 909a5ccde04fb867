"""The workspace's domain aliases and parent links: validation, audit, and their effect on mapping runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput, user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.audit import AuditEvent
from ecoops.mapping import company_links, runs, uploads
from ecoops.mapping.models import Match
from ecoops.permissions import Forbidden, NotFound
from tests.factories import csrf_from, make_account, make_partner, make_user, sign_in

pytestmark = pytest.mark.all_backends


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_alias_is_stored_as_two_registrable_domains_and_audited(session: Session) -> None:
    alias = company_links.add_domain_alias(
        session, SYSTEM, alias="https://WWW.Acme.de/kontakt", domain="sales@acme.com"
    )
    assert (alias.alias, alias.domain) == ("acme.de", "acme.com")
    assert [(a.alias, a.domain) for a in company_links.domain_aliases(session, SYSTEM)] == [
        ("acme.de", "acme.com")
    ]
    company_links.remove_domain_alias(session, SYSTEM, alias.id)
    assert company_links.domain_aliases(session, SYSTEM) == []
    assert _actions(session)[-2:] == ["mapping.alias_added", "mapping.alias_removed"]
    with pytest.raises(NotFound):
        company_links.remove_domain_alias(session, SYSTEM, alias.id)


@pytest.mark.parametrize(
    ("alias", "domain", "message"),
    [
        ("gmail.com", "acme.com", "'gmail.com' is not a usable company domain"),
        ("acme.de", "localhost", "domain 'localhost' is not a usable company domain"),
        ("www.acme.com", "https://acme.com", "both acme.com: nothing to alias"),
        ("acme.de", "acme.eu", "acme.de is already an alias of acme.com"),  # one alias, one domain
        ("acme.fr", "acme.de", "acme.de is an alias of acme.com: alias acme.fr to that"),  # no chains
        ("acme.com", "acme.net", "acme.com has aliases of its own"),
    ],
)
def test_bad_aliases_are_refused_naming_the_problem(
    session: Session, alias: str, domain: str, message: str
) -> None:
    company_links.add_domain_alias(session, SYSTEM, alias="acme.de", domain="acme.com")
    before = _actions(session)
    with pytest.raises(InvalidInput, match=message):
        company_links.add_domain_alias(session, SYSTEM, alias=alias, domain=domain)
    assert len(company_links.domain_aliases(session, SYSTEM)) == 1
    assert _actions(session) == before


def test_links_refuse_strangers_self_links_second_parents_and_cycles(session: Session) -> None:
    for crm_id in ("A", "B", "C"):
        make_account(session, crm_id=crm_id, name=crm_id, domain=f"{crm_id.lower()}-corp.com")
    company_links.add_parent_link(session, SYSTEM, child_crm_id="A", parent_crm_id="B")
    company_links.add_parent_link(session, SYSTEM, child_crm_id="B", parent_crm_id="C")
    cases = [
        ("A", "A", "the subsidiary 'A'|cannot be its own parent"),
        ("Z", "A", "the subsidiary 'Z' is not one of our accounts"),
        ("A", "Z", "the parent 'Z' is not one of our accounts"),
        ("A", "C", "'A' already has a parent, 'B'"),
        ("C", "A", "'A' is already a subsidiary of 'C': the link would make a cycle"),  # C → A → B → C
    ]
    before = _actions(session)
    for child, parent, message in cases:
        with pytest.raises(InvalidInput, match=message):
            company_links.add_parent_link(session, SYSTEM, child_crm_id=child, parent_crm_id=parent)
    assert _actions(session) == before
    assert [
        (link.child_crm_id, link.parent_crm_id) for link in company_links.parent_links(session, SYSTEM)
    ] == [
        ("A", "B"),
        ("B", "C"),
    ]


def test_a_reader_cannot_change_them(session: Session) -> None:
    reader = user_actor(make_user(session, Role.SALES))
    with pytest.raises(Forbidden):
        company_links.add_domain_alias(session, reader, alias="acme.de", domain="acme.com")


def _upload(session: Session, tmp_path: Path, partner_id: int, rows: list[str]) -> None:
    path = tmp_path / f"partner-{len(rows)}.csv"
    path.write_text("Account ID,Account Name,Website,Billing Country,Population\n" + "\n".join(rows) + "\n")
    uploads.upload_partner_list(session, SYSTEM, partner_id, path, path.name)


def _pairs(session: Session, partner_id: int) -> set[tuple[str, str, str]]:
    return {
        (m.our_crm_id, m.their_id, m.method)
        for m in session.scalars(select(Match).where(Match.partner_id == partner_id))
    }


def test_runs_use_aliases_and_links_and_rerun_when_they_change(session: Session, tmp_path: Path) -> None:
    make_account(session, crm_id="A1", name="Acme Deutschland", domain="acme.de", country="DE")
    make_account(session, crm_id="U1", name="Umbrella Robotics", domain="umbrella-robotics.com", country="US")
    make_account(session, crm_id="U0", name="Umbrella Holdings", domain="umbrella.com", country="GB")
    partner = make_partner(session)
    _upload(
        session,
        tmp_path,
        partner.id,
        ["P1,Acme,https://acme.com,US,Customers", "P2,Umbrella,umbrella.com,US,Customers"],
    )

    first = runs.run_mapping(session, SYSTEM, partner.id)
    assert _pairs(session, partner.id) == {("U0", "P2", "domain")}
    assert runs.run_mapping(session, SYSTEM, partner.id).skipped

    company_links.add_domain_alias(session, SYSTEM, alias="acme.de", domain="acme.com")
    company_links.add_parent_link(session, SYSTEM, child_crm_id="U1", parent_crm_id="U0")
    second = runs.run_mapping(session, SYSTEM, partner.id)
    assert not second.skipped and second.run is not None and first.run is not None
    assert second.run.fingerprint != first.run.fingerprint
    assert _pairs(session, partner.id) == {
        ("A1", "P1", "domain"),
        ("U0", "P2", "domain"),
        ("U1", "P2", "hierarchy"),
    }
    acme = session.scalar(select(Match).where(Match.our_crm_id == "A1"))
    assert acme is not None and acme.explanation["domain_agreement"] == "alias"

    link = company_links.parent_links(session, SYSTEM)[0]
    company_links.remove_parent_link(session, SYSTEM, link.id)
    assert not runs.run_mapping(session, SYSTEM, partner.id).skipped
    assert _pairs(session, partner.id) == {("A1", "P1", "domain"), ("U0", "P2", "domain")}


def test_a_link_between_accounts_without_domains_is_kept_but_not_used(session: Session) -> None:
    make_account(session, crm_id="K1", name="Kid", domain="", website="")
    make_account(session, crm_id="P1", name="Parent", domain="", website="https://www.parent-co.com/x")
    company_links.add_parent_link(session, SYSTEM, child_crm_id="K1", parent_crm_id="P1")
    assert company_links.link_domains(session) == [("K1", "P1", "", "parent-co.com")]
    aliases, links = company_links.engine_overrides(session)
    assert aliases.num_rows == 0 and links.num_rows == 0


def test_the_companies_page_says_when_a_change_takes_effect_or_why_it_was_refused(
    client: TestClient, session: Session
) -> None:
    manager = make_user(session, Role.PARTNER_MANAGER)
    session.flush()
    sign_in(client, manager.email)
    page = client.get("/mapping/companies")
    token = csrf_from(page.text)
    added = client.post(
        "/mapping/companies/aliases", data={"csrf_token": token, "alias": "acme.de", "domain": "acme.com"}
    )
    assert added.status_code == 303 and added.headers["location"] == "/mapping/companies"
    shown = client.get("/mapping/companies").text
    assert "acme.de is now matched as acme.com; each partner is re-mapped with it at its next run" in shown
    refused = client.post(
        "/mapping/companies/aliases", data={"csrf_token": token, "alias": "x", "domain": "acme.com"}
    )
    assert refused.status_code == 303
    shown = client.get("/mapping/companies").text
    assert "Nothing was changed:" in shown and "re-mapped" not in shown
