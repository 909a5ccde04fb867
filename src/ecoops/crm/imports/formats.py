"""Recognising an export from its header row: the Salesforce and HubSpot column names we know, per kind.

A file is matched against every profile (one CRM's export of one kind); the profile that reads the
most of its columns wins. Any other file needs an explicit `Mapping` (a JSON file or the page's form).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecoops.accounts.service import InvalidInput
from ecoops.crm.imports.fields import KIND_FIELDS, Kind, field_names, required_fields
from ecoops.crm.imports.values import DateOrder

SALESFORCE_API = "salesforce_api"  # Data Loader / API field names
SALESFORCE_REPORT = "salesforce_report"  # report exports with field labels
HUBSPOT = "hubspot"
PARTNER_LIST = "partner_list"
TOUCH_LIST = "touch_list"
CUSTOM = "custom"  # an explicit mapping
SALESFORCE_FORMATS = frozenset({SALESFORCE_API, SALESFORCE_REPORT})

# HubSpot's deal export has one `Date entered "<stage> (<pipeline>)"` column per stage.
HUBSPOT_DATE_ENTERED = re.compile(r'date entered\s*"(?P<stage>.+?)(?:\s*\((?P<pipeline>[^()]*)\))?"')


class ImportFileError(InvalidInput):
    """The file as a whole cannot be imported; the message names the file and, where known, the line."""


@dataclass(frozen=True)
class Profile:
    """One CRM's export of one kind: for each field, the column names it goes by, preferred first."""

    source_format: str
    kind: Kind
    columns: dict[str, tuple[str, ...]]
    markers: tuple[str, ...] = ()  # at least one must be present (kind-neutral columns are not enough)
    excludes: tuple[str, ...] = ()  # columns that say the file is another kind
    wide_stage_history: bool = False  # HubSpot's Date-entered columns


_SF_PARTNER_SOURCE = ("Partner__c", "Partner_Account__c", "PartnerAccountId", "Partner_Account__r.Name")
_HS_COMPANY_IDS = ("Associated Company IDs (Primary)", "Associated Company IDs", "Associated Company ID")

PROFILES: tuple[Profile, ...] = (
    Profile(
        SALESFORCE_API,
        Kind.ACCOUNTS,
        {
            "crm_id": ("Id",),
            "name": ("Name",),
            "website": ("Website",),
            "country": ("BillingCountry", "ShippingCountry"),
            "industry": ("Industry",),
            "account_type": ("Type",),
            "owner": ("Owner.Name", "OwnerId"),
            "parent_crm_id": ("ParentId",),
            "employees": ("NumberOfEmployees",),
            "created_on": ("CreatedDate",),
        },
        excludes=("AccountId", "StageName", "OpportunityId", "FirstName", "LastName"),
    ),
    Profile(
        SALESFORCE_API,
        Kind.OPPORTUNITIES,
        {
            "crm_id": ("Id",),
            "account_crm_id": ("AccountId",),
            "name": ("Name",),
            "stage": ("StageName",),
            "amount": ("Amount",),
            "currency": ("CurrencyIsoCode",),
            "amount_converted": ("ConvertedAmount",),
            "created_on": ("CreatedDate",),
            "close_date": ("CloseDate",),
            "is_closed": ("IsClosed",),
            "is_won": ("IsWon",),
            "owner": ("Owner.Name", "OwnerId"),
            "opportunity_type": ("Type",),
            "lead_source": ("LeadSource",),
            "partner_source": _SF_PARTNER_SOURCE,
        },
        excludes=("OpportunityId",),
    ),
    Profile(
        SALESFORCE_API,
        Kind.STAGE_HISTORY,  # OpportunityHistory
        {
            "opportunity_crm_id": ("OpportunityId",),
            "stage": ("StageName",),
            "changed_on": ("CreatedDate",),
            "amount": ("Amount",),
        },
    ),
    Profile(
        SALESFORCE_API,
        Kind.STAGE_HISTORY,  # OpportunityFieldHistory
        {
            "opportunity_crm_id": ("OpportunityId",),
            "stage": ("NewValue",),
            "changed_on": ("CreatedDate",),
            "history_field": ("Field",),
        },
    ),
    Profile(
        SALESFORCE_API,
        Kind.CONTACTS,
        {
            "crm_id": ("Id",),
            "account_crm_id": ("AccountId",),
            "first_name": ("FirstName",),
            "last_name": ("LastName",),
            "email": ("Email",),
            "title": ("Title",),
            "phone": ("Phone", "MobilePhone"),
        },
        markers=("FirstName", "LastName", "Email"),
        excludes=("StageName",),
    ),
    Profile(
        SALESFORCE_REPORT,
        Kind.ACCOUNTS,
        {
            "crm_id": ("Account ID",),
            "name": ("Account Name",),
            "website": ("Website",),
            "country": ("Billing Country", "Shipping Country"),
            "industry": ("Industry",),
            "account_type": ("Account Type", "Type"),
            "owner": ("Account Owner",),
            "parent_crm_id": ("Parent Account ID",),
            "employees": ("Employees",),
            "created_on": ("Created Date",),
        },
        excludes=("Opportunity ID", "Contact ID", "Stage"),
    ),
    Profile(
        SALESFORCE_REPORT,
        Kind.OPPORTUNITIES,
        {
            "crm_id": ("Opportunity ID",),
            "account_crm_id": ("Account ID",),
            "name": ("Opportunity Name",),
            "stage": ("Stage",),
            "amount": ("Amount",),
            "currency": ("Opportunity Currency", "Amount Currency"),
            "amount_converted": ("Amount (converted)",),
            "created_on": ("Created Date",),
            "close_date": ("Close Date",),
            "is_closed": ("Closed",),
            "is_won": ("Won",),
            "owner": ("Opportunity Owner",),
            "opportunity_type": ("Type",),
            "lead_source": ("Lead Source",),
            "partner_source": ("Partner Account", "Partner"),
        },
        excludes=("To Stage", "Edit Date"),
    ),
    Profile(
        SALESFORCE_REPORT,
        Kind.STAGE_HISTORY,  # the "Opportunity History" report
        {
            "opportunity_crm_id": ("Opportunity ID",),
            "stage": ("To Stage",),
            "changed_on": ("Edit Date", "Last Modified"),
            "amount": ("Amount",),
        },
    ),
    Profile(
        SALESFORCE_REPORT,
        Kind.CONTACTS,
        {
            "crm_id": ("Contact ID",),
            "account_crm_id": ("Account ID",),
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "email": ("Email",),
            "title": ("Title",),
            "phone": ("Phone", "Mobile"),
        },
    ),
    Profile(
        HUBSPOT,
        Kind.ACCOUNTS,
        {
            "crm_id": ("Record ID", "Company ID"),
            "name": ("Company name",),
            "domain": ("Company Domain Name",),
            "website": ("Website URL",),
            "country": ("Country/Region", "Country"),
            "industry": ("Industry",),
            "account_type": ("Type",),
            "owner": ("Company owner",),
            "parent_crm_id": ("Parent Company ID", "Parent Company"),
            "employees": ("Number of Employees",),
            "created_on": ("Create Date",),
        },
        markers=("Company name", "Company Domain Name"),
    ),
    Profile(
        HUBSPOT,
        Kind.OPPORTUNITIES,
        {
            "crm_id": ("Record ID", "Deal ID"),
            "account_crm_id": _HS_COMPANY_IDS,
            "name": ("Deal Name",),
            "stage": ("Deal Stage",),
            "amount": ("Amount",),
            "currency": ("Currency",),
            "amount_converted": ("Amount in company currency",),
            "created_on": ("Create Date",),
            "close_date": ("Close Date",),
            "is_closed": ("Is closed", "Is Closed"),
            "is_won": ("Is Closed Won",),
            "owner": ("Deal owner",),
            "opportunity_type": ("Deal Type",),
            "lead_source": ("Original Source Type", "Original Traffic Source"),
            "partner_source": ("Partner", "Partner Name", "Partner Source"),
        },
        markers=("Deal Stage", "Deal Name"),
    ),
    Profile(
        HUBSPOT,
        Kind.STAGE_HISTORY,
        {"opportunity_crm_id": ("Record ID", "Deal ID")},
        wide_stage_history=True,
    ),
    Profile(
        HUBSPOT,
        Kind.CONTACTS,
        {
            "crm_id": ("Record ID", "Contact ID"),
            "account_crm_id": _HS_COMPANY_IDS,
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "email": ("Email",),
            "title": ("Job Title",),
            "phone": ("Phone Number", "Mobile Phone Number"),
        },
        markers=("First Name", "Last Name", "Email"),
        excludes=("Deal Stage", "Company name"),
    ),
    Profile(
        PARTNER_LIST,
        Kind.PARTNERS,
        {
            "name": ("Partner Name", "Partner", "Name", "Account Name", "Company name"),
            "crm_id": ("Partner ID", "Id", "Account ID", "Record ID"),
            "partner_type": ("Partner Type", "Type"),
            "program": ("Program", "Partner Program"),
            "tier": ("Tier", "Partner Tier", "Partner Level"),
            "owner": ("Partner Manager", "Channel Manager", "Partner Owner", "Owner"),
            "stage": ("Partner Stage", "Stage", "Status"),
            "stage_since": ("Stage Since", "Partner Since", "Signed Date"),
            "website": ("Website", "Website URL"),
            "domain": ("Domain", "Company Domain Name"),
            "country": ("Country", "BillingCountry", "Billing Country", "Country/Region"),
            "description": ("Description",),
        },
        markers=(
            "Partner Name",
            "Partner Type",
            "Partner Tier",
            "Partner Program",
            "Partner Manager",
            "Tier",
        ),
    ),
    Profile(
        TOUCH_LIST,
        Kind.TOUCHES,
        {
            "external_id": ("Touch ID", "External ID"),
            "partner": ("Partner", "Partner Name", "Partner ID"),
            "kind": ("Touch Kind", "Touch Type", "Kind"),
            "touched_on": ("Touch Date", "Touched On", "Date"),
            "opportunity_crm_id": ("Opportunity ID", "Opportunity", "Deal ID"),
            "account_crm_id": ("Account ID",),
            "note": ("Note", "Notes", "Description"),
            "status": ("Status",),
        },
        markers=("Touch ID", "Touch Kind", "Touch Type", "Touch Date"),
    ),
)


@dataclass
class Mapping:
    """Which column feeds which field, for one file: recognised from the header or given explicitly."""

    kind: Kind
    source_format: str
    columns: dict[str, str]  # field → header
    stage_columns: dict[str, str] = field(default_factory=dict)  # stage → header (HubSpot's wide history)
    date_order: DateOrder | None = None
    ignored: list[str] = field(default_factory=list)  # headers no field reads

    def describe(self) -> dict[str, str]:
        """Field → header, as stored with the import run and shown to the user."""
        described = dict(self.columns)
        described |= {f"stage:{stage}": header for stage, header in self.stage_columns.items()}
        return described


def normal_header(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").split()).lower()


def _wide_stage_columns(headers: list[str]) -> dict[str, str]:
    stages: dict[str, str] = {}
    for header in headers:
        match = HUBSPOT_DATE_ENTERED.fullmatch(normal_header(header))
        if match:
            # The stage's label as the header spells it (the match ran on the lowercased form).
            start, end = match.span("stage")
            label = " ".join(header.replace("\ufeff", "").split())[start:end]
            stages.setdefault(label, header)
    return stages


def _apply(profile: Profile, headers: list[str]) -> Mapping | None:
    by_normal = {normal_header(h): h for h in reversed(headers)}  # the first of duplicates wins
    if any(normal_header(h) in by_normal for h in profile.excludes):
        return None
    if profile.markers and not any(normal_header(h) in by_normal for h in profile.markers):
        return None
    columns: dict[str, str] = {}
    for name, aliases in profile.columns.items():
        found = next((by_normal[normal_header(a)] for a in aliases if normal_header(a) in by_normal), None)
        if found is not None:
            columns[name] = found
    stage_columns = _wide_stage_columns(headers) if profile.wide_stage_history else {}
    if profile.wide_stage_history and not stage_columns:
        return None
    if not profile.wide_stage_history and any(r not in columns for r in required_fields(profile.kind)):
        return None
    used = set(columns.values()) | set(stage_columns.values())
    return Mapping(
        kind=profile.kind,
        source_format=profile.source_format,
        columns=columns,
        stage_columns=stage_columns,
        ignored=[h for h in headers if h not in used],
    )


def _score(mapping: Mapping) -> int:
    return len(mapping.columns) + (1 if mapping.stage_columns else 0)


def recognise(headers: list[str], filename: str, kind: Kind | None = None) -> Mapping:
    """The best-reading profile for this header row, or an error saying what was tried."""
    profiles = [p for p in PROFILES if kind is None or p.kind == kind]
    if kind is not None:  # the user named the kind: markers that tell kinds apart are not needed
        profiles = [
            Profile(p.source_format, p.kind, p.columns, (), (), p.wide_stage_history) for p in profiles
        ]
    candidates = [m for m in (_apply(p, headers) for p in profiles) if m is not None]
    if not candidates:
        if kind is not None:
            raise ImportFileError(_missing_for_kind(headers, filename, kind))
        tried = ", ".join(k.value for k in Kind)
        raise ImportFileError(
            f"{filename}: the columns ({_shorten(headers)}) are not an export we recognise "
            f"(tried {tried} from Salesforce, HubSpot and partner lists); give the kind or a column mapping"
        )
    candidates.sort(key=_score, reverse=True)
    best = candidates[0]
    runner_up = next((c for c in candidates[1:] if c.kind != best.kind), None)
    if runner_up is not None and _score(runner_up) == _score(best):
        raise ImportFileError(
            f"{filename}: the columns read equally well as {best.kind.value} and {runner_up.kind.value}; "
            "give the kind"
        )
    return best


def _missing_for_kind(headers: list[str], filename: str, kind: Kind) -> str:
    if kind == Kind.STAGE_HISTORY and not _wide_stage_columns(headers):
        hint = 'OpportunityId, StageName, CreatedDate; or HubSpot\'s Record ID and Date entered "…" columns'
    else:
        names: dict[str, list[str]] = {}
        for profile in PROFILES:
            if profile.kind == kind:
                for name, aliases in profile.columns.items():
                    names.setdefault(name, []).extend(a for a in aliases if a not in names.get(name, []))
        missing = [
            n
            for n in required_fields(kind)
            if not any(normal_header(a) in {normal_header(h) for h in headers} for a in names.get(n, []))
        ]
        hint = "; ".join(f"{n} (e.g. {', '.join(names.get(n, [])[:3])})" for n in missing)
    return f"{filename}: no column for the required fields of {kind.value}: {hint}"


def _shorten(headers: list[str], most: int = 8) -> str:
    shown = ", ".join(headers[:most])
    return shown + (f", … ({len(headers)} columns)" if len(headers) > most else "")


def explicit_mapping(
    spec: dict[str, Any], headers: list[str], filename: str, *, source: str = "the mapping"
) -> Mapping:
    """A mapping given by the user: `{"kind": …, "columns": {field: header}, "date_order": …}`.

    Checked against the file: every named header must exist and every required field be mapped.
    """
    if not isinstance(spec, dict) or not all(
        isinstance(spec.get(key) or {}, dict) for key in ("columns", "stage_columns")
    ):
        raise ImportFileError(f'{source}: expected {{"kind": …, "columns": {{field: column}}}}')
    try:
        kind = Kind(spec.get("kind", ""))
    except ValueError:
        raise ImportFileError(f"{source}: kind must be one of {', '.join(Kind)}") from None
    columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items() if v}
    stage_columns = {str(k): str(v) for k, v in (spec.get("stage_columns") or {}).items() if v}
    unknown_fields = sorted(set(columns) - set(field_names(kind)))
    if unknown_fields:
        raise ImportFileError(
            f"{source}: {kind.value} has no field {', '.join(unknown_fields)}; "
            f"its fields are {', '.join(field_names(kind))}"
        )
    absent = sorted({*columns.values(), *stage_columns.values()} - set(headers))
    if absent:
        raise ImportFileError(f"{source}: {filename} has no column {', '.join(repr(a) for a in absent)}")
    needed = [r for r in required_fields(kind) if r not in columns]
    if stage_columns and kind == Kind.STAGE_HISTORY:
        needed = [r for r in needed if r == "opportunity_crm_id"]
    if needed:
        raise ImportFileError(f"{source}: the required fields {', '.join(needed)} have no column")
    order = spec.get("date_order") or None
    if order is not None and (not isinstance(order, str) or order not in DateOrder.__members__):
        raise ImportFileError(f"{source}: date_order must be MDY or DMY, not {order!r}")
    used = set(columns.values()) | set(stage_columns.values())
    return Mapping(
        kind=kind,
        source_format=str(spec.get("source_format") or CUSTOM),
        columns=columns,
        stage_columns=stage_columns,
        date_order=DateOrder(order) if order else None,
        ignored=[h for h in headers if h not in used],
    )


def read_mapping_file(path: Path) -> dict[str, Any]:
    """The JSON mapping file's content, or an error naming the file."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(f"{path.name}: not a readable JSON mapping ({exc})") from None
    if not isinstance(spec, dict):
        raise ImportFileError(f'{path.name}: expected {{"kind": …, "columns": {{field: column}}}}')
    return spec


def all_kind_fields() -> dict[str, list[dict[str, Any]]]:
    """For the page's mapping form: every kind's fields with their help text."""
    return {
        kind.value: [{"name": f.name, "help": f.help, "required": f.required} for f in fields]
        for kind, fields in KIND_FIELDS.items()
    }
