"""The integration registry (the Launch stage): each tech partner's integrations, their dated status
changes, owners, listing links and the accounts of ours using them (set by hand or from a CSV file)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.actors import Actor, ActorKind
from ecoops.crm.models import Account
from ecoops.maturity.models import Integration, IntegrationAccount, IntegrationStatus, IntegrationStatusChange
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner, PartnerType
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require

MAX_IMPORT_ROWS = 5_000
IMPORT_COLUMNS = ("partner", "integration", "account_id")


@dataclass(frozen=True)
class IntegrationInput:
    partner_id: int
    name: str
    status: str
    owner_id: int | None
    listing_url: str = ""
    changed_on: date | None = None  # the day of a status change (default: today)


def _check(session: Session, data: IntegrationInput, today: date) -> tuple[Partner, str, str, date]:
    partner = session.get(Partner, data.partner_id)
    if partner is None:
        raise FieldError("partner_id", f"no partner {data.partner_id}")
    if partner.partner_type != PartnerType.TECHNOLOGY:
        raise FieldError(
            "partner_id", f"{partner.name} is a {partner.partner_type} partner, not a technology one"
        )
    name = data.name.strip()
    if not name or len(name) > 120:
        raise FieldError("name", "give the integration a name of 1 to 120 characters")
    if data.status not in tuple(IntegrationStatus):
        raise FieldError("status", f"must be one of {', '.join(IntegrationStatus)}, not {data.status!r}")
    if data.owner_id is not None:
        owner = session.get(User, data.owner_id)
        if owner is None or not owner.is_active:
            raise FieldError("owner_id", f"no active user {data.owner_id}")
    url = data.listing_url.strip()
    if url and (not url.startswith(("https://", "http://")) or len(url) > 500 or " " in url):
        raise FieldError("listing_url", "an http(s):// address of at most 500 characters, or nothing")
    changed_on = data.changed_on or today
    if changed_on > today:
        raise FieldError(
            "changed_on", f"a status change is dated today or earlier, not {changed_on.isoformat()}"
        )
    return partner, name, url, changed_on


def _taken(name: str, partner: Partner) -> FieldError:
    return FieldError("name", f"{partner.name} already has an integration named {name!r}")


def _snapshot(found: Integration) -> dict[str, object]:
    return {
        "partner_id": found.partner_id,
        "name": found.name,
        "status": found.status,
        "owner_id": found.owner_id,
        "listing_url": found.listing_url,
    }


def create_integration(session: Session, actor: Actor, data: IntegrationInput, today: date) -> Integration:
    """Register an integration; its first status is dated `changed_on` (default today)."""
    require(actor, Permission.EDIT_PROGRAM)
    partner, name, url, changed_on = _check(session, data, today)
    found = Integration(
        partner_id=partner.id,
        name=name,
        status=data.status,
        status_since=changed_on,
        owner_id=data.owner_id,
        listing_url=url,
        created_by=actor.label,
    )
    found.changes.append(
        IntegrationStatusChange(to_status=data.status, changed_on=changed_on, changed_by=actor.label)
    )
    try:
        with session.begin_nested():  # the same name may be registered at the same moment
            session.add(found)
            session.flush()
    except IntegrityError:
        raise _taken(name, partner) from None
    audit.record(session, actor, "integration.created", "integration", found.id, **_snapshot(found))
    return found


def update_integration(
    session: Session, actor: Actor, found: Integration, data: IntegrationInput, today: date
) -> Integration:
    """Change an integration; a new status is dated `changed_on`, which may not precede the last change."""
    require(actor, Permission.EDIT_PROGRAM)
    partner, name, url, changed_on = _check(session, data, today)
    before = _snapshot(found)
    if data.status != found.status:
        if changed_on < found.status_since:
            raise FieldError(
                "changed_on",
                f"the status has been {found.status} since {found.status_since.isoformat()}: "
                f"date the change on or after that day, not {changed_on.isoformat()}",
            )
        found.changes.append(
            IntegrationStatusChange(
                from_status=found.status, to_status=data.status, changed_on=changed_on, changed_by=actor.label
            )
        )
        found.status, found.status_since = data.status, changed_on
    found.partner_id, found.owner_id, found.listing_url = partner.id, data.owner_id, url
    found.updated_at = audit.utcnow()
    try:
        with session.begin_nested():
            found.name = name
            session.flush()
    except IntegrityError:
        session.refresh(found)
        raise _taken(name, partner) from None
    audit.record(
        session, actor, "integration.updated", "integration", found.id, before=before, after=_snapshot(found)
    )
    return found


def get_integration(session: Session, actor: Actor, integration_id: int) -> Integration:
    require(actor, Permission.READ_METRICS)
    found = session.get(Integration, integration_id)
    if found is None:
        raise NotFound(f"no integration {integration_id}")
    return found


def list_integrations(
    session: Session,
    actor: Actor,
    *,
    statuses: list[str] | None = None,
    partner_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Integration]:
    """Integrations by partner name, then name; only the statuses and the partner given."""
    require(actor, Permission.READ_METRICS)
    statement = select(Integration).join(Partner).order_by(Partner.name, Integration.name, Integration.id)
    if statuses:
        statement = statement.where(Integration.status.in_(statuses))
    if partner_id is not None:
        statement = statement.where(Integration.partner_id == partner_id)
    return paginate(session, statement, page=page, per_page=per_page)


def partner_integrations(session: Session, actor: Actor) -> list[Integration]:
    """A partner user's own partner's integrations, by name (read-only in the portal; no accounts)."""
    if actor.kind != ActorKind.PARTNER_USER or actor.partner_id is None:
        raise NotFound("the portal shows a partner's own integrations to its users")
    return list(
        session.scalars(
            select(Integration).where(Integration.partner_id == actor.partner_id).order_by(Integration.name)
        )
    )


def accounts_using(session: Session, integration_id: int) -> list[tuple[str, int | None, str]]:
    """(CRM id, account id, account name) of the accounts using the integration, by name."""
    rows = session.execute(
        select(IntegrationAccount.account_crm_id, Account.id, func.coalesce(Account.name, ""))
        .outerjoin(Account, Account.crm_id == IntegrationAccount.account_crm_id)
        .where(IntegrationAccount.integration_id == integration_id)
        .order_by(Account.name, IntegrationAccount.account_crm_id)
    )
    return [(crm_id, account_id, name) for crm_id, account_id, name in rows]


def account_counts(session: Session, integration_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(IntegrationAccount.integration_id, func.count())
        .where(IntegrationAccount.integration_id.in_(integration_ids))
        .group_by(IntegrationAccount.integration_id)
    )
    return {i: n for i, n in rows}


def _add(session: Session, pairs: set[tuple[int, str]], today: date) -> int:
    """Store (integration, account) pairs not stored yet; how many were new. A request storing some of
    the same pairs at the same moment makes this one read again and store the rest."""
    for attempt in range(2):
        stored = {
            (i, a)
            for i, a in session.execute(
                select(IntegrationAccount.integration_id, IntegrationAccount.account_crm_id).where(
                    IntegrationAccount.integration_id.in_({i for i, _ in pairs})
                )
            )
        }
        new = sorted(pairs - stored)
        try:
            with session.begin_nested():
                session.add_all(
                    IntegrationAccount(integration_id=i, account_crm_id=a, added_on=today) for i, a in new
                )
                session.flush()
            return len(new)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _unknown_accounts(session: Session, crm_ids: set[str]) -> set[str]:
    known = set(session.scalars(select(Account.crm_id).where(Account.crm_id.in_(crm_ids))))
    return crm_ids - known


def add_accounts(session: Session, actor: Actor, found: Integration, text: str, today: date) -> int:
    """Add the accounts whose CRM ids `text` lists (one per line or comma-separated); how many were new."""
    require(actor, Permission.EDIT_PROGRAM)
    crm_ids = {part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()}
    if not crm_ids:
        raise FieldError("accounts", "list at least one account CRM id")
    unknown = _unknown_accounts(session, crm_ids)
    if unknown:
        raise FieldError("accounts", f"no account with CRM id {', '.join(sorted(unknown))}")
    added = _add(session, {(found.id, crm_id) for crm_id in crm_ids}, today)
    audit.record(
        session, actor, "integration.accounts_added", "integration", found.id, accounts=sorted(crm_ids)
    )
    return added


def remove_account(session: Session, actor: Actor, found: Integration, crm_id: str) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    row = session.scalar(
        select(IntegrationAccount).where(
            IntegrationAccount.integration_id == found.id, IntegrationAccount.account_crm_id == crm_id
        )
    )
    if row is None:
        raise FieldError("account", f"{crm_id} does not use {found.name}")
    session.delete(row)
    session.flush()
    audit.record(session, actor, "integration.account_removed", "integration", found.id, account=crm_id)


@dataclass(frozen=True)
class RowError:
    row: int  # the file's line number, the header being line 1
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


@dataclass
class ImportOutcome:
    rows: int = 0
    added: int = 0
    errors: list[RowError] = field(default_factory=list)


def import_accounts(session: Session, actor: Actor, data: bytes, today: date) -> ImportOutcome:
    """Accounts using integrations from a CSV file with the columns partner, integration, account_id
    (partner and integration by name, the account by its CRM id). All or nothing: a file with an error
    in any row stores nothing, and every error is reported with its row and field."""
    require(actor, Permission.EDIT_PROGRAM)
    outcome = ImportOutcome()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        outcome.errors.append(RowError(1, "file", "not UTF-8 text"))
        return outcome
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower().replace(" ", "_") for h in reader.fieldnames or []]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        outcome.errors.append(RowError(1, "header", f"missing column(s) {', '.join(missing)}"))
        return outcome
    reader.fieldnames = header
    integrations = {
        (partner.strip().lower(), name.strip().lower()): integration_id
        for integration_id, partner, name in session.execute(
            select(Integration.id, Partner.name, Integration.name).join(Partner)
        )
    }
    wanted: list[tuple[int, int, str]] = []
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_IMPORT_ROWS:
            outcome.errors.append(RowError(number, "file", f"at most {MAX_IMPORT_ROWS:,} rows"))
            break
        outcome.rows += 1
        values = {c: (row.get(c) or "").strip() for c in IMPORT_COLUMNS}
        for column in IMPORT_COLUMNS:
            if not values[column]:
                outcome.errors.append(RowError(number, column, "empty"))
        if not all(values.values()):
            continue
        integration_id = integrations.get((values["partner"].lower(), values["integration"].lower()))
        if integration_id is None:
            outcome.errors.append(
                RowError(
                    number,
                    "integration",
                    f"{values['partner']} has no integration named {values['integration']!r}",
                )
            )
            continue
        wanted.append((number, integration_id, values["account_id"]))
    unknown = _unknown_accounts(session, {crm_id for _, _, crm_id in wanted})
    outcome.errors += [
        RowError(n, "account_id", f"no account with CRM id {a}") for n, _, a in wanted if a in unknown
    ]
    if outcome.errors or not wanted:
        if not outcome.errors:
            outcome.errors.append(RowError(2, "file", "no rows"))
        outcome.errors.sort(key=lambda e: e.row)
        return outcome
    outcome.added = _add(session, {(i, a) for _, i, a in wanted}, today)
    audit.record(
        session, actor, "integration.accounts_imported", "integration", rows=outcome.rows, added=outcome.added
    )
    return outcome
