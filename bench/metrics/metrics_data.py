"""A seeded, vectorised generator of metrics-engine inputs at benchmark size (1M opportunities at scale 1).

Shapes follow the engine's input schemas; the mix (stage paths with reopenings, touches around the
creation date, account-level touches, churned and re-signed partners) exercises every definition.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ecoops.engines.metrics import inputs as schemas

FIRST_DAY = date(2021, 1, 1)
AS_OF = date(2024, 12, 31)
PERIOD = (date(2024, 10, 1), date(2024, 12, 31))
DAYS = (AS_OF - FIRST_DAY).days + 1
PARTNERS = 500
OPEN_STAGES = np.array(["Qualification", "Discovery", "Proposal", "Negotiation", "Contract"])
KINDS = np.array(schemas.SOURCING_KINDS + schemas.INFLUENCE_KINDS + schemas.DELIVERY_KINDS)
KIND_WEIGHTS = np.array([0.10, 0.08, 0.07, 0.30, 0.20, 0.10, 0.05, 0.10])


def sizes(scale: float) -> dict[str, int]:
    return {
        "opportunities": int(1_000_000 * scale),
        "stage_changes": int(5_000_000 * scale),
        "touches": int(2_000_000 * scale),
        "accounts": max(int(300_000 * scale), 10),
        "referrals": int(200_000 * scale),
        "overlaps": int(500_000 * scale),
    }


def _dates(days: np.ndarray) -> pa.Array:
    """Day offsets from FIRST_DAY as an Arrow date32 array."""
    epoch_offset = (FIRST_DAY - date(1970, 1, 1)).days
    return pa.array((days + epoch_offset).astype(np.int32), pa.date32())


def _blank_where(values: pa.Array, blank: np.ndarray) -> pa.Array:
    """`values` with nulls where `blank` is true (pa.array ignores a mask for Arrow input)."""
    return pc.if_else(pa.array(blank), pa.scalar(None, values.type), values)


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def _stored_ids(numbers: np.ndarray) -> pa.Array:
    """The database row id of opportunity number `numbers` (OPP<number>), as a store would number them."""
    return pa.array(numbers + 1, pa.int64())


def generate(scale: float, seed: int) -> dict[str, pa.Table]:
    """Every input table of the engine, deterministic for (scale, seed)."""
    rng = np.random.default_rng(seed)
    n = sizes(scale)
    tables = {}

    # Opportunities and their stage paths: 3 to 7 changes each (5 on average), a few days to weeks
    # apart; 35 % end won, 40 % lost, the rest stay open; 5 % are lost once and reopened on the way.
    opportunities = n["opportunities"]
    created = rng.integers(0, DAYS - 30, opportunities)
    changes_per = rng.integers(3, 8, opportunities)
    scale_fix = n["stage_changes"] / changes_per.sum()
    changes_per = np.maximum(1, np.round(changes_per * scale_fix)).astype(np.int64)
    total_changes = int(changes_per.sum())
    opportunity_of_change = np.repeat(np.arange(opportunities), changes_per)
    first_change = np.cumsum(changes_per) - changes_per
    step = np.arange(total_changes) - np.repeat(first_change, changes_per)
    gaps = rng.integers(0, 35, total_changes)
    gaps[step == 0] = 0
    changed_on = (
        np.repeat(created, changes_per)
        + np.cumsum(gaps)
        - np.repeat(np.cumsum(gaps)[first_change], changes_per)
    )
    outcome = rng.choice(3, opportunities, p=[0.35, 0.40, 0.25])  # 0 won, 1 lost, 2 open
    is_last = step == np.repeat(changes_per - 1, changes_per)
    closes = is_last & (np.repeat(outcome, changes_per) < 2)
    reopened = np.repeat(rng.random(opportunities) < 0.05, changes_per) & (step == 1) & ~is_last
    stage = OPEN_STAGES[np.minimum(step, len(OPEN_STAGES) - 1)].astype(object)
    won_change = closes & (np.repeat(outcome, changes_per) == 0)
    stage[won_change] = "Closed Won"
    stage[(closes & ~won_change) | reopened] = "Closed Lost"
    is_closed = closes | reopened
    tables["opportunity_stage_changes"] = pa.table(
        {
            "change_id": pa.array(np.arange(total_changes), pa.int64()),
            "opportunity_id": _stored_ids(opportunity_of_change),
            "opportunity_crm_id": _ids("OPP", opportunity_of_change),
            "stage": pa.array(stage, pa.string()),
            "changed_on": _dates(changed_on),
            "is_closed": pa.array(is_closed),
            "is_won": pa.array(won_change),
        }
    )
    last_day = changed_on[first_change + changes_per - 1]
    account = rng.integers(0, n["accounts"], opportunities)
    amount = np.round(rng.lognormal(9.5, 1.0, opportunities), 2)
    amount_or_null = pa.array(amount, mask=rng.random(opportunities) < 0.02)
    tables["opportunities"] = pa.table(
        {
            "opportunity_id": _stored_ids(np.arange(opportunities)),
            "crm_id": _ids("OPP", np.arange(opportunities)),
            "account_crm_id": _ids("ACC", account),
            "amount": amount_or_null,
            "created_on": _dates(created),
            "close_date": _blank_where(_dates(last_day), outcome == 2),
            "is_closed": pa.array(outcome < 2),
            "is_won": pa.array(outcome == 0),
            "stage": pa.array(stage[first_change + changes_per - 1], pa.string()),
            "owner": _ids("rep", rng.integers(0, 200, opportunities)),
        }
    )

    # Touches: around the creation date (60 days before to 90 after), 10 % on the account only.
    touches = n["touches"]
    touched = rng.integers(0, opportunities, touches)
    on_account = rng.random(touches) < 0.10
    kind = rng.choice(len(KINDS), touches, p=KIND_WEIGHTS)
    partner = rng.integers(1, PARTNERS + 1, touches)
    tables["touches"] = pa.table(
        {
            "touch_id": pa.array(np.arange(touches), pa.int64()),
            "partner_id": pa.array(partner, pa.int64()),
            "opportunity_id": _blank_where(_stored_ids(touched), on_account),
            "opportunity_crm_id": _blank_where(_ids("OPP", touched), on_account),
            "account_crm_id": _ids("ACC", account[touched]),
            "kind": pa.array(KINDS[kind], pa.string()),
            "touched_on": _dates(created[touched] + rng.integers(-60, 91, touches)),
            "evidence_type": pa.array(np.where(kind < 3, "referral", "user"), pa.string()),
            "evidence_ref": pc.cast(pa.array(rng.integers(1, 100_000, touches)), pa.string()),
            "status": pa.array(rng.choice(np.array(schemas.TOUCH_STATUSES), touches, p=[0.07, 0.90, 0.03])),
        }
    )

    tables |= _partner_tables(rng)

    referrals = n["referrals"]
    linked = rng.random(referrals) < 0.4
    tables["referrals"] = pa.table(
        {
            "referral_id": pa.array(np.arange(referrals), pa.int64()),
            "partner_id": pa.array(rng.integers(1, PARTNERS + 1, referrals), pa.int64()),
            "direction": pa.array(np.where(rng.random(referrals) < 0.7, "in", "out"), pa.string()),
            "created_on": _dates(rng.integers(0, DAYS, referrals)),
            "declared_value": pa.array(np.round(rng.lognormal(9, 1, referrals), 2)),
            "opportunity_crm_id": _blank_where(
                _ids("OPP", rng.integers(0, opportunities, referrals)), ~linked
            ),
        }
    )

    overlaps = n["overlaps"]
    began = rng.integers(0, DAYS, overlaps)
    tables["overlaps"] = pa.table(
        {
            "overlap_id": pa.array(np.arange(overlaps), pa.int64()),
            "our_account_crm_id": _ids("ACC", rng.integers(0, n["accounts"], overlaps)),
            "partner_id": pa.array(rng.integers(1, PARTNERS + 1, overlaps), pa.int64()),
            "partner_population": pa.array(np.where(rng.random(overlaps) < 0.6, "customers", "prospects")),
            "our_population": pa.array(
                rng.choice(
                    np.array(["prospects", "open_opportunities", "customers"]), overlaps, p=[0.4, 0.3, 0.3]
                )
            ),
            "began_on": _dates(began),
            "ended_on": _blank_where(
                _dates(began + rng.integers(30, 400, overlaps)), rng.random(overlaps) < 0.8
            ),
        }
    )
    return tables


def _partner_tables(rng: np.random.Generator) -> dict[str, pa.Table]:
    """500 partners walking the life cycle; 15 % churn, half of those are recruited again and re-sign."""
    partners, changes, memberships = [], [], []
    types = ["technology", "reseller", "referral", "agency", "marketplace"]
    for partner_id in range(1, PARTNERS + 1):
        partners.append(
            {"partner_id": partner_id, "partner_type": types[partner_id % 5], "owner_id": partner_id % 20}
        )
        day = FIRST_DAY + timedelta(int(rng.integers(0, DAYS - 200)))
        path = ["prospect", "recruiting", "signed", "onboarding", "active", "producing"]
        path = path[: int(rng.integers(2, len(path) + 1))]
        if len(path) >= 3 and rng.random() < 0.15:
            path += ["churned"] + (["recruiting", "signed", "active"] if rng.random() < 0.5 else [])
        for stage in path:
            changes.append(
                {"change_id": len(changes), "partner_id": partner_id, "to_stage": stage, "changed_on": day}
            )
            day += timedelta(int(rng.integers(5, 120)))
        for program in rng.choice(5, int(rng.integers(1, 3)), replace=False):
            tier = int(program) * 10 + int(rng.integers(1, 4))
            memberships.append({"partner_id": partner_id, "program_id": int(program) + 1, "tier_id": tier})
    previous: dict[int, str] = {}
    for change in changes:
        change["from_stage"] = previous.get(change["partner_id"])
        previous[change["partner_id"]] = change["to_stage"]
    return {
        "partners": pa.Table.from_pylist(partners, schema=schemas.PARTNERS),
        "partner_stage_changes": pa.Table.from_pylist(changes, schema=schemas.PARTNER_STAGE_CHANGES),
        "memberships": pa.Table.from_pylist(memberships, schema=schemas.MEMBERSHIPS),
    }


def write(tables: dict[str, pa.Table], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")


def read(folder: Path) -> dict[str, pa.Table]:
    return {path.stem: pq.read_table(path) for path in sorted(folder.glob("*.parquet"))}
