"""Partner fit: the criteria (edited by whoever edits the program), each partner's profile, and the
ranked list of candidates (partners in the prospect or recruiting stage) and current partners.

A candidate is a partner record in an early stage, so its account list is uploaded and mapped with the
partner-list mapping (mapping/uploads.py, mapping/runs.py) before it signs; the overlaps read here are
that mapping's (mapping/overlaps.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.fit.models import Criterion, FitCriterion, FitProfile
from ecoops.fit.scoring import DEFAULTS, Facts, Score, Setting, score, size_range, words
from ecoops.mapping.overlaps import overlapping_accounts
from ecoops.mapping.populations import CUSTOMERS, OPEN_OPPORTUNITIES, memberships
from ecoops.maturity.models import Integration, IntegrationStatus
from ecoops.partners.models import Partner, PartnerType, Stage
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require
from ecoops.referrals.models import Direction, Referral

CANDIDATE_STAGES = (Stage.PROSPECT.value, Stage.RECRUITING.value)
Who = Literal["candidates", "current", "all"]
MAX_WEIGHT = 100


def criteria(session: Session) -> dict[Criterion, Setting]:
    """The profile's criteria: the stored ones, the defaults for the others."""
    stored = {row.key: row for row in session.scalars(select(FitCriterion))}
    return {
        c: Setting(stored[c].weight, stored[c].target) if c in stored else Setting(*DEFAULTS[c])
        for c in Criterion
    }


def _checked_target(criterion: Criterion, target: str) -> str:
    target = target.strip()
    field = f"{criterion.value}.target"
    if criterion == Criterion.PARTNER_TYPE:
        wrong = [w for w in words(target) if w not in tuple(PartnerType)]
        if wrong:
            raise FieldError(
                field, f"not a partner type: {', '.join(wrong)} (one of {', '.join(PartnerType)})"
            )
        return ", ".join(words(target))
    if criterion == Criterion.REGION:
        wrong = [w for w in words(target) if len(w) != 2 or not w.isalpha()]
        if wrong:
            raise FieldError(field, f"countries are 2-letter ISO codes, not {', '.join(wrong)}")
        return ", ".join(w.upper() for w in words(target))
    if criterion == Criterion.SIZE:
        try:
            low, high = size_range(target)
        except ValueError:
            raise FieldError(field, f"a head count range as min-max, e.g. 50-5000, not {target!r}") from None
        return f"{low}-{high}"
    if criterion == Criterion.INTEGRATION:
        return ""
    try:
        number = float(target)
    except ValueError:
        raise FieldError(field, f"must be a number, not {target!r}") from None
    if not number > 0 or (criterion == Criterion.REFERRAL_CONVERSION and number > 1):
        limit = "between 0 and 1" if criterion == Criterion.REFERRAL_CONVERSION else "greater than 0"
        raise FieldError(field, f"must be {limit}")
    return f"{number:g}"


def set_criteria(
    session: Session, actor: Actor, given: dict[str, tuple[str, str]]
) -> dict[Criterion, Setting]:
    """Store the weights and targets given per criterion key, checked; FieldError names the field."""
    require(actor, Permission.EDIT_PROGRAM)
    before = criteria(session)
    checked: dict[Criterion, Setting] = {}
    for key, (weight_text, target) in given.items():
        if key not in tuple(Criterion):
            raise FieldError("criterion", f"no criterion {key!r}")
        criterion = Criterion(key)
        try:
            weight = int(weight_text.strip())
        except ValueError:
            raise FieldError(f"{key}.weight", f"must be a whole number, not {weight_text!r}") from None
        if not 0 <= weight <= MAX_WEIGHT:
            raise FieldError(f"{key}.weight", f"must be between 0 and {MAX_WEIGHT}")
        checked[criterion] = Setting(weight, _checked_target(criterion, target))
    after = before | checked
    if not any(s.weight for s in after.values()):
        raise FieldError("weight", "at least one criterion needs a weight above 0")
    stored = {row.key: row for row in session.scalars(select(FitCriterion))}
    for criterion, setting in checked.items():
        row = stored.get(criterion.value) or FitCriterion(key=criterion.value)
        row.weight, row.target = setting.weight, setting.target
        row.updated_by, row.updated_at = actor.label, audit.utcnow()
        session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "fit.criteria_changed",
        "fit_criteria",
        None,
        after={c.value: [s.weight, s.target] for c, s in after.items()},
    )
    return after


def profile(session: Session, partner_id: int) -> FitProfile | None:
    return session.scalar(select(FitProfile).where(FitProfile.partner_id == partner_id))


def set_profile(
    session: Session,
    actor: Actor,
    partner_id: int,
    *,
    employees: str,
    integration_status: str,
    note: str = "",
) -> FitProfile:
    """Record a partner's head count and integration status (empty: not known)."""
    require(actor, Permission.EDIT_PROGRAM)
    if session.get(Partner, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    count: int | None = None
    if employees.strip():
        try:
            count = int(employees.strip())
        except ValueError:
            raise FieldError("employees", f"must be a whole number, not {employees!r}") from None
        if count < 0:
            raise FieldError("employees", "must be 0 or more")
    status = integration_status.strip()
    if status and status not in tuple(IntegrationStatus):
        raise FieldError("integration_status", f"must be one of {', '.join(IntegrationStatus)} or empty")
    found = profile(session, partner_id) or FitProfile(partner_id=partner_id)
    found.employees, found.integration_status, found.note = count, status, note.strip()[:2000]
    found.updated_by, found.updated_at = actor.label, audit.utcnow()
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor,
        "fit.profile_changed",
        "partner",
        partner_id,
        employees=count,
        integration_status=status,
    )
    return found


@dataclass(frozen=True)
class Ranked:
    partner: Partner
    facts: Facts
    fit: Score

    @property
    def is_candidate(self) -> bool:
        return self.partner.stage in CANDIDATE_STAGES


def _referrals(session: Session) -> dict[int, tuple[int, int]]:
    """Partner id → (referrals it sent us, of which became an opportunity)."""
    rows = session.execute(
        select(
            Referral.partner_id,
            func.count(),
            func.sum(case((Referral.opportunity_crm_id != "", 1), else_=0)),
        )
        .where(Referral.direction == Direction.INBOUND.value)
        .group_by(Referral.partner_id)
    )
    return {partner_id: (count, int(converted or 0)) for partner_id, count, converted in rows}


def _registered_statuses(session: Session, partner_ids: Sequence[int] | None) -> dict[int, str]:
    """Partner id → the most advanced status among its integrations in the registry (absent when it has
    none): the registry decides for the partners in it; the profile's status stands for candidates not
    yet there."""
    order = list(IntegrationStatus)
    statement = select(Integration.partner_id, Integration.status)
    if partner_ids is not None:
        statement = statement.where(Integration.partner_id.in_(partner_ids))
    best: dict[int, str] = {}
    for partner_id, status in session.execute(statement):
        if partner_id not in best or order.index(IntegrationStatus(status)) > order.index(
            IntegrationStatus(best[partner_id])
        ):
            best[partner_id] = status
    return best


def facts_of(session: Session, partners: Sequence[Partner], *, one: bool = False) -> list[Facts]:
    """Each partner's facts: its record, its profile, its mapped overlaps, its referrals — read for all
    of them at once (a query per kind of fact, not per partner). `one`: the list is a single partner,
    so read only its rows."""
    ids = [partner.id for partner in partners] if one else None
    statement = select(FitProfile)
    if ids is not None:
        statement = statement.where(FitProfile.partner_id.in_(ids))
    profiles = {found.partner_id: found for found in session.scalars(statement)}
    statuses = _registered_statuses(session, ids)
    overlaps = overlapping_accounts(session, ids)
    members = memberships(session)
    referrals = _referrals(session)
    facts = []
    for partner in partners:
        found = profiles.get(partner.id)
        ours = overlaps.get(partner.id, set())
        sent, converted = referrals.get(partner.id, (0, 0))
        facts.append(
            Facts(
                partner_type=partner.partner_type,
                country=partner.country,
                employees=found.employees if found else None,
                integration_status=statuses.get(partner.id) or (found.integration_status if found else ""),
                customer_overlap=len(ours & members.get(CUSTOMERS, set())),
                pipeline_overlap=len(ours & members.get(OPEN_OPPORTUNITIES, set())),
                referrals=sent,
                converted=converted,
            )
        )
    return facts


def ranked(
    session: Session, actor: Actor, *, who: Who = "candidates", partner_type: str = ""
) -> list[Ranked]:
    """Partners scored, best first (ties by name): candidates, current partners (signed, not churned)
    or all but churned ones."""
    require(actor, Permission.READ_METRICS)
    statement = select(Partner).where(Partner.stage != Stage.CHURNED.value)
    if who == "candidates":
        statement = statement.where(Partner.stage.in_(CANDIDATE_STAGES))
    elif who == "current":
        statement = statement.where(Partner.stage.not_in(CANDIDATE_STAGES))
    if partner_type:
        statement = statement.where(Partner.partner_type == partner_type)
    settings = criteria(session)
    partners = list(session.scalars(statement))
    found = [
        Ranked(partner, facts, score(facts, settings))
        for partner, facts in zip(partners, facts_of(session, partners), strict=True)
    ]
    return sorted(found, key=lambda r: (-r.fit.score, r.partner.name.lower(), r.partner.id))


def explained(session: Session, actor: Actor, partner_id: int) -> Ranked:
    """One partner's score, explained per criterion."""
    require(actor, Permission.READ_METRICS)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    (facts,) = facts_of(session, [partner], one=True)
    return Ranked(partner, facts, score(facts, criteria(session)))
