"""The list of every domain's routers, in one place so the app and the access tests agree."""

from __future__ import annotations

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    from ecoops.partners import pages as partner_pages
    from ecoops.web import auth_pages, home_pages

    return [auth_pages.router, home_pages.router, partner_pages.router]


def api_routers() -> list[APIRouter]:
    from ecoops.partners import api as partner_api

    return [partner_api.router]
