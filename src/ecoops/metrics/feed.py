"""Stored records → the metrics engine's Arrow input tables: the one place figures read the database.

Each table is one Core `SELECT` of plain columns (no ORM objects), turned into Arrow column by column.
Gaps in the stored data are settled here, the same way for every figure (docs/dashboards.md):

- a stage-history row without closed/won flags takes them from the opportunity when it names the
  opportunity's current stage, else from the stage's name (`stage_outcome`, as the CRM import does);
- opportunities without a created date, or closed without a close date, cannot be placed in time and
  are left out (`Feed.skipped_opportunities` counts them);
- the CRM's partner-source field becomes a `crm_source` touch, **proposed** (it counts only once a
  partner manager confirms it) or, when the workspace's rule makes the field the system of record,
  **confirmed**, when it names a partner's CRM id or name and no crm_source touch of that partner is
  stored for the opportunity yet; it is dated the opportunity's creation;
- referrals: inbound → `in`, outbound → `out`, dated their submission day in the workspace time zone,
  rejected and declined ones left out (they never became EQLs);
- overlaps: account mapping's dated overlap periods, once per built-in population of ours the account
  is in **today** (our populations keep no history), a partner label meaning "customers" (mapping's
  own rule) fed as `customers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Float, Select, and_, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from ecoops.attribution.models import PartnerTouch, TouchKind
from ecoops.attribution.rules import crm_source_status
from ecoops.crm.imports.values import stage_outcome
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.engines.metrics import MetricsInputs, validate_inputs
from ecoops.engines.metrics.inputs import (
    MEMBERSHIPS,
    OPPORTUNITIES,
    OPPORTUNITY_STAGE_CHANGES,
    OVERLAPS,
    PARTNER_STAGE_CHANGES,
    PARTNERS,
    REFERRALS,
    TOUCHES,
)
from ecoops.mapping.models import OverlapPeriod
from ecoops.mapping.populations import BUILT_IN, built_in_where
from ecoops.mapping.runs import is_customer_label
from ecoops.partners.models import Membership, Partner, PartnerStageChange
from ecoops.referrals.models import Direction, Referral, Status

CRM_SOURCE_EVIDENCE = ("crm_field", "partner_source")
_DIRECTIONS = {Direction.INBOUND.value: "in", Direction.OUTBOUND.value: "out"}
_NOT_EQL = (Status.REJECTED.value, Status.DECLINED.value)
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Feed:
    """The validated engine inputs, and how many stored opportunities could not be placed in time."""

    inputs: MetricsInputs
    skipped_opportunities: int


def _table(session: Session, statement: AnySelect, schema: pa.Schema) -> pa.Table:
    """Run `statement` (its columns in `schema`'s order) on the session's own connection (its transaction,
    its snapshot) and return its rows as an Arrow table.

    A large workspace's million opportunities and five million stage changes are most of a dashboard
    computation; through SQLAlchemy's result rows, converting every value in Python, they cost three
    times as much (bench/dashboards/run.py).
    """
    connection = session.connection()
    # Sent with every value in its text: psycopg's own paramstyle would double each `%` for a driver that,
    # given no parameters, substitutes none.
    as_text = type(connection.dialect)(paramstyle="named")  # type: ignore[call-arg]
    sql = str(statement.compile(dialect=as_text, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        return _copied(connection, sql, schema)
    return _fetched(connection, sql, schema)


def _copied(connection: Connection, sql: str, schema: pa.Schema) -> pa.Table:
    """PostgreSQL: the rows as one `COPY (…) TO STDOUT` in CSV, parsed by Arrow."""
    connection.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")  # what Arrow parses, whatever the server's
    data = bytearray()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            data += block
    if not data:  # Arrow reads no columns from nothing
        return schema.empty_table()
    # CSV from COPY: NULL is an empty field, an empty string a quoted one ("").
    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(column_names=schema.names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={field.name: field.type for field in schema},
            true_values=["t"],
            false_values=["f"],
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.cast(schema)


def _stored_as(field: pa.Field) -> pa.DataType:
    """The type of what SQLite hands back for a column: dates as ISO text, booleans as 0 and 1."""
    if pa.types.is_date32(field.type):
        return pa.string()
    if pa.types.is_boolean(field.type):
        return pa.int64()
    return field.type


def _fetched(connection: Connection, sql: str, schema: pa.Schema) -> pa.Table:
    """SQLite: the driver's own rows, as stored, converted by Arrow column by column."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        rows = cursor.execute(sql).fetchall()
    finally:
        cursor.close()
    columns: Sequence[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    arrays = [pa.array(values, _stored_as(spec)) for values, spec in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, names=schema.names).cast(schema)


def _placeable() -> Any:
    return and_(
        Opportunity.created_on.is_not(None),
        or_(~Opportunity.is_closed, Opportunity.close_date.is_not(None)),
    )


def _opportunities(session: Session) -> pa.Table:
    statement = select(
        Opportunity.id,
        Opportunity.crm_id,
        func.nullif(Opportunity.account_crm_id, ""),
        cast(Opportunity.amount, Float),
        Opportunity.created_on,
        Opportunity.close_date,
        Opportunity.is_closed,
        Opportunity.is_won,
        Opportunity.stage,
        func.nullif(Opportunity.owner, ""),
    ).where(_placeable())
    # In id order, the ids prove themselves unique without a distinct count (inputs.py).
    return _table(session, statement.order_by(Opportunity.id), OPPORTUNITIES)


# A stage change as stored: its closed/won flags may be unknown (settled in `_stage_changes`).
_STORED_STAGE_CHANGES = pa.schema(
    [
        pa.field("change_id", pa.int64()),
        pa.field("opportunity_crm_id", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("changed_on", pa.date32()),
        pa.field("is_closed", pa.bool_()),
        pa.field("is_won", pa.bool_()),
    ]
)


def _stage_changes(session: Session, opportunities: pa.Table) -> pa.Table:
    """The stage history of `opportunities` (those fed), joined to them here rather than by the database:
    the history is the largest table, and three columns of its opportunity beside each of its rows cost
    more to hand over than the join (5M changes on PostgreSQL: 9.1 s against 10.3 s)."""
    c = OpportunityStageChange
    stored = _table(
        session,
        select(c.id, c.opportunity_crm_id, c.stage, c.changed_on, c.is_closed, c.is_won),
        _STORED_STAGE_CHANGES,
    )
    current = opportunities.select(["crm_id", "opportunity_id", "stage", "is_closed", "is_won"])
    current = current.rename_columns(
        ["opportunity_crm_id", "opportunity_id", "current_stage", "now_closed", "now_won"]
    )
    rows = stored.join(current, keys="opportunity_crm_id", join_type="inner")
    # A change without its flags is told them by the opportunity when it names the opportunity's current
    # stage, else by the stage's name (worked out once per distinct name).
    stages = rows.column("stage")
    names = pc.unique(stages).to_pylist()
    outcomes = [stage_outcome(name) for name in names]
    at = pc.index_in(stages, value_set=pa.array(names, pa.string()))
    is_current = pc.fill_null(pc.equal(stages, rows.column("current_stage")), False)
    flags = {}
    for i, (flag, now) in enumerate((("is_closed", "now_closed"), ("is_won", "now_won"))):
        by_name = pa.array([outcome[i] for outcome in outcomes], pa.bool_()).take(at)
        flags[flag] = pc.coalesce(rows.column(flag), pc.if_else(is_current, rows.column(now), by_name))
    return pa.table(
        [flags.get(name, rows.column(name)) for name in OPPORTUNITY_STAGE_CHANGES.names],
        schema=OPPORTUNITY_STAGE_CHANGES,
    )


def crm_source_candidates() -> AnySelect:
    """(opportunity id, crm id, account crm id, partner id, created on) for every partner-source field
    naming a partner (its CRM id or, case and spaces aside, its name) with no stored crm_source touch."""
    named = or_(
        Partner.crm_id == Opportunity.partner_source,
        func.lower(func.trim(Partner.name)) == func.lower(func.trim(Opportunity.partner_source)),
    )
    stored = exists().where(
        PartnerTouch.opportunity_crm_id == Opportunity.crm_id,
        PartnerTouch.partner_id == Partner.id,
        PartnerTouch.kind == TouchKind.CRM_SOURCE.value,
    )
    return (
        select(
            Opportunity.id.label("opportunity_id"),
            Opportunity.crm_id,
            Opportunity.account_crm_id,
            Partner.id.label("partner_id"),
            Opportunity.created_on,
        )
        .join(Partner, named)
        .where(Opportunity.partner_source != "", Opportunity.created_on.is_not(None), ~stored)
        .order_by(Opportunity.id, Partner.id)
    )


def _touches(session: Session) -> pa.Table:
    # A touch's opportunity by its row id too (the engine links on it); none when it is on the account.
    stored = _table(
        session,
        select(
            PartnerTouch.id,
            PartnerTouch.partner_id,
            Opportunity.id,
            func.nullif(PartnerTouch.opportunity_crm_id, ""),
            func.nullif(PartnerTouch.account_crm_id, ""),
            PartnerTouch.kind,
            PartnerTouch.touched_on,
            PartnerTouch.evidence_type,
            PartnerTouch.evidence_ref,
            PartnerTouch.status,
        ).outerjoin(
            Opportunity,
            and_(
                PartnerTouch.opportunity_crm_id != "",
                Opportunity.crm_id == PartnerTouch.opportunity_crm_id,
            ),
        ),
        TOUCHES,
    )
    candidates = crm_source_candidates().subquery()
    # Not stored yet, so no row id of their own: the negated opportunity id keeps them apart from stored ones.
    derived = _table(
        session,
        select(
            (-candidates.c.opportunity_id).label("touch_id"),
            candidates.c.partner_id,
            candidates.c.opportunity_id,
            candidates.c.crm_id,
            func.nullif(candidates.c.account_crm_id, ""),
            literal(TouchKind.CRM_SOURCE.value),
            candidates.c.created_on,
            literal(CRM_SOURCE_EVIDENCE[0]),
            literal(CRM_SOURCE_EVIDENCE[1]),
            literal(crm_source_status(session)),
        ),
        TOUCHES,
    )
    return pa.concat_tables([stored, derived])


def _referrals(session: Session, tz: ZoneInfo) -> pa.Table:
    rows = session.execute(
        select(
            Referral.id,
            Referral.partner_id,
            Referral.direction,
            Referral.submitted_at,
            cast(Referral.estimated_value, Float),
            Referral.opportunity_crm_id,
        ).where(Referral.status.not_in(_NOT_EQL))
    ).all()
    return pa.Table.from_pylist(
        [
            {
                "referral_id": referral_id,
                "partner_id": partner_id,
                "direction": _DIRECTIONS[direction],
                "created_on": _local_day(submitted_at, tz),
                "declared_value": value,
                "opportunity_crm_id": opportunity or None,
            }
            for referral_id, partner_id, direction, submitted_at, value, opportunity in rows
        ],
        schema=REFERRALS,
    )


def _overlaps(session: Session) -> pa.Table:
    rows = []
    # One row per (period, population of ours): the id keeps them apart, the period id readable in it.
    for rank, population in enumerate(BUILT_IN):
        statement = (
            select(
                OverlapPeriod.id,
                OverlapPeriod.account_crm_id,
                OverlapPeriod.partner_id,
                OverlapPeriod.their_population,
                OverlapPeriod.began_on,
                OverlapPeriod.ended_on,
            )
            .join(Account, Account.crm_id == OverlapPeriod.account_crm_id)
            .where(built_in_where(population))
        )
        for period_id, account, partner_id, label, began_on, ended_on in session.execute(statement):
            rows.append(
                {
                    "overlap_id": period_id * len(BUILT_IN) + rank,
                    "our_account_crm_id": account,
                    "partner_id": partner_id,
                    "partner_population": "customers" if is_customer_label(label) else label,
                    "our_population": population,
                    "began_on": began_on,
                    "ended_on": ended_on,
                }
            )
    return pa.Table.from_pylist(rows, schema=OVERLAPS)


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    # SQLite hands timestamps back without their zone; they are stored in UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(tz).date()


def load_inputs(session: Session, tz: ZoneInfo) -> Feed:
    """Every stored record the figures read, as the engine's validated input tables."""
    skipped = session.scalar(select(func.count()).select_from(Opportunity).where(~_placeable())) or 0
    opportunities = _opportunities(session)
    inputs = validate_inputs(
        opportunities=opportunities,
        opportunity_stage_changes=_stage_changes(session, opportunities),
        touches=_touches(session),
        partners=_table(session, select(Partner.id, Partner.partner_type, Partner.owner_id), PARTNERS),
        partner_stage_changes=_table(
            session,
            select(
                PartnerStageChange.id,
                PartnerStageChange.partner_id,
                PartnerStageChange.from_stage,
                PartnerStageChange.to_stage,
                PartnerStageChange.changed_on,
            ),
            PARTNER_STAGE_CHANGES,
        ),
        memberships=_table(
            session, select(Membership.partner_id, Membership.program_id, Membership.tier_id), MEMBERSHIPS
        ),
        referrals=_referrals(session, tz),
        overlaps=_overlaps(session),
    )
    return Feed(inputs=inputs, skipped_opportunities=skipped)
