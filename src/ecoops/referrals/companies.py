"""Company matching keys and the conflict checks run when a referral is submitted.

Keys come from the account-mapping normalisation (engines.matching), so "same company" means the
same thing in a conflict check as in an account map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date

import pyarrow as pa
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ecoops.crm.models import Account, Opportunity
from ecoops.engines.matching.countries import country_code
from ecoops.engines.matching.domains import registrable_domains
from ecoops.engines.matching.names import name_keys
from ecoops.lru import LRU
from ecoops.partners.models import Partner
from ecoops.referrals.models import Direction, Kind, Referral, Status

KEYS_REMEMBERED = 100_000  # names (and domains) whose keys each process keeps, the last used


class RememberedKeys:
    """Keys of values (names or domains) computed once per process and kept, the last used first.

    The normalisation is a DuckDB query whose planning costs 8-15 ms however few the values, so a
    referral's conflict check computing its company's keys and its candidate accounts' paid about
    90 ms; the candidates (our accounts) recur from one check to the next. The keys depend on the
    value alone. Thread-safe (`ecoops.lru`): web requests share it.
    """

    def __init__(self, compute: Callable[[list[str]], list[str | None]], size: int = KEYS_REMEMBERED) -> None:
        self.compute = compute
        self._known: LRU[tuple[str | None]] = LRU(size)  # each key in a 1-tuple: a null key is kept too

    def __call__(self, values: list[str]) -> list[str | None]:
        distinct = dict.fromkeys(values)
        found = {v: kept[0] for v in distinct if (kept := self._known.get(v)) is not None}
        missing = [v for v in distinct if v not in found]
        if missing:  # computed outside the LRU's lock: DuckDB lets two requests compute at once
            for value, key in zip(missing, self.compute(missing), strict=True):
                found[value] = self._known.put(value, (key,))[0]
        return [found[v] for v in values]


_NAME_KEYS = RememberedKeys(
    lambda names: name_keys(pa.array(names, pa.string())).column("name_key").to_pylist()
)
_DOMAINS = RememberedKeys(lambda values: registrable_domains(pa.array(values, pa.string())).to_pylist())


@dataclass(frozen=True)
class CompanyKeys:
    domain_key: str
    name_key: str
    country: str  # ISO alpha-2, or "" when unknown


def company_keys(company: str, domain: str, country: str) -> CompanyKeys:
    return CompanyKeys(
        domain_key=_DOMAINS([domain])[0] or "" if domain.strip() else "",
        name_key=_NAME_KEYS([company])[0] or "",
        country=country_code(country) or "" if country.strip() else "",
    )


@dataclass(frozen=True)
class Conflict:
    code: str  # existing_customer | open_opportunity | registered_elsewhere | first_come | duplicate
    message: str
    account_crm_id: str = ""
    opportunity_crm_id: str = ""
    referral_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def matching_accounts(session: Session, keys: CompanyKeys) -> list[Account]:
    """Our CRM accounts that are the same company: same registrable domain, or same normalised name
    (in the same country when both countries are known)."""
    clauses = []
    if keys.domain_key:
        clauses += [Account.domain == keys.domain_key, Account.domain.like(f"%.{keys.domain_key}")]
    first_word = keys.name_key.split(" ")[0] if keys.name_key else ""
    if first_word:
        clauses.append(func.lower(Account.name).like(f"%{first_word}%"))
    if not clauses:
        return []
    candidates = list(session.scalars(select(Account).where(or_(*clauses)).order_by(Account.id).limit(500)))
    # The keys of all candidates in one pass each (the normalisation costs a query per call), and
    # only of those not seen lately.
    domains = _DOMAINS([a.domain for a in candidates])
    names = _NAME_KEYS([a.name for a in candidates])
    matches = []
    for account, domain, name in zip(candidates, domains, names, strict=True):
        same_domain = bool(keys.domain_key) and domain == keys.domain_key
        same_name = bool(keys.name_key) and name == keys.name_key
        account_country = country_code(account.country) if account.country else None
        if same_name and keys.country and account_country and account_country != keys.country:
            same_name = False
        if same_domain or same_name:
            matches.append(account)
    return matches


def same_company(keys: CompanyKeys) -> ColumnElement[bool] | None:
    """A filter for referrals on the same company as `keys`; None when the keys are empty."""
    clauses: list[ColumnElement[bool]] = []
    if keys.domain_key:
        clauses.append(Referral.domain_key == keys.domain_key)
    if keys.name_key:
        # A name alone is the same company only where the countries do not say otherwise.
        same_name = Referral.name_key == keys.name_key
        if keys.country:
            same_name = and_(same_name, or_(Referral.country == "", Referral.country == keys.country))
        clauses.append(same_name)
    return or_(*clauses) if clauses else None


def _is_customer(session: Session, account: Account) -> bool:
    if "customer" in account.account_type.lower():
        return True
    won = select(func.count()).where(Opportunity.account_crm_id == account.crm_id, Opportunity.is_won)
    return bool(session.scalar(won))


def check_conflicts(
    session: Session,
    keys: CompanyKeys,
    *,
    kind: str,
    partner_id: int,
    today: date,
    exclude_id: int | None = None,
) -> list[Conflict]:
    """What a reviewer must know before approving: customers, open deals, other partners' claims."""
    conflicts: list[Conflict] = []
    accounts = matching_accounts(session, keys)
    for account in accounts:
        if _is_customer(session, account):
            conflicts.append(
                Conflict("existing_customer", f"{account.name} is already our customer", account.crm_id)
            )
    if accounts:
        open_deals = select(Opportunity).where(
            Opportunity.account_crm_id.in_([a.crm_id for a in accounts]), ~Opportunity.is_closed
        )
        for deal in session.scalars(open_deals.order_by(Opportunity.id)):
            conflicts.append(
                Conflict(
                    "open_opportunity",
                    f"open opportunity {deal.name or deal.crm_id} ({deal.stage}), "
                    f"owned by {deal.owner or 'nobody'}",
                    deal.account_crm_id,
                    deal.crm_id,
                )
            )
    company = same_company(keys)
    if company is None:
        return conflicts
    claims = (
        select(Referral, Partner.name)
        .join(Partner, Partner.id == Referral.partner_id)
        .where(
            company,
            Referral.direction == Direction.INBOUND,
            Referral.status.in_([Status.SUBMITTED, Status.APPROVED]),
        )
    )
    if exclude_id is not None:
        claims = claims.where(Referral.id != exclude_id)
    for other, partner_name in session.execute(claims.order_by(Referral.submitted_at, Referral.id)):
        if other.partner_id == partner_id:
            conflicts.append(
                Conflict(
                    "duplicate",
                    f"this partner already submitted #{other.id} ({other.status})",
                    referral_id=other.id,
                )
            )
        elif other.kind != Kind.DEAL_REGISTRATION:
            continue
        elif other.status == Status.APPROVED and (
            other.registration_expires_on is None or other.registration_expires_on >= today
        ):
            until = other.registration_expires_on.isoformat() if other.registration_expires_on else "no end"
            conflicts.append(
                Conflict(
                    "registered_elsewhere",
                    f"{partner_name} holds an approved registration until {until} (#{other.id})",
                    referral_id=other.id,
                )
            )
        elif other.status == Status.SUBMITTED and kind == Kind.DEAL_REGISTRATION:
            conflicts.append(
                Conflict(
                    "first_come",
                    f"{partner_name} registered it first (#{other.id}, pending review)",
                    referral_id=other.id,
                )
            )
    return conflicts
