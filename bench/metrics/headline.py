"""The engine's dashboard reduced to the flat figures the pandas baseline also reports, to compare them."""

from __future__ import annotations

from typing import Any

from ecoops.engines.metrics import Explained


def _rows(result: Explained) -> list[dict[str, Any]]:
    return list(result.figures.to_pylist())


def engine_headline(figures: dict[str, Explained]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in _rows(figures["classification"]):
        out[f"classification.{row['classification']}"] = row["opportunities"]
    for row in _rows(figures["revenue"]):
        out[f"revenue.{row['classification']}.count"] = row["won_opportunities"]
        out[f"revenue.{row['classification']}.amount"] = row["revenue"]
    for row in _rows(figures["pipeline"]):
        out[f"pipeline.{row['classification']}.count"] = row["open_opportunities"]
        out[f"pipeline.{row['classification']}.amount"] = row["pipeline"]
    credit: dict[str, list[float]] = {}
    for row in _rows(figures["attribution"]):
        credit.setdefault(row["model"], []).append(row["attributed_revenue"])
    for model, amounts in credit.items():
        out[f"attribution.{model}.partners"] = len(amounts)
        present = [a for a in amounts if a is not None]
        out[f"attribution.{model}.total"] = sum(present) if present else None
    for row in _rows(figures["overlays"]):
        c = row["classification"]
        out |= {
            f"overlays.{c}.open": row["open_opportunities"],
            f"overlays.{c}.closed": row["closed"],
            f"overlays.{c}.won": row["won"],
            f"overlays.{c}.win_rate": row["win_rate"],
            f"overlays.{c}.average_deal_size": row["average_deal_size"],
            f"overlays.{c}.mean_days_to_close": row["mean_days_to_close"],
            f"overlays.{c}.median_days_to_close": row["median_days_to_close"],
            f"overlays.{c}.velocity": row["pipeline_velocity"],
        }
    for row in _rows(figures["days_in_stage"]):
        if row["visits"]:
            key = f"days_in_stage.{row['classification']}.{row['stage']}"
            out[f"{key}.visits"], out[f"{key}.mean"] = row["visits"], row["mean_days"]
    for row in _rows(figures["partners_per_stage"]):
        out[f"partners_per_stage.{row['stage']}"] = row["partners"]
    (recruit,) = _rows(figures["time_to_recruit"])
    out |= {f"time_to_recruit.{k}": recruit[k] for k in ("signings", "measured")}
    out |= {"time_to_recruit.mean": recruit["mean_days"], "time_to_recruit.median": recruit["median_days"]}
    (first,) = _rows(figures["first_revenue"])
    out |= {
        "first_revenue.signed_partners": first["signed_partners"],
        "first_revenue.activated": first["activated_partners"],
        "first_revenue.activation_rate": first["activation_rate"],
        "first_revenue.mean": first["mean_days_to_first_revenue"],
        "first_revenue.median": first["median_days_to_first_revenue"],
    }
    (tenure,) = _rows(figures["tenure_and_retention"])
    out |= {
        "tenure.signed_partners": tenure["signed_partners"],
        "tenure.mean": tenure["mean_tenure_days"],
        "tenure.retention_cohort": tenure["retention_cohort"],
        "tenure.retained": tenure["retained"],
        "tenure.retention_rate": tenure["retention_rate"],
    }
    for row in _rows(figures["partners_needed"]):
        key = f"partners_needed.{row['program_id']}"
        out |= {f"{key}.active": row["active_partners"], f"{key}.revenue": row["revenue"]}
        out[f"{key}.needed"] = row["partners_needed"]
    give_get = _rows(figures["give_and_get"])

    def total(column: str) -> Any:
        present = [r[column] for r in give_get if r[column] is not None]
        return sum(present) if present else None

    out |= {
        "give_and_get.sent": total("referrals_sent"),
        "give_and_get.value_sent": total("value_sent"),
        "give_and_get.received": total("referrals_received"),
        "give_and_get.value_received": total("value_received"),
        "give_and_get.shared_open_opportunities": total("shared_open_opportunities"),
    }
    (pre,) = _rows(figures["eql_pre_pipeline"])
    out |= {f"pre_pipeline.{k}": pre[k] for k in ("accounts", "valued_at_average", "value")}
    (funnel,) = _rows(figures["eql_funnel"])
    out |= {
        f"funnel.{k}": funnel[k] for k in ("eqls", "eql_value", "sqls", "sql_opportunities", "sql_amount")
    }
    out |= {
        "funnel.conversion": funnel["eql_to_sql_conversion"],
        "funnel.won_opportunities": funnel["won_opportunities"],
        "funnel.won_amount": funnel["won_amount"],
    }
    forecast = _rows(figures["forecast"])
    out["forecast.pairs"] = len(forecast)
    for name, column in (("forecast", "forecast"), ("low", "forecast_low"), ("high", "forecast_high")):
        present = [r[column] for r in forecast if r[column] is not None]
        out[f"forecast.{name}"] = sum(present) if present else None
    return out
