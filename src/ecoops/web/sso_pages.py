"""Sign-in through the company's OpenID Connect provider (docs/access.md "Single sign-on").

Authlib does the protocol: the provider's discovery document, the authorization code flow with PKCE
(S256), state and nonce kept in our signed session cookie, and the ID token's signature, issuer,
audience, expiry and nonce checked before its claims are used. Who the claims make a person here is
accounts/sso.py's business.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ecoops.accounts import signin, sso
from ecoops.config import Settings
from ecoops.web.deps import app_settings, db
from ecoops.web.security import safe_path
from ecoops.web.templating import render

router = APIRouter()
CALLBACK = "/login/sso/callback"
_NEXT = "sso_next"


def oidc_client(settings: Settings) -> Any:
    """The OIDC client, made once per app by create_app (it caches the provider's metadata and keys)."""
    oauth = OAuth()
    oauth.register(
        "provider",
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )
    return oauth.provider


def _client(request: Request, settings: Settings) -> Any:
    if not settings.sso_enabled:
        raise HTTPException(404, "single sign-on is not set up")
    return request.app.state.oidc


def _refused(request: Request, message: str, status_code: int = 403) -> Response:
    return render(request, "login.html", status_code=status_code, next="/", email="", error=message)


@router.get("/login/sso")
async def sso_start(
    request: Request, next: str = "/", settings: Settings = Depends(app_settings)
) -> Response:
    client = _client(request, settings)
    request.session[_NEXT] = safe_path(next)
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
    try:
        response: Response = await client.authorize_redirect(request, base + CALLBACK)
    except Exception as exc:  # the provider is down or its discovery document is not one: say so
        return _refused(request, f"The identity provider cannot be reached ({type(exc).__name__}).", 502)
    return response


@router.get(CALLBACK)
async def sso_callback(
    request: Request, session: Session = Depends(db), settings: Settings = Depends(app_settings)
) -> Response:
    client = _client(request, settings)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        return _refused(request, f"Single sign-on failed: {exc.description or exc.error}.", 400)
    claims = token.get("userinfo") or {}
    try:
        user = await run_in_threadpool(sso.user_for_claims, session, claims, settings)
    except sso.SsoRefused as exc:
        return _refused(request, str(exc))
    landing = safe_path(str(request.session.get(_NEXT) or "/"))
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    lifetime = timedelta(seconds=settings.session_max_age)
    request.session["sid"] = await run_in_threadpool(signin.start, session, user, lifetime)
    return RedirectResponse(landing, status_code=303)
