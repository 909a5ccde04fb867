"""Pages for people and credentials: one's own API tokens, and user management for admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts import service
from ecoops.accounts.contacts import ACCESS_PATTERN, PORTAL_ACCESS, ContactEdit, edit_contact
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import Actor, Role
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.partners.service import PartnerFilters, search_partners
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_actor, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect, safe_path
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])


async def token_user(actor: Actor = Depends(page_actor)) -> Actor:
    """Internal users whose role uses the API, and partner users (their tokens reach the partner API)."""
    if not service.may_hold_tokens(actor):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.label} may not hold API tokens")
    return actor


user_manager = page_permission(Permission.MANAGE_USERS)

# Lifetime in days ("" for none) -> label; a default that expires limits the harm of a leaked token.
TOKEN_LIFETIMES = {"30": "30 days", "90": "90 days", "365": "1 year", "": "never expires"}
DEFAULT_LIFETIME_DAYS = "90"


def _tokens_page(
    request: Request, session: Session, actor: Actor, status_code: int = 200, **context: Any
) -> Response:
    now = utcnow()
    return render(
        request,
        "accounts/tokens.html",
        status_code=status_code,
        tokens=service.list_tokens(session, actor),
        lifetimes=TOKEN_LIFETIMES,
        token_status=lambda token: service.token_status(token, now),
        **({"name": "", "lifetime": DEFAULT_LIFETIME_DAYS} | context),
    )


@router.get("/tokens")
def tokens(request: Request, actor: Actor = Depends(token_user), session: Session = Depends(db)) -> Response:
    return _tokens_page(request, session, actor)


@router.post("/tokens")
def create_token(
    request: Request,
    name: str = Form("", max_length=200),
    lifetime: str = Form(DEFAULT_LIFETIME_DAYS),
    actor: Actor = Depends(token_user),
    session: Session = Depends(db),
) -> Response:
    if lifetime not in TOKEN_LIFETIMES:
        return _tokens_page(request, session, actor, 400, name=name, error="Choose a lifetime from the list.")
    expires_at = utcnow() + timedelta(days=int(lifetime)) if lifetime else None
    try:
        token, secret = service.create_api_token(session, actor, name=name, expires_at=expires_at)
    except service.InvalidInput as exc:
        return _tokens_page(request, session, actor, 400, name=name, lifetime=lifetime, error=str(exc))
    # The secret is shown in this response only (never stored, never put in the session cookie).
    response = _tokens_page(
        request, session, actor, 201, new_token=token, secret=secret, base_url=str(request.base_url)
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: Id, actor: Actor = Depends(token_user), session: Session = Depends(db)
) -> Response:
    token = service.revoke_api_token(session, actor, token_id)
    flash(request, f"Token “{token.name}” is revoked: requests using it now get 401.", "success")
    return RedirectResponse("/tokens", status_code=303)


def _users_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    show: str,
    page: int,
    per_page: int,
    status_code: int = 200,
    **context: Any,
) -> Response:
    partner_users = show == "partner_users"
    listing = service.list_partner_users if partner_users else service.list_users
    partners = search_partners(session, actor, PartnerFilters(), per_page=500).items
    return render(
        request,
        "accounts/users.html",
        status_code=status_code,
        show="partner_users" if partner_users else "users",
        page=listing(session, actor, page=page, per_page=per_page),
        partners=partners,
        partner_names={partner.id: partner.name for partner in partners},
        roles=list(Role),
        min_password_length=service.MIN_PASSWORD_LENGTH,
        **({"form": {}, "error": None} | context),
    )


@router.get("/users")
def users(
    request: Request,
    show: str = Query("users", pattern="^(users|partner_users)$"),
    page: PageNumber = 1,
    actor: Actor = Depends(user_manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return _users_page(request, session, actor, show=show, page=page, per_page=settings.page_size)


@router.post("/users")
def create_user(
    request: Request,
    email: str = Form("", max_length=254),
    name: str = Form("", max_length=200),
    role: str = Form(Role.VIEWER.value),
    password: str = Form("", max_length=1024),
    actor: Actor = Depends(user_manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        user = service.create_user(session, actor, email=email, name=name, role=role, password=password)
    except service.InvalidInput as exc:
        return _users_page(
            request,
            session,
            actor,
            show="users",
            page=1,
            per_page=settings.page_size,
            status_code=400,
            form={"email": email, "name": name, "role": role},
            error=str(exc),
        )
    flash(request, f"Created {user.email} ({user.role.replace('_', ' ')}).", "success")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/status")
def set_user_status(
    request: Request,
    user_id: Id,
    active: bool = Form(...),
    actor: Actor = Depends(user_manager),
    session: Session = Depends(db),
) -> Response:
    user = service.set_active(session, actor, User, user_id, active=active)
    flash(request, f"{user.email} is {'active' if active else 'deactivated'}.", "success")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/role")
def change_user_role(
    request: Request,
    user_id: Id,
    role: str = Form(..., max_length=20),
    actor: Actor = Depends(user_manager),
    session: Session = Depends(db),
) -> Response:
    try:
        user = service.change_role(session, actor, user_id, role)
    except service.InvalidInput as exc:
        flash(request, f"The role was not changed: {exc}.", "error")
    else:
        flash(request, f"{user.email} is now {user.role.replace('_', ' ')}.", "success")
    return RedirectResponse("/users", status_code=303)


@router.post("/partner-users")
def create_partner_user(
    request: Request,
    partner_id: Annotated[Id, Form()],
    email: str = Form("", max_length=254),
    name: str = Form("", max_length=200),
    password: str = Form("", max_length=1024),
    is_partner_admin: bool = Form(False),
    contact_role: str = Form("", max_length=20),
    access: str = Form(PORTAL_ACCESS, pattern=ACCESS_PATTERN),
    return_to: str = Form("/users?show=partner_users"),
    actor: Actor = Depends(user_manager),
    session: Session = Depends(db),
) -> Response:
    try:
        user = service.create_partner_user(
            session,
            actor,
            partner_id=partner_id,
            email=email,
            name=name,
            password=password,
            is_partner_admin=is_partner_admin,
            contact_role=contact_role,
            can_sign_in=access == PORTAL_ACCESS,
        )
    except service.InvalidInput as exc:
        flash(request, f"The partner user was not created: {exc}.", "error")
    else:
        flash(request, f"Created {user.email}; {_signs_in(user)}.", "success")
    return RedirectResponse(safe_path(return_to), status_code=303)


@router.post("/partner-users/{partner_user_id}/status")
def set_partner_user_status(
    request: Request,
    partner_user_id: Id,
    active: bool = Form(...),
    return_to: str = Form("/users?show=partner_users"),
    actor: Actor = Depends(user_manager),
    session: Session = Depends(db),
) -> Response:
    user = service.set_active(session, actor, PartnerUser, partner_user_id, active=active)
    flash(request, f"{user.email} is {'active' if active else 'deactivated'}.", "success")
    return RedirectResponse(safe_path(return_to), status_code=303)


def contact_edit_form(
    contact_role: str = Form("", max_length=20),
    access: str = Form(PORTAL_ACCESS, pattern=ACCESS_PATTERN),
    is_partner_admin: bool = Form(False),
    password: str = Form("", max_length=1024),
) -> ContactEdit:
    """The contact edit form's fields, as the admin's and the partner admin's pages both post them."""
    return ContactEdit(contact_role, access == PORTAL_ACCESS, is_partner_admin, password)


@router.post("/partner-users/{partner_user_id}")
def edit_partner_user(
    request: Request,
    partner_user_id: Id,
    edit: ContactEdit = Depends(contact_edit_form),
    return_to: str = Form("/users?show=partner_users"),
    actor: Actor = Depends(user_manager),
    session: Session = Depends(db),
) -> Response:
    try:
        contact = edit_contact(session, actor, partner_user_id, edit)
    except service.InvalidInput as exc:
        flash(request, f"Not changed: {exc}.", "error")
    else:
        flash(request, f"Saved {contact.email}; {_signs_in(contact)}.", "success")
    return RedirectResponse(safe_path(return_to), status_code=303)


def _signs_in(contact: PartnerUser) -> str:
    return "they sign in at /login" if contact.can_sign_in else "they receive e-mail but do not sign in"
