"""A small workspace for enablement tests: two partners with a user each, our people, library items for
all partners and for each partner, playbooks (published to all, to Beta only, unpublished) and inbound
referrals on known days."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import partner_user_actor, user_actor
from ecoops.actors import SYSTEM, Actor, Role
from ecoops.config import Settings
from ecoops.enablement import content, playbooks
from ecoops.enablement.models import ContentItem, Playbook
from ecoops.mapping import runs
from ecoops.mapping import uploads as mapping_uploads
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral
from tests.factories import make_account, make_partner, make_partner_user, make_user

PARTNER_LIST = (
    b"Account ID,Account Name,Website,Billing Country,Population\r\n"
    b"T1,Their Globex,globex-corp.com,DE,Customers\r\n"
    b"T2,Their Initech,initech-corp.com,DE,Prospects\r\n"
)


@dataclass
class Workspace:
    alpha: Partner
    beta: Partner
    alpha_user: PartnerUser
    beta_user: PartnerUser
    seller: User
    other_seller: User
    manager: User
    viewer: User
    for_all: ContentItem  # a link for all partners
    alpha_file: ContentItem  # a file for Alpha only
    beta_file: ContentItem  # a file for Beta only
    public_playbook: Playbook  # published to all partners, its step holds alpha_file
    beta_playbook: Playbook  # published to Beta only
    draft_playbook: Playbook  # unpublished
    referrals: list[Referral]  # Alpha's, inbound, submitted 2025-03-01, -03-31, -04-01 (UTC)

    def actor(self, who: User | PartnerUser) -> Actor:
        return partner_user_actor(who) if isinstance(who, PartnerUser) else user_actor(who)


def file_item(session: Session, settings: Settings, title: str, partner: Partner | None) -> ContentItem:
    data = content.ContentInput(title, "bill_of_materials", partner_id=partner.id if partner else None)
    upload = content.Upload(io.BytesIO(f"{title} body".encode()), f"{title}.pdf")
    return content.add_content(session, SYSTEM, data, settings, upload)


def _referral(session: Session, partner: Partner, company: str, day: datetime) -> Referral:
    referral = Referral(
        direction="inbound",
        kind="eql",
        partner_id=partner.id,
        company=company,
        status="approved",
        submitted_via="portal",
        submitted_at=day,
    )
    session.add(referral)
    session.flush()
    return referral


def seed(session: Session, settings: Settings) -> Workspace:
    alpha, beta = make_partner(session, name="Alpha"), make_partner(session, name="Beta")
    for_all = content.add_content(
        session,
        SYSTEM,
        content.ContentInput(
            "Joint value guide", "guide", link="https://example.com/guide", motion="referral"
        ),
        settings,
    )
    alpha_file = file_item(session, settings, "Alpha BOM", alpha)
    beta_file = file_item(session, settings, "Beta BOM", beta)
    public = playbooks.create_playbook(session, SYSTEM, title="Referral playbook", motion="referral")
    playbooks.add_step(session, SYSTEM, public, title="Qualify", content_id=for_all.id)
    playbooks.add_step(session, SYSTEM, public, title="Send the BOM", content_id=alpha_file.id)
    playbooks.publish(session, SYSTEM, public, published=True, partner_id=None)
    beta_only = playbooks.create_playbook(session, SYSTEM, title="Beta co-sell", motion="co_sell")
    playbooks.publish(session, SYSTEM, beta_only, published=True, partner_id=beta.id)
    draft = playbooks.create_playbook(session, SYSTEM, title="Draft onboarding", motion="onboarding")
    days = [datetime(2025, 3, 1, 9, tzinfo=UTC), datetime(2025, 3, 31, 23, 59, tzinfo=UTC)]
    days.append(datetime(2025, 4, 1, 0, 0, tzinfo=UTC))
    referrals = [_referral(session, alpha, f"Lead {n}", day) for n, day in enumerate(days)]
    return Workspace(
        alpha=alpha,
        beta=beta,
        alpha_user=make_partner_user(session, alpha),
        beta_user=make_partner_user(session, beta),
        seller=make_user(session, Role.SALES),
        other_seller=make_user(session, Role.SALES),
        manager=make_user(session, Role.PARTNER_MANAGER),
        viewer=make_user(session, Role.VIEWER),
        for_all=for_all,
        alpha_file=alpha_file,
        beta_file=beta_file,
        public_playbook=public,
        beta_playbook=beta_only,
        draft_playbook=draft,
        referrals=referrals,
    )


def map_alpha(session: Session, settings: Settings, alpha: Partner) -> None:
    """Our Globex and Initech in Alpha's list, mapped: two overlapping accounts; our Hooli is not in it."""
    make_account(session, crm_id="001GLOBEX", name="Globex", domain="globex-corp.com")
    make_account(session, crm_id="001INITECH", name="Initech", domain="initech-corp.com")
    make_account(session, crm_id="001HOOLI", name="Hooli", domain="hooli-corp.com")
    path = Path(settings.var_dir) / "alpha.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PARTNER_LIST)
    mapping_uploads.upload_partner_list(session, SYSTEM, alpha.id, path, "alpha.csv")
    runs.run_mapping(session, SYSTEM, alpha.id)
