"""Scenario rows for the metrics engine: one valid record per call, fields overridable, ids counted."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from ecoops.engines.metrics import MetricsInputs, validate_inputs
from ecoops.engines.metrics import inputs as schemas

Row = dict[str, Any]
_ids = itertools.count(1)


@dataclass
class Scenario:
    """Plain rows of every input table; the engine gets them as Arrow, the reference as they are."""

    opportunities: list[Row] = field(default_factory=list)
    opportunity_stage_changes: list[Row] = field(default_factory=list)
    touches: list[Row] = field(default_factory=list)
    partners: list[Row] = field(default_factory=list)
    partner_stage_changes: list[Row] = field(default_factory=list)
    memberships: list[Row] = field(default_factory=list)
    referrals: list[Row] = field(default_factory=list)
    overlaps: list[Row] = field(default_factory=list)

    @staticmethod
    def _keep(table: list[Row], row: Row) -> Row:
        table.append(row)
        return row

    def tables(self) -> dict[str, pa.Table]:
        """The rows as the engine's Arrow tables, with the stored ids a database would add: each
        opportunity is numbered, and its stage changes and touches name it by that number too."""
        numbers = {row["crm_id"]: number for number, row in enumerate(self.opportunities, 1)}

        def naming(rows: list[Row]) -> list[Row]:
            return [row | {"opportunity_id": numbers.get(row["opportunity_crm_id"])} for row in rows]

        numbered = {
            "opportunities": [row | {"opportunity_id": n} for n, row in enumerate(self.opportunities, 1)],
            "opportunity_stage_changes": naming(self.opportunity_stage_changes),
            "touches": naming(self.touches),
        }
        schemas_by_name = {
            "opportunities": schemas.OPPORTUNITIES,
            "opportunity_stage_changes": schemas.OPPORTUNITY_STAGE_CHANGES,
            "touches": schemas.TOUCHES,
            "partners": schemas.PARTNERS,
            "partner_stage_changes": schemas.PARTNER_STAGE_CHANGES,
            "memberships": schemas.MEMBERSHIPS,
            "referrals": schemas.REFERRALS,
            "overlaps": schemas.OVERLAPS,
        }
        return {
            name: pa.Table.from_pylist(numbered.get(name, getattr(self, name)), schema=schema)
            for name, schema in schemas_by_name.items()
        }

    def inputs(self) -> MetricsInputs:
        return validate_inputs(**self.tables())

    def opportunity(self, crm_id: str, created_on: date, **fields: Any) -> Row:
        """An open opportunity without stage history unless `fields` say otherwise."""
        return self._keep(
            self.opportunities,
            {
                "crm_id": crm_id,
                "account_crm_id": f"acct-{crm_id}",
                "amount": 1000.0,
                "created_on": created_on,
                "close_date": None,
                "is_closed": False,
                "is_won": False,
                "stage": "Discovery",
                "owner": "alice",
            }
            | fields,
        )

    def won(self, crm_id: str, created_on: date, close_date: date, **fields: Any) -> Row:
        """An opportunity won on `close_date` (no stage history: the record says so)."""
        return self.opportunity(
            crm_id,
            created_on,
            close_date=close_date,
            is_closed=True,
            is_won=True,
            stage="Closed Won",
            **fields,
        )

    def lost(self, crm_id: str, created_on: date, close_date: date, **fields: Any) -> Row:
        return self.opportunity(
            crm_id,
            created_on,
            close_date=close_date,
            is_closed=True,
            is_won=False,
            stage="Closed Lost",
            **fields,
        )

    def stage(
        self,
        opportunity_crm_id: str,
        stage: str,
        changed_on: date,
        *,
        closed: bool = False,
        won: bool = False,
    ) -> Row:
        return self._keep(
            self.opportunity_stage_changes,
            {
                "change_id": next(_ids),
                "opportunity_crm_id": opportunity_crm_id,
                "stage": stage,
                "changed_on": changed_on,
                "is_closed": closed,
                "is_won": won,
            },
        )

    def touch(
        self, partner_id: int, opportunity_crm_id: str | None, kind: str, touched_on: date, **fields: Any
    ) -> Row:
        return self._keep(
            self.touches,
            {
                "touch_id": next(_ids),
                "partner_id": partner_id,
                "opportunity_crm_id": opportunity_crm_id,
                "account_crm_id": None,
                "kind": kind,
                "touched_on": touched_on,
                "evidence_type": "user",
                "evidence_ref": "7",
                "status": "confirmed",
            }
            | fields,
        )

    def partner(
        self,
        partner_id: int,
        *stages: tuple[str, date],
        partner_type: str = "technology",
        owner_id: int | None = 1,
        programs: tuple[tuple[int, int | None], ...] = (),
    ) -> Row:
        """A partner with its life cycle as (stage, date) moves in order, and (program, tier) memberships."""
        row = {"partner_id": partner_id, "partner_type": partner_type, "owner_id": owner_id}
        self.partners.append(row)
        previous = None
        for to_stage, changed_on in stages:
            self.partner_stage_changes.append(
                {
                    "change_id": next(_ids),
                    "partner_id": partner_id,
                    "from_stage": previous,
                    "to_stage": to_stage,
                    "changed_on": changed_on,
                }
            )
            previous = to_stage
        for program_id, tier_id in programs:
            self.memberships.append({"partner_id": partner_id, "program_id": program_id, "tier_id": tier_id})
        return row

    def referral(
        self,
        partner_id: int,
        direction: str,
        created_on: date,
        declared_value: float | None = 500.0,
        opportunity_crm_id: str | None = None,
    ) -> Row:
        return self._keep(
            self.referrals,
            {
                "referral_id": next(_ids),
                "partner_id": partner_id,
                "direction": direction,
                "created_on": created_on,
                "declared_value": declared_value,
                "opportunity_crm_id": opportunity_crm_id,
            },
        )

    def overlap(
        self,
        account_crm_id: str,
        partner_id: int,
        began_on: date,
        ended_on: date | None = None,
        *,
        our_population: str = "prospects",
        partner_population: str = "customers",
    ) -> Row:
        return self._keep(
            self.overlaps,
            {
                "overlap_id": next(_ids),
                "our_account_crm_id": account_crm_id,
                "partner_id": partner_id,
                "partner_population": partner_population,
                "our_population": our_population,
                "began_on": began_on,
                "ended_on": ended_on,
            },
        )


def reopened_deal() -> Scenario:
    """O1, created 15 Jan 2024: lost on 1 Mar, reopened on 10 Mar, won on 1 Apr."""
    s = Scenario()
    s.won("O1", date(2024, 1, 15), date(2024, 4, 1))
    s.stage("O1", "Discovery", date(2024, 1, 15))
    s.stage("O1", "Closed Lost", date(2024, 3, 1), closed=True)
    s.stage("O1", "Negotiation", date(2024, 3, 10))
    s.stage("O1", "Closed Won", date(2024, 4, 1), closed=True, won=True)
    return s


def rows_by(table: pa.Table, *keys: str) -> dict[Any, Row]:
    """The rows of an engine table keyed by one column (or a tuple of several)."""
    out = {}
    for row in table.to_pylist():
        out[row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)] = row
    return out
