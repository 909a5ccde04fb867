"""The value each CRM record should carry, computed from ecoops' own data, per target (targets.py).

Only records that came from the CRM are written: those whose `crm_id` is an id of the CRM's object
(`is_crm_id`, given by the provider: a Salesforce Account id starts 001). Every such record gets a
value, "" when ecoops has nothing to say (a partner no longer overlapping clears what was written).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import ContactRole, PartnerUser
from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity
from ecoops.crm.writeback.targets import ACCOUNT, OPPORTUNITY, TARGETS
from ecoops.engines.metrics import NO_FILTERS, take_snapshot
from ecoops.mapping.cross_partner import listings
from ecoops.metrics.service import cached_inputs
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral

Desired = dict[str, dict[str, str]]  # target key → record id → value
SEPARATOR = "; "
CLASS_LABELS = {"sourced": "Partner-sourced", "influenced": "Partner-influenced", "direct": "Direct"}

# The class and whom it credits, per opportunity, as the metrics engine has them today.
_CREDITS = """
SELECT o.opportunity_crm_id, o.classification,
       list(c.partner_id ORDER BY c.partner_id) FILTER (WHERE c.partner_id IS NOT NULL) AS partners
FROM opportunity_as_of o LEFT JOIN credited_partner c USING (opportunity_key)
GROUP BY o.opportunity_crm_id, o.classification
"""


def desired_values(
    session: Session, settings: Settings, targets: Collection[str], is_crm_id: Callable[[str, str], bool]
) -> Desired:
    """Each target's value for every CRM record of its object (`is_crm_id(record kind, id)`)."""
    wanted = set(targets)
    out: Desired = {}
    records = {
        ACCOUNT: [i for i in session.scalars(select(Account.crm_id)) if is_crm_id(ACCOUNT, i)],
        OPPORTUNITY: [i for i in session.scalars(select(Opportunity.crm_id)) if is_crm_id(OPPORTUNITY, i)],
    }
    if wanted & {"account_partners", "account_populations", "account_contact"}:
        out |= _account_values(session, records[ACCOUNT])
    if wanted & {"opportunity_class", "opportunity_partners"}:
        out |= _credit_values(session, settings, records[OPPORTUNITY])
    if wanted & {"opportunity_referral", "opportunity_referral_status"}:
        out |= _referral_values(session, records[OPPORTUNITY])
    return {key: values for key, values in out.items() if key in wanted and key in TARGETS}


def _account_values(session: Session, accounts: list[str]) -> Desired:
    ours = set(accounts)
    partners: dict[str, set[str]] = defaultdict(set)
    populations: dict[str, set[str]] = defaultdict(set)
    partner_ids: dict[str, set[int]] = defaultdict(set)
    for listing in listings(session):
        if listing.our_crm_id in ours:
            partners[listing.our_crm_id].add(listing.partner_name)
            label = f"{listing.partner_name}: {listing.their_population or 'no population'}"
            populations[listing.our_crm_id].add(label)
            partner_ids[listing.our_crm_id].add(listing.partner_id)
    contacts = _best_contacts(session, {p for ids in partner_ids.values() for p in ids})
    return {
        "account_partners": {a: SEPARATOR.join(sorted(partners[a])) for a in accounts},
        "account_populations": {a: SEPARATOR.join(sorted(populations[a])) for a in accounts},
        "account_contact": {a: _best_of(partner_ids[a], contacts) for a in accounts},
    }


ContactRank = tuple[int, float, str, int]  # sales first, latest sign-in first, name, id


def _best_contacts(session: Session, partner_ids: set[int]) -> dict[int, tuple[ContactRank, str]]:
    """Each partner's best active contact: its rank (lower is better) and how it is written."""
    best: dict[int, tuple[ContactRank, str]] = {}
    if not partner_ids:
        return best
    rows = session.execute(
        select(PartnerUser, Partner.name)
        .join(Partner, Partner.id == PartnerUser.partner_id)
        .where(PartnerUser.partner_id.in_(partner_ids), PartnerUser.is_active.is_(True))
    )
    for user, partner_name in rows:
        signed_in = user.last_login_at.timestamp() if user.last_login_at else 0.0
        rank = (0 if user.contact_role == ContactRole.SALES else 1, -signed_in, user.name, user.id)
        if user.partner_id not in best or rank < best[user.partner_id][0]:
            best[user.partner_id] = (rank, f"{user.name} <{user.email}> ({partner_name})")
    return best


def _best_of(partner_ids: set[int], contacts: dict[int, tuple[ContactRank, str]]) -> str:
    found = [contacts[p] for p in partner_ids if p in contacts]
    return min(found)[1] if found else ""


def _credit_values(session: Session, settings: Settings, opportunities: list[str]) -> Desired:
    inputs = cached_inputs(session, settings)
    with take_snapshot(inputs.feed.inputs, settings.today(), inputs.rules) as snapshot:
        snapshot.use(NO_FILTERS)
        rows = snapshot.fetch(_CREDITS).to_pylist()
    names: dict[int, str] = {i: n for i, n in session.execute(select(Partner.id, Partner.name))}
    classes = {r["opportunity_crm_id"]: CLASS_LABELS.get(r["classification"], "") for r in rows}
    credited = {
        r["opportunity_crm_id"]: SEPARATOR.join(sorted({names.get(p, str(p)) for p in r["partners"] or []}))
        for r in rows
    }
    # An opportunity the engine cannot place in time (no created date) has no class to write.
    return {
        "opportunity_class": {o: classes.get(o, "") for o in opportunities},
        "opportunity_partners": {o: credited.get(o, "") for o in opportunities},
    }


def _referral_values(session: Session, opportunities: list[str]) -> Desired:
    latest: dict[str, tuple[int, str]] = {}
    rows = session.execute(
        select(Referral.opportunity_crm_id, Referral.id, Referral.status)
        .where(Referral.opportunity_crm_id != "")
        .order_by(Referral.id)
    )
    for crm_id, referral_id, status in rows:
        latest[crm_id] = (referral_id, status)  # the last one (highest id) stands
    return {
        "opportunity_referral": {o: str(latest[o][0]) if o in latest else "" for o in opportunities},
        "opportunity_referral_status": {o: latest[o][1] if o in latest else "" for o in opportunities},
    }
