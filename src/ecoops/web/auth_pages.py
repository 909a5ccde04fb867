"""Sign-in, sign-out and one's own password, shared by internal users and partner users."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts import signin
from ecoops.accounts.models import PartnerUser
from ecoops.accounts.service import (
    MIN_PASSWORD_LENGTH,
    InvalidInput,
    authenticate,
    new_own_password_hash,
    partner_user_actor,
    record_sign_in,
    set_own_password,
    signed_in_person,
    user_actor,
)
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.web.deps import LoginRequired, app_settings, db, reading_first, session_actor
from ecoops.web.security import csrf_protect, safe_path
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the real one)."""
    return request.client.host if request.client else "unknown"


def _login_page(request: Request, settings: Settings, status_code: int = 200, **context: str) -> Response:
    sso = {"sso_label": settings.oidc_label if settings.sso_enabled else "", "sso_only": settings.sso_only}
    return render(request, "login.html", status_code=status_code, **sso, **context)


@router.get("/login")
def login_form(
    request: Request,
    next: str = "/",
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    if session_actor(request, session) is not None:
        return RedirectResponse(safe_path(next), status_code=303)
    return _login_page(request, settings, next=safe_path(next), email="")


@router.post("/login")
def login(
    request: Request,
    email: str = Form(..., max_length=254),
    password: str = Form(..., max_length=1024),
    next: str = Form("/"),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    address = client_address(request)
    with reading_first(session):
        throttled = signin.throttled(session, email, address)
        user = None if throttled else authenticate(session, email, password)
        verified = user.password_hash if user is not None else None
    if throttled:
        return _login_page(
            request,
            settings,
            status_code=429,
            next=safe_path(next),
            email=email,
            error="Too many failed attempts. Wait 15 minutes and try again.",
        )
    if user is not None:
        session.refresh(user)  # deactivated or given a new password since the check: no sign-in
        if not user.is_active or user.password_hash != verified:
            user = None
    if user is None:
        signin.record_failure(session, email, address)
        return _login_page(
            request,
            settings,
            status_code=401,
            next=safe_path(next),
            email=email,
            error="Wrong e-mail or password.",
        )
    if settings.sso_only and not isinstance(user, PartnerUser):
        error = "Our staff sign in with single sign-on: use the button above."
        return _login_page(request, settings, status_code=403, next=safe_path(next), email=email, error=error)
    record_sign_in(user, password)
    signin.clear_failures(session, email)
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    request.session["sid"] = signin.start(session, user, timedelta(seconds=settings.session_max_age))
    is_partner = isinstance(user, PartnerUser)
    actor = partner_user_actor(user) if isinstance(user, PartnerUser) else user_actor(user)
    audit.record(session, actor, "session.signed_in", actor.kind.value, user.id)
    landing = "/portal" if is_partner else safe_path(next)
    return RedirectResponse(landing, status_code=303)


@router.post("/logout")
def logout(request: Request, session: Session = Depends(db)) -> Response:
    actor = session_actor(request, session)
    if actor is not None:
        audit.record(session, actor, "session.signed_out", actor.kind.value, actor.id)
    if sid := request.session.get("sid"):
        signin.end(session, str(sid))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _signed_in(request: Request, session: Session) -> Actor:
    actor = session_actor(request, session)
    if actor is None:
        raise LoginRequired()
    request.state.actor = actor
    return actor


@router.get("/account/password")
def password_form(request: Request, session: Session = Depends(db)) -> Response:
    _signed_in(request, session)
    return render(request, "password.html", min_length=MIN_PASSWORD_LENGTH)


@router.post("/account/password")
def change_password(
    request: Request,
    current_password: str = Form(..., max_length=1024),
    new_password: str = Form(..., max_length=1024),
    session: Session = Depends(db),
) -> Response:
    """A new password ends every other session of this person; this browser stays signed in."""
    try:
        with reading_first(session):
            actor = _signed_in(request, session)
            person = signed_in_person(session, actor)
            known, new_hash = (
                person.password_hash,
                new_own_password_hash(person, current=current_password, new=new_password),
            )
    except InvalidInput as exc:
        return render(
            request, "password.html", status_code=400, min_length=MIN_PASSWORD_LENGTH, error=str(exc)
        )
    session.refresh(person)
    if person.password_hash != known:  # changed elsewhere since the check: prove the new one
        return render(
            request,
            "password.html",
            status_code=409,
            min_length=MIN_PASSWORD_LENGTH,
            error="Your password was changed meanwhile; sign in again.",
        )
    set_own_password(session, actor, person, new_hash)
    signin.end_all(session, person, keep=str(request.session.get("sid")))
    flash(request, "Your password is changed; other browsers signed in as you were signed out.", "success")
    return RedirectResponse("/", status_code=303)
