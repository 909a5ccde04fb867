"""`ecoops hubspot-sync`: one HubSpot sync now, in this process (exit statuses: crm/connections/cli.py)."""

from __future__ import annotations

from ecoops.crm.connections.cli import run_sync
from ecoops.crm.hubspot.client import HubSpotAuthError, HubSpotUnavailable
from ecoops.crm.hubspot.sync import HubSpotSync


def sync_command() -> None:
    """Sync HubSpot now (companies, deals with their stage history, archived ones) from each checkpoint."""
    run_sync(HubSpotSync, (HubSpotUnavailable, HubSpotAuthError))
