"""`ecoops salesforce-sync`: one sync now, in this process (exit statuses: crm/connections/cli.py);
`ecoops crm-secrets-key`: a new key for ECOOPS_CRM_SECRETS_KEY."""

from __future__ import annotations

from ecoops.crm.connections.cli import run_sync
from ecoops.crm.connections.secrets import new_key
from ecoops.crm.salesforce.client import SalesforceAuthError, SalesforceUnavailable
from ecoops.crm.salesforce.sync import SalesforceSync


def sync_command() -> None:
    """Sync Salesforce now (accounts, opportunities, their stage history) from each object's checkpoint."""
    run_sync(SalesforceSync, (SalesforceUnavailable, SalesforceAuthError))


def secrets_key_command() -> None:
    """Print a new Fernet key for ECOOPS_CRM_SECRETS_KEY (connect again after changing it)."""
    print(new_key())
