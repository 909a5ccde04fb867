"""Job kind names and subjects (what a job works on), importable by the domains that queue jobs
without importing the handlers (jobs/kinds.py), which import those domains."""

from __future__ import annotations

from datetime import date

MAPPING, EXCHANGE, IMPORT = "mapping.run", "psi.exchange", "import.commit"
SALESFORCE_SYNC, HUBSPOT_SYNC = "salesforce.sync", "hubspot.sync"
MATURITY = "maturity.assess"
SALESFORCE_WRITEBACK, HUBSPOT_WRITEBACK = "salesforce.writeback", "hubspot.writeback"
SYNC_JOBS = {"salesforce": SALESFORCE_SYNC, "hubspot": HUBSPOT_SYNC}  # a CRM connection's sync, by provider
WRITEBACK_JOBS = {"salesforce": SALESFORCE_WRITEBACK, "hubspot": HUBSPOT_WRITEBACK}  # its write-back


def mapping_subject(partner_id: int) -> str:
    return f"partner:{partner_id}:mapping"


def exchange_subject(partner_id: int) -> str:
    return f"partner:{partner_id}:private-exchange"


def import_subject(token: str) -> str:
    return f"upload:{token}"


def crm_sync_subject(connection_id: int) -> str:
    return f"crm-connection:{connection_id}:sync"


def maturity_subject(day: date) -> str:
    return f"maturity:{day.isoformat()}"


def writeback_subject(connection_id: int) -> str:
    return f"crm-connection:{connection_id}:writeback"
