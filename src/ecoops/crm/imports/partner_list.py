"""Importing a partner list: partners upserted through the partners service, so their history stays right.

Partner lists are small (hundreds to a few thousand rows), so this path plans every row in memory
before writing anything: the counts of a dry run are the counts of the real run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import cast

import pycountry
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, selectinload

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.crm.imports.domains import account_domain
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.records import (
    Problem,
    Record,
    RecordBuilder,
    RowRejected,
    column_length,
    id_reader,
    other_lines,
)
from ecoops.crm.imports.records import text_reader as text
from ecoops.crm.imports.staging import ProblemLog
from ecoops.crm.imports.values import CellReader
from ecoops.partners import service as partners
from ecoops.partners.editing import place
from ecoops.partners.models import (
    Membership,
    Partner,
    PartnerChange,
    PartnerDomain,
    PartnerType,
    Program,
    Stage,
    Tier,
)

_TYPE_ALIASES = {
    "si": PartnerType.SYSTEMS_INTEGRATOR,
    "integrator": PartnerType.SYSTEMS_INTEGRATOR,
    "var": PartnerType.RESELLER,
    "value_added_reseller": PartnerType.RESELLER,
    "channel": PartnerType.RESELLER,
    "tech": PartnerType.TECHNOLOGY,
    "isv": PartnerType.TECHNOLOGY,
}


def parse_partner_type(cell: str) -> str:
    """ "Technology Partner", "Systems Integrator", "SI", "VAR" … → a PartnerType value."""
    value = re.sub(r"[^a-z]+", "_", cell.strip().lower()).strip("_")
    value = re.sub(r"_?partners?$", "", value) or value
    if not value:
        return ""
    if value in _TYPE_ALIASES:
        return _TYPE_ALIASES[value].value
    if value in PartnerType.__members__.values():
        return value
    raise ValueError(f"unknown partner type {cell.strip()!r}; one of {', '.join(PartnerType)}")


def parse_stage(cell: str) -> str:
    value = cell.strip().lower()
    if value and value not in Stage.__members__.values():
        raise ValueError(f"unknown stage {cell.strip()!r}; one of {', '.join(Stage)}")
    return value


def parse_country(cell: str) -> str:
    """A country name or code → its ISO 3166 two-letter code."""
    value = cell.strip()
    if not value:
        return ""
    try:
        return str(pycountry.countries.lookup(value).alpha_2)
    except LookupError:
        raise ValueError(f"unknown country {value!r}") from None


class PartnerRows(RecordBuilder):
    kind = Kind.PARTNERS
    table = cast(Table, Partner.__table__)
    columns = (
        "crm_id",
        "name",
        "partner_type",
        "program",
        "tier",
        "owner",
        "stage",
        "stage_since",
        "website",
        "domain",
        "country",
        "description",
    )

    @property
    def readable(self) -> dict[str, CellReader]:
        return {
            "crm_id": id_reader(self.salesforce),
            "name": text(column_length(self.table, "name")),
            "partner_type": parse_partner_type,
            "program": text(column_length(cast(Table, Program.__table__), "name")),
            "tier": text(column_length(cast(Table, Tier.__table__), "name")),
            "owner": text(254),
            "stage": parse_stage,
            "stage_since": self.dates,
            "website": text(column_length(self.table, "website")),
            "domain": str.strip,
            "country": parse_country,
            "description": text(10_000),
        }

    def build(self, line: int, cells: list[str]) -> list[Record]:
        return [self.record(self.cells(line, cells))]


@dataclass
class _Row:
    line: int
    values: dict[str, object]

    def text(self, name: str) -> str:
        value = self.values.get(name)
        return "" if value is None else str(value)


@dataclass
class PartnerCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    created: list[str] = field(default_factory=list)  # programs and tiers the import creates


class PartnerListImport:
    """Plans a partner list against what is stored, then (unless a dry run) writes it."""

    def __init__(self, session: Session, actor: Actor, rows: PartnerRows, problems: ProblemLog, today: date):
        self.session = session
        self.actor = actor
        self.rows = rows
        self.problems = problems
        self.today = today
        self.mapped = set(rows.mapping.columns)
        stored = session.scalars(
            select(Partner).options(selectinload(Partner.domains), selectinload(Partner.memberships))
        ).all()
        self.by_crm_id = {p.crm_id: p for p in stored if p.crm_id}
        self.by_name = {p.name.lower(): p for p in stored}
        self.programs = {
            p.name.lower(): p for p in session.scalars(select(Program).options(selectinload(Program.tiers)))
        }
        users = session.scalars(select(User)).all()
        self.user_by_email = {u.email.lower(): u for u in users}
        self.users_by_name: dict[str, list[User]] = {}
        for user in users:
            self.users_by_name.setdefault(user.name.lower(), []).append(user)

    def read(self, lines: Iterable[tuple[int, list[str]]]) -> list[_Row]:
        parsed: list[_Row] = []
        for line, cells in lines:
            try:
                record = self.rows.build(line, cells)[0]
            except RowRejected as rejected:
                self.problems.add(rejected.problems)
                continue
            parsed.append(_Row(line, dict(zip(self.rows.columns, record, strict=True))))
        return self._without_duplicates(parsed)

    def _key(self, row: _Row) -> str:
        return f"id:{row.text('crm_id')}" if row.text("crm_id") else f"name:{row.text('name').lower()}"

    def _without_duplicates(self, parsed: list[_Row]) -> list[_Row]:
        lines: dict[str, list[int]] = {}
        for row in parsed:
            lines.setdefault(self._key(row), []).append(row.line)
        kept = []
        for row in parsed:
            same = lines[self._key(row)]
            if len(same) == 1:
                kept.append(row)
                continue
            what = "id" if row.text("crm_id") else "name"
            header = self.rows.mapping.columns["crm_id" if what == "id" else "name"]
            others = other_lines(same, row.line)
            value = row.text("crm_id") or row.text("name")
            self.problems.add(
                [Problem(row.line, header, value, f"the {what} {value} is also on line {others}")]
            )
        return kept

    def _stored(self, row: _Row) -> Partner | None:
        if row.text("crm_id"):
            return self.by_crm_id.get(row.text("crm_id"))
        return self.by_name.get(row.text("name").lower())

    def _problem(self, row: _Row, name: str, message: str) -> None:
        header = self.rows.mapping.columns.get(name, name)
        self.problems.add([Problem(row.line, header, row.text(name), message)])

    def _owner_id(self, row: _Row) -> int | None:
        wanted = row.text("owner").lower()
        if not wanted:
            return None
        user = self.user_by_email.get(wanted)
        named = self.users_by_name.get(wanted, [])
        if user is None and len(named) == 1:
            user = named[0]
        if user is None:
            reason = (
                "several users have this name; use the e-mail"
                if named
                else "no user with this e-mail or name"
            )
            raise ValueError(reason)
        return user.id

    def plan(self, parsed: list[_Row]) -> tuple[PartnerCounts, list[tuple[_Row, Partner | None, int | None]]]:
        """Classify each row as new, updated or unchanged; rows that cannot apply become problems."""
        counts = PartnerCounts()
        changes: list[tuple[_Row, Partner | None, int | None]] = []
        for row in parsed:
            try:
                owner_id = self._owner_id(row)
            except ValueError as exc:
                self._problem(row, "owner", str(exc))
                continue
            partner = self._stored(row)
            if not self._valid(row, partner):
                continue
            self._note_created(row, counts)
            if partner is None:
                counts.new += 1
            elif self._differences(row, partner, owner_id):
                counts.updated += 1
            else:
                counts.unchanged += 1
                continue
            changes.append((row, partner, owner_id))
        return counts, changes

    def _valid(self, row: _Row, partner: Partner | None) -> bool:
        since = row.values.get("stage_since")
        if since and date.fromisoformat(str(since)) > self.today:
            self._problem(row, "stage_since", "the date is in the future")
            return False
        if partner is None:
            if not row.text("partner_type"):
                self._problem(row, "partner_type", "a new partner needs a partner type")
                return False
            return True
        target = row.text("stage")
        if target and target != partner.stage:
            try:
                partners.check_transition(Stage(partner.stage), Stage(target))
                partners.check_onboarding(self.session, partner, Stage(target))
            except InvalidInput as exc:
                self._problem(row, "stage", str(exc))
                return False
            on = date.fromisoformat(str(since)) if since else self.today
            if on < partner.stage_since:
                self._problem(row, "stage_since", f"before the current stage began ({partner.stage_since})")
                return False
        return True

    def _note_created(self, row: _Row, counts: PartnerCounts) -> None:
        program_name, tier_name = row.text("program"), row.text("tier")
        if not program_name:
            return
        program = self.programs.get(program_name.lower())
        label = f"program {program_name}"
        if program is None and label not in counts.created:
            counts.created.append(label)
        known_tiers = {t.name.lower() for t in program.tiers} if program else set()
        tier_label = f"tier {program_name} · {tier_name}"
        if tier_name and tier_name.lower() not in known_tiers and tier_label not in counts.created:
            counts.created.append(tier_label)

    def _differences(self, row: _Row, partner: Partner, owner_id: int | None) -> list[str]:
        wanted = self._attributes(row, owner_id)
        changed = [name for name, value in wanted.items() if getattr(partner, name) != value]
        if row.text("stage") and row.text("stage") != partner.stage:
            changed.append("stage")
        domain = self._domain(row)
        if domain and domain not in {d.domain for d in partner.domains}:
            changed.append("domains")
        program = self.programs.get(row.text("program").lower())
        if row.text("program"):
            member = next((m for m in partner.memberships if program and m.program_id == program.id), None)
            tier = self._find_tier(program, row.text("tier")) if program else None
            if member is None or (row.text("tier") and (tier is None or member.tier_id != tier.id)):
                changed.append("memberships")
        return changed

    def _attributes(self, row: _Row, owner_id: int | None) -> dict[str, object]:
        """The partner's own columns the file speaks for."""
        attributes: dict[str, object] = {}
        for name in ("name", "partner_type", "website", "country", "description"):
            if name in self.mapped:
                attributes[name] = row.text(name)
        if "owner" in self.mapped:
            attributes["owner_id"] = owner_id
        if row.text("crm_id"):
            attributes["crm_id"] = row.text("crm_id")
        return attributes

    def _domain(self, row: _Row) -> str:
        return account_domain(row.text("domain"), row.text("website"))

    @staticmethod
    def _find_tier(program: Program, name: str) -> Tier | None:
        return next((t for t in program.tiers if t.name.lower() == name.lower()), None)

    def _program_and_tier(self, row: _Row) -> tuple[Program | None, Tier | None]:
        """The row's program and tier, created when new (the dry run lists them first)."""
        name, tier_name = row.text("program"), row.text("tier")
        if not name:
            return None, None
        program = self.programs.get(name.lower())
        if program is None:
            program = partners.create_program(
                self.session, self.actor, name=name, tiers=[tier_name] if tier_name else []
            )
            self.programs[name.lower()] = program
        tier = self._find_tier(program, tier_name) if tier_name else None
        if tier_name and tier is None:
            tier = Tier(program_id=program.id, name=tier_name, rank=len(program.tiers))
            program.tiers.append(tier)
            self.session.flush()
            audit.record(
                self.session,
                self.actor,
                "tier.created",
                "tier",
                tier.id,
                program=program.name,
                name=tier_name,
            )
        return program, tier

    def write(self, changes: list[tuple[_Row, Partner | None, int | None]]) -> None:
        for row, partner, owner_id in changes:
            program, tier = self._program_and_tier(row)
            since = row.values.get("stage_since")
            on = date.fromisoformat(str(since)) if since else self.today
            if partner is None:
                self._create(row, owner_id, program, tier, on)
            else:
                self._update(row, partner, owner_id, program, tier, on)

    def _create(
        self, row: _Row, owner_id: int | None, program: Program | None, tier: Tier | None, on: date
    ) -> None:
        domain = self._domain(row)
        partner = partners.create_partner(
            self.session,
            self.actor,
            name=row.text("name"),
            partner_type=row.text("partner_type"),
            stage=row.text("stage") or Stage.PROSPECT,
            stage_since=on,
            website=row.text("website"),
            domains=[domain] if domain else [],
            country=row.text("country"),
            owner_id=owner_id,
            crm_id=row.text("crm_id") or None,
            description=row.text("description"),
            tiers=[tier] if tier else [],
        )
        if program is not None and tier is None:
            partner.memberships.append(Membership(program_id=program.id, tier_id=None, joined_on=on))
        self.by_name[partner.name.lower()] = partner

    def _update(
        self,
        row: _Row,
        partner: Partner,
        owner_id: int | None,
        program: Program | None,
        tier: Tier | None,
        on: date,
    ) -> None:
        changed = self._differences(row, partner, owner_id)
        for name, value in self._attributes(row, owner_id).items():
            setattr(partner, name, value)
        domain = self._domain(row)
        if "domains" in changed:
            partner.domains.append(PartnerDomain(domain=domain))
        if "memberships" in changed and program is not None:
            # Dated in the partner's history, as an edit on its page is, on the day the import saw it:
            # commissions read the tier held on a deal's close date from there (partners/tier_history.py).
            member = next((m for m in partner.memberships if m.program_id == program.id), None)
            moves: list[tuple[str, str, str]] = []
            if member is None:
                member = Membership(program=program, tier=tier, joined_on=on)
                partner.memberships.append(member)
                moves.append(("program", "", place(member)))
            elif tier is not None and member.tier_id != tier.id:
                before = place(member)
                member.tier_id, member.tier = tier.id, tier
                moves.append(("tier", before, place(member)))
            partner.changes.extend(
                PartnerChange(
                    field=f, old_value=old, new_value=new, changed_on=self.today, recorded_by=self.actor.label
                )
                for f, old, new in moves
            )
        attributes = [c for c in changed if c != "stage"]
        if attributes:
            self.session.flush()
            audit.record(
                self.session, self.actor, "partner.updated", "partner", partner.id, fields=attributes
            )
        if "stage" in changed:
            partners.change_stage(
                self.session, self.actor, partner, to=row.text("stage"), on=on, today=self.today
            )
