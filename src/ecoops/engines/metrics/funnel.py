"""The ecosystem-qualified-lead funnel and partner give-and-get, from overlaps and referrals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, Period

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

# METRICS.md "EQL pre-pipeline": accounts in our prospect or open-opportunity populations that are in
# a partner's customer population on the date, each once however many partners share it, valued at
# their open opportunities' amounts, or at the average won deal of the last 12 months when none is open.
PRE_PIPELINE_ACCOUNTS = """
WITH eql_account AS (
    SELECT our_account_crm_id AS account_crm_id, list(DISTINCT partner_id ORDER BY partner_id) AS partner_ids
    FROM input_overlaps
    WHERE holds_on_as_of(began_on, ended_on)
      AND is_eql_population(our_population)
      AND is_partner_customer_population(partner_population)
      AND partner_id IN (FROM scoped_partner)
    GROUP BY our_account_crm_id
), open_amount AS (
    SELECT account_crm_id, count(*) AS open_opportunities, sum(amount) AS open_amount
    FROM owner_scoped_opportunity
    WHERE NOT is_closed
    GROUP BY account_crm_id
), average_deal AS (
    SELECT avg(amount) AS average_deal_size
    FROM owner_scoped_opportunity
    WHERE is_won AND close_date > year_before()
)
SELECT
    e.account_crm_id,
    e.partner_ids,
    coalesce(o.open_opportunities, 0) AS open_opportunities,
    o.open_amount,
    o.account_crm_id IS NULL AS valued_at_average,
    CASE WHEN o.account_crm_id IS NULL THEN a.average_deal_size ELSE o.open_amount END AS value
FROM eql_account e
LEFT JOIN open_amount o USING (account_crm_id)
CROSS JOIN average_deal a
"""
# The value is "no data" when an account needs the average deal size and there was no won deal.
PRE_PIPELINE = """
SELECT
    count(*) AS accounts,
    count(*) FILTER (WHERE valued_at_average) AS valued_at_average,
    CASE WHEN count(*) FILTER (WHERE valued_at_average AND value IS NULL) = 0 THEN sum(value) END AS value
FROM records
"""

# METRICS.md "EQL pipeline", "SQL pipeline", "Closed-won from EQLs": the referrals and introductions
# created in the period (both directions), the opportunity each became, and whether it is won.
PERIOD_REFERRALS = """
SELECT
    r.referral_id, r.partner_id, r.direction, r.created_on, r.declared_value, r.opportunity_crm_id,
    o.opportunity_crm_id IS NOT NULL AS became_opportunity,
    o.amount AS opportunity_amount,
    coalesce(o.is_won, false) AS is_won
FROM input_referrals r
LEFT JOIN opportunity_as_of o ON o.opportunity_crm_id = r.opportunity_crm_id
WHERE r.created_on BETWEEN $start AND $end AND r.created_on <= as_of()
  AND r.partner_id IN (FROM scoped_partner)
"""
# SQL counts the EQLs that became an opportunity; amounts count each opportunity once.
FUNNEL = """
WITH opportunity AS (
    SELECT DISTINCT opportunity_crm_id, opportunity_amount, is_won FROM records WHERE became_opportunity
), eql AS (
    SELECT
        count(*) AS eqls,
        sum(declared_value) AS eql_value,
        count(*) FILTER (WHERE became_opportunity) AS sqls
    FROM records
)
SELECT
    eql.eqls,
    eql.eql_value,
    eql.sqls,
    (SELECT count(*) FROM opportunity) AS sql_opportunities,
    (SELECT sum(opportunity_amount) FROM opportunity) AS sql_amount,
    eql.sqls / nullif(eql.eqls, 0) AS eql_to_sql_conversion,
    (SELECT count(*) FILTER (WHERE is_won) FROM opportunity) AS won_opportunities,
    (SELECT sum(opportunity_amount) FILTER (WHERE is_won) FROM opportunity) AS won_amount
FROM eql
"""

# METRICS.md "give and get": per partner, the referrals of the period we sent it and it sent us, and
# our open opportunities on accounts it holds in an overlap with our open-opportunity population.
GIVE_AND_GET_RECORDS = """
SELECT
    partner_id,
    CASE direction WHEN 'out' THEN 'referral_sent' ELSE 'referral_received' END AS record,
    CAST(referral_id AS VARCHAR) AS record_id,
    declared_value AS amount
FROM input_referrals
WHERE created_on BETWEEN $start AND $end AND created_on <= as_of() AND partner_id IN (FROM scoped_partner)
UNION ALL
SELECT DISTINCT v.partner_id, 'shared_open_opportunity' AS record, o.opportunity_crm_id AS record_id, o.amount
FROM input_overlaps v
JOIN owner_scoped_opportunity o ON o.account_crm_id = v.our_account_crm_id
WHERE NOT o.is_closed AND holds_on_as_of(v.began_on, v.ended_on)
  AND is_open_opportunity_population(v.our_population)
  AND v.partner_id IN (FROM scoped_partner)
"""
GIVE_AND_GET = """
SELECT
    p.partner_id,
    count(*) FILTER (WHERE r.record = 'referral_sent') AS referrals_sent,
    sum(r.amount) FILTER (WHERE r.record = 'referral_sent') AS value_sent,
    count(*) FILTER (WHERE r.record = 'referral_received') AS referrals_received,
    sum(r.amount) FILTER (WHERE r.record = 'referral_received') AS value_received,
    count(*) FILTER (WHERE r.record = 'shared_open_opportunity') AS shared_open_opportunities
FROM scoped_partner p
LEFT JOIN records r USING (partner_id)
GROUP BY p.partner_id
ORDER BY p.partner_id
"""


def eql_pre_pipeline(snapshot: Snapshot, filters: Filters = NO_FILTERS) -> Explained:
    """Accounts partners already have as customers among our prospects and open deals, and their value."""
    return snapshot.explained(filters, PRE_PIPELINE_ACCOUNTS, PRE_PIPELINE)


def eql_funnel(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """EQL pipeline, SQL pipeline, EQL → SQL conversion and closed-won for the EQLs created in `period`."""
    return snapshot.explained(filters, PERIOD_REFERRALS, FUNNEL, {"start": period.start, "end": period.end})


def give_and_get(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """Per partner: referrals sent and received in `period`, and our open opportunities shared with it."""
    return snapshot.explained(
        filters, GIVE_AND_GET_RECORDS, GIVE_AND_GET, {"start": period.start, "end": period.end}
    )
