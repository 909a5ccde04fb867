"""The commission plans of ecoops.commissions.engine written again in pandas, as the benchmark's baseline.

The same inputs (the credits, bounties, plans, rates and paid partners tables) and the same integer
rules (cents, parts per million, half up, caps in date order), written the way an analyst would in
pandas; the benchmark checks both give the same lines.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

KEY = ["plan_id", "partner_id", "subject", "installment"]


def _frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(date_as_object=False)


def _add_months(days: pd.Series, months: pd.Series) -> pd.Series:
    """Each date `months` later, a day past the target month's end becoming its last day (as SQL does)."""
    values = days.to_numpy().astype("datetime64[D]")
    month_start = values.astype("datetime64[M]")
    day = (values - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + months.to_numpy().astype("timedelta64[M]")
    length = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(np.int64)
    return pd.Series(target.astype("datetime64[D]") + np.minimum(day, length - 1), index=days.index)


def _valid(frame: pd.DataFrame, on: str, as_of: pd.Timestamp) -> pd.Series:
    return (
        (frame[on] <= as_of)
        & (frame[on] >= frame["valid_from"])
        & (frame["valid_to"].isna() | (frame[on] <= frame["valid_to"]))
        & (frame["held_from"].isna() | (frame[on] >= frame["held_from"]))
        & (frame["held_until"].isna() | (frame[on] < frame["held_until"]))
    )


def lines(
    as_of: date,
    credits: pa.Table,
    bounties: pa.Table,
    plans: pa.Table,
    rates: pa.Table,
    plan_partners: pa.Table,
) -> pd.DataFrame:
    day = pd.Timestamp(as_of)
    plan = _frame(plans)
    paid = _frame(plan_partners)
    c = _frame(credits).merge(paid, on="partner_id").merge(plan, on="plan_id")
    basis = (
        (c["basis"] == "any")
        | ((c["basis"] == "sourced") & (c["credit"] == "source"))
        | ((c["basis"] == "influenced") & (c["credit"] == "influence"))
    )
    c = c[(c["kind"] == "percent") & c["amount"].notna() & _valid(c, "close_date", day) & basis].copy()
    c["credited_cents"] = np.floor(c["amount"] * 100.0 * c["share"] + 0.5).astype(np.int64)
    c = c[c["credited_cents"] > 0]
    c["month"] = c["close_date"].to_numpy().astype("datetime64[M]")
    volume = c.groupby(["plan_id", "partner_id", "month"], as_index=False)["credited_cents"].sum()
    volume = volume.rename(columns={"credited_cents": "volume_cents"}).merge(_frame(rates), on="plan_id")
    volume = volume[volume["from_cents"] <= volume["volume_cents"]].sort_values("from_cents")
    rate = volume.groupby(["plan_id", "partner_id", "month"], as_index=False).last()
    c = c.merge(rate[["plan_id", "partner_id", "month", "rate_ppm"]], on=["plan_id", "partner_id", "month"])
    c = c.loc[c.index.repeat(c["months"].clip(lower=1))]
    c["installment"] = c.groupby(level=0).cumcount().astype(np.int64)
    c = c.reset_index(drop=True)
    one_off = c["months"] == 0
    c["earned_on"] = c["close_date"].where(one_off, _add_months(c["close_date"], c["installment"]))
    product = c["credited_cents"] * c["rate_ppm"]
    c["raw_cents"] = np.where(one_off, (product + 500_000) // 1_000_000, (product + 6_000_000) // 12_000_000)
    c = c.rename(columns={"opportunity_crm_id": "subject"})

    b = _frame(bounties).merge(paid, on="partner_id").merge(plan, on="plan_id")
    b = b[
        (b["kind"] == "bounty")
        & _valid(b, "approved_on", day)
        & ((b["basis"] == "any") | (b["basis"] == b["credit"]))
    ]
    b = b.assign(
        installment=np.int64(0), earned_on=b["approved_on"], raw_cents=b["bounty_cents"].astype(np.int64)
    )

    columns = [*KEY, "earned_on", "raw_cents", "cap_deal_cents", "cap_period_cents"]
    line = pd.concat([c[columns], b[columns]], ignore_index=True)
    line = line[line["earned_on"] <= day]
    # Caps: per deal over its installments, then per partner, plan and month in date order.
    line = line.sort_values(KEY)
    before = line.groupby(["plan_id", "partner_id", "subject"])["raw_cents"].cumsum() - line["raw_cents"]
    room = (line["cap_deal_cents"] - before).clip(lower=0)
    line["deal_cents"] = np.where(
        line["cap_deal_cents"].isna(), line["raw_cents"], np.minimum(line["raw_cents"], room)
    )
    line["period"] = line["earned_on"].to_numpy().astype("datetime64[M]")
    line = line.sort_values(["plan_id", "partner_id", "period", "earned_on", "subject", "installment"])
    before = line.groupby(["plan_id", "partner_id", "period"])["deal_cents"].cumsum() - line["deal_cents"]
    room = (line["cap_period_cents"] - before).clip(lower=0)
    line["amount_cents"] = np.where(
        line["cap_period_cents"].isna(), line["deal_cents"], np.minimum(line["deal_cents"], room)
    ).astype(np.int64)
    return line[line["amount_cents"] > 0][[*KEY, "earned_on", "amount_cents"]]
