"""What the onboarding tests share: a filled application form, and applications stored as if sent."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.onboarding import applications, form_guard
from ecoops.onboarding.models import PartnerApplication


def form_fields(settings: Settings, program: int, **changes: Any) -> dict[str, Any]:
    """The public form as a person fills it, shown a minute ago."""
    fields: dict[str, Any] = {
        "company": "Acme Integrations",
        "website": "https://www.acme-integrations.example/",
        "country": "de",
        "partner_type": "systems_integrator",
        "contact_name": "Ana Applicant",
        "email": "ana@acme-integrations.example",
        "contact_role": "sales",
        "message": "We implement your product for mid-size retailers.",
        "program_id": str(program),
        "stamp": form_guard.form_stamp(settings, time.time() - 60),
        form_guard.HONEYPOT_FIELD: "",
    }
    return fields | changes


def submitted(session: Session, program_id: int, **changes: Any) -> PartnerApplication:
    """An application stored through the service, as the form stores it."""
    values: dict[str, Any] = {
        "company": "Acme Integrations",
        "website": "acme-integrations.example",
        "country": "DE",
        "partner_type": "reseller",
        "contact_name": "Ana Applicant",
        "email": "ana@acme-integrations.example",
        "contact_role": "",
        "message": "",
        "program_id": program_id,
    } | changes
    data = applications.ApplicationInput(**values)
    return applications.submit_application(session, data, address="198.51.100.7")
