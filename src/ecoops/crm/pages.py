"""Pages of our CRM data: the accounts list and an account's page (READ_CRM)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution import influence
from ecoops.config import Settings
from ecoops.crm import service
from ecoops.enablement.panels import account_panel
from ecoops.mapping.cross_partner import listings
from ecoops.permissions import Permission, allowed
from ecoops.referrals.access import may_refer_out
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render, render_list

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_CRM)


@router.get("/accounts")
def accounts_list(
    request: Request,
    q: str = Query("", max_length=200),
    owner: str = Query("", max_length=200),
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    result = service.search_accounts(session, actor, q=q, owner=owner, page=page, per_page=settings.page_size)
    return render_list(
        request,
        "crm/accounts.html",
        "crm/_account_rows.html",
        page=result,
        q=q,
        owner=owner,
        owners=service.account_owners(session, actor),
    )


@router.get("/accounts/{account_id}")
def account_page(
    request: Request, account_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    account = service.get_account(session, actor, account_id)
    opportunities = service.account_opportunities(session, actor, account)
    return render(
        request,
        "crm/account.html",
        account=account,
        opportunities=opportunities,
        histories=service.stage_histories(session, actor, opportunities),
        contacts=service.search_contacts(session, actor, account_id=account.id, per_page=200),
        partners=service.account_partners(session, actor, account, opportunities),
        # Partners whose current list has it: mapping data, for those who may read mapping.
        have_it=listings(session, [account.crm_id]) if allowed(actor, Permission.READ_MAPPING) else [],
        may_ask=may_refer_out(actor),
        influence=influence.search_logs(session, actor, account_crm_id=account.crm_id, per_page=50),
        may_log=influence.may_log(actor),
        decide=lambda log: influence.may_decide(session, actor, log),
        enablement=account_panel(session, actor, account.crm_id, [o.crm_id for o in opportunities]),
    )
