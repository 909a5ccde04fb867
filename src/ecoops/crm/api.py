"""REST routes for our CRM records under /api/v1: accounts, opportunities and contacts (READ_CRM)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.crm import service
from ecoops.crm.schemas import AccountOut, ContactOut, OpportunityDetailOut, OpportunityOut
from ecoops.permissions import Permission
from ecoops.web.api_pages import PageOut, PageRequest, page_out, page_request
from ecoops.web.deps import api_permission, db
from ecoops.web.fields import Id, IsoDate

router = APIRouter(tags=["crm"])
reader = api_permission(Permission.READ_CRM)


@router.get("/accounts", response_model=PageOut[AccountOut])
def list_accounts(
    q: str = Query("", max_length=200, description="part of the name or domain, or the exact CRM id"),
    owner: str = Query("", max_length=200, description="the account owner, exactly as in the CRM"),
    paging: PageRequest = Depends(page_request),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> PageOut[AccountOut]:
    """Search our accounts by name, domain or CRM id."""
    result = service.search_accounts(
        session, actor, q=q, owner=owner, page=paging.page, per_page=paging.per_page
    )
    return page_out(result, AccountOut)


@router.get("/accounts/{account_id}", response_model=AccountOut)
def get_account(account_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)) -> AccountOut:
    """One account."""
    return AccountOut.model_validate(service.get_account(session, actor, account_id))


@router.get("/opportunities", response_model=PageOut[OpportunityOut])
def list_opportunities(
    account_id: Id | None = Query(None, description="only this account's opportunities"),
    owner: str = Query("", max_length=200, description="the opportunity owner, exactly as in the CRM"),
    status: service.OpportunityStatus | None = Query(None, description="open, won or lost"),
    created_from: IsoDate | None = Query(None, description="created on or after"),
    created_to: IsoDate | None = Query(None, description="created on or before"),
    close_from: IsoDate | None = Query(None, description="closing on or after"),
    close_to: IsoDate | None = Query(None, description="closing on or before"),
    paging: PageRequest = Depends(page_request),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> PageOut[OpportunityOut]:
    """List opportunities, newest first, filtered by account, owner, status and date ranges."""
    filters = service.OpportunityFilters(
        account_id, owner, status, created_from, created_to, close_from, close_to
    )
    result = service.search_opportunities(session, actor, filters, page=paging.page, per_page=paging.per_page)
    return page_out(result, OpportunityOut)


@router.get("/opportunities/{opportunity_id}", response_model=OpportunityDetailOut)
def get_opportunity(
    opportunity_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> OpportunityDetailOut:
    """One opportunity with its stage history, oldest change first."""
    opportunity = service.get_opportunity(session, actor, opportunity_id)
    history = service.stage_histories(session, actor, [opportunity])[opportunity.crm_id]
    return OpportunityDetailOut.model_validate(
        OpportunityOut.model_validate(opportunity).model_dump() | {"stage_changes": history}
    )


@router.get("/contacts", response_model=PageOut[ContactOut])
def list_contacts(
    account_id: Id | None = Query(None, description="only this account's contacts"),
    q: str = Query("", max_length=200, description="part of the name or e-mail"),
    paging: PageRequest = Depends(page_request),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> PageOut[ContactOut]:
    """List contacts, by last name, optionally of one account."""
    result = service.search_contacts(
        session, actor, account_id=account_id, q=q, page=paging.page, per_page=paging.per_page
    )
    return page_out(result, ContactOut)
