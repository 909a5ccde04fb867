"""What the write-back tests of both CRMs share: a partner's overlap with an account, targets turned
on, and a write-back run, through a CRM's `Provider`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import cli_actor
from ecoops.config import Settings
from ecoops.crm.writeback import provider
from ecoops.crm.writeback.models import WritebackRun
from ecoops.mapping.models import Match, PartnerAccount, PartnerUpload
from ecoops.partners.models import Partner

ADMIN = cli_actor("admin@example.com")


def overlap(session: Session, partner: Partner, account_id: str, population: str) -> None:
    upload = session.scalar(
        select(PartnerUpload).where(PartnerUpload.partner_id == partner.id, PartnerUpload.is_current)
    )
    if upload is None:
        upload = PartnerUpload(partner_id=partner.id, filename="list.csv", sha256="0" * 64, is_current=True)
        session.add(upload)
        session.flush()
    their = f"T-{account_id}"
    session.add(PartnerAccount(upload_id=upload.id, line=1, their_id=their, population=population))
    session.add(
        Match(partner_id=partner.id, our_crm_id=account_id, their_id=their, method="domain", score=1.0)
    )


def turn_on(crm: provider.Provider, session: Session, settings: Settings, fields: dict[str, str]) -> None:
    """Each target (key) written to its CRM field (value), then committed."""
    for target, crm_field in fields.items():
        provider.set_field(session, ADMIN, settings, crm, target=target, crm_field=crm_field, enabled=True)
    session.commit()


def write(
    crm: provider.Provider, sessions: sessionmaker[Session], settings: Settings, *, dry_run: bool = False
) -> WritebackRun:
    return provider.run_writeback(sessions, settings, ADMIN, crm, trigger="cli", dry_run=dry_run)
