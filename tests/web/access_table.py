"""Who may call which route: the one table the access-matrix test checks every route of the app against.

Adding a route? Add a row to ROUTES (the test fails until you do). Pick the helper that says who may
use it, e.g. `page(Permission.READ_CRM)` or `api(Permission.IMPORT_DATA, ok=201)`, and give unsafe
routes a body that succeeds for the roles allowed. Path parameters such as `{partner_id}` are filled
from PATH_VALUES (records the test creates); add a maker there for a new parameter name.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts import service as accounts
from ecoops.actors import SYSTEM, Role
from ecoops.attribution import influence, review
from ecoops.attribution.models import PartnerTouch
from ecoops.automation import endpoint_admin
from ecoops.automation import rules as automation_rules
from ecoops.automation.conditions import Conditions
from ecoops.automation.deliveries import Channel, DeliveryStatus, enqueue
from ecoops.automation.messages import Message
from ecoops.automation.nurture import sequences as nurture
from ecoops.automation.nurture.models import NurtureStep
from ecoops.automation.tasks import add_task
from ecoops.commissions import funds
from ecoops.commissions import plans as commission_plans
from ecoops.commissions.models import CommissionEntry, CommissionPlan, FundAllocation, FundRequest
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection, StageMapping
from ecoops.crm.imports import uploads
from ecoops.crm.models import ImportRun
from ecoops.crm.writeback.models import WritebackField, WritebackRun
from ecoops.demo.catcher import maildir
from ecoops.enablement import content as enablement_content
from ecoops.enablement import plans as enablement_plans
from ecoops.enablement import playbooks as enablement_playbooks
from ecoops.enablement.models import JointPlan, PlaybookStep
from ecoops.goals import service as goals
from ecoops.jobs import queue as jobs
from ecoops.jobs.names import MAPPING, mapping_subject
from ecoops.mapping import company_links, populations, runs
from ecoops.mapping import uploads as mapping_uploads
from ecoops.maturity import integrations as maturity_integrations
from ecoops.maturity import roadmap
from ecoops.onboarding import applications, checklist, form_guard
from ecoops.partners import programs
from ecoops.partners.models import Membership, Partner, Program, Tier, TierProposal
from ecoops.permissions import ROLE_PERMISSIONS, Permission
from ecoops.referrals import cosell, links, routing
from ecoops.referrals.models import Referral, ReferralLink, Via
from ecoops.referrals.submission import ReferralInput, submit
from ecoops.reports import packs
from ecoops.roi import service as roi
from tests.factories import (
    make_account,
    make_opportunity,
    make_partner,
    make_partner_user,
    make_user,
)

ANONYMOUS, PARTNER_USER = "anonymous", "partner_user"
ROLES: tuple[str, ...] = (ANONYMOUS, *(role.value for role in Role), PARTNER_USER)
# An expected outcome: an HTTP status, or LOGIN for "303 to the login page".
LOGIN = "login"
Outcome = int | str
Expectation = dict[str, Outcome]


def _by_role(allowed: Callable[[Role], bool], ok: int, denied: int) -> dict[str, Outcome]:
    return {role.value: ok if allowed(role) else denied for role in Role}


def page(permission: Permission, ok: int = 200) -> Expectation:
    """A page for internal users holding `permission`: anonymous go to login, partner users get 403."""
    holds = _by_role(lambda role: permission in ROLE_PERMISSIONS[role], ok, 403)
    return {ANONYMOUS: LOGIN, **holds, PARTNER_USER: 403}


def api(permission: Permission, ok: int = 200) -> Expectation:
    """An API route needing `permission`; the caller's role must also hold USE_API_TOKENS.

    A partner user's token holds no internal permission: 403 on every route outside the partner API.
    """

    def holds(role: Role) -> bool:
        return {permission, Permission.USE_API_TOKENS} <= ROLE_PERMISSIONS[role]

    return {ANONYMOUS: 401, **_by_role(holds, ok, 403), PARTNER_USER: 403}


def partner_api(ok: Outcome = 200) -> Expectation:
    """The partner API (/api/v1/portal): partner users' tokens only; internal users' tokens get 403."""
    return {ANONYMOUS: 401, **dict.fromkeys((r.value for r in Role), 403), PARTNER_USER: ok}


def token_holder(ok: int = 200) -> Expectation:
    """The API tokens page: internal roles that use the API, and partner users (the partner API)."""
    return {**page(Permission.USE_API_TOKENS, ok=ok), PARTNER_USER: ok}


def everyone(outcome: Outcome) -> Expectation:
    return dict.fromkeys(ROLES, outcome)


def signed_in(internal: Outcome, partner_user: Outcome) -> Expectation:
    """A page for anyone signed in, internal users and partner users answered differently."""
    return {ANONYMOUS: LOGIN, **dict.fromkeys((r.value for r in Role), internal), PARTNER_USER: partner_user}


@dataclass(frozen=True)
class Row:
    expect: Expectation
    form: dict[str, Any] | None = None  # sent form-encoded, with the CSRF token added on pages
    json: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None  # sent multipart, with `form` beside them
    changes_state: bool = True  # False for unsafe routes that only compute (a dry run): nothing to audit
    note: str = ""


ACCOUNTS_CSV = (
    "accounts.csv",
    b"Account Owner,Account Name,Type,Industry,Billing Country,Website,Employees,Created Date,Account ID\r\n"
    b"Ana Owner,Matrix Imported,Customer,Software,Germany,https://imported.example,12,2024-05-01,001MATRIXIMP\r\n",
    "text/csv",
)

PARTNER_ACCOUNTS_CSV = (
    "partner.csv",
    b"Account ID,Account Name,Website,Billing Country,Population\r\n"
    b"T1,Matrix Mapped,matrixmapped.com,DE,Customers\r\n",
    "text/csv",
)

PROOF_PDF = ("proof.pdf", b"%PDF-1.4 matrix", "application/pdf")
PAYMENTS_CSV = (
    "payments.csv",
    b"bill_number,amount,paid_on\r\nCOM-999999-202503,10.00,2025-04-05\r\n",
    "text/csv",
)


INTEGRATION_CSV = (
    "integrations.csv",
    b"partner,integration,account_id\r\nMatrix Integrated,Matrix Connector,001MATRIX\r\n",
    "text/csv",
)
ROADMAP_TASK_FORM = {
    "title": "Matrix task",
    "stage": "prove",
    "element": "workflows",
    "ops_group": "sales_ops",
    "owner_id": "{user_id}",
    "due_on": "2025-06-30",
    "status": "planned",
    "kpi": "sourced_revenue",
    "target": "1000",
    "outcome": "",
}


def _field_mapping_rows(
    provider: str, label: str, object_name: str, crm_field: str
) -> dict[tuple[str, str], Row]:
    """A CRM's field-mapping page and form: no CRM to ask here, so the page says why and a save is
    refused with the reason (tests/crm/*/test_fields.py map against the local CRMs)."""
    return {
        ("GET", f"/crm/{provider}/fields"): Row(
            page(Permission.MANAGE_CRM_CONNECTIONS), note=f"no {label} to ask: the page says why"
        ),
        ("POST", f"/crm/{provider}/fields"): Row(
            page(Permission.MANAGE_CRM_CONNECTIONS, ok=303),
            form={"object": object_name, "field.industry": crm_field, "action": "save"},
            changes_state=False,
            note=f"no {label} to describe the field: refused with the reason, nothing saved",
        ),
    }


ROUTES: dict[tuple[str, str], Row] = {
    # Sign-in, start page, portal, API reference
    ("GET", "/login"): Row({**everyone(303), ANONYMOUS: 200}, note="signed-in users are sent on"),
    ("POST", "/login"): Row(everyone(303), form={"email": "{viewer_email}", "password": "{password}"}),
    ("POST", "/logout"): Row(everyone(LOGIN)),
    # Single sign-on is not set up in this app (tests/accounts/test_sso.py signs in through a provider).
    ("GET", "/login/sso"): Row(everyone(404), note="404 until ECOOPS_OIDC_ISSUER is set"),
    ("GET", "/login/sso/callback"): Row(everyone(404), note="404 until ECOOPS_OIDC_ISSUER is set"),
    ("GET", "/account/password"): Row(signed_in(200, 200)),
    ("POST", "/account/password"): Row(
        signed_in(303, 303), form={"current_password": "{password}", "new_password": "a brand new passphrase"}
    ),
    ("GET", "/"): Row(signed_in(303, 303)),
    ("GET", "/home/partners"): Row(page(Permission.READ_PROGRAM)),
    ("GET", "/portal"): Row(signed_in(303, 200), note="internal users are sent to their start page"),
    ("GET", "/portal/overlaps"): Row(signed_in(303, 200), note="internal users are sent to their start page"),
    ("GET", "/portal/integrations"): Row(
        signed_in(303, 200), note="internal users are sent to their start page"
    ),
    ("GET", "/api/docs"): Row(everyone(200)),
    ("GET", "/api/v1/openapi.json"): Row(everyone(200)),
    # Partner program
    ("GET", "/partners"): Row(page(Permission.READ_PROGRAM)),
    ("GET", "/partners/new"): Row(page(Permission.EDIT_PROGRAM)),
    ("POST", "/partners"): Row(
        page(Permission.EDIT_PROGRAM, ok=303),
        form={"name": "Matrix Partner", "partner_type": "reseller", "stage_since": "2025-01-01"},
    ),
    ("GET", "/partners/{partner_id}"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/partners/{partner_id}/stage"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"to_stage": "producing", "changed_on": "2025-02-01"}
    ),
    ("GET", "/api/v1/partners"): Row(api(Permission.READ_PROGRAM)),
    ("POST", "/api/v1/partners"): Row(
        api(Permission.EDIT_PROGRAM, ok=201),
        json={"name": "Matrix API Partner", "partner_type": "agency", "stage_since": "2025-01-01"},
    ),
    ("GET", "/api/v1/partners/{partner_id}"): Row(api(Permission.READ_PROGRAM)),
    ("POST", "/api/v1/partners/{partner_id}/stage-changes"): Row(
        api(Permission.EDIT_PROGRAM, ok=201), json={"to_stage": "producing", "changed_on": "2025-02-01"}
    ),
    ("GET", "/api/v1/programs"): Row(api(Permission.READ_PROGRAM)),
    ("GET", "/partners/{partner_id}/edit"): Row(page(Permission.EDIT_PROGRAM)),
    ("POST", "/partners/{partner_id}/edit"): Row(
        page(Permission.EDIT_PROGRAM, ok=303),
        form={"name": "Matrix Renamed", "partner_type": "reseller", "changed_on": "2025-02-01"},
    ),
    ("PATCH", "/api/v1/partners/{partner_id}"): Row(
        api(Permission.EDIT_PROGRAM), json={"name": "Matrix API Renamed", "changed_on": "2025-02-01"}
    ),
    # Programs and tiers ({program_id} holds {tier_id}, and no partner holds either: both can be deleted)
    ("GET", "/programs"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/programs"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"name": "Matrix New Program", "tiers": "Silver\nGold"}
    ),
    ("POST", "/programs/{program_id}"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"name": "Matrix Renamed Program", "description": "x"}
    ),
    ("POST", "/programs/{program_id}/retire"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"retired": "true"}
    ),
    ("POST", "/programs/{program_id}/delete"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/programs/{program_id}/tiers"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"name": "Matrix Added Tier"}
    ),
    ("POST", "/programs/{program_id}/tiers/{tier_id}"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"name": "Matrix Renamed Tier", "rank": "3"}
    ),
    ("POST", "/programs/{program_id}/tiers/{tier_id}/retire"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"retired": "true"}
    ),
    ("POST", "/programs/{program_id}/tiers/{tier_id}/delete"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/api/v1/programs"): Row(
        api(Permission.EDIT_PROGRAM, ok=201), json={"name": "Matrix API Program", "tiers": ["Silver"]}
    ),
    ("PATCH", "/api/v1/programs/{program_id}"): Row(api(Permission.EDIT_PROGRAM), json={"retired": True}),
    ("DELETE", "/api/v1/programs/{program_id}"): Row(api(Permission.EDIT_PROGRAM, ok=204)),
    ("POST", "/api/v1/programs/{program_id}/tiers"): Row(
        api(Permission.EDIT_PROGRAM, ok=201), json={"name": "Matrix API Tier"}
    ),
    ("PATCH", "/api/v1/programs/{program_id}/tiers/{tier_id}"): Row(
        api(Permission.EDIT_PROGRAM), json={"name": "Matrix API Tier Renamed"}
    ),
    ("DELETE", "/api/v1/programs/{program_id}/tiers/{tier_id}"): Row(api(Permission.EDIT_PROGRAM, ok=204)),
    ("POST", "/programs/{program_id}/tiers/{tier_id}/terms"): Row(
        page(Permission.EDIT_PROGRAM, ok=303),
        form={"metric": "won_deals", "threshold": "2", "window_days": "365", "commission_class": "C1"},
    ),
    # Tier review ({proposal_id}: an open proposal to move a partner up a tier)
    ("GET", "/tier-review"): Row(page(Permission.EDIT_PROGRAM)),
    ("POST", "/tier-review/evaluate"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/tier-review/{proposal_id}/approve"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/tier-review/{proposal_id}/dismiss"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/api/v1/tier-evaluations"): Row(api(Permission.EDIT_PROGRAM), json={"as_of": "2025-12-31"}),
    ("GET", "/api/v1/tier-proposals"): Row(api(Permission.EDIT_PROGRAM)),
    ("POST", "/api/v1/tier-proposals/{proposal_id}/approve"): Row(api(Permission.EDIT_PROGRAM), json={}),
    ("POST", "/api/v1/tier-proposals/{proposal_id}/dismiss"): Row(
        api(Permission.EDIT_PROGRAM), json={"note": "not now"}
    ),
    # CRM data
    ("GET", "/accounts"): Row(page(Permission.READ_CRM)),
    ("GET", "/accounts/{account_id}"): Row(page(Permission.READ_CRM)),
    ("GET", "/api/v1/accounts"): Row(api(Permission.READ_CRM)),
    ("GET", "/api/v1/accounts/{account_id}"): Row(api(Permission.READ_CRM)),
    ("GET", "/api/v1/opportunities"): Row(api(Permission.READ_CRM)),
    ("GET", "/api/v1/opportunities/{opportunity_id}"): Row(api(Permission.READ_CRM)),
    ("GET", "/api/v1/contacts"): Row(api(Permission.READ_CRM)),
    # API tokens and users
    ("GET", "/tokens"): Row(token_holder()),
    ("POST", "/tokens"): Row(token_holder(ok=201), form={"name": "matrix", "lifetime": "30"}),
    ("POST", "/tokens/{token_id}/revoke"): Row(
        token_holder(ok=303), note="{token_id} is the caller's own token"
    ),
    ("GET", "/api/v1/me"): Row({**api(Permission.USE_API_TOKENS), PARTNER_USER: 200}),
    ("GET", "/users"): Row(page(Permission.MANAGE_USERS)),
    ("POST", "/users"): Row(
        page(Permission.MANAGE_USERS, ok=303),
        form={"email": "matrix-new@example.com", "role": "sales", "password": "{password}"},
    ),
    ("POST", "/users/{user_id}/status"): Row(page(Permission.MANAGE_USERS, ok=303), form={"active": "false"}),
    ("POST", "/users/{user_id}/role"): Row(page(Permission.MANAGE_USERS, ok=303), form={"role": "viewer"}),
    ("POST", "/partner-users"): Row(
        page(Permission.MANAGE_USERS, ok=303),
        form={"partner_id": "{partner_id}", "email": "matrix-new@partner.example", "password": "{password}"},
    ),
    ("POST", "/partner-users/{partner_user_id}/status"): Row(
        page(Permission.MANAGE_USERS, ok=303), form={"active": "false"}
    ),
    ("POST", "/partner-users/{partner_user_id}"): Row(
        page(Permission.MANAGE_USERS, ok=303), form={"contact_role": "sales", "access": "email"}
    ),
    # CRM imports
    ("GET", "/crm/salesforce"): Row(page(Permission.MANAGE_CRM_CONNECTIONS)),
    ("POST", "/crm/salesforce/connect"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303),
        form={"login_url": "https://test.salesforce.com", "client_id": "key", "client_secret": "secret"},
        note="admins are sent to Salesforce's authorize page",
    ),
    ("GET", "/crm/salesforce/callback"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), note="no flow under way: back to the page, refused"
    ),
    ("POST", "/crm/salesforce/jwt"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303),
        form={
            "login_url": "https://127.0.0.1:9",
            "client_id": "key",
            "username": "u@example.com",
            "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        },
        changes_state=False,
        note="no Salesforce to reach here: refused with the reason (tests/crm/salesforce connect for real)",
    ),
    ("POST", "/crm/salesforce/sync"): Row(page(Permission.MANAGE_CRM_CONNECTIONS, ok=303)),
    ("POST", "/crm/salesforce/schedule"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), form={"sync_every_minutes": "30"}
    ),
    ("POST", "/crm/salesforce/stages/{stage_id}"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), form={"outcome": "won"}
    ),
    ("POST", "/crm/salesforce/disconnect"): Row(page(Permission.MANAGE_CRM_CONNECTIONS, ok=303)),
    ("POST", "/crm/salesforce/writeback/fields/{target}"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303),
        form={"crm_field": "Ecoops_Partners__c"},
        note="turned off: no Salesforce to ask (tests/crm/salesforce/test_writeback.py turns fields on)",
    ),
    ("POST", "/crm/salesforce/writeback/run"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), form={"dry_run": "true"}
    ),
    ("GET", "/crm/salesforce/writeback/runs/{writeback_run_id}"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS)
    ),
    **_field_mapping_rows("salesforce", "Salesforce", "Account", "Industry"),
    ("GET", "/crm/hubspot"): Row(page(Permission.MANAGE_CRM_CONNECTIONS)),
    ("POST", "/crm/hubspot/connect"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303),
        form={"client_id": "hs-id", "client_secret": "hs-secret"},
        note="admins are sent to HubSpot's install page",
    ),
    ("GET", "/crm/hubspot/callback"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), note="no flow under way: back to the page, refused"
    ),
    ("POST", "/crm/hubspot/token"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303),
        form={"token": "pat-na1-matrix"},
        changes_state=False,
        note="no HubSpot to reach here: refused with the reason (tests/crm/hubspot connect for real)",
    ),
    ("POST", "/crm/hubspot/sync"): Row(page(Permission.MANAGE_CRM_CONNECTIONS, ok=303)),
    ("POST", "/crm/hubspot/schedule"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), form={"sync_every_minutes": "30"}
    ),
    ("POST", "/crm/hubspot/stages/{hubspot_stage_id}"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), form={"outcome": "won"}
    ),
    ("POST", "/crm/hubspot/disconnect"): Row(page(Permission.MANAGE_CRM_CONNECTIONS, ok=303)),
    ("POST", "/crm/hubspot/writeback/fields/{hubspot_target}"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303),
        form={"crm_field": "ecoops_partners"},
        note="turned off: no HubSpot to ask (tests/crm/hubspot/test_writeback.py turns properties on)",
    ),
    ("GET", "/crm/hubspot/writeback/choices"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS),
        note="no HubSpot to ask: the page says so (tests/crm/hubspot/test_writeback_pages.py lists them)",
    ),
    ("POST", "/crm/hubspot/writeback/run"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS, ok=303), form={"dry_run": "true"}
    ),
    ("GET", "/crm/hubspot/writeback/runs/{hubspot_writeback_run_id}"): Row(
        page(Permission.MANAGE_CRM_CONNECTIONS)
    ),
    **_field_mapping_rows("hubspot", "HubSpot", "companies", "industry"),
    ("GET", "/imports"): Row(page(Permission.IMPORT_DATA)),
    ("POST", "/imports"): Row(
        page(Permission.IMPORT_DATA, ok=303), form={"kind": "accounts"}, files={"file": ACCOUNTS_CSV}
    ),
    ("GET", "/imports/uploads/{token}"): Row(page(Permission.IMPORT_DATA)),
    ("POST", "/imports/uploads/{token}"): Row(
        page(Permission.IMPORT_DATA),
        form={"action": "dry_run", "mapping": '{{"kind": "accounts"}}'},
        changes_state=False,
        note="a dry run writes nothing (a commit would use the upload up for the next role)",
    ),
    ("GET", "/imports/uploads/{token}/errors.csv"): Row(
        page(Permission.IMPORT_DATA, ok=303), note="no dry-run report for a clean file: back to the review"
    ),
    ("GET", "/imports/{run_id}"): Row(page(Permission.IMPORT_DATA)),
    ("GET", "/imports/{run_id}/errors.csv"): Row(page(Permission.IMPORT_DATA)),
    ("POST", "/api/v1/imports"): Row(api(Permission.IMPORT_DATA, ok=201), files={"file": ACCOUNTS_CSV}),
    # Referrals: the inbox and review for internal users; sellers and partner managers refer out
    ("GET", "/referrals"): Row(page(Permission.READ_PROGRAM)),
    ("GET", "/referrals/{referral_id}"): Row(page(Permission.READ_PROGRAM)),
    ("GET", "/referrals/export.csv"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/referrals/{referral_id}/approve"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"reason": "ok"}
    ),
    ("POST", "/referrals/{referral_id}/reject"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"reason": "no"}
    ),
    ("GET", "/outbound-referrals/new"): Row({**page(Permission.READ_PROGRAM), Role.VIEWER.value: 403}),
    ("POST", "/outbound-referrals"): Row(
        {**page(Permission.READ_PROGRAM, ok=303), Role.VIEWER.value: 403},
        form={"partner_id": "{partner_id}", "kind": "eql", "company": "Matrix Outbound Co"},
    ),
    ("GET", "/api/v1/referrals"): Row(api(Permission.READ_PROGRAM)),
    ("GET", "/api/v1/referrals/suggestions"): Row(api(Permission.READ_PROGRAM)),
    ("GET", "/api/v1/referrals/{referral_id}"): Row(api(Permission.READ_PROGRAM)),
    ("POST", "/api/v1/partners/{partner_id}/referrals"): Row(
        api(Permission.EDIT_PROGRAM, ok=201), json={"kind": "deal_registration", "company": "Matrix API Deal"}
    ),
    ("POST", "/api/v1/partners/{partner_id}/outbound-referrals"): Row(
        api(Permission.READ_PROGRAM, ok=201),
        json={"kind": "eql", "company": "Matrix API Outbound"},
        note="every role that may hold a token refers out; viewers may not",
    ),
    ("POST", "/api/v1/referrals/{referral_id}/approve"): Row(
        api(Permission.EDIT_PROGRAM), json={"reason": ""}
    ),
    ("POST", "/api/v1/referrals/{referral_id}/reject"): Row(
        api(Permission.EDIT_PROGRAM), json={"reason": "no"}
    ),
    ("GET", "/referral-territories"): Row(page(Permission.EDIT_PROGRAM)),
    ("POST", "/referral-territories"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"country": "DE", "seller_id": "{user_id}"}
    ),
    ("POST", "/referral-territories/{territory_id}/delete"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    # Signed no-login links: managed by partner managers, the form open to anyone holding the link
    ("GET", "/referral-links"): Row(page(Permission.EDIT_PROGRAM)),
    ("POST", "/referral-links"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"partner_id": "{partner_id}"}
    ),
    ("POST", "/referral-links/{link_id}/revoke"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("GET", "/r/{link_token}"): Row(everyone(200), changes_state=False),
    ("POST", "/r/{link_token}"): Row(
        everyone(200),
        form={"nonce": "{link_nonce}", "kind": "eql", "company": "Matrix Link Lead"},
        note="the nonce is spent in a rolled-back SAVEPOINT, so every role can use it",
    ),
    # Onboarding: the public application form (no sign-in), reviewed by those who run the program
    ("GET", "/apply"): Row(everyone(200)),
    ("POST", "/apply"): Row(
        everyone(200),
        form={
            "company": "Matrix Applicant",
            "website": "matrix-applicant.example",
            "country": "DE",
            "partner_type": "reseller",
            "contact_name": "Matrix Person",
            "email": "matrix@matrix-applicant.example",
            "program_id": "{program_id}",
            "stamp": "{apply_stamp}",
        },
        note="anyone may apply, signed in or not",
    ),
    ("POST", "/programs/{program_id}/agreement"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"version": "v2", "url": "https://example.com/terms"}
    ),
    ("POST", "/programs/{program_id}/checklist"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"title": "Matrix training", "gates_stage": "active"}
    ),
    ("POST", "/programs/{program_id}/checklist/{item_id}/delete"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/partners/{partner_id}/checklist/{checklist_item_id}"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"done": "true"}
    ),
    ("GET", "/portal/onboarding"): Row(signed_in(403, 200)),
    ("POST", "/portal/onboarding/{program_id}/accept"): Row(
        signed_in(403, 403),
        form={"version": "v1"},
        note="the matrix's partner user is not a partner admin; tests/onboarding cover admins",
    ),
    ("GET", "/applications"): Row(page(Permission.EDIT_PROGRAM)),
    ("GET", "/applications/{application_id}"): Row(page(Permission.EDIT_PROGRAM)),
    ("POST", "/applications/{application_id}/approve"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"stage": "signed", "program_id": "{program_id}"}
    ),
    ("POST", "/applications/{application_id}/decline"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"reason": "not a fit"}
    ),
    # Co-sell: sellers ask a partner that has our account for help; its contact answers by e-mailed link
    ("GET", "/mapping/partners/{mapped_partner_id}/co-sell/{our_crm_id}"): Row(
        {**page(Permission.READ_PROGRAM), Role.VIEWER.value: 403}
    ),
    ("POST", "/mapping/partners/{mapped_partner_id}/co-sell/{our_crm_id}"): Row(
        {**page(Permission.READ_PROGRAM, ok=303), Role.VIEWER.value: 403},
        form={"kind": "intro", "company": "Matrix Mapped"},
    ),
    ("POST", "/r/{answer_token}/answer"): Row(
        everyone(200), form={"accept": "true"}, note="anyone holding the link, once (each call rolled back)"
    ),
    # Partner portal: referrals of the partner user's own partner ({referral_id} is another partner's)
    ("GET", "/portal/referrals"): Row(signed_in(403, 200)),
    ("GET", "/portal/referrals/new"): Row(signed_in(403, 200)),
    ("GET", "/portal/referrals/export.csv"): Row(signed_in(403, 200)),
    ("POST", "/portal/referrals"): Row(
        signed_in(403, 303), form={"kind": "eql", "company": "Matrix Portal Lead"}
    ),
    ("GET", "/portal/referrals/{referral_id}"): Row(signed_in(403, 404), note="another partner's: not found"),
    ("POST", "/portal/referrals/{referral_id}/answer"): Row(signed_in(403, 404), form={"accept": "true"}),
    # The partner API: the same narrowing for a partner user's token ({referral_id} is another partner's)
    ("GET", "/api/v1/portal/referrals"): Row(partner_api()),
    ("POST", "/api/v1/portal/referrals"): Row(
        partner_api(201), json={"kind": "deal_registration", "company": "Matrix Partner API Deal"}
    ),
    ("GET", "/api/v1/portal/referrals/{referral_id}"): Row(
        partner_api(404), note="another partner's: not found"
    ),
    ("POST", "/api/v1/portal/referrals/{referral_id}/answer"): Row(partner_api(404), json={"accept": True}),
    ("POST", "/portal/colleagues"): Row(
        signed_in(403, 403),
        form={"email": "matrix-colleague@partner.example", "password": "{password}"},
        note="the matrix's partner user is not a partner admin; tests/portal cover admins",
    ),
    ("POST", "/portal/colleagues/{partner_user_id}"): Row(
        signed_in(403, 404),
        form={"contact_role": "sales"},
        note="another partner's contact: not found; tests/accounts/test_partner_contacts.py covers admins",
    ),
    # Metrics: dashboards, records behind a figure, an opportunity explained
    ("GET", "/api/v1/metrics/overview"): Row(api(Permission.READ_METRICS)),
    ("GET", "/api/v1/metrics/scorecard"): Row(api(Permission.READ_METRICS)),
    ("GET", "/api/v1/metrics/life-cycle"): Row(api(Permission.READ_METRICS)),
    ("GET", "/api/v1/metrics/eql-funnel"): Row(api(Permission.READ_METRICS)),
    ("GET", "/api/v1/metrics/forecast"): Row(api(Permission.READ_METRICS)),
    ("GET", "/api/v1/metrics/figures/{figure}/records"): Row(api(Permission.READ_METRICS)),
    ("GET", "/api/v1/metrics/opportunities/{crm_id}"): Row(api(Permission.READ_METRICS)),
    ("GET", "/dashboards"): Row(page(Permission.READ_METRICS, ok=303), note="to the program overview"),
    ("GET", "/dashboards/{dashboard}"): Row(page(Permission.READ_METRICS)),
    ("GET", "/dashboards/figures/{figure}.csv"): Row(page(Permission.READ_METRICS)),
    ("GET", "/dashboards/figures/{figure}/records"): Row(page(Permission.READ_METRICS)),
    ("GET", "/dashboards/figures/{figure}/records.csv"): Row(page(Permission.READ_METRICS)),
    ("GET", "/dashboards/opportunities/{crm_id}"): Row(page(Permission.READ_METRICS)),
    # Attribution review and rules
    ("GET", "/attribution/touches"): Row(page(Permission.REVIEW_ATTRIBUTION)),
    ("POST", "/attribution/proposals"): Row(
        page(Permission.REVIEW_ATTRIBUTION, ok=303),
        changes_state=False,
        note="{touch_id}'s maker already stored every proposal, so nothing is left to propose (or audit)",
    ),
    ("POST", "/attribution/touches/{touch_id}/review"): Row(
        page(Permission.REVIEW_ATTRIBUTION, ok=303), form={"decision": "confirm", "reason": "seen the deal"}
    ),
    ("POST", "/attribution/touches/review"): Row(
        page(Permission.REVIEW_ATTRIBUTION, ok=303),
        form={"touch_id": "{touch_id}", "decision": "dispute", "reason": "not theirs"},
    ),
    ("GET", "/attribution/rules"): Row(page(Permission.READ_METRICS)),
    ("GET", "/api/v1/attribution/touches"): Row(api(Permission.REVIEW_ATTRIBUTION)),
    ("POST", "/api/v1/attribution/touches/{touch_id}/review"): Row(
        api(Permission.REVIEW_ATTRIBUTION), json={"decision": "dispute", "reason": "not theirs"}
    ),
    ("GET", "/api/v1/attribution/rules"): Row(api(Permission.READ_METRICS)),
    ("POST", "/api/v1/attribution/rules"): Row(
        api(Permission.MANAGE_METRIC_SETTINGS, ok=201),
        json={
            "sourcing_grace_days": 5,
            "influence_look_back_days": 60,
            "time_decay_half_life_days": 20,
            "reason": "matrix",
        },
    ),
    ("POST", "/attribution/rules"): Row(
        page(Permission.MANAGE_METRIC_SETTINGS, ok=303),
        form={
            "sourcing_grace_days": "10",
            "influence_look_back_days": "60",
            "time_decay_half_life_days": "45",
            "reason": "matrix",
        },
    ),
    # Account mapping
    ("GET", "/mapping"): Row(page(Permission.READ_MAPPING)),
    ("GET", "/mapping/partners/{partner_id}"): Row(page(Permission.READ_MAPPING)),
    ("POST", "/mapping/partners/{partner_id}/uploads"): Row(
        page(Permission.MANAGE_MAPPING, ok=303), files={"file": PARTNER_ACCOUNTS_CSV}
    ),
    ("GET", "/mapping/partners/{partner_id}/overlaps"): Row(page(Permission.READ_MAPPING)),
    ("GET", "/mapping/partners/{partner_id}/overlaps.csv"): Row(page(Permission.READ_MAPPING)),
    ("POST", "/mapping/partners/{mapped_partner_id}/decisions"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={"our_crm_id": "001MATRIXMAP", "their_id": "T1", "decision": "rejected"},
    ),
    ("GET", "/mapping/populations"): Row(page(Permission.READ_MAPPING)),
    ("POST", "/mapping/populations"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={
            "name": "Matrix DE",
            "filter": '{{"conditions": [{{"field": "account.country", "op": "eq", "value": "DE"}}]}}',
        },
    ),
    ("POST", "/mapping/populations/{population_id}"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={
            "name": "Matrix FR",
            "filter": '{{"conditions": [{{"field": "account.country", "op": "eq", "value": "FR"}}]}}',
        },
    ),
    ("GET", "/api/v1/mapping/populations"): Row(api(Permission.READ_MAPPING)),
    ("POST", "/api/v1/mapping/populations"): Row(
        api(Permission.MANAGE_MAPPING, ok=201),
        json={
            "name": "Matrix API",
            "filter": {"conditions": [{"field": "account.owner", "op": "eq", "value": "x"}]},
        },
    ),
    ("PUT", "/api/v1/mapping/populations/{population_id}"): Row(
        api(Permission.MANAGE_MAPPING),
        json={
            "name": "Matrix API 2",
            "filter": {"conditions": [{"field": "account.owner", "op": "eq", "value": "y"}]},
        },
    ),
    ("GET", "/api/v1/mapping/partners/{partner_id}/matrix"): Row(api(Permission.READ_MAPPING)),
    ("GET", "/api/v1/mapping/partners/{partner_id}/overlaps"): Row(api(Permission.READ_MAPPING)),
    ("GET", "/api/v1/mapping/partners/{partner_id}/decisions"): Row(api(Permission.READ_MAPPING)),
    ("POST", "/api/v1/mapping/partners/{mapped_partner_id}/decisions"): Row(
        api(Permission.MANAGE_MAPPING, ok=201),
        json={"our_crm_id": "001MATRIXMAP", "their_id": "T1", "decision": "confirmed"},
    ),
    ("GET", "/mapping/sharing-defaults"): Row(page(Permission.READ_MAPPING)),
    ("POST", "/mapping/sharing-defaults"): Row(
        page(Permission.MANAGE_MAPPING, ok=303), form={"level_customers": "counts"}
    ),
    ("GET", "/mapping/partners/{partner_id}/sharing"): Row(page(Permission.READ_MAPPING)),
    ("POST", "/mapping/partners/{partner_id}/sharing"): Row(
        page(Permission.MANAGE_MAPPING, ok=303), form={"level_prospects": "all", "fields_prospects": "name"}
    ),
    ("GET", "/mapping/partners/{partner_id}/preview"): Row(page(Permission.READ_MAPPING)),
    ("GET", "/api/v1/mapping/sharing-defaults"): Row(api(Permission.READ_MAPPING)),
    ("PUT", "/api/v1/mapping/sharing-defaults"): Row(
        api(Permission.MANAGE_MAPPING), json={"customers": {"level": "counts", "fields": []}}
    ),
    ("GET", "/api/v1/mapping/partners/{partner_id}/sharing"): Row(api(Permission.READ_MAPPING)),
    ("PUT", "/api/v1/mapping/partners/{partner_id}/sharing"): Row(
        api(Permission.MANAGE_MAPPING), json={"prospects": {"level": "overlapping", "fields": ["name"]}}
    ),
    ("GET", "/api/v1/mapping/partners/{partner_id}/shared-view"): Row(api(Permission.READ_MAPPING)),
    ("GET", "/mapping/companies"): Row(page(Permission.READ_MAPPING)),
    ("POST", "/mapping/companies/aliases"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={"alias": "matrix-alias.de", "domain": "matrix-alias.com"},
    ),
    ("POST", "/mapping/companies/aliases/{alias_id}/remove"): Row(page(Permission.MANAGE_MAPPING, ok=303)),
    ("POST", "/mapping/companies/links"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={"child_crm_id": "001MATRIXCHILD", "parent_crm_id": "001MATRIXPARENT"},
    ),
    ("POST", "/mapping/companies/links/{parent_link_id}/remove"): Row(
        page(Permission.MANAGE_MAPPING, ok=303)
    ),
    ("GET", "/api/v1/mapping/domain-aliases"): Row(api(Permission.READ_MAPPING)),
    ("POST", "/api/v1/mapping/domain-aliases"): Row(
        api(Permission.MANAGE_MAPPING, ok=201),
        json={"alias": "matrix-alias.de", "domain": "matrix-alias.com"},
    ),
    ("DELETE", "/api/v1/mapping/domain-aliases/{alias_id}"): Row(api(Permission.MANAGE_MAPPING, ok=204)),
    ("GET", "/api/v1/mapping/parent-links"): Row(api(Permission.READ_MAPPING)),
    ("POST", "/api/v1/mapping/parent-links"): Row(
        api(Permission.MANAGE_MAPPING, ok=201),
        json={"child_crm_id": "001MATRIXCHILD", "parent_crm_id": "001MATRIXPARENT"},
    ),
    ("DELETE", "/api/v1/mapping/parent-links/{parent_link_id}"): Row(api(Permission.MANAGE_MAPPING, ok=204)),
    ("GET", "/mapping/shared-accounts"): Row(page(Permission.READ_MAPPING)),
    ("GET", "/mapping/co-sell"): Row(page(Permission.READ_MAPPING)),
    ("GET", "/api/v1/mapping/shared-accounts"): Row(api(Permission.READ_MAPPING)),
    ("GET", "/api/v1/mapping/co-sell"): Row(api(Permission.READ_MAPPING)),
    # Private mapping between instances: the partner page, and what the partner's server calls
    ("GET", "/mapping/partners/{partner_id}/private"): Row(page(Permission.READ_MAPPING)),
    ("POST", "/mapping/partners/{partner_id}/private/invitations"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={"interval_hours": "24"},
        changes_state=False,
        note="the matrix app has no ECOOPS_PUBLIC_URL: refused with a message (tests/psi make real ones)",
    ),
    ("POST", "/mapping/partners/{partner_id}/private/redeem"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={"code": "not-a-code"},
        changes_state=False,
        note="not a code: refused with a message (tests/psi redeem real ones)",
    ),
    ("POST", "/mapping/partners/{partner_id}/private/run"): Row(
        page(Permission.MANAGE_MAPPING, ok=303), changes_state=False, note="no connection: refused"
    ),
    ("POST", "/mapping/partners/{partner_id}/private/schedule"): Row(
        page(Permission.MANAGE_MAPPING, ok=303),
        form={"interval_hours": "12"},
        changes_state=False,
        note="no connection: refused",
    ),
    ("POST", "/mapping/partners/{partner_id}/private/revoke"): Row(
        page(Permission.MANAGE_MAPPING, ok=303), changes_state=False, note="no connection: refused"
    ),
    ("POST", "/mapping/partners/{partner_id}/runs"): Row(
        page(Permission.MANAGE_MAPPING, ok=303), changes_state=False, note="no list yet: refused"
    ),
    # Jobs (a failed mapping run): the state polled by its page, and Retry. Partner users see no job.
    ("GET", "/jobs/{job_id}"): Row({**page(Permission.READ_MAPPING), PARTNER_USER: 404}),
    ("POST", "/jobs/{job_id}/retry"): Row({**page(Permission.MANAGE_MAPPING, ok=303), PARTNER_USER: 404}),
    ("POST", "/psi/v1/connect"): Row(everyone(401), note="server to server: an invitation secret"),
    ("POST", "/psi/v1/exchange/start"): Row(everyone(401), note="server to server: the connection's token"),
    ("POST", "/psi/v1/exchange/finish"): Row(everyone(401), note="server to server: the connection's token"),
    ("POST", "/psi/v1/revoke"): Row(everyone(401), note="server to server: the connection's token"),
    # Nurture sequences (automation)
    ("GET", "/automation/nurture"): Row(page(Permission.MANAGE_AUTOMATION)),
    ("POST", "/automation/nurture"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303), form={"name": "Matrix nurture", "stage": "onboarding"}
    ),
    ("GET", "/automation/nurture/{sequence_id}"): Row(page(Permission.MANAGE_AUTOMATION)),
    ("POST", "/automation/nurture/{sequence_id}"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303),
        form={"name": "Matrix nurture renamed", "stage": "active", "description": "x"},
    ),
    ("POST", "/automation/nurture/{sequence_id}/enabled"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303), form={"enabled": "true"}
    ),
    ("POST", "/automation/nurture/{sequence_id}/steps"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303),
        form={
            "delay_days": "7",
            "channel": "manager_email",
            "subject": "Check in",
            "body": "Hi {{{{ manager_name }}}}",
        },
    ),
    ("POST", "/automation/nurture-steps/{nurture_step_id}"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303),
        form={"delay_days": "3", "channel": "partner_email", "subject": "Welcome", "body": "Hello"},
    ),
    ("POST", "/automation/nurture-steps/{nurture_step_id}/delete"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303)
    ),
    # Deliveries: log, dead letters, webhook endpoints (automation)
    ("GET", "/automation/deliveries"): Row(page(Permission.MANAGE_AUTOMATION)),
    ("GET", "/automation/deliveries/dead"): Row(page(Permission.MANAGE_AUTOMATION)),
    ("POST", "/automation/deliveries/{delivery_id}/retry"): Row(page(Permission.MANAGE_AUTOMATION, ok=303)),
    ("POST", "/automation/deliveries/retry-dead"): Row(page(Permission.MANAGE_AUTOMATION, ok=303)),
    # The demo's caught mail (the matrix app runs in demo mode; outside it these are 404: tests/demo)
    ("GET", "/demo/mail"): Row(page(Permission.READ_CAUGHT_MAIL)),
    ("GET", "/demo/mail/{mail_key}"): Row(page(Permission.READ_CAUGHT_MAIL)),
    ("GET", "/automation/webhooks"): Row(page(Permission.MANAGE_AUTOMATION)),
    ("POST", "/automation/webhooks"): Row(
        page(Permission.MANAGE_AUTOMATION),
        form={"name": "Matrix hook", "url": "https://hooks.example.com/matrix"},
        note="answers the page itself, showing the new secret once",
    ),
    ("POST", "/automation/webhooks/{endpoint_id}/enabled"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303), form={"enabled": "false"}
    ),
    ("POST", "/automation/webhooks/{endpoint_id}/allow-private"): Row(
        page(Permission.ALLOW_PRIVATE_WEBHOOKS, ok=303), form={"allow": "true"}
    ),
    # Automation rules, tasks, Slack users and Slack's signed interactive endpoint
    ("GET", "/automation/rules"): Row(page(Permission.READ_PROGRAM)),
    ("GET", "/automation/rules/new"): Row(page(Permission.MANAGE_AUTOMATION)),
    ("POST", "/automation/rules"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303),
        form={
            "name": "Matrix rule",
            "trigger": "overlap.began",
            "action_0_kind": "email",
            "action_0_to": "address",
            "action_0_value": "matrix@example.com",
        },
    ),
    ("GET", "/automation/rules/{rule_id}"): Row(page(Permission.READ_PROGRAM)),
    ("GET", "/automation/rules/{rule_id}/edit"): Row(page(Permission.MANAGE_AUTOMATION)),
    ("POST", "/automation/rules/{rule_id}"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303),
        form={
            "name": "Matrix rule 2",
            "trigger": "referral.submitted",
            "action_0_kind": "task",
            "action_0_to": "partner_manager",
        },
    ),
    ("POST", "/automation/rules/{rule_id}/enabled"): Row(
        page(Permission.MANAGE_AUTOMATION, ok=303), form={"enabled": "true"}
    ),
    ("POST", "/automation/rules/{rule_id}/delete"): Row(page(Permission.MANAGE_AUTOMATION, ok=303)),
    ("GET", "/automation/rules/{rule_id}/try"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/automation/template-preview"): Row(
        page(Permission.MANAGE_AUTOMATION),
        form={"trigger": "overlap.began", "subject_template": "Hi {{{{ partner_name }}}}"},
        changes_state=False,
        note="renders a preview, stores nothing",
    ),
    ("GET", "/tasks"): Row(signed_in(200, 403)),
    ("POST", "/tasks/{task_id}/done"): Row(
        signed_in(404, 403), form={"done": "true"}, note="{task_id} is another user's task: not found"
    ),
    ("GET", "/automation/slack-users"): Row(page(Permission.MANAGE_USERS)),
    ("POST", "/automation/slack-users/{user_id}"): Row(
        page(Permission.MANAGE_USERS, ok=303), form={"slack_user_id": "U0MATRIX"}
    ),
    ("GET", "/api/v1/automation/rules"): Row(api(Permission.READ_PROGRAM)),
    ("POST", "/api/v1/automation/rules"): Row(
        api(Permission.MANAGE_AUTOMATION, ok=201),
        json={
            "name": "Matrix API rule",
            "trigger": "partner.inactive",
            "actions": [{"kind": "task", "to": "partner_manager"}],
        },
    ),
    ("GET", "/api/v1/automation/rules/{rule_id}"): Row(api(Permission.READ_PROGRAM)),
    ("GET", "/api/v1/automation/rules/{rule_id}/preview"): Row(api(Permission.READ_PROGRAM)),
    ("POST", "/integrations/slack/actions"): Row(
        everyone(403),
        changes_state=False,
        note="Slack's signature replaces session and CSRF: unsigned is refused",
    ),
    # Operating (docs/running.md "Operating")
    ("GET", "/healthz"): Row(everyone(200), note="probe: no sign-in, no database"),
    ("GET", "/readyz"): Row(everyone(200), note="probe: database reachable, schema at head"),
    ("GET", "/metrics"): Row(everyone(404), note="exists only with ECOOPS_METRICS_TOKEN, for its bearer"),
    # Influence logs: logged on an account's page or in the portal, decided by the deal owner or a partner
    # manager ({log_id} is another partner's log, with a file); docs/influence.md
    ("GET", "/accounts/{account_id}/influence/new"): Row(
        {**page(Permission.READ_CRM), Role.VIEWER.value: 403}, note="viewers only read"
    ),
    ("POST", "/accounts/{account_id}/influence"): Row(
        {**page(Permission.READ_CRM, ok=303), Role.VIEWER.value: 403},
        form={
            "partner_id": "{partner_id}",
            "activity": "demo",
            "happened_on": "2025-03-01",
            "note": "matrix",
        },
    ),
    ("POST", "/influence/{log_id}/decision"): Row(
        {**page(Permission.REVIEW_ATTRIBUTION, ok=303), Role.SALES.value: 403, Role.VIEWER.value: 403},
        form={"decision": "dispute", "reason": "not theirs"},
        note="sellers decide only on deals they own (tests/attribution/test_influence.py)",
    ),
    ("GET", "/influence/{log_id}/file"): Row(
        {**page(Permission.READ_CRM), PARTNER_USER: 404}, note="another partner's: not found"
    ),
    ("GET", "/portal/influence"): Row(signed_in(403, 200)),
    ("GET", "/portal/influence/new"): Row(signed_in(403, 200)),
    ("POST", "/portal/influence"): Row(
        signed_in(403, 303),
        form={
            "deal": "{influence_deal}",
            "activity": "meeting",
            "happened_on": "2025-03-01",
            "note": "matrix",
        },
    ),
    ("GET", "/api/v1/influence"): Row(api(Permission.READ_CRM)),
    ("GET", "/api/v1/influence/{log_id}"): Row(api(Permission.READ_CRM)),
    ("POST", "/api/v1/partners/{partner_id}/influence"): Row(
        api(Permission.READ_CRM, ok=201),
        json={
            "activity": "intro",
            "happened_on": "2025-03-01",
            "note": "matrix",
            "account_crm_id": "001MATRIX",
        },
    ),
    ("POST", "/api/v1/influence/{log_id}/confirm"): Row(api(Permission.REVIEW_ATTRIBUTION), json={}),
    ("POST", "/api/v1/influence/{log_id}/dispute"): Row(
        api(Permission.REVIEW_ATTRIBUTION), json={"reason": "not theirs"}
    ),
    # Touches from elsewhere, and review in batches (docs/influence.md)
    ("POST", "/api/v1/touches"): Row(
        api(Permission.IMPORT_DATA),
        json={
            "touches": [
                {
                    "external_id": "matrix-1",
                    "partner": "Own partner",
                    "kind": "co_sell",
                    "touched_on": "2025-01-02",
                    "account_crm_id": "001MATRIX",
                }
            ]
        },
    ),
    ("POST", "/api/v1/touches/review"): Row(
        api(Permission.REVIEW_ATTRIBUTION),
        json={"kind": "crm_source", "decision": "confirm", "reason": "in the CRM"},
        note="every proposed crm_source touch ({touch_id}'s maker proposed them)",
    ),
    # Commissions (finance): {entry_id} is a pending line of {plan_id}'s plan
    # Goals: read with the dashboards, set by whoever edits the program
    ("GET", "/goals"): Row(page(Permission.READ_METRICS)),
    ("POST", "/goals"): Row(
        page(Permission.EDIT_PROGRAM, ok=303),
        form={
            "metric": "referrals",
            "scope": "workspace",
            "period": "month",
            "starts_on": "2025-04-01",
            "target": "5",
        },
    ),
    ("POST", "/goals/{goal_id}"): Row(page(Permission.EDIT_PROGRAM, ok=303), form={"target": "7"}),
    ("POST", "/goals/{goal_id}/delete"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("GET", "/api/v1/goals"): Row(api(Permission.READ_METRICS)),
    ("POST", "/api/v1/goals"): Row(
        api(Permission.EDIT_PROGRAM, ok=201),
        json={
            "metric": "sourced_revenue",
            "scope": "workspace",
            "period": "month",
            "starts_on": "2025-04-01",
            "target": "5000",
        },
    ),
    ("PATCH", "/api/v1/goals/{goal_id}"): Row(api(Permission.EDIT_PROGRAM), json={"target": "6000"}),
    ("DELETE", "/api/v1/goals/{goal_id}"): Row(api(Permission.EDIT_PROGRAM, ok=204)),
    # Partner fit: read with the dashboards, criteria and profiles set by whoever edits the program
    ("GET", "/fit"): Row(page(Permission.READ_METRICS)),
    ("GET", "/fit/criteria"): Row(page(Permission.READ_METRICS)),
    ("POST", "/fit/criteria"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"region.weight": "12", "region.target": "US, FR"}
    ),
    ("GET", "/fit/partners/{partner_id}"): Row(page(Permission.READ_METRICS)),
    ("POST", "/fit/partners/{partner_id}"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"employees": "120", "integration_status": "live"}
    ),
    # Program ROI: read with the dashboards; costs and the gross margin are metric settings
    ("GET", "/roi"): Row(page(Permission.READ_METRICS)),
    ("POST", "/roi/costs"): Row(
        page(Permission.MANAGE_METRIC_SETTINGS, ok=303),
        form={"month": "2025-03", "category": "tools", "amount": "250"},
    ),
    ("POST", "/roi/costs/{cost_id}/delete"): Row(page(Permission.MANAGE_METRIC_SETTINGS, ok=303)),
    ("POST", "/roi/ledger"): Row(page(Permission.MANAGE_METRIC_SETTINGS, ok=303), form={"month": "2025-03"}),
    ("POST", "/roi/margin"): Row(
        page(Permission.MANAGE_METRIC_SETTINGS, ok=303), form={"gross_margin": "70%"}
    ),
    # Reporting cadence: report pack schedules; QBR packs for staff, and for a partner user its own only
    ("GET", "/reports"): Row(page(Permission.READ_METRICS)),
    ("POST", "/reports/schedules"): Row(
        page(Permission.MANAGE_METRIC_SETTINGS, ok=303),
        form={
            "name": "Matrix pack",
            "audience": "finance",
            "cadence": "monthly",
            "recipients": "cfo@example.com",
        },
    ),
    ("POST", "/reports/schedules/{schedule_id}/active"): Row(
        page(Permission.MANAGE_METRIC_SETTINGS, ok=303), form={"active": "false"}
    ),
    ("GET", "/reports/schedules/{schedule_id}/preview"): Row(page(Permission.READ_METRICS)),
    ("GET", "/reports/schedules/{schedule_id}/preview.pdf"): Row(page(Permission.READ_METRICS)),
    ("GET", "/partners/{partner_id}/qbr"): Row(page(Permission.READ_METRICS)),
    ("GET", "/partners/{partner_id}/qbr.pdf"): Row(page(Permission.READ_METRICS)),
    ("GET", "/portal/qbr"): Row(signed_in(303, 200), note="internal users are sent to their start page"),
    ("GET", "/portal/qbr.pdf"): Row(signed_in(403, 200)),
    ("GET", "/maturity"): Row(page(Permission.READ_METRICS)),
    ("POST", "/maturity/assess"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/maturity/answers"): Row(page(Permission.EDIT_PROGRAM, ok=303), form={"q_joint_plans": "yes"}),
    ("GET", "/integrations"): Row(page(Permission.READ_METRICS)),
    ("POST", "/integrations"): Row(
        page(Permission.EDIT_PROGRAM, ok=303),
        form={"partner_id": "{partner_id}", "name": "Matrix Sync", "status": "idea"},
    ),
    ("POST", "/integrations/import"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), files={"file": INTEGRATION_CSV}
    ),
    ("GET", "/integrations/{integration_id}"): Row(page(Permission.READ_METRICS)),
    ("POST", "/integrations/{integration_id}"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"name": "Matrix Renamed Sync", "status": "building"}
    ),
    ("POST", "/integrations/{integration_id}/accounts"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"accounts": "001MATRIX"}
    ),
    ("GET", "/roadmap"): Row(page(Permission.READ_METRICS)),
    ("GET", "/roadmap/export.csv"): Row(page(Permission.READ_METRICS)),
    ("POST", "/roadmap/seed"): Row(page(Permission.EDIT_PROGRAM, ok=303), form={"stage": "prove"}),
    ("POST", "/roadmap/tasks"): Row(page(Permission.EDIT_PROGRAM, ok=303), form=ROADMAP_TASK_FORM),
    ("POST", "/roadmap/tasks/{roadmap_task_id}"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form=ROADMAP_TASK_FORM | {"status": "done"}
    ),
    ("POST", "/roadmap/tasks/{roadmap_task_id}/delete"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("GET", "/api/v1/roadmap/tasks"): Row(api(Permission.READ_METRICS)),
    ("POST", "/api/v1/roadmap/tasks"): Row(
        api(Permission.EDIT_PROGRAM, ok=201),
        json={k: v for k, v in ROADMAP_TASK_FORM.items() if k != "owner_id"},
        note="the owner defaults to the caller",
    ),
    ("PATCH", "/api/v1/roadmap/tasks/{roadmap_task_id}"): Row(
        api(Permission.EDIT_PROGRAM), json={"status": "done"}
    ),
    ("DELETE", "/api/v1/roadmap/tasks/{roadmap_task_id}"): Row(api(Permission.EDIT_PROGRAM, ok=204)),
    ("GET", "/commissions"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("POST", "/commissions/runs"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303), form={"as_of": "2025-06-30"}
    ),
    ("POST", "/commissions/decisions"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303), form={"entry_id": "{entry_id}", "decision": "approved"}
    ),
    ("GET", "/commissions/plans"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("POST", "/commissions/plans"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303),
        form={
            "name": "Matrix plan",
            "program_id": "{program_id}",
            "kind": "percent",
            "basis": "sourced",
            "rate_from": "0",
            "rate_percent": "10",
            "valid_from": "2025-01-01",
        },
    ),
    ("POST", "/commissions/plans/{plan_id}/end"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303), form={"valid_to": "2025-12-31"}
    ),
    ("GET", "/commissions/statements"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("GET", "/commissions/statements/{partner_id}/{period}"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("GET", "/commissions/statements/{partner_id}/{period}.csv"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("GET", "/commissions/statements/{partner_id}/{period}.pdf"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("GET", "/commissions/export.csv"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("POST", "/commissions/payments"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303),
        files={"file": PAYMENTS_CSV},
        changes_state=False,
        note="names no bill of ours, so the whole file is refused and nothing written; tests/commissions pay",
    ),
    # Partner funds (finance): {request_id} is a request waiting, {claim_id} one with a claim waiting
    ("GET", "/commissions/funds"): Row(page(Permission.MANAGE_COMMISSIONS)),
    ("POST", "/commissions/funds/allocations"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303),
        form={"partner_id": "{partner_id}", "period": "2025-Q2", "amount": "1,000"},
    ),
    ("POST", "/commissions/funds/{request_id}/decision"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303), form={"approve": "true"}
    ),
    ("POST", "/commissions/funds/claims/{claim_id}/decision"): Row(
        page(Permission.MANAGE_COMMISSIONS, ok=303), form={"approve": "true"}
    ),
    ("GET", "/commissions/funds/claims/{claim_id}/proof"): Row(page(Permission.MANAGE_COMMISSIONS)),
    # Partner portal: partner funds of the partner user's own partner ({request_id} is another partner's)
    ("GET", "/portal/funds"): Row(signed_in(403, 200)),
    ("POST", "/portal/funds/requests"): Row(
        signed_in(403, 303),
        form={"allocation_id": "{own_allocation_id}", "activity": "Matrix webinar", "budget": "100"},
    ),
    ("POST", "/portal/funds/{request_id}/claim"): Row(
        signed_in(403, 404),
        form={"amount": "10"},
        files={"proof": PROOF_PDF},
        note="another partner's: not found",
    ),
    ("GET", "/portal/funds/{request_id}/proof"): Row(
        signed_in(403, 404), note="another partner's: not found"
    ),
    # Partner portal: the partner user's own commission statements (another partner's are never reachable)
    ("GET", "/portal/commissions"): Row(signed_in(403, 200)),
    ("GET", "/portal/commissions/{period}"): Row(signed_in(403, 200)),
    ("GET", "/portal/commissions/{period}.csv"): Row(signed_in(403, 200)),
    ("GET", "/portal/commissions/{period}.pdf"): Row(signed_in(403, 200)),
    # Enablement: the content library ({content_id}: a file for another partner only), playbooks
    # ({playbook_id}: unpublished), joint account plans ({joint_plan_id}: another partner's);
    # docs/enablement.md
    ("GET", "/enablement"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/enablement/content"): Row(
        page(Permission.EDIT_PROGRAM, ok=303),
        form={"title": "Matrix link", "kind": "guide", "link": "https://example.com/matrix"},
    ),
    ("GET", "/enablement/content/{content_id}"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/enablement/content/{content_id}/attach"): Row(
        {**page(Permission.READ_PROGRAM, ok=303), Role.VIEWER.value: 403},
        form={"subject": "referral", "key": "{referral_id}"},
        note="viewers only read",
    ),
    ("POST", "/enablement/content/{content_id}/detach"): Row(
        {**page(Permission.READ_PROGRAM, ok=303), Role.VIEWER.value: 403},
        form={"subject": "referral", "key": "{referral_id}"},
    ),
    ("POST", "/enablement/content/{content_id}/delete"): Row(page(Permission.EDIT_PROGRAM, ok=303)),
    ("POST", "/referrals/{referral_id}/content"): Row(
        {**page(Permission.READ_PROGRAM, ok=303), Role.VIEWER.value: 403}, form={"content_id": "{content_id}"}
    ),
    ("GET", "/content/{content_id}/open"): Row(signed_in(200, 404), note="another partner's item: not found"),
    ("POST", "/content/{content_id}/share"): Row(
        {**signed_in(303, 404), Role.VIEWER.value: 403}, note="another partner's item: not found"
    ),
    ("GET", "/enablement/playbooks"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/enablement/playbooks"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"title": "Matrix playbook", "motion": "referral"}
    ),
    ("GET", "/enablement/playbooks/{playbook_id}"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/enablement/playbooks/{playbook_id}/steps"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"title": "Matrix step", "content_id": "{content_id}"}
    ),
    ("POST", "/enablement/playbooks/{playbook_id}/steps/{step_id}/delete"): Row(
        page(Permission.EDIT_PROGRAM, ok=303)
    ),
    ("POST", "/enablement/playbooks/{playbook_id}/publish"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"published": "true"}
    ),
    ("GET", "/plans"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/plans"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"partner_id": "{partner_id}", "title": "Matrix plan"}
    ),
    ("GET", "/plans/{joint_plan_id}"): Row(page(Permission.READ_PROGRAM)),
    ("POST", "/plans/{joint_plan_id}/accounts"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"our_crm_id": "001MATRIXMAP"}
    ),
    ("POST", "/plans/{joint_plan_id}/actions"): Row(
        page(Permission.EDIT_PROGRAM, ok=303),
        form={"title": "Matrix action", "owner": "ours:{user_id}", "due_on": "2025-05-01"},
    ),
    ("POST", "/plans/{joint_plan_id}/actions/{plan_action_id}"): Row(
        page(Permission.EDIT_PROGRAM, ok=303), form={"status": "done"}
    ),
    ("GET", "/portal/enablement"): Row(signed_in(403, 200)),
    ("GET", "/portal/playbooks/{playbook_id}"): Row(signed_in(403, 404), note="unpublished: not found"),
    ("GET", "/portal/plans/{joint_plan_id}"): Row(signed_in(403, 404), note="another partner's: not found"),
    ("GET", "/api/v1/content"): Row(api(Permission.READ_PROGRAM)),
    ("GET", "/api/v1/content/{content_id}"): Row(api(Permission.READ_PROGRAM)),
    ("POST", "/api/v1/content"): Row(
        api(Permission.EDIT_PROGRAM, ok=201),
        json={"title": "Matrix API link", "kind": "deck", "link": "https://example.com/deck"},
    ),
    ("GET", "/api/v1/enablement/utilisation"): Row(api(Permission.READ_METRICS)),
    ("GET", "/api/v1/playbooks"): Row(api(Permission.READ_PROGRAM)),
    # Audit trail
    ("GET", "/audit"): Row(page(Permission.READ_AUDIT)),
    ("GET", "/api/v1/audit-events"): Row(api(Permission.READ_AUDIT)),
}


def _partner_id(session: Session, settings: Settings) -> str:
    return str(make_partner(session, stage="signed", stage_since=date(2025, 1, 1)).id)


def _program_id(session: Session, settings: Settings) -> str:
    return str(programs.create_program(session, SYSTEM, name="Matrix Program", tiers=["Matrix Tier"]).id)


def _tier_id(session: Session, settings: Settings) -> str:
    """The tier of `_program_id`'s program, made just before (PATH_VALUES runs in order)."""
    return str(session.scalars(select(Tier.id).order_by(Tier.id.desc())).first())


def _proposal_id(session: Session, settings: Settings) -> str:
    program = programs.create_program(session, SYSTEM, name="Matrix Ladder", tiers=["Entry", "Top"])
    partner = make_partner(session, name="Matrix Climber", tiers=[program.tiers[0]])
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
    session.flush()
    return str(proposal.id)


def _partner_user_id(session: Session, settings: Settings) -> str:
    partner = make_partner(session, name="Someone else's partner")
    return str(make_partner_user(session, partner).id)


def _account_id(session: Session, settings: Settings) -> str:
    return str(make_account(session, crm_id="001MATRIX").id)


def _opportunity_id(session: Session, settings: Settings) -> str:
    return str(make_opportunity(session, account_crm_id="001MATRIX").id)


def _user_id(session: Session, settings: Settings) -> str:
    return str(make_user(session, Role.SALES, email="matrix-target@example.com").id)


def _token_id(session: Session, settings: Settings) -> str:
    """Someone else's token: the matrix swaps in the caller's own where it has one."""
    owner = make_user(session, Role.SALES, email="token-owner@example.com")
    token, _secret = accounts.create_api_token(session, accounts.user_actor(owner), name="not yours")
    return str(token.id)


def _run_id(session: Session, settings: Settings) -> str:
    run = ImportRun(
        kind="accounts", source_format="salesforce", filename="old.csv", sha256="0" * 64, status="committed"
    )
    session.add(run)
    session.flush()
    return str(run.id)


def _upload_token(session: Session, settings: Settings) -> str:
    return uploads.save_upload(settings.uploads_dir, io.BytesIO(ACCOUNTS_CSV[1]), ACCOUNTS_CSV[0])


def _referral_id(session: Session, settings: Settings) -> str:
    """A deal registration waiting for review, from a partner that is not the partner user's."""
    partner = make_partner(session, name="Referring partner")
    data = ReferralInput(kind="deal_registration", company="Matrix Prospect", domain="matrixprospect.com")
    return str(submit(session, SYSTEM, data, settings=settings, via=Via.INTERNAL, partner_id=partner.id).id)


def _territory_id(session: Session, settings: Settings) -> str:
    seller = make_user(session, Role.SALES, email="matrix-territory@example.com")
    return str(routing.set_territory(session, SYSTEM, country="FR", seller_id=seller.id).id)


def _link_id(session: Session, settings: Settings) -> str:
    return str(
        links.create_link(
            session, SYSTEM, partner_id=int(_partner_id(session, settings)), days=30, settings=settings
        ).id
    )


def _link_token(session: Session, settings: Settings) -> str:
    return links.link_token(session.get(ReferralLink, int(_link_id(session, settings))), settings)


def _link_nonce(session: Session, settings: Settings) -> str:
    """A form nonce of the link `_link_token` made just before (PATH_VALUES runs in order)."""
    return links.issue_nonce(
        session, session.scalars(select(ReferralLink).order_by(ReferralLink.id.desc())).first()
    )


def _item_id(session: Session, settings: Settings) -> str:
    """A checklist item of `_program_id`'s program, made just before (PATH_VALUES runs in order)."""
    program = session.scalars(select(Program).order_by(Program.id.desc())).first()
    assert program is not None
    item = checklist.add_item(
        session, SYSTEM, program, title="Matrix item", help_text="", gates_stage="active"
    )
    return str(item.id)


def _checklist_item_id(session: Session, settings: Settings) -> str:
    """An item of a program of its own, which `_partner_id`'s partner joins (the matrix program must stay
    free of members, to be deletable). It gates `recruiting`: no move of that signed partner is held."""
    program = programs.create_program(session, SYSTEM, name="Matrix Onboarding", tiers=[])
    partner = session.scalars(
        select(Partner).where(Partner.stage == "signed").order_by(Partner.id.desc())
    ).first()
    assert partner is not None
    session.add(Membership(partner_id=partner.id, program_id=program.id))
    item = checklist.add_item(
        session, SYSTEM, program, title="Matrix check", help_text="", gates_stage="recruiting"
    )
    return str(item.id)


def _apply_stamp(session: Session, settings: Settings) -> str:
    """The application form's signed moment of showing, a minute ago (a person's pace)."""
    return form_guard.form_stamp(settings, time.time() - 60)


def _application_id(session: Session, settings: Settings) -> str:
    """An application waiting for review, to a program of its own (`_program_id`'s may be retired)."""
    program = programs.create_program(session, SYSTEM, name="Matrix Applied", tiers=["Matrix Entry"])
    data = applications.ApplicationInput(
        "Matrix Reviewed",
        "matrix-reviewed.example",
        "FR",
        "agency",
        "Rita",
        "rita@matrix-reviewed.example",
        "",
        "",
        program.id,
    )
    return str(applications.submit_application(session, data, address="192.0.2.1").id)


def _touch_id(session: Session, settings: Settings) -> str:
    """A proposed touch, from the partner-source field of a deal naming a partner."""
    partner = make_partner(session, name="Matrix Source Partner")
    make_opportunity(session, account_crm_id="001MATRIXSRC", partner_source=partner.name)
    review.propose_from_data(session, SYSTEM)
    return str(session.scalars(select(PartnerTouch.id).order_by(PartnerTouch.id.desc())).first())


def _crm_id(session: Session, settings: Settings) -> str:
    return make_opportunity(session, account_crm_id="001MATRIXOPP").crm_id


def _mapped_partner_id(session: Session, settings: Settings) -> str:
    """A partner whose current list has "T1", and our account "001MATRIXMAP": a pair to decide on."""
    partner = make_partner(session, name="Matrix Mapped Partner")
    make_account(session, crm_id="001MATRIXMAP", name="Matrix Mapped", domain="matrixmapped.com")
    path = settings.var_dir / "matrix-partner.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PARTNER_ACCOUNTS_CSV[1])
    mapping_uploads.upload_partner_list(session, SYSTEM, partner.id, path, "matrix-partner.csv")
    return str(partner.id)


def _our_crm_id(session: Session, settings: Settings) -> str:
    """Our account in the list of the partner `_mapped_partner_id` made just before, once mapped."""
    partner_id = session.scalars(select(Partner.id).where(Partner.name == "Matrix Mapped Partner")).one()
    runs.run_mapping(session, SYSTEM, partner_id)
    return "001MATRIXMAP"


def _answer_token(session: Session, settings: Settings) -> str:
    """The e-mailed answer link of a co-sell request about that account."""
    partner_id = session.scalars(select(Partner.id).where(Partner.name == "Matrix Mapped Partner")).one()
    seller = accounts.user_actor(make_user(session, Role.SALES, email="matrix-cosell@example.com"))
    data = cosell.prefill(session, seller, partner_id=partner_id, account_crm_id="001MATRIXMAP")
    referral = cosell.ask_for_help(
        session, seller, data, partner_id=partner_id, account_crm_id="001MATRIXMAP", settings=settings
    )
    link = session.scalars(select(ReferralLink).where(ReferralLink.referral_id == referral.id)).one()
    return links.link_token(link, settings)


def _population_id(session: Session, settings: Settings) -> str:
    filter = {"conditions": [{"field": "account.country", "op": "eq", "value": "NL"}]}
    return str(populations.create_population(session, SYSTEM, name="Matrix NL", filter=filter).id)


def _alias_id(session: Session, settings: Settings) -> str:
    return str(company_links.add_domain_alias(session, SYSTEM, alias="matrix.de", domain="matrix.com").id)


def _parent_link_id(session: Session, settings: Settings) -> str:
    """A link to remove, between two accounts that also serve the routes that add one."""
    for crm_id in ("001MATRIXCHILD", "001MATRIXPARENT", "001MATRIXSUB"):
        make_account(session, crm_id=crm_id, name=f"Matrix {crm_id}", domain=f"{crm_id.lower()}.com")
    link = company_links.add_parent_link(
        session, SYSTEM, child_crm_id="001MATRIXSUB", parent_crm_id="001MATRIXPARENT"
    )
    return str(link.id)


def _sequence_id(session: Session, settings: Settings) -> str:
    """A switched-off sequence with one step, so switching it on succeeds."""
    return str(_nurture_step(session, "Matrix sequence").sequence_id)


def _nurture_step_id(session: Session, settings: Settings) -> str:
    return str(_nurture_step(session, "Matrix step's sequence").id)


def _nurture_step(session: Session, name: str) -> NurtureStep:
    sequence = nurture.create_sequence(session, SYSTEM, name=name, stage="onboarding")
    data = nurture.StepInput("0", "partner_email", "Welcome {{ partner_name }}", "Hello {{ recipient_name }}")
    return nurture.add_step(session, SYSTEM, sequence, data)


def _rule_id(session: Session, settings: Settings) -> str:
    data = automation_rules.RuleInput(
        name="Matrix existing rule",
        trigger="overlap.began",
        conditions=Conditions(),
        actions=[automation_rules.Action("email", "partner_manager")],
    )
    return str(automation_rules.create_rule(session, SYSTEM, data).id)


def _task_id(session: Session, settings: Settings) -> str:
    """Someone else's task: nobody in the matrix may tick it off."""
    user = make_user(session, Role.SALES, email="matrix-task-owner@example.com")
    return str(add_task(session, uid="matrix-task", user_id=user.id, title="Not yours").id)


def _job_id(session: Session, settings: Settings) -> str:
    """A failed mapping run of a partner that is not the partner user's, so retrying it succeeds."""
    partner = make_partner(session, name="Matrix Job Partner")
    job = jobs.enqueue(
        session, SYSTEM, MAPPING, subject=mapping_subject(partner.id), arguments={"partner_id": partner.id}
    )
    job.state, job.last_error = "failed", "matrix failure"
    session.flush()
    return str(job.id)


# Path parameter name -> maker of a record to use for it (the partner user's partner is never this one).
def _delivery_id(session: Session, settings: Settings) -> str:
    """A dead delivery, so retrying it succeeds."""
    delivery = enqueue(
        session,
        channel=Channel.EMAIL,
        target="matrix@example.com",
        message=Message(subject="Matrix", text="Matrix"),
        recipient="user:1",
        source="manual",
        source_ref="matrix",
    )
    delivery.status = DeliveryStatus.DEAD.value
    session.flush()
    return str(delivery.id)


def _endpoint_id(session: Session, settings: Settings) -> str:
    return str(endpoint_admin.create(session, SYSTEM, name="Matrix", url="https://hooks.example.com/m").id)


def _mail_key(session: Session, settings: Settings) -> str:
    """A message in the demo's catcher folder."""
    message = EmailMessage()
    message["Subject"], message["To"] = "Matrix mail", "someone@example.com"
    message.set_content("caught")
    return str(maildir(settings.var_dir).add(message))


def _log_id(session: Session, settings: Settings) -> str:
    """Another partner's influence log on an account, with a file, waiting for a decision."""
    partner = make_partner(session, name="Matrix Influence Partner")
    make_account(session, crm_id="001MATRIXINF", owner="Nobody Here")
    data = influence.LogInput(
        partner.id, "demo", date(2025, 3, 1), "matrix demo", account_crm_id="001MATRIXINF"
    )
    evidence = influence.Evidence(io.BytesIO(b"slides"), "slides.pdf")
    return str(influence.log_influence(session, SYSTEM, data, settings, evidence).id)


def _influence_deal(session: Session, settings: Settings) -> str:
    """A deal of the matrix's own partner user's partner: our co-sell request to it, on an opportunity."""
    partner = session.scalars(select(Partner).where(Partner.name == "Own partner")).one()
    opportunity = make_opportunity(session, account_crm_id="001MATRIXOWN")
    session.add(
        Referral(
            direction="outbound",
            kind="intro",
            partner_id=partner.id,
            company="Matrix Own Deal",
            status="accepted",
            submitted_via="internal",
            opportunity_crm_id=opportunity.crm_id,
        )
    )
    session.flush()
    return f"{opportunity.crm_id}|"


def _goal_id(session: Session, settings: Settings) -> str:
    data = goals.GoalInput("sourced_revenue", "workspace", "quarter", date(2025, 1, 1), "100000")
    return str(goals.create_goal(session, SYSTEM, data).id)


def _plan_id(session: Session, settings: Settings) -> str:
    program = programs.create_program(session, SYSTEM, name="Matrix Commissions", tiers=["Matrix Paid"])
    data = commission_plans.PlanInput(
        name="Matrix commission", program_id=program.id, rates=[("0", "10")], valid_from=date(2025, 1, 1)
    )
    return str(commission_plans.create_plan(session, SYSTEM, data, workspace_currency=settings.currency).id)


def _entry_id(session: Session, settings: Settings) -> str:
    """A pending line of `_plan_id`'s plan, made just before (PATH_VALUES runs in order)."""
    plan = session.scalars(select(CommissionPlan).order_by(CommissionPlan.id.desc())).first()
    assert plan is not None
    entry = CommissionEntry(
        plan_id=plan.id,
        partner_id=make_partner(session, name="Matrix Commissioned").id,
        subject="006MATRIX",
        kind="credit",
        amount_cents=1000,
        currency=plan.currency,
        earned_on=date(2025, 3, 3),
        closed_on=date(2025, 3, 3),
        credit="source",
        explanation="matrix",
        status="pending",
    )
    session.add(entry)
    session.flush()
    return str(entry.id)


def _fund_request(session: Session, name: str) -> FundRequest:
    partner = make_partner(session, name=name)
    allocation = FundAllocation(partner_id=partner.id, period="2025-Q1", amount_cents=100_000, currency="USD")
    session.add(allocation)
    session.flush()
    found = FundRequest(
        allocation_id=allocation.id, partner_id=partner.id, activity="Matrix", budget_cents=50_000
    )
    session.add(found)
    session.flush()
    return found


def _fund_request_id(session: Session, settings: Settings) -> str:
    return str(_fund_request(session, "Matrix Funded").id)


def _fund_claim_id(session: Session, settings: Settings) -> str:
    found = _fund_request(session, "Matrix Claiming")
    folder = funds.proofs_dir(settings.var_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix-proof.pdf").write_bytes(PROOF_PDF[1])
    found.status, found.claim_status, found.claimed_cents = "approved", "requested", 40_000
    found.proof_key, found.proof_filename = "matrix-proof.pdf", "proof.pdf"
    session.flush()
    return str(found.id)


def _own_allocation_id(session: Session, settings: Settings) -> str:
    """An allocation of the matrix's partner user's own partner ("Own partner")."""
    own = session.scalars(select(Partner).where(Partner.name == "Own partner")).one()
    allocation = FundAllocation(partner_id=own.id, period="2025-Q2", amount_cents=100_000, currency="USD")
    session.add(allocation)
    session.flush()
    return str(allocation.id)


def _cost_id(session: Session, settings: Settings) -> str:
    return str(roi.add_cost(session, SYSTEM, spent_on=date(2025, 3, 1), category="people", amount="1000").id)


def _schedule_id(session: Session, settings: Settings) -> str:
    schedule = packs.create_schedule(
        session,
        SYSTEM,
        name="Matrix weekly",
        audience="leadership",
        cadence="weekly",
        recipients="ceo@example.com",
    )
    return str(schedule.id)


def _integration_id(session: Session, settings: Settings) -> str:
    partner = make_partner(session, name="Matrix Integrated")
    data = maturity_integrations.IntegrationInput(partner.id, "Matrix Connector", "building", None)
    return str(maturity_integrations.create_integration(session, SYSTEM, data, date(2025, 3, 1)).id)


def _roadmap_task_id(session: Session, settings: Settings) -> str:
    owner = make_user(session, Role.PARTNER_MANAGER, email="matrix-roadmap@example.com")
    data = roadmap.TaskInput(
        "Matrix roadmap task",
        "prove",
        "workflows",
        "sales_ops",
        owner.id,
        date(2025, 6, 30),
        "planned",
        "referrals_received",
    )
    return str(roadmap.create_task(session, SYSTEM, data).id)


def _crm(session: Session, provider: str, **made: str) -> CrmConnection:
    """The connected CRM the provider's routes' records hang on (one per workspace)."""
    connection = session.scalar(select(CrmConnection).where(CrmConnection.provider == provider))
    if connection is None:
        connection = CrmConnection(provider=provider, status="connected", **made)
        session.add(connection)
        session.flush()
    return connection


def _salesforce(session: Session) -> CrmConnection:
    return _crm(
        session,
        "salesforce",
        flow="jwt_bearer",
        login_url="https://test.salesforce.com",
        client_id="key",
        org_id="00D000000000001EAA",
        instance_url="https://example.my.salesforce.com",
    )


Made = Callable[[Session, Settings], str]


def _writeback_target(connection_of: Callable[[Session], CrmConnection], on: tuple[str, str]) -> Made:
    """A write-back target of the CRM's connection; another one (`on`: target, field) is turned on, so
    a write-back can be queued."""

    def make(session: Session, settings: Settings) -> str:
        target, crm_field = on
        connection_id = connection_of(session).id
        session.add(
            WritebackField(connection_id=connection_id, target=target, crm_field=crm_field, enabled=True)
        )
        session.flush()
        return "account_partners"

    return make


def _writeback_run_id(connection_of: Callable[[Session], CrmConnection]) -> Made:
    def make(session: Session, settings: Settings) -> str:
        run = WritebackRun(connection_id=connection_of(session).id, trigger="manual", status="done")
        session.add(run)
        session.flush()
        return str(run.id)

    return make


def _stage_id(session: Session, settings: Settings) -> str:
    """A stage of a connected Salesforce (made as a sync would leave it)."""
    connection = _salesforce(session)
    stage = StageMapping(connection_id=connection.id, stage="Negotiation")
    session.add(stage)
    session.flush()
    return str(stage.id)


def _hubspot(session: Session) -> CrmConnection:
    return _crm(
        session,
        "hubspot",
        flow="private_app",
        login_url="https://api.hubapi.com",
        client_id="",
        org_id="4455667",
    )


def _hubspot_stage_id(session: Session, settings: Settings) -> str:
    """A stage of a connected HubSpot (made as a sync would leave it)."""
    stage = StageMapping(connection_id=_hubspot(session).id, stage="Contract Sent")
    session.add(stage)
    session.flush()
    return str(stage.id)


def _content_id(session: Session, settings: Settings) -> str:
    """A file for another partner only: the matrix's partner user may not see it."""
    partner = make_partner(session, name="Matrix Content Partner")
    data = enablement_content.ContentInput("Matrix BOM", "bill_of_materials", partner_id=partner.id)
    upload = enablement_content.Upload(io.BytesIO(b"bill of materials"), "bom.pdf")
    return str(enablement_content.add_content(session, SYSTEM, data, settings, upload).id)


def _playbook_id(session: Session, settings: Settings) -> str:
    """An unpublished playbook with one step."""
    playbook = enablement_playbooks.create_playbook(
        session, SYSTEM, title="Matrix playbook", motion="referral"
    )
    enablement_playbooks.add_step(session, SYSTEM, playbook, title="Matrix first step")
    return str(playbook.id)


def _step_id(session: Session, settings: Settings) -> str:
    """The step of `_playbook_id`'s playbook, made just before (PATH_VALUES runs in order)."""
    return str(session.scalars(select(PlaybookStep.id).order_by(PlaybookStep.id.desc())).first())


def _joint_plan_id(session: Session, settings: Settings) -> str:
    """A plan with the mapped partner of `_mapped_partner_id` (not the partner user's), whose overlap
    "001MATRIXMAP" the matrix adds."""
    partner_id = session.scalars(select(Partner.id).where(Partner.name == "Matrix Mapped Partner")).one()
    return str(
        enablement_plans.create_plan(session, SYSTEM, partner_id=partner_id, title="Matrix joint plan").id
    )


def _plan_action_id(session: Session, settings: Settings) -> str:
    """An action of `_joint_plan_id`'s plan, owned by one of our people."""
    plan = session.scalars(select(JointPlan).order_by(JointPlan.id.desc())).first()
    assert plan is not None
    owner = make_user(session, Role.PARTNER_MANAGER, email="matrix-plan-owner@example.com")
    return str(
        enablement_plans.add_action(
            session, SYSTEM, plan, title="Matrix", owner=f"ours:{owner.id}", due_on=None
        ).id
    )


PATH_VALUES: dict[str, Callable[[Session, Settings], str]] = {
    "mail_key": _mail_key,
    "delivery_id": _delivery_id,
    "endpoint_id": _endpoint_id,
    "partner_id": _partner_id,
    "program_id": _program_id,
    "tier_id": _tier_id,
    "item_id": _item_id,
    "checklist_item_id": _checklist_item_id,
    "proposal_id": _proposal_id,
    "partner_user_id": _partner_user_id,
    "account_id": _account_id,
    "opportunity_id": _opportunity_id,
    "user_id": _user_id,
    "token_id": _token_id,
    "run_id": _run_id,
    "token": _upload_token,
    "referral_id": _referral_id,
    "territory_id": _territory_id,
    "link_id": _link_id,
    "link_token": _link_token,
    "link_nonce": _link_nonce,
    "apply_stamp": _apply_stamp,
    "application_id": _application_id,
    "figure": lambda session, settings: "revenue",
    "dashboard": lambda session, settings: "overview",
    "crm_id": _crm_id,
    "touch_id": _touch_id,
    "mapped_partner_id": _mapped_partner_id,
    "our_crm_id": _our_crm_id,
    "answer_token": _answer_token,
    "population_id": _population_id,
    "alias_id": _alias_id,
    "parent_link_id": _parent_link_id,
    "sequence_id": _sequence_id,
    "nurture_step_id": _nurture_step_id,
    "rule_id": _rule_id,
    "task_id": _task_id,
    "job_id": _job_id,
    "log_id": _log_id,
    "influence_deal": _influence_deal,
    "plan_id": _plan_id,
    "goal_id": _goal_id,
    "entry_id": _entry_id,
    "period": lambda session, settings: "2025-03",
    "request_id": _fund_request_id,
    "claim_id": _fund_claim_id,
    "own_allocation_id": _own_allocation_id,
    "cost_id": _cost_id,
    "schedule_id": _schedule_id,
    "integration_id": _integration_id,
    "roadmap_task_id": _roadmap_task_id,
    "stage_id": _stage_id,
    "target": _writeback_target(_salesforce, ("opportunity_referral", "Ecoops_Referral_Id__c")),
    "writeback_run_id": _writeback_run_id(_salesforce),
    "hubspot_stage_id": _hubspot_stage_id,
    "hubspot_target": _writeback_target(_hubspot, ("opportunity_class", "ecoops_partner_class")),
    "hubspot_writeback_run_id": _writeback_run_id(_hubspot),
    "content_id": _content_id,
    "playbook_id": _playbook_id,
    "step_id": _step_id,
    "joint_plan_id": _joint_plan_id,
    "plan_action_id": _plan_action_id,
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path template) the app answers, HEAD aside (it follows GET); static files aside."""
    for route in iter_route_contexts(app.routes):
        if route.methods is None or route.path is None:  # mounts (static files)
            continue
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route.path
