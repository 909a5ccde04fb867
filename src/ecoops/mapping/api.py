"""REST routes of account mapping under /api/v1/mapping: populations, a partner's overlap matrix, the
pairs behind a cell with why they matched, decisions on matches, sharing rules, the shared view, and the
workspace's domain aliases and parent links."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.crm.segments import Segment
from ecoops.mapping import company_links, cross_partner, overrides, populations, runs, sharing
from ecoops.mapping.models import DomainAlias, MatchOverride, Population
from ecoops.mapping.overlaps import AccountFilter, cell_accounts, overlap_matrix, partner_or_404
from ecoops.mapping.schemas import (
    DecisionIn,
    DecisionOut,
    DomainAliasIn,
    DomainAliasOut,
    MatrixCell,
    MatrixOut,
    OverlapOut,
    ParentLinkIn,
    ParentLinkOut,
    PopulationIn,
    PopulationOut,
    RuleIO,
    SharedAccountOut,
    SharedPopulationOut,
)
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, db
from ecoops.web.fields import Id

router = APIRouter(prefix="/mapping", tags=["mapping"])
reader = api_permission(Permission.READ_MAPPING)
manager = api_permission(Permission.MANAGE_MAPPING)


def _population_out(session: Session, population: Population) -> PopulationOut:
    key = f"{populations.CUSTOM_PREFIX}{population.id}"
    size = len(populations.memberships(session).get(key, set()))
    return PopulationOut(
        key=key, name=population.name, built_in=False, filter=population.filter, accounts=size
    )


@router.get("/populations", response_model=list[PopulationOut])
def list_populations(actor: Actor = Depends(reader), session: Session = Depends(db)) -> list[PopulationOut]:
    """Our populations, built-in and custom, with how many accounts each holds."""
    sizes = {key: len(members) for key, members in populations.memberships(session).items()}
    custom = {f"{populations.CUSTOM_PREFIX}{p.id}": p.filter for p in session.scalars(select(Population))}
    return [
        PopulationOut(
            key=key,
            name=name,
            built_in=key in populations.BUILT_IN,
            filter=custom.get(key),
            accounts=sizes[key],
        )
        for key, name in populations.population_names(session).items()
    ]


@router.post("/populations", response_model=PopulationOut, status_code=201)
def create_population(
    body: PopulationIn, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> PopulationOut:
    """Save a custom population (a name and a validated filter)."""
    created = populations.create_population(session, actor, name=body.name, filter=body.filter)
    return _population_out(session, created)


@router.put("/populations/{population_id}", response_model=PopulationOut)
def update_population(
    population_id: Id, body: PopulationIn, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> PopulationOut:
    """Rename a custom population or change its filter."""
    updated = populations.update_population(session, actor, population_id, name=body.name, filter=body.filter)
    return _population_out(session, updated)


@router.get("/partners/{partner_id}/matrix", response_model=MatrixOut)
def matrix(
    partner_id: Id,
    owner: str = Query("", max_length=200, description="Only this account owner's accounts; empty: all"),
    segment: Segment | None = Query(None, description="Only this size segment's accounts; absent: all"),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> MatrixOut:
    """The partner's overlap matrix: our populations by theirs.

    Per cell: our accounts, the partner's records, the share of each population and the open pipeline."""
    found = overlap_matrix(session, actor, partner_id, only=AccountFilter(owner=owner, segment=segment))
    cells = [
        MatrixCell(
            ours=ours,
            theirs=theirs,
            accounts=cell.accounts,
            their_accounts=cell.their_accounts,
            open_amount=cell.open_amount,
            share_of_ours=cell.of_ours,
            share_of_theirs=cell.of_theirs,
        )
        for (ours, theirs), cell in sorted(found.cells.items())
    ]
    return MatrixOut(
        our_populations=found.our_populations,
        their_populations=found.their_populations,
        our_sizes=found.our_sizes,
        their_sizes=found.their_sizes,
        cells=cells,
    )


@router.get("/partners/{partner_id}/overlaps", response_model=list[OverlapOut])
def overlaps(
    partner_id: Id,
    ours: str = Query("", description="Our population key; empty: all"),
    theirs: str | None = Query(None, description="The partner's population label; absent: all"),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> list[OverlapOut]:
    """The overlapping pairs behind a cell (or a row, a column, all), with why they matched."""
    rows = cell_accounts(session, actor, partner_id, ours=ours, theirs=theirs)
    return [OverlapOut.model_validate(row) for row in rows]


@router.get("/partners/{partner_id}/decisions", response_model=list[DecisionOut])
def decisions(
    partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> list[MatchOverride]:
    """The decisions on the partner's matches, newest first."""
    partner_or_404(session, partner_id)
    return overrides.overrides(session, actor, partner_id)


@router.post("/partners/{mapped_partner_id}/decisions", response_model=DecisionOut, status_code=201)
def decide(
    mapped_partner_id: Id, body: DecisionIn, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> MatchOverride:
    """Confirm, reject or add a pair by hand; the partner is re-mapped with it at once."""
    partner_or_404(session, mapped_partner_id)
    override = overrides.decide(
        session,
        actor,
        mapped_partner_id,
        our_crm_id=body.our_crm_id,
        their_id=body.their_id,
        decision=body.decision,
        reason=body.reason,
    )
    runs.run_mapping(session, actor, mapped_partner_id)
    return override


def _rules_out(rules: dict[str, sharing.Rule]) -> dict[str, RuleIO]:
    return {key: RuleIO(level=rule.level, fields=list(rule.fields)) for key, rule in rules.items()}


def _rules_in(body: dict[str, RuleIO]) -> dict[str, sharing.Rule]:
    return {key: sharing.Rule(rule.level, tuple(rule.fields)) for key, rule in body.items()}


@router.get("/sharing-defaults", response_model=dict[str, RuleIO])
def sharing_defaults(actor: Actor = Depends(reader), session: Session = Depends(db)) -> dict[str, RuleIO]:
    """The default sharing rules, by population key."""
    return _rules_out(sharing.rules_for(session, None))


@router.put("/sharing-defaults", response_model=dict[str, RuleIO])
def set_sharing_defaults(
    body: dict[str, RuleIO], actor: Actor = Depends(manager), session: Session = Depends(db)
) -> dict[str, RuleIO]:
    """Rules for partners without their own, by population key."""
    return _rules_out(sharing.set_rules(session, actor, None, _rules_in(body)))


@router.get("/partners/{partner_id}/sharing", response_model=dict[str, RuleIO])
def partner_sharing(
    partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> dict[str, RuleIO]:
    """The rules in force for the partner (its own, else the defaults), by population key."""
    partner_or_404(session, partner_id)
    return _rules_out(sharing.rules_for(session, partner_id))


@router.put("/partners/{partner_id}/sharing", response_model=dict[str, RuleIO])
def set_partner_sharing(
    partner_id: Id, body: dict[str, RuleIO], actor: Actor = Depends(manager), session: Session = Depends(db)
) -> dict[str, RuleIO]:
    """Save the partner's own sharing rules, by population key."""
    return _rules_out(sharing.set_rules(session, actor, partner_id, _rules_in(body)))


@router.get("/partners/{partner_id}/shared-view", response_model=list[SharedPopulationOut])
def shared_view(
    partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> list[sharing.SharedPopulation]:
    """Exactly what the partner may see of our accounts under its sharing rules."""
    return sharing.shared_view(session, actor, partner_id)


@router.get("/shared-accounts", response_model=list[SharedAccountOut])
def shared_accounts(
    limit: int = Query(50, ge=1, le=1000), actor: Actor = Depends(reader), session: Session = Depends(db)
) -> list[cross_partner.SharedAccount]:
    """Our accounts that the most partners also have."""
    return cross_partner.most_shared_accounts(session, actor, limit=limit)


@router.get("/co-sell", response_model=dict[str, list[SharedAccountOut]])
def co_sell(
    owner: str = Query("", description="One account owner; empty: all"),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> dict[str, list[cross_partner.SharedAccount]]:
    """Per account owner, their accounts with open opportunities that partners also have."""
    return cross_partner.co_sell_list(session, actor, owner=owner)


@router.get("/domain-aliases", response_model=list[DomainAliasOut])
def list_domain_aliases(actor: Actor = Depends(reader), session: Session = Depends(db)) -> list[DomainAlias]:
    """The workspace's domain aliases: each alias is matched as its domain."""
    return company_links.domain_aliases(session, actor)


@router.post("/domain-aliases", response_model=DomainAliasOut, status_code=201)
def add_domain_alias(
    body: DomainAliasIn, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> DomainAlias:
    """Add an alias, both sides normalised to registrable domains.

    Every partner is re-mapped with it at its next run."""
    return company_links.add_domain_alias(session, actor, alias=body.alias, domain=body.domain)


@router.delete("/domain-aliases/{alias_id}", status_code=204)
def remove_domain_alias(
    alias_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    """Remove an alias; partners are re-mapped without it at their next run."""
    company_links.remove_domain_alias(session, actor, alias_id)
    return Response(status_code=204)


def _links_out(session: Session, actor: Actor) -> list[ParentLinkOut]:
    domains = {(c, p): (cd, pd) for c, p, cd, pd in company_links.link_domains(session)}
    return [
        ParentLinkOut(
            id=link.id,
            child_crm_id=link.child_crm_id,
            parent_crm_id=link.parent_crm_id,
            child_domain=domains[(link.child_crm_id, link.parent_crm_id)][0],
            parent_domain=domains[(link.child_crm_id, link.parent_crm_id)][1],
            created_by=link.created_by,
            created_at=link.created_at,
        )
        for link in company_links.parent_links(session, actor)
    ]


@router.get("/parent-links", response_model=list[ParentLinkOut])
def list_parent_links(actor: Actor = Depends(reader), session: Session = Depends(db)) -> list[ParentLinkOut]:
    """Parent/subsidiary links between our accounts, with the domains matching uses for them."""
    return _links_out(session, actor)


@router.post("/parent-links", response_model=ParentLinkOut, status_code=201)
def add_parent_link(
    body: ParentLinkIn, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> ParentLinkOut:
    """Link a subsidiary to its parent (no self-links, one parent each, no cycles)."""
    link = company_links.add_parent_link(
        session, actor, child_crm_id=body.child_crm_id, parent_crm_id=body.parent_crm_id
    )
    return next(out for out in _links_out(session, actor) if out.id == link.id)


@router.delete("/parent-links/{parent_link_id}", status_code=204)
def remove_parent_link(
    parent_link_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    """Remove a parent/subsidiary link; partners are re-mapped without it at their next run."""
    company_links.remove_parent_link(session, actor, parent_link_id)
    return Response(status_code=204)
