"""The referral form's fields, read once for every page that takes them (internal, portal, signed link)."""

from __future__ import annotations

from fastapi import Form

from ecoops.referrals.submission import ReferralInput

# Generous transport limits only: the service's own caps explain what is too long, on the form.
_LIMIT = 20_000


def referral_form(
    kind: str = Form("", max_length=40),
    company: str = Form("", max_length=_LIMIT),
    domain: str = Form("", max_length=_LIMIT),
    country: str = Form("", max_length=_LIMIT),
    contact_name: str = Form("", max_length=_LIMIT),
    contact_email: str = Form("", max_length=_LIMIT),
    estimated_value: str = Form("", max_length=100),
    notes: str = Form("", max_length=_LIMIT),
) -> ReferralInput:
    return ReferralInput(
        kind=kind,
        company=company,
        domain=domain,
        country=country,
        contact_name=contact_name,
        contact_email=contact_email,
        estimated_value=estimated_value,
        notes=notes,
    )
