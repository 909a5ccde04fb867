"""The benchmark's baseline: the same dashboard figures as the engine, written the usual pandas way.

No filters (the benchmark uses none). Returns the same flat headline dict as `headline.engine_headline`
so a run can check that both agree before comparing their speed.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

SOURCING = ["referral", "deal_registration", "crm_source"]
INFLUENCE = ["co_sell", "overlap", "content", "marketplace"]
SIGNED = ["signed", "onboarding", "active", "producing"]
STAGES = ["prospect", "recruiting", "signed", "onboarding", "active", "producing", "churned"]
CLASSES = ["sourced", "influenced", "direct"]
MODELS = ["sourced", "first_touch", "last_touch", "linear", "time_decay", "position"]
GRACE, LOOK_BACK, HALF_LIFE, Z = 7, 90, 30.0, 1.2815515655446004


def _value(x: Any) -> Any:
    """A pandas scalar as the engine reports it: NaN/NaT is "no data" (None)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return x.item() if hasattr(x, "item") else x


def _sum(series: pd.Series) -> float | None:
    return _value(series.sum(min_count=1))


def _mean(series: pd.Series) -> float | None:
    return _value(series.mean())


def _median(series: pd.Series) -> float | None:
    return _value(series.median())


def load(tables: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Arrow tables to DataFrames, dates as datetime64."""
    return {name: table.to_pandas(date_as_object=False) for name, table in tables.items()}


def dashboard_headline(
    frames: dict[str, pd.DataFrame], as_of: date, start: date, end: date, target: float
) -> dict[str, Any]:
    d, p0, p1 = pd.Timestamp(as_of), pd.Timestamp(start), pd.Timestamp(end)
    year_before = pd.Timestamp(as_of) - pd.DateOffset(months=12)
    out: dict[str, Any] = {}

    # --- state as of the date ---
    changes = frames["opportunity_stage_changes"]
    opps = frames["opportunities"]
    opps = opps[opps["created_on"] <= d]
    known = changes[changes["changed_on"] <= d].sort_values(["opportunity_crm_id", "changed_on", "change_id"])
    last = known.drop_duplicates("opportunity_crm_id", keep="last").set_index("opportunity_crm_id")
    has_history = opps["crm_id"].isin(changes["opportunity_crm_id"].unique())
    closed_h = opps["crm_id"].map(last["is_closed"]).fillna(False).astype(bool)
    won_h = opps["crm_id"].map(last["is_won"]).fillna(False).astype(bool) & closed_h
    closed_r = opps["is_closed"] & (opps["close_date"] <= d)
    state = pd.DataFrame(
        {
            "opp": opps["crm_id"].to_numpy(),
            "account": opps["account_crm_id"].to_numpy(),
            "amount": opps["amount"].to_numpy(),
            "created_on": opps["created_on"].to_numpy(),
            "is_closed": np.where(has_history, closed_h, closed_r),
            "is_won": np.where(has_history, won_h, closed_r & opps["is_won"]),
        }
    )
    close_h = opps["crm_id"].map(last["changed_on"]).where(closed_h)
    state["close_date"] = np.where(has_history, close_h, opps["close_date"].where(closed_r))
    state["close_date"] = pd.to_datetime(state["close_date"])
    state["window_end"] = state["close_date"].fillna(d)

    # --- counting touches and classes ---
    touches = frames["touches"]
    opp_level = touches[touches["opportunity_crm_id"].fillna("") != ""].rename(
        columns={"opportunity_crm_id": "opp"}
    )
    account_level = (
        touches[touches["opportunity_crm_id"].fillna("") == ""]
        .drop(columns="opportunity_crm_id")
        .merge(state[["opp", "account"]], left_on="account_crm_id", right_on="account")
    )
    linked = pd.concat(
        [opp_level.assign(via="opportunity"), account_level.assign(via="account")], ignore_index=True
    )
    linked = linked.merge(state[["opp", "created_on", "window_end"]], on="opp")
    cls = np.where(
        linked["kind"].isin(SOURCING),
        "sourcing",
        np.where(linked["kind"].isin(INFLUENCE), "influence", "delivery"),
    )
    t_on = linked["touched_on"]
    counts = (
        (linked["status"] == "confirmed")
        & (t_on <= d)
        & (t_on <= linked["window_end"])
        & (cls != "delivery")
        & ~((cls == "sourcing") & (t_on > linked["created_on"] + pd.Timedelta(days=GRACE)))
        & ~(
            ((cls == "influence") | (linked["via"] == "account"))
            & (t_on < linked["created_on"] - pd.Timedelta(days=LOOK_BACK))
        )
    )
    counting = linked.loc[counts, ["touch_id", "opp", "partner_id", "touched_on"]].assign(
        cls=cls[counts.to_numpy()]
    )
    sourcing = counting[counting["cls"] == "sourcing"].sort_values(["opp", "touched_on", "partner_id"])
    source = sourcing.drop_duplicates("opp").set_index("opp")["partner_id"]
    influenced_opps = set(counting.loc[counting["cls"] == "influence", "opp"])
    state["source_partner_id"] = state["opp"].map(source)
    state["classification"] = np.where(
        state["source_partner_id"].notna(),
        "sourced",
        np.where(state["opp"].isin(influenced_opps), "influenced", "direct"),
    )
    credited = pd.concat(
        [
            state.loc[state["classification"] == "sourced", ["opp", "source_partner_id"]].rename(
                columns={"source_partner_id": "partner_id"}
            ),
            counting.merge(state.loc[state["classification"] == "influenced", ["opp"]], on="opp")[
                ["opp", "partner_id"]
            ].drop_duplicates(),
        ]
    ).astype({"partner_id": "int64"})
    for c in CLASSES:
        out[f"classification.{c}"] = int((state["classification"] == c).sum())

    # --- revenue, pipeline ---
    won_in_period = state[state["is_won"] & state["close_date"].between(p0, p1)]
    for c in ("sourced", "influenced"):
        mine = won_in_period[won_in_period["classification"] == c]
        out[f"revenue.{c}.count"], out[f"revenue.{c}.amount"] = len(mine), _sum(mine["amount"])
    open_ = state[~state["is_closed"]]
    for c in CLASSES:
        mine = open_[open_["classification"] == c]
        out[f"pipeline.{c}.count"], out[f"pipeline.{c}.amount"] = len(mine), _sum(mine["amount"])

    # --- attribution ---
    t = counting.merge(won_in_period[["opp", "amount", "close_date", "source_partner_id"]], on="opp")
    t = t.sort_values(["opp", "touched_on", "partner_id", "touch_id"])
    group = t.groupby("opp", sort=False)
    t["position"] = group.cumcount() + 1
    t["n"] = group["touch_id"].transform("size")
    latest = group["touched_on"].transform("max")
    last_partner = t[t["touched_on"] == latest].groupby("opp")["partner_id"].min()
    t["weight"] = np.power(2.0, -(t["close_date"] - t["touched_on"]).dt.days / HALF_LIFE)
    t["position_share"] = np.select(
        [t["n"] == 1, t["n"] == 2, (t["position"] == 1) | (t["position"] == t["n"])],
        [1.0, 0.5, 0.4],
        default=0.2 / (t["n"] - 2).clip(lower=1),
    )
    per = t.groupby(["opp", "partner_id"], as_index=False).agg(
        amount=("amount", "first"),
        source=("source_partner_id", "first"),
        first_pos=("position", "min"),
        weight=("weight", "sum"),
        position=("position_share", "sum"),
    )
    per["sourced"] = (per["partner_id"] == per["source"]).astype(float)
    per["first_touch"] = (per["first_pos"] == 1).astype(float)
    per["last_touch"] = (per["partner_id"] == per["opp"].map(last_partner)).astype(float)
    per["linear"] = 1.0 / per.groupby("opp")["partner_id"].transform("size")
    per["time_decay"] = per["weight"] / per.groupby("opp")["weight"].transform("sum")
    for model in MODELS:
        credit = per[per[model] > 0]
        by_partner = (credit["amount"] * credit[model]).groupby(credit["partner_id"]).sum(min_count=1)
        out[f"attribution.{model}.partners"] = int(credit["partner_id"].nunique())
        out[f"attribution.{model}.total"] = _sum(by_partner)

    # --- overlays, days in stage ---
    closed = state[state["is_closed"] & state["close_date"].between(p0, p1)]
    for c in CLASSES:
        mine = closed[closed["classification"] == c]
        won = mine[mine["is_won"]]
        cycle = (won["close_date"] - won["created_on"]).dt.days
        open_count = int(((state["classification"] == c) & ~state["is_closed"]).sum())
        win_rate = len(won) / len(mine) if len(mine) else None
        deal, mean_cycle = _mean(won["amount"]), _mean(cycle)
        out |= {
            f"overlays.{c}.open": open_count,
            f"overlays.{c}.closed": len(mine),
            f"overlays.{c}.won": len(won),
            f"overlays.{c}.win_rate": win_rate,
            f"overlays.{c}.average_deal_size": deal,
            f"overlays.{c}.mean_days_to_close": mean_cycle,
            f"overlays.{c}.median_days_to_close": _median(cycle),
            f"overlays.{c}.velocity": (
                open_count * win_rate * deal / mean_cycle
                if win_rate is not None and deal is not None and mean_cycle
                else None
            ),
        }
    visits = known.copy()
    visits["left_on"] = visits.groupby("opportunity_crm_id")["changed_on"].shift(-1)
    visits = visits[visits["left_on"].between(p0, p1)].merge(
        state[["opp", "classification"]], left_on="opportunity_crm_id", right_on="opp"
    )
    visits["days"] = (visits["left_on"] - visits["changed_on"]).dt.days
    for (c, stage), days in visits.groupby(["classification", "stage"])["days"]:
        out[f"days_in_stage.{c}.{stage}.visits"], out[f"days_in_stage.{c}.{stage}.mean"] = (
            len(days),
            _mean(days),
        )

    # --- partner life cycle ---
    pchanges = frames["partner_stage_changes"]
    pchanges = pchanges[pchanges["changed_on"] <= d].sort_values(["partner_id", "changed_on", "change_id"])
    current = pchanges.drop_duplicates("partner_id", keep="last")["to_stage"].value_counts()
    for stage in STAGES:
        out[f"partners_per_stage.{stage}"] = int(current.get(stage, 0))
    spells = []
    for partner_id, rows in pchanges.groupby("partner_id", sort=False):
        signed, recruiting_since, number = False, None, 0
        for to_stage, changed_on in zip(rows["to_stage"], rows["changed_on"], strict=True):
            now_signed = to_stage in SIGNED
            if now_signed and not signed:
                number += 1
                spells.append([partner_id, number, changed_on, None, recruiting_since])
            elif signed and not now_signed:
                spells[-1][3] = changed_on
                recruiting_since = None
            if to_stage == "recruiting" and recruiting_since is None:
                recruiting_since = changed_on
            if now_signed:
                recruiting_since = None
            signed = now_signed
    spell = pd.DataFrame(
        spells, columns=["partner_id", "spell", "signed_on", "left_on", "recruiting_began_on"]
    )
    spell[["signed_on", "left_on", "recruiting_began_on"]] = spell[
        ["signed_on", "left_on", "recruiting_began_on"]
    ].apply(pd.to_datetime)
    signings = spell[spell["signed_on"].between(p0, p1)]
    recruit = (signings["signed_on"] - signings["recruiting_began_on"]).dt.days
    out |= {
        "time_to_recruit.signings": len(signings),
        "time_to_recruit.measured": int(recruit.notna().sum()),
        "time_to_recruit.mean": _mean(recruit),
        "time_to_recruit.median": _median(recruit),
    }
    first = spell[spell["spell"] == 1]
    cohort = first[first["signed_on"].between(p0, p1)][["partner_id", "signed_on"]]
    wins = credited.merge(state.loc[state["is_won"], ["opp", "close_date"]], on="opp").merge(
        cohort, on="partner_id"
    )
    wins = wins[wins["close_date"] >= wins["signed_on"]]
    first_win = wins.groupby("partner_id")["close_date"].min()
    days_first = (cohort["partner_id"].map(first_win) - cohort["signed_on"]).dt.days
    activated = int(days_first.notna().sum())
    out |= {
        "first_revenue.signed_partners": len(cohort),
        "first_revenue.activated": activated,
        "first_revenue.activation_rate": activated / len(cohort) if len(cohort) else None,
        "first_revenue.mean": _mean(days_first),
        "first_revenue.median": _median(days_first),
    }
    spell["tenure"] = (spell["left_on"].fillna(d) - spell["signed_on"]).dt.days
    tenure = spell.groupby("partner_id")["tenure"].sum()
    anniversary = first.set_index("partner_id")["signed_on"] + pd.DateOffset(months=12)
    in_cohort = anniversary <= d
    first_left = first.set_index("partner_id")["left_on"]
    retained = in_cohort & (first_left.isna() | (first_left > anniversary))
    out |= {
        "tenure.signed_partners": len(tenure),
        "tenure.mean": _mean(tenure),
        "tenure.retention_cohort": int(in_cohort.sum()),
        "tenure.retained": int(retained.sum()),
        "tenure.retention_rate": retained.sum() / in_cohort.sum() if in_cohort.sum() else None,
    }

    # --- partners needed for the target ---
    members = frames["memberships"][["program_id", "partner_id"]].drop_duplicates()
    window_first_day = year_before + pd.Timedelta(days=1)
    active = spell[spell["left_on"].isna() | (spell["left_on"] > window_first_day)]["partner_id"].unique()
    won_year = state[state["is_won"] & (state["close_date"] > year_before)]
    program_opps = members.merge(credited, on="partner_id").merge(won_year[["opp", "amount"]], on="opp")
    program_opps = program_opps[["program_id", "opp", "amount"]].drop_duplicates()
    for program in sorted(members["program_id"].unique()):
        partners = int(
            members[(members["program_id"] == program) & members["partner_id"].isin(active)].shape[0]
        )
        revenue = _sum(program_opps.loc[program_opps["program_id"] == program, "amount"])
        productivity = revenue / partners if revenue is not None and partners else None
        out[f"partners_needed.{program}.active"] = partners
        out[f"partners_needed.{program}.revenue"] = revenue
        out[f"partners_needed.{program}.needed"] = math.ceil(target / productivity) if productivity else None

    # --- referrals and overlaps ---
    referrals = frames["referrals"]
    referrals = referrals[referrals["created_on"].between(p0, p1) & (referrals["created_on"] <= d)]
    overlaps = frames["overlaps"]
    held = overlaps[(overlaps["began_on"] <= d) & (overlaps["ended_on"].isna() | (overlaps["ended_on"] > d))]
    shared = held[held["our_population"] == "open_opportunities"].merge(
        open_[["opp", "account"]], left_on="our_account_crm_id", right_on="account"
    )[["partner_id", "opp"]]
    out |= {
        "give_and_get.sent": int((referrals["direction"] == "out").sum()),
        "give_and_get.value_sent": _sum(referrals.loc[referrals["direction"] == "out", "declared_value"]),
        "give_and_get.received": int((referrals["direction"] == "in").sum()),
        "give_and_get.value_received": _sum(referrals.loc[referrals["direction"] == "in", "declared_value"]),
        "give_and_get.shared_open_opportunities": len(shared.drop_duplicates()),
    }
    eql = held[
        held["our_population"].isin(["prospects", "open_opportunities"])
        & (held["partner_population"] == "customers")
    ]["our_account_crm_id"].unique()
    open_by_account = open_.groupby("account")["amount"].agg(lambda a: a.sum(min_count=1))
    average = _mean(state.loc[state["is_won"] & (state["close_date"] > year_before), "amount"])
    has_open = pd.Series(eql).isin(open_by_account.index)
    values = pd.Series(eql).map(open_by_account)
    at_average = int((~has_open).sum())
    if at_average and average is None:
        value = None
    else:
        value = _sum(pd.concat([values[has_open], pd.Series([average] * at_average, dtype=float)]))
    out |= {
        "pre_pipeline.accounts": len(eql),
        "pre_pipeline.valued_at_average": at_average,
        "pre_pipeline.value": value,
    }
    became = referrals[referrals["opportunity_crm_id"].isin(state["opp"])]
    sql_opps = state[state["opp"].isin(became["opportunity_crm_id"])]
    out |= {
        "funnel.eqls": len(referrals),
        "funnel.eql_value": _sum(referrals["declared_value"]),
        "funnel.sqls": len(became),
        "funnel.sql_opportunities": len(sql_opps),
        "funnel.sql_amount": _sum(sql_opps["amount"]),
        "funnel.conversion": len(became) / len(referrals) if len(referrals) else None,
        "funnel.won_opportunities": int(sql_opps["is_won"].sum()),
        "funnel.won_amount": _sum(sql_opps.loc[sql_opps["is_won"], "amount"]),
    }

    # --- forecast from overlaps ---
    in_year = overlaps[
        (overlaps["began_on"] <= d)
        & (overlaps["ended_on"].isna() | (overlaps["ended_on"] > window_first_day))
    ].copy()
    in_year["now"] = in_year["ended_on"].isna() | (in_year["ended_on"] > d)
    pair = ["our_population", "partner_id", "partner_population"]
    accounts = in_year.groupby([*pair, "our_account_crm_id"], as_index=False).agg(
        began_on=("began_on", "min"), now=("now", "any")
    )
    conversions = credited.merge(won_year[["opp", "account", "close_date"]], on="opp")
    hits = accounts.merge(
        conversions, left_on=["our_account_crm_id", "partner_id"], right_on=["account", "partner_id"]
    )
    hits = hits[hits["close_date"] >= hits["began_on"]][[*pair, "our_account_crm_id"]].drop_duplicates()
    accounts = accounts.merge(hits.assign(converted=True), on=[*pair, "our_account_crm_id"], how="left")
    accounts["converted"] = accounts["converted"].fillna(False).astype(bool)
    pairs = accounts.groupby(pair).agg(now=("now", "sum"), n=("now", "size"), k=("converted", "sum"))
    pairs = pairs[pairs["now"] > 0]
    rate = pairs["k"] / pairs["n"]
    centre = (rate + Z * Z / (2 * pairs["n"])) / (1 + Z * Z / pairs["n"])
    half = (
        Z * np.sqrt(rate * (1 - rate) / pairs["n"] + Z * Z / (4 * pairs["n"] ** 2)) / (1 + Z * Z / pairs["n"])
    )
    deal = _mean(won_year.loc[won_year["classification"] != "direct", "amount"])
    out["forecast.pairs"] = len(pairs)
    for name, r in (
        ("forecast", rate),
        ("low", (centre - half).clip(lower=0)),
        ("high", (centre + half).clip(upper=1)),
    ):
        out[f"forecast.{name}"] = None if deal is None else _value((pairs["now"] * r * deal).sum())
    return out
