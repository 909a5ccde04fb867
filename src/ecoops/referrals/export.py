"""Referrals as CSV, for our users and for a partner's own: the same columns, the same narrowing."""

from __future__ import annotations

import csv
import io

from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.crm.imports.report import neutralise
from ecoops.referrals.access import readable_referrals
from ecoops.referrals.models import Referral

COLUMNS = (
    "id",
    "direction",
    "kind",
    "partner_id",
    "company",
    "domain",
    "country",
    "contact_name",
    "contact_email",
    "estimated_value",
    "status",
    "submitted_via",
    "submitted_at",
    "reason",
    "registration_expires_on",
    "opportunity_crm_id",
)


def _cell(value: object) -> str:
    return neutralise("" if value is None else str(value))  # partners type these fields


def referrals_csv(session: Session, actor: Actor) -> str:
    """Every referral the actor may read (a partner user: its partner's only), oldest first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for referral in session.scalars(readable_referrals(actor).order_by(Referral.id)):
        writer.writerow([_cell(getattr(referral, column)) for column in COLUMNS])
    return out.getvalue()


def csv_response(text: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="referrals.csv"'},
    )
