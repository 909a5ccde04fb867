"""The field mapping: which CRM field (standard or custom) fills each ecoops field of a synced object.

Each provider's sync has a built-in choice per field (Salesforce's `Industry`, HubSpot's `industry`…);
an admin may choose another field of the right type on the provider's field-mapping page. A choice
is stored (`crm_field_mappings`) only while it differs from the built-in one, so nothing changes
until an admin edits. The sync reads the chosen fields; one the CRM no longer has is left out (the
stored values stay) and named in the run's warnings. Every change is audited
(`salesforce.field_mapped`, `hubspot.field_mapped`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.crm.connections.models import FieldMapping, StageMapping, SyncCheckpoint
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import Mapping
from ecoops.crm.imports.records import BUILDERS, RowRejected, Workspace
from ecoops.crm.imports.values import DateOrder

TEXT, NUMBER, DATE, ID = "text", "number", "date", "id"
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """An ecoops field an admin may map: its import field name, what people call it, what it holds."""

    field: str
    label: str
    holds: str  # text | number | date | id


MAPPABLE: dict[Kind, tuple[Target, ...]] = {
    Kind.ACCOUNTS: (
        Target("name", "Name", TEXT),
        Target("website", "Website", TEXT),
        Target("country", "Country", TEXT),
        Target("industry", "Industry", TEXT),
        Target("account_type", "Type", TEXT),
        Target("owner", "Owner", TEXT),
        Target("parent_crm_id", "Parent account", ID),
        Target("employees", "Employees", NUMBER),
    ),
    Kind.OPPORTUNITIES: (
        Target("name", "Name", TEXT),
        Target("stage", "Stage", TEXT),
        Target("amount", "Amount", NUMBER),
        Target("currency", "Currency", TEXT),
        Target("created_on", "Created", DATE),
        Target("close_date", "Close date", DATE),
        Target("owner", "Owner", TEXT),
        Target("opportunity_type", "Type", TEXT),
        Target("lead_source", "Lead source", TEXT),
        Target("partner_source", "Partner field", TEXT),
    ),
    Kind.CONTACTS: (
        Target("first_name", "First name", TEXT),
        Target("last_name", "Last name", TEXT),
        Target("email", "E-mail", TEXT),
        Target("title", "Job title", TEXT),
        Target("phone", "Phone", TEXT),
    ),
}

# What each CRM type holds (Salesforce's describe `type`; HubSpot's property `type`). A type not here
# (an address, a location, base64…) fills nothing.
HOLDS: dict[str, dict[str, str]] = {
    "salesforce": {
        **dict.fromkeys(
            ("string", "textarea", "picklist", "multipicklist", "combobox", "url", "email", "phone"), TEXT
        ),
        **dict.fromkeys(("id", "reference"), ID),
        **dict.fromkeys(("double", "currency", "int", "long", "percent"), NUMBER),
        **dict.fromkeys(("date", "datetime"), DATE),
    },
    "hubspot": {
        **dict.fromkeys(("string", "enumeration", "phone_number"), TEXT),
        "number": NUMBER,
        **dict.fromkeys(("date", "datetime"), DATE),
    },
}
# What each ecoops field takes: a text field also takes an id (a lookup's id is text); an id field
# takes text (and HubSpot's ids are numbers).
TAKES = {TEXT: {TEXT, ID}, NUMBER: {NUMBER}, DATE: {DATE}, ID: {ID, TEXT, NUMBER}}


@dataclass(frozen=True)
class CrmField:
    """A field the CRM describes: its API name, label and type."""

    name: str
    label: str
    type: str


@dataclass
class Columns:
    """An object's read settled against what the CRM has: the CRM fields asked for (in order), the
    import field each fills, and the chosen fields the CRM no longer has."""

    header: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # import field → CRM field
    missing: dict[str, str] = field(default_factory=dict)  # import field → chosen CRM field, gone


def settle(defaults: Iterable[tuple[str, str]], chosen: dict[str, str], present: set[str]) -> Columns:
    """`defaults` are (CRM field, import field) in order of preference (an empty import field: asked
    for, filling nothing); a field in `chosen` (import field → CRM field) is filled by that CRM field
    alone. A CRM field the CRM lacks is left out, so its stored values stay."""
    settled = Columns()
    pairs = [(crm, target) for target, crm in chosen.items()]
    pairs += [(crm, target) for crm, target in defaults if target not in chosen]
    for crm, target in pairs:
        if crm not in present:
            if target in chosen:
                settled.missing[target] = crm
            continue
        if target and target in settled.columns:
            continue
        if crm not in settled.header:
            settled.header.append(crm)
        if target:
            settled.columns[target] = crm
    return settled


def warnings(object_name: str, label: str, missing: dict[str, str]) -> list[str]:
    return [
        f"{object_name}.{target}: mapped to {crm}, which {label} no longer has; not read (its stored "
        "values stay): map another field"
        for target, crm in missing.items()
    ]


def chosen(session: Session, connection_id: int) -> dict[str, dict[str, str]]:
    """Object → {import field → CRM field} an admin chose (the built-in choice stands elsewhere)."""
    found: dict[str, dict[str, str]] = {}
    for row in session.scalars(select(FieldMapping).where(FieldMapping.connection_id == connection_id)):
        found.setdefault(row.object_name, {})[row.field] = row.crm_field
    return found


def target(kind: Kind, name: str) -> Target:
    for t in MAPPABLE[kind]:
        if t.field == name:
            return t
    raise InvalidInput(f"{name}: not a field of {kind.value} that can be mapped")


def check(
    provider: str,
    label: str,
    object_name: str,
    kind: Kind,
    choices: dict[str, str],
    described: dict[str, CrmField],
) -> None:
    """Refuse a mapping (import field → CRM field: the built-in, stored and new choices together) with a
    field the CRM lacks, of a type that cannot hold its ecoops field, or filling two fields."""
    problems: list[str] = []
    used: dict[str, str] = {}
    for name, crm in choices.items():
        wanted = target(kind, name)
        found = described.get(crm)
        if found is None:
            problems.append(f"{wanted.label} ({name}): {label} has no field {crm} on {object_name}")
            continue
        holds = HOLDS[provider].get(found.type)
        if holds not in TAKES[wanted.holds]:
            problems.append(
                f"{wanted.label} ({name}): {crm} is a {found.type} field, which cannot fill a "
                f"{wanted.holds} field"
            )
        if crm in used:
            problems.append(
                f"{wanted.label} ({name}): {crm} already fills {used[crm]}; choose one field each"
            )
        used[crm] = name
    if problems:
        raise InvalidInput("; ".join(problems))


def store(
    session: Session,
    actor: Actor,
    provider: str,
    connection_id: int,
    object_name: str,
    choices: dict[str, str],
    defaults: dict[str, str],
    described: dict[str, CrmField],
) -> list[str]:
    """Keep the checked choices (a choice equal to the built-in one removes the stored row); each change
    audited, and the object's checkpoint dropped so the next sync reads all its records with the new
    mapping (a record that reads the same writes nothing). The import fields whose CRM field changed."""
    stored = {
        row.field: row
        for row in session.scalars(
            select(FieldMapping).where(
                FieldMapping.connection_id == connection_id, FieldMapping.object_name == object_name
            )
        )
    }
    changed: list[str] = []
    for name, crm in choices.items():
        row = stored.get(name)
        before = row.crm_field if row is not None else defaults.get(name, "")
        if crm == before:
            continue
        if crm == defaults.get(name):
            session.delete(row)
        else:
            if row is None:
                row = FieldMapping(connection_id=connection_id, object_name=object_name, field=name)
                session.add(row)
            row.crm_field, row.crm_type = crm, described[crm].type[:40]
            row.edited_by, row.edited_at = actor.label[:200], utcnow()
        audit.record(
            session,
            actor,
            f"{provider}.field_mapped",
            "crm_connection",
            connection_id,
            object=object_name,
            field=name,
            crm_field=crm,
            before=before,
        )
        changed.append(name)
    if changed:  # the next sync reads every record of the object again, with the new mapping
        session.execute(
            delete(SyncCheckpoint).where(
                SyncCheckpoint.connection_id == connection_id, SyncCheckpoint.object_name == object_name
            )
        )
    return changed


class CrmUnreadable(InvalidInput):
    """The CRM could not be asked (its describe or records) for the mapping page: its reason."""


@dataclass
class PreviewRecord:
    """One CRM record as the sync would store it with a mapping: the stored values, or the problems
    that would refuse it (each naming the ecoops field and the CRM field)."""

    crm_id: str
    values: dict[str, object]
    problems: list[str]


class FieldSource(Protocol):
    """A provider's side of the mapping page (crm/salesforce/fields.py, crm/hubspot/fields.py)."""

    objects: dict[str, Kind]  # the objects whose fields can be mapped, in the page's order

    def described(self, object_name: str) -> dict[str, CrmField]: ...

    def defaults(self, object_name: str, described: dict[str, CrmField]) -> dict[str, str]: ...

    def preview(
        self, object_name: str, described: dict[str, CrmField], choices: dict[str, str], limit: int
    ) -> list[PreviewRecord]: ...


def built_in(
    kind: Kind, defaults: Iterable[tuple[str, str]], described: dict[str, CrmField]
) -> dict[str, str]:
    """The sync's own choice for each mappable field of `kind`, among the fields the CRM has."""
    settled = settle(defaults, {}, set(described))
    return {t.field: settled.columns[t.field] for t in MAPPABLE[kind] if t.field in settled.columns}


def asked(label: str, what: str, credentials: bool, ask: Callable[[], T]) -> T:
    """The CRM's answer for the mapping page, or CrmUnreadable saying why there is none."""
    if not credentials:
        raise CrmUnreadable(f"{label}'s credentials are missing (not kept here): connect again")
    try:
        return ask()
    except Exception as exc:  # any refusal or failure of the API: said on the page
        raise CrmUnreadable(f"{label} could not {what}: {exc}") from exc


def preview_records(
    mapping: Mapping, header: list[str], rows: list[tuple[str, list[str]]], workspace: Workspace
) -> list[PreviewRecord]:
    """Each row read by the import's own builder, as a sync's batch would be: its stored values, or
    why it would be refused."""
    builder = BUILDERS[mapping.kind](mapping, header, workspace, DateOrder.MDY)
    field_of = {crm: name for name, crm in mapping.columns.items()}
    previewed: list[PreviewRecord] = []
    for line, (crm_id, cells) in enumerate(rows, 1):
        try:
            built = builder.build(line, cells)
        except RowRejected as rejected:
            problems = [
                f"{field_of.get(p.field, 'record')} ({p.field or 'the record'}): {p.value!r}: {p.message}"
                for p in rejected.problems
            ]
            previewed.append(PreviewRecord(crm_id, {}, problems))
            continue
        values = dict(zip(builder.columns, built[0], strict=True)) if built else {}
        previewed.append(PreviewRecord(crm_id, values, []))
    return previewed


def stored_stages(session: Session, connection_id: int) -> dict[str, tuple[bool, bool]]:
    """The stage map as the last sync left it (stage → closed, won), for a preview."""
    return {
        m.stage: (m.is_closed, m.is_won)
        for m in session.scalars(select(StageMapping).where(StageMapping.connection_id == connection_id))
    }
