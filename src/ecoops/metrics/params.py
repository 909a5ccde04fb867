"""The query string every metrics page and API route reads: as-of date, period, filters and target."""

from __future__ import annotations

from fastapi import Depends, Query

from ecoops.config import Settings
from ecoops.metrics.service import MetricsQuery, build_query
from ecoops.web.deps import app_settings
from ecoops.web.errors import invalid_request
from ecoops.web.fields import Id, IsoDate


def metrics_query(
    as_of: IsoDate | None = Query(None, description="records as they stood that day (default: today)"),
    start: IsoDate | None = Query(None, alias="from", description="first day of the period"),
    end: IsoDate | None = Query(
        None, alias="to", description="last day of the period (default: the as-of date)"
    ),
    partner: list[Id] = Query([], description="partner ids"),
    program: list[Id] = Query([], description="program ids"),
    tier: list[Id] = Query([], description="tier ids"),
    partner_type: list[str] = Query([], alias="type", description="partner types, e.g. reseller"),
    owner: list[Id] = Query([], description="partner managers' user ids"),
    deal_owner: list[str] = Query([], description="opportunity owners, as in the CRM"),
    target: float = Query(1_000_000.0, gt=0, description="revenue target for 'partners needed'"),
    settings: Settings = Depends(app_settings),
) -> MetricsQuery:
    try:
        return build_query(
            settings.today(),
            as_of=as_of,
            start=start,
            end=end,
            partners=partner,
            programs=program,
            tiers=tier,
            types=partner_type,
            owners=owner,
            deal_owners=deal_owner,
            target_revenue=target,
        )
    except ValueError as error:
        raise invalid_request(str(error), "query") from None
