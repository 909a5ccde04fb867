"""Schemathesis over every /api/v1 operation, on both backends: the API answers what its own OpenAPI
document says (no server error, declared status codes, content types and response bodies), for the
valid and the hostile requests the document allows it to generate."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.automation.conditions import Conditions
from ecoops.automation.rules import Action, RuleInput, create_rule
from ecoops.config import Settings
from ecoops.goals.service import GoalInput, create_goal
from ecoops.mapping.company_links import add_domain_alias
from ecoops.mapping.populations import create_population
from ecoops.partners import service as partners
from ecoops.partners.models import TierProposal
from ecoops.referrals.models import Via
from ecoops.referrals.submission import ReferralInput, submit
from ecoops.web.app import create_app
from tests.factories import bearer, make_account, make_opportunity, make_partner, make_user

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def seeded(session: Session, settings: Settings) -> tuple[dict[str, str], dict[str, Any]]:
    """An admin's API token, and a few real rows so requests by id also reach the found paths."""
    admin = make_user(session, Role.ADMIN)
    program = partners.create_program(session, SYSTEM, name="Technology", tiers=["Silver", "Gold"])
    partner = make_partner(session, owner_id=admin.id, tiers=[program.tiers[0]])
    account = make_account(session)
    opportunity = make_opportunity(session, account_crm_id=account.crm_id)
    referral = submit(
        session,
        user_actor(admin),
        ReferralInput(kind="deal_registration", company="Acme GmbH"),
        settings=settings,
        via=Via.INTERNAL,
        partner_id=partner.id,
    )
    rule = create_rule(
        session,
        SYSTEM,
        RuleInput(
            name="on overlap",
            trigger="overlap.began",
            conditions=Conditions(),
            actions=[Action(kind="task", to="partner_manager")],
        ),
    )
    population = create_population(
        session,
        SYSTEM,
        name="German accounts",
        filter={"conditions": [{"field": "account.country", "op": "eq", "value": "DE"}]},
    )
    alias = add_domain_alias(session, SYSTEM, alias="acme.de", domain="acme.com")
    proposal = TierProposal(
        partner_id=partner.id,
        program_id=program.id,
        from_tier_id=program.tiers[0].id,
        to_tier_id=program.tiers[1].id,
        direction="upgrade",
        as_of=date(2025, 12, 31),
        figures=[],
    )
    session.add(proposal)
    goal = create_goal(
        session,
        SYSTEM,
        GoalInput("referrals", "partner", "month", date(2025, 3, 1), "4", scope_id=partner.id),
    )
    session.flush()
    ids = {
        "partner_id": partner.id,
        "mapped_partner_id": partner.id,
        "account_id": account.id,
        "opportunity_id": opportunity.id,
        "crm_id": opportunity.crm_id,
        "referral_id": referral.id,
        "rule_id": rule.id,
        "population_id": population.id,
        "alias_id": alias.id,
        "program_id": program.id,
        "tier_id": program.tiers[0].id,
        "proposal_id": proposal.id,
        "goal_id": goal.id,
    }
    return bearer(session, admin), ids


def _document() -> dict[str, Any]:
    """The OpenAPI document, read from an app that needs no database to describe itself.

    Schemathesis's pytest plugin makes one test per operation at collection, so it needs the document
    then (its `from_fixture` loader fails on pytest 9); the requests go to each test's own app.
    """
    settings = Settings(env="test", var_dir=Path(tempfile.gettempdir()) / "unused", secret_key="t" * 40)
    return create_app(settings, create_engine("sqlite://")).openapi()


schema = schemathesis.openapi.from_dict(_document())


def _call_and_validate(case: Any, client: TestClient, headers: dict[str, str]) -> None:
    """Send the case through the suite's own test client (the app on the test's transaction, raising
    what would have been a 500 with its traceback), then check the answer against the document."""
    request = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    if isinstance(request.get("data"), (bytes, str)):  # raw bodies are `content` to httpx
        request["content"] = request.pop("data")
    if request.get("files"):  # hostile multipart parts may hold numbers; httpx sends text or bytes
        request["files"] = [
            (name, (filename, value if isinstance(value, (bytes, str)) else str(value)))
            for name, (filename, value) in request["files"]
        ]
    if not request.get("cookies"):  # httpx deprecates per-request cookies, and the API takes none
        request.pop("cookies", None)
    response = client.request(**request)
    response.request.read()  # a multipart body was streamed; the report shows it
    case.validate_response(response, checks=CHECKS)


@pytest.mark.all_backends
@schema.parametrize()
@settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
def test_api_matches_its_openapi_document(
    case: Any, client: TestClient, seeded: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, ids = seeded
    _call_and_validate(case, client, headers)
    if case.path_parameters:  # the same request once more on real rows
        case.path_parameters = {name: ids.get(name, value) for name, value in case.path_parameters.items()}
        _call_and_validate(case, client, headers)
