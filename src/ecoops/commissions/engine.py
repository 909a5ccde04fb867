"""Commission lines as of a date, computed set-based in DuckDB from credited revenue and the plans.

The inputs are Arrow tables (schemas below), so the service (stored records) and the benchmark (a
million generated opportunities) run the same SQL. Money is integer cents; rates are integer parts per
million of the credited amount (12.5 % = 125 000 ppm), so every figure is exact and rounds half up once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from ecoops.engines.metrics.attribution import ATTRIBUTION_SHARES, MODELS

if TYPE_CHECKING:
    from ecoops.engines.metrics import Snapshot

PPM = 1_000_000

# One row per partner credited with a won deal: its share of the deal under the attribution model
# (the engine's `attribution_shares`) and whether the credit is for sourcing or for influence (the
# engine's `credited_partner`: the source partner of a sourced deal, each influencer of an influenced one).
CREDITS = pa.schema(
    [
        pa.field("opportunity_crm_id", pa.string(), nullable=False),
        pa.field("partner_id", pa.int64(), nullable=False),
        pa.field("credit", pa.string(), nullable=False),  # source | influence
        pa.field("amount", pa.float64()),  # the deal's amount; null = not known, earns nothing
        pa.field("share", pa.float64(), nullable=False),
        pa.field("close_date", pa.date32(), nullable=False),
    ]
)
# Approved referrals and deal registrations a bounty is paid for.
BOUNTIES = pa.schema(
    [
        pa.field("subject", pa.string(), nullable=False),  # "referral:<id>"
        pa.field("partner_id", pa.int64(), nullable=False),
        pa.field("credit", pa.string(), nullable=False),  # referral | registration
        pa.field("approved_on", pa.date32(), nullable=False),
    ]
)
PLANS = pa.schema(
    [
        pa.field("plan_id", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # percent | bounty
        pa.field(
            "basis", pa.string(), nullable=False
        ),  # sourced | influenced | referral | registration | any
        pa.field("months", pa.int64(), nullable=False),  # 0: one line on the close date; N: N monthly lines
        pa.field("bounty_cents", pa.int64()),
        pa.field("cap_deal_cents", pa.int64()),
        pa.field("cap_period_cents", pa.int64()),
        pa.field("valid_from", pa.date32(), nullable=False),
        pa.field("valid_to", pa.date32()),
    ]
)
# A percent plan's rates by the partner's credited volume of the month: the highest `from_cents` not
# above the volume applies to every deal of that month (a single rate has `from_cents` 0).
RATES = pa.schema(
    [
        pa.field("plan_id", pa.int64(), nullable=False),
        pa.field("from_cents", pa.int64(), nullable=False),
        pa.field("rate_ppm", pa.int64(), nullable=False),
    ]
)
# Which partners each plan pays (per-partner overrides already resolved, see plans.paid_partners), and
# for the deals closed (bounties approved) when: from `held_from` (null: always) until the day before
# `held_until` (null: still) -- a tier's plan pays a partner while it held the tier.
PLAN_PARTNERS = pa.schema(
    [
        pa.field("plan_id", pa.int64(), nullable=False),
        pa.field("partner_id", pa.int64(), nullable=False),
        pa.field("held_from", pa.date32()),
        pa.field("held_until", pa.date32()),
    ]
)

LINE_KEY = ("plan_id", "partner_id", "subject", "installment")

# Every step is a set operation over all deals at once:
# 1. credited cents = deal amount x attribution share, rounded half up, for each plan paying the partner
#    on the close date (a tier's plan: the tier held then) whose basis matches the credit and whose
#    validity holds on the close date;
# 2. the rate: the partner's credited volume in the close month picks the tier;
# 3. one-off plans earn on the close date; recurring ones earn 1/12 of the yearly figure in each of
#    their N months, the k-th on the close date plus k months, as far as the as-of date;
# 4. bounties: a fixed amount on the approval date;
# 5. caps: per deal over its installments, then per partner, plan and month in date order; the line
#    that reaches a cap gets what is left and later ones nothing (and are not listed).
LINES = """
WITH credited AS (
    SELECT p.plan_id, c.partner_id, c.opportunity_crm_id AS subject, c.credit, c.close_date, p.months,
        CAST(floor(c.amount * 100.0 * c.share + 0.5) AS BIGINT) AS credited_cents
    FROM commission_credits c
    JOIN commission_plan_partners pp ON pp.partner_id = c.partner_id
    JOIN commission_plans p ON p.plan_id = pp.plan_id
    WHERE p.kind = 'percent' AND c.amount IS NOT NULL AND c.close_date <= $as_of
      AND c.close_date >= p.valid_from AND (p.valid_to IS NULL OR c.close_date <= p.valid_to)
      AND (pp.held_from IS NULL OR c.close_date >= pp.held_from)
      AND (pp.held_until IS NULL OR c.close_date < pp.held_until)
      AND (p.basis = 'any' OR (p.basis = 'sourced' AND c.credit = 'source')
           OR (p.basis = 'influenced' AND c.credit = 'influence'))
), positive AS (
    FROM credited WHERE credited_cents > 0
), volume AS (
    SELECT plan_id, partner_id, date_trunc('month', close_date) AS month, sum(credited_cents) AS volume_cents
    FROM positive
    GROUP BY ALL
), rate AS (
    SELECT v.plan_id, v.partner_id, v.month, any_value(v.volume_cents) AS volume_cents,
        max(r.from_cents) AS tier_from_cents, arg_max(r.rate_ppm, r.from_cents) AS rate_ppm
    FROM volume v
    JOIN commission_rates r ON r.plan_id = v.plan_id AND r.from_cents <= v.volume_cents
    GROUP BY v.plan_id, v.partner_id, v.month
), percent_line AS (
    SELECT plan_id, partner_id, subject, credit, close_date AS closed_on, credited_cents, rate_ppm,
        volume_cents, tier_from_cents, installment,
        CASE WHEN months = 0 THEN close_date
             ELSE CAST(close_date + to_months(CAST(installment AS INTEGER)) AS DATE) END AS earned_on,
        CASE WHEN months = 0 THEN (credited_cents * rate_ppm + 500000) // 1000000
             ELSE (credited_cents * rate_ppm + 6000000) // 12000000 END AS raw_cents
    FROM (
        SELECT c.*, r.rate_ppm, r.volume_cents, r.tier_from_cents,
            unnest(range(greatest(c.months, 1))) AS installment
        FROM positive c
        JOIN rate r ON r.plan_id = c.plan_id AND r.partner_id = c.partner_id
            AND r.month = date_trunc('month', c.close_date)
    )
), bounty_line AS (
    SELECT p.plan_id, b.partner_id, b.subject, b.credit, b.approved_on AS closed_on,
        NULL::BIGINT AS credited_cents, NULL::BIGINT AS rate_ppm, NULL::BIGINT AS volume_cents,
        NULL::BIGINT AS tier_from_cents, 0::BIGINT AS installment, b.approved_on AS earned_on,
        p.bounty_cents AS raw_cents
    FROM commission_bounties b
    JOIN commission_plan_partners pp ON pp.partner_id = b.partner_id
    JOIN commission_plans p ON p.plan_id = pp.plan_id
    WHERE p.kind = 'bounty' AND b.approved_on <= $as_of
      AND b.approved_on >= p.valid_from AND (p.valid_to IS NULL OR b.approved_on <= p.valid_to)
      AND (pp.held_from IS NULL OR b.approved_on >= pp.held_from)
      AND (pp.held_until IS NULL OR b.approved_on < pp.held_until)
      AND (p.basis = 'any' OR p.basis = b.credit)
), line AS (
    SELECT l.*, p.cap_deal_cents, p.cap_period_cents
    FROM (FROM percent_line UNION ALL FROM bounty_line) l
    JOIN commission_plans p USING (plan_id)
    WHERE l.earned_on <= $as_of
), deal_capped AS (
    SELECT *,
        CASE WHEN cap_deal_cents IS NULL THEN raw_cents
             ELSE least(raw_cents, greatest(cap_deal_cents - coalesce(sum(raw_cents) OVER (
                PARTITION BY plan_id, partner_id, subject ORDER BY installment
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)) END AS deal_cents
    FROM line
), period_capped AS (
    SELECT *,
        CASE WHEN cap_period_cents IS NULL THEN deal_cents
             ELSE least(deal_cents, greatest(cap_period_cents - coalesce(sum(deal_cents) OVER (
                PARTITION BY plan_id, partner_id, date_trunc('month', earned_on)
                ORDER BY earned_on, subject, installment
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)) END AS amount_cents
    FROM deal_capped
)
SELECT plan_id, partner_id, subject, installment, credit, closed_on, earned_on, credited_cents, rate_ppm,
    CAST(volume_cents AS BIGINT) AS volume_cents, tier_from_cents, CAST(raw_cents AS BIGINT) AS raw_cents,
    CAST(amount_cents AS BIGINT) AS amount_cents,
    CASE WHEN amount_cents < deal_cents THEN 'period' WHEN deal_cents < raw_cents THEN 'deal' ELSE '' END
        AS capped
FROM period_capped
WHERE amount_cents > 0
"""


CREDITED_SHARES = (
    "WITH shares AS ("
    + ATTRIBUTION_SHARES
    + """)
SELECT s.opportunity_crm_id, s.partner_id, c.credit, s.amount, s.MODEL_SHARE AS share, o.close_date
FROM shares s
JOIN opportunity_as_of o USING (opportunity_crm_id)
JOIN credited_partner c ON c.opportunity_key = o.opportunity_key AND c.partner_id = s.partner_id
WHERE s.MODEL_SHARE > 0
"""
)


def credits_from_snapshot(snapshot: Snapshot, model: str) -> pa.Table:
    """Each partner's credit on every won deal closed up to the snapshot date, under `model`.

    The shares are the attribution engine's; only partners its classification credits (`credited_partner`)
    are paid, each with its share of the deal under the workspace's model.
    """
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}; one of {', '.join(MODELS)}")
    # The model is one of MODELS (checked above): a column name, which no parameter can carry.
    sql = CREDITED_SHARES.replace("MODEL_SHARE", model)
    table = snapshot.fetch(sql, start=date.min, end=snapshot.as_of, opportunity_crm_id=None)
    return table.cast(CREDITS)


def accrual_lines(
    connection: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    credits: pa.Table,
    bounties: pa.Table,
    plans: pa.Table,
    rates: pa.Table,
    plan_partners: pa.Table,
) -> pa.Table:
    """Every commission line earned on or before `as_of` (LINES), one per plan, partner, deal, installment."""
    inputs = {
        "commission_credits": (credits, CREDITS),
        "commission_bounties": (bounties, BOUNTIES),
        "commission_plans": (plans, PLANS),
        "commission_rates": (rates, RATES),
        "commission_plan_partners": (plan_partners, PLAN_PARTNERS),
    }
    for name, (table, schema) in inputs.items():
        connection.register(name, table.select(schema.names).cast(schema))
    try:
        return connection.sql(LINES, params={"as_of": as_of}).to_arrow_table()
    finally:
        for name in inputs:
            connection.unregister(name)
