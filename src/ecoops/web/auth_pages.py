"""Sign-in and sign-out pages, shared by internal users and partner users."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import PartnerUser
from ecoops.accounts.service import authenticate, partner_user_actor, user_actor
from ecoops.web.deps import db, session_actor
from ecoops.web.security import csrf_protect, safe_path
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])

# Per-process throttle on failed sign-ins per e-mail; argon2's cost already slows guessing.
MAX_FAILURES, WINDOW_SECONDS = 5, 15 * 60
_failures: dict[str, deque[float]] = defaultdict(deque)


def _throttled(email: str) -> bool:
    recent = _failures[email]
    while recent and recent[0] < time.monotonic() - WINDOW_SECONDS:
        recent.popleft()
    return len(recent) >= MAX_FAILURES


@router.get("/login")
def login_form(request: Request, next: str = "/", session: Session = Depends(db)) -> Response:
    if session_actor(request, session) is not None:
        return RedirectResponse(safe_path(next), status_code=303)
    return render(request, "login.html", next=safe_path(next), email="")


@router.post("/login")
def login(
    request: Request,
    email: str = Form(..., max_length=254),
    password: str = Form(..., max_length=1024),
    next: str = Form("/"),
    session: Session = Depends(db),
) -> Response:
    key = email.strip().lower()
    if _throttled(key):
        return render(
            request,
            "login.html",
            status_code=429,
            next=safe_path(next),
            email=email,
            error="Too many failed attempts. Wait 15 minutes and try again.",
        )
    user = authenticate(session, email, password)
    if user is None:
        _failures[key].append(time.monotonic())
        return render(
            request,
            "login.html",
            status_code=401,
            next=safe_path(next),
            email=email,
            error="Wrong e-mail or password.",
        )
    _failures.pop(key, None)
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    is_partner = isinstance(user, PartnerUser)
    request.session.update({"uid": user.id, "kind": "partner_user" if is_partner else "user"})
    actor = partner_user_actor(user) if isinstance(user, PartnerUser) else user_actor(user)
    audit.record(session, actor, "session.signed_in", actor.kind.value, user.id)
    landing = "/portal" if is_partner else safe_path(next)
    return RedirectResponse(landing, status_code=303)


@router.post("/logout")
def logout(request: Request, session: Session = Depends(db)) -> Response:
    actor = session_actor(request, session)
    if actor is not None:
        audit.record(session, actor, "session.signed_out", actor.kind.value, actor.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
