"""REST routes of enablement under /api/v1: the content library, its utilisation figure, playbooks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.enablement import content, playbooks, uses
from ecoops.enablement.schemas import ContentIn, ContentOut, ContentPage, PlaybookOut, UtilisationOut
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import Id, IsoDate, PageNumber, PerPage

router = APIRouter(tags=["enablement"])
reader = api_permission(Permission.READ_PROGRAM)
editor = api_permission(Permission.EDIT_PROGRAM)
metrics_reader = api_permission(Permission.READ_METRICS)


@router.get("/content", response_model=ContentPage)
def list_content(
    motion: str = Query("", max_length=20, description="referral, co_sell, onboarding, resale"),
    stage: str = Query("", max_length=20, description="discover, evaluate, close, adopt"),
    product: str = Query("", max_length=120),
    partner_id: Id | None = Query(None, description="the items for that partner: its own and all partners'"),
    page: PageNumber = 1,
    per_page: PerPage = 50,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> ContentPage:
    """Library items, newest first, with their counted views and shares.

    An item tagged `any` matches every motion or stage; one with no product, every product.
    """
    filters = content.ContentFilters(motion=motion, stage=stage, product=product, partner_id=partner_id)
    found = content.search_content(session, actor, filters, page=page, per_page=per_page)
    counts = uses.item_counts(session, actor, [i.id for i in found.items])
    items = [ContentOut.of(i, counts.get(i.id, uses.ItemCounts())) for i in found.items]
    return ContentPage(items=items, total=found.total, page=found.page, per_page=found.per_page)


@router.get("/content/{content_id}", response_model=ContentOut)
def get_content(content_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)) -> ContentOut:
    """One library item with its counted views and shares."""
    item = content.get_content(session, actor, content_id)
    return ContentOut.of(item, uses.item_counts(session, actor, [item.id]).get(item.id, uses.ItemCounts()))


@router.post("/content", response_model=ContentOut, status_code=201)
def add_link(
    body: ContentIn,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> ContentOut:
    """Add a link to the library; 400 names the field that is wrong."""
    data = content.ContentInput(
        title=body.title,
        kind=body.kind,
        description=body.description,
        link=body.link,
        partner_id=body.partner_id,
        product=body.product,
        motion=body.motion,
        stage=body.stage,
    )
    return ContentOut.of(content.add_content(session, actor, data, settings), uses.ItemCounts())


@router.get("/enablement/utilisation", response_model=UtilisationOut)
def utilisation(
    start: IsoDate | None = Query(None, alias="from", description="first day (default: 89 days before `to`)"),
    end: IsoDate | None = Query(None, alias="to", description="last day (default: today)"),
    actor: Actor = Depends(metrics_reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> UtilisationOut:
    """Content utilisation by Sales on referrals over a period, with the referrals behind it."""
    end = end or settings.today()
    start = start or uses.default_start(end)
    return UtilisationOut.of(uses.utilisation(session, actor, start, end, settings.tz))


@router.get("/playbooks", response_model=list[PlaybookOut])
def list_playbooks(
    motion: str = Query("", max_length=20, description="referral, co_sell, onboarding, resale"),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> list[PlaybookOut]:
    """Playbooks with their steps, by motion and title."""
    return [PlaybookOut.of(p) for p in playbooks.list_playbooks(session, actor, motion)]
