"""Content library pages: the library with its utilisation figure and per-item counts, adding files and
links, an item's page with its attachments; and opening or sharing an item (our people and partner
users alike: the service narrows a partner user to the items for it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.enablement import content, uses
from ecoops.enablement.models import ContentKind, ContentStage, Motion, Subject, UseAction
from ecoops.partners.models import Partner
from ecoops.partners.programs import FieldError
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission
from ecoops.web.changes import change_and_return
from ecoops.web.deps import app_settings, db, page_actor, page_permission, writes_when_read
from ecoops.web.fields import Id, IsoDate, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_PROGRAM)
editor = page_permission(Permission.EDIT_PROGRAM)


def local(back: str, fallback: str) -> str:
    """A path on this site to return to; anything else (another site) goes to `fallback`."""
    return back if back.startswith("/") and not back.startswith("//") and "\\" not in back else fallback


def partner_choice(value: str) -> int | None:
    """The partner picker: "" for all partners, else a partner's id."""
    if not value:
        return None
    if not value.isdigit() or len(value) > 10:
        raise FieldError("partner_id", f"pick a partner or all partners, not {value!r}")
    return int(value)


@router.get("/enablement")
def library(
    request: Request,
    motion: str = Query("", max_length=20),
    stage: str = Query("", max_length=20),
    product: str = Query("", max_length=120),
    q: str = Query("", max_length=200),
    start: IsoDate | None = Query(None, alias="from"),
    end: IsoDate | None = Query(None, alias="to"),
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """The library, its per-item counts, and content utilisation by Sales on referrals over a period."""
    filters = content.ContentFilters(motion=motion, stage=stage, product=product, q=q)
    found = content.search_content(session, actor, filters, page=page, per_page=settings.page_size)
    end = end or settings.today()
    start = start or uses.default_start(end)
    return render(
        request,
        "enablement/library.html",
        page=found,
        filters=filters,
        counts=uses.item_counts(session, actor, [i.id for i in found.items]),
        figure=uses.utilisation(session, actor, start, end, settings.tz) if start <= end else None,
        start=start,
        end=end,
        products=content.products(session, actor),
        partners=(partners := partner_choices(session)),
        names=dict(partners),
        motions=list(Motion),
        stages=list(ContentStage),
        kinds=list(ContentKind),
        suffixes=", ".join(content.FILE_SUFFIXES),
        max_bytes=settings.enablement_max_file_bytes,
    )


@router.post("/enablement/content")
def add_content(
    request: Request,
    title: str = Form("", max_length=1000),
    kind: str = Form(ContentKind.GUIDE.value, max_length=40),
    description: str = Form("", max_length=10_000),
    link: str = Form("", max_length=10_000),
    partner_id: str = Form("", max_length=20),
    product: str = Form("", max_length=1000),
    motion: str = Form(Motion.ANY.value, max_length=40),
    stage: str = Form(ContentStage.ANY.value, max_length=40),
    file: UploadFile | None = File(None),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        data = content.ContentInput(
            title, kind, description, link, partner_choice(partner_id), product, motion, stage
        )
        # A file input left empty still arrives, nameless and empty: that is no file.
        upload = content.Upload(file.file, file.filename) if file is not None and file.filename else None
        item = content.add_content(session, actor, data, settings, upload)
        return f"Added to the library: {item.title}."

    return change_and_return(request, work, "/enablement")


@router.get("/enablement/content/{content_id}")
def content_page(
    request: Request, content_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    item = content.get_content(session, actor, content_id)
    return render(
        request,
        "enablement/content.html",
        item=item,
        partner=session.get(Partner, item.partner_id) if item.partner_id else None,
        attachments=content.attachments_of(session, item),
        counts=uses.item_counts(session, actor, [item.id]).get(item.id, uses.ItemCounts()),
        may_attach=content.may_attach(actor),
    )


@router.post("/enablement/content/{content_id}/attach")
def attach(
    request: Request,
    content_id: Id,
    subject: str = Form(Subject.OPPORTUNITY.value, max_length=20),
    key: str = Form("", max_length=64),
    back: str = Form("", max_length=300),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> Response:
    item = content.get_content(session, actor, content_id)

    def work() -> str:
        added = content.attach(session, actor, item, subject, key)
        return f"{item.title} {'attached to' if added else 'was already on'} {subject} {key}."

    return change_and_return(request, work, local(back, f"/enablement/content/{item.id}"))


@router.post("/enablement/content/{content_id}/detach")
def detach(
    request: Request,
    content_id: Id,
    subject: str = Form("", max_length=20),
    key: str = Form("", max_length=64),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> Response:
    item = content.get_content(session, actor, content_id)

    def work() -> str:
        content.detach(session, actor, item, subject, key)
        return f"{item.title} is no longer on {subject} {key}."

    return change_and_return(request, work, f"/enablement/content/{item.id}")


@router.post("/enablement/content/{content_id}/delete")
def delete(
    request: Request,
    content_id: Id,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    item = content.get_content(session, actor, content_id)
    content.delete_content(session, actor, item, settings)
    flash(request, f"Removed from the library: {item.title}.", "success")
    return RedirectResponse("/enablement", status_code=303)


@router.get("/content/{content_id}/open")
@writes_when_read
def open_content(
    request: Request,
    content_id: Id,
    referral: Id | None = Query(None, description="the referral it is opened from"),
    actor: Actor = Depends(page_actor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Count the view (once per person, item and day), then hand over the file or go to the link.

    A link is left through a page that moves on at once (and says where to), not a redirect: the
    person sees which site they are sent to, and a site that does not answer is that site's page,
    not a broken page of ours."""
    item = content.get_content(session, actor, content_id)
    uses.record_use(session, actor, item, UseAction.VIEW, settings.today(), referral_id=referral)
    if item.is_file:
        path = content.content_file(item, settings)
        return FileResponse(path, media_type="application/octet-stream", filename=item.file_name)
    return render(request, "enablement/leaving.html", item=item)


@router.post("/content/{content_id}/share")
def share_content(
    request: Request,
    content_id: Id,
    referral: str = Form("", max_length=12),
    back: str = Form("", max_length=300),
    actor: Actor = Depends(page_actor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Count a share (once per person, item and day) and show the address to pass on."""
    item = content.get_content(session, actor, content_id)
    fallback = "/portal/enablement" if actor.partner_id else f"/enablement/content/{item.id}"

    def work() -> str:
        if referral and (not referral.isdigit() or len(referral) > 10):
            raise FieldError("referral", f"a referral number, not {referral!r}")
        day = settings.today()
        uses.record_use(session, actor, item, UseAction.SHARE, day, int(referral) if referral else None)
        address = item.link or f"{request.base_url}content/{item.id}/open"
        return f"Shared {item.title}: send {address}"

    return change_and_return(request, work, local(back, fallback))


@router.post("/referrals/{referral_id}/content")
def attach_to_referral(
    request: Request,
    referral_id: Id,
    content_id: str = Form("", max_length=12),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> Response:
    """Attach a library item to the referral, from the referral's page."""

    def work() -> str:
        if not content_id.isdigit() or len(content_id) > 10:
            raise FieldError("content_id", "pick an item of the library")
        item = content.get_content(session, actor, int(content_id))
        added = content.attach(session, actor, item, Subject.REFERRAL, str(referral_id))
        return f"{item.title} {'attached' if added else 'was already attached'}."

    return change_and_return(request, work, f"/referrals/{referral_id}#enablement")
