"""Factories for test data: each makes one valid record with overridable fields, through the services."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.accounts import service as accounts
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import SYSTEM, Role
from ecoops.crm.models import Account, Opportunity
from ecoops.partners import service as partners
from ecoops.partners.models import Partner

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(session: Session, role: Role = Role.ADMIN, **fields: Any) -> User:
    n = next(_seq)
    defaults: dict[str, Any] = {"email": f"user{n}@example.com", "name": f"User {n}", "password": PASSWORD}
    return accounts.create_user(session, SYSTEM, role=role, **(defaults | fields))


def make_partner(session: Session, **fields: Any) -> Partner:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "name": f"Partner {n}",
        "partner_type": "technology",
        "stage": "active",
        "stage_since": date(2025, 1, 1),
        "domains": [f"partner{n}.example"],
    }
    return partners.create_partner(session, SYSTEM, **(defaults | fields))


def make_partner_user(session: Session, partner: Partner, **fields: Any) -> PartnerUser:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "email": f"puser{n}@partner.example",
        "name": f"Partner user {n}",
        "password": PASSWORD,
    }
    return accounts.create_partner_user(session, SYSTEM, partner_id=partner.id, **(defaults | fields))


def make_account(session: Session, **fields: Any) -> Account:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "crm_id": f"001{n:015d}",
        "name": f"Account {n}",
        "domain": f"account{n}.example",
    }
    account = Account(**(defaults | fields))
    session.add(account)
    session.flush()
    return account


def make_opportunity(session: Session, **fields: Any) -> Opportunity:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "crm_id": f"006{n:015d}",
        "name": f"Deal {n}",
        "stage": "Prospecting",
        "amount": Decimal("1000.00"),
        "created_on": date(2025, 3, 1),
        "close_date": date(2025, 6, 30),
    }
    opportunity = Opportunity(**(defaults | fields))
    session.add(opportunity)
    session.flush()
    return opportunity


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form (with its CSRF token); leaves the session cookie on `client`."""
    page = client.get("/login")
    token = csrf_from(page.text)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text


def sign_in_admin(client: TestClient, session: Session) -> User:
    """A new admin, flushed, signed in on `client`."""
    admin = make_user(session, Role.ADMIN)
    session.flush()
    sign_in(client, admin.email)
    return admin


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def bearer(session: Session, user: User) -> dict[str, str]:
    """Headers carrying a fresh API token of `user`, for calls to /api/v1."""
    _token, secret = accounts.create_api_token(session, accounts.user_actor(user), name="test")
    session.flush()
    return {"authorization": f"Bearer {secret}"}


@contextmanager
def cheap_password_hashing() -> Iterator[None]:
    """Seeding a demo hashes every demo user's password; argon2's production cost would dominate the tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield
