"""Demo pages: the e-mail and Slack messages the demo's catcher caught. Not found outside demo mode."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.demo.mail import caught_message, caught_page
from ecoops.permissions import NotFound, Permission
from ecoops.web.deps import app_settings, page_permission
from ecoops.web.fields import PageNumber
from ecoops.web.templating import render

router = APIRouter()
reader = page_permission(Permission.READ_CAUGHT_MAIL)


def demo_settings(settings: Settings = Depends(app_settings)) -> Settings:
    if not settings.demo:
        raise NotFound("not found: this page exists only on the demo (ecoops serve --demo)")
    return settings


@router.get("/demo/mail")
def caught_mail(
    request: Request,
    page: PageNumber = 1,
    settings: Settings = Depends(demo_settings),
    actor: Actor = Depends(reader),
) -> Response:
    return render(
        request, "demo/mail.html", page=caught_page(settings.var_dir, page=page, per_page=settings.page_size)
    )


@router.get("/demo/mail/{mail_key}")
def caught_mail_message(
    request: Request,
    mail_key: str = Path(max_length=200),
    settings: Settings = Depends(demo_settings),
    actor: Actor = Depends(reader),
) -> Response:
    message = caught_message(settings.var_dir, mail_key)
    if message is None:
        raise NotFound("no such message")
    return render(request, "demo/mail_message.html", message=message)
