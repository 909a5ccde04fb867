"""What each role may do. Routes and services ask `allowed(actor, permission)`; nothing else decides."""

from __future__ import annotations

from enum import StrEnum

from ecoops.actors import Actor, ActorKind, Role


class Permission(StrEnum):
    READ_PROGRAM = "read_program"  # partners, programs, tiers, life cycle
    EDIT_PROGRAM = "edit_program"  # create/edit partners, move stages, programs and tiers
    READ_CRM = "read_crm"  # accounts, opportunities, contacts
    IMPORT_DATA = "import_data"  # CRM and partner-list imports
    MANAGE_USERS = "manage_users"  # users, roles, API tokens of others
    READ_AUDIT = "read_audit"
    USE_API_TOKENS = "use_api_tokens"  # create and revoke one's own API tokens
    READ_METRICS = "read_metrics"  # dashboards, figures, explanations, `ecoops report`
    REVIEW_ATTRIBUTION = "review_attribution"  # confirm or dispute proposed partner touches
    MANAGE_METRIC_SETTINGS = "manage_metric_settings"  # sourcing grace, look-back, half-life
    READ_MAPPING = "read_mapping"  # overlaps, matches and why, populations, sharing rules
    MANAGE_MAPPING = "manage_mapping"  # partner uploads, runs, match overrides, populations, sharing
    MANAGE_AUTOMATION = "manage_automation"  # rules, webhook endpoints, deliveries, nurture sequences
    ALLOW_PRIVATE_WEBHOOKS = "allow_private_webhooks"  # let an endpoint reach private addresses (SSRF)
    READ_CAUGHT_MAIL = "read_caught_mail"  # the demo's caught e-mail and Slack messages (/demo/mail)
    # Finance: commission plans, accrual runs, approving/declining/holding lines, bill export, payment files.
    MANAGE_COMMISSIONS = "manage_commissions"
    # CRM connections (Salesforce): connect, disconnect, sync, the stage map. Admins only: a connection
    # holds credentials to the company's whole CRM.
    MANAGE_CRM_CONNECTIONS = "manage_crm_connections"


_ALL = frozenset(Permission)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _ALL,
    # Caught demo mail holds every recipient's messages: the admin's to read, like the users list.
    Role.OPS: _ALL
    - {
        Permission.MANAGE_USERS,
        Permission.ALLOW_PRIVATE_WEBHOOKS,
        Permission.READ_CAUGHT_MAIL,
        Permission.MANAGE_CRM_CONNECTIONS,
    },
    Role.PARTNER_MANAGER: frozenset(
        {
            Permission.READ_PROGRAM,
            Permission.EDIT_PROGRAM,
            Permission.READ_CRM,
            Permission.USE_API_TOKENS,
            Permission.READ_METRICS,
            Permission.REVIEW_ATTRIBUTION,
            Permission.READ_MAPPING,
            Permission.MANAGE_MAPPING,
            Permission.MANAGE_AUTOMATION,
        }
    ),
    Role.SALES: frozenset(
        {
            Permission.READ_PROGRAM,
            Permission.READ_CRM,
            Permission.USE_API_TOKENS,
            Permission.READ_METRICS,
            Permission.READ_MAPPING,
        }
    ),
    Role.VIEWER: frozenset(
        {Permission.READ_PROGRAM, Permission.READ_CRM, Permission.READ_METRICS, Permission.READ_MAPPING}
    ),
}


def allowed(actor: Actor, permission: Permission) -> bool:
    """Partner users hold no internal permission: the portal has its own, narrower, checks."""
    if actor.kind == ActorKind.PARTNER_USER or actor.role is None:
        return False
    return permission in ROLE_PERMISSIONS[actor.role]


class Forbidden(Exception):
    """The actor may not do this. Interfaces answer 403 (or 404 where existence must not leak)."""


class NotFound(Exception):
    """No such record, or not one this actor may see."""


def require(actor: Actor, permission: Permission) -> None:
    if not allowed(actor, permission):
        raise Forbidden(f"{actor.label} may not {permission.value.replace('_', ' ')}")
