"""Keeping bots off the public application form: a per-address budget, a honeypot, a minimum fill time
and a cap on links in the text.

The budget counts in the sign-in throttle's table (accounts.signin), under keys of its own, so it holds
across web processes like the sign-in throttle does. The fill time comes from a timestamp the form
carries, signed with the workspace secret so a bot cannot backdate it.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ecoops.accounts.models import SignInFailure
from ecoops.accounts.service import InvalidInput
from ecoops.audit import utcnow
from ecoops.config import Settings

APPLICATIONS_PER_WINDOW = 5
WINDOW = timedelta(hours=1)
MIN_FILL_SECONDS = 3
MAX_FORM_AGE_SECONDS = 24 * 3600
MAX_LINKS = 2
HONEYPOT_FIELD = "fax_number"  # hidden from people by CSS; bots fill every field they find
_SALT = "ecoops.apply-form"
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


class RateLimited(Exception):
    """Too many applications from one address lately; answered with 429."""


class LooksLikeSpam(InvalidInput):
    """The form was filled by a machine: answered like an error, with nothing stored."""


def form_stamp(settings: Settings, at: float | None = None) -> str:
    """The signed moment the form was shown."""
    return URLSafeSerializer(settings.secret_key, salt=_SALT).dumps(
        int(at if at is not None else time.time())
    )


def check_human(settings: Settings, *, stamp: str, honeypot: str, texts: list[str]) -> None:
    """Refuse a filled honeypot, a form sent too fast (or a forged or stale stamp), and link-heavy text."""
    if honeypot.strip():
        raise LooksLikeSpam("the form could not be accepted")
    try:
        shown = int(URLSafeSerializer(settings.secret_key, salt=_SALT).loads(stamp))
    except (BadSignature, ValueError, TypeError):
        raise LooksLikeSpam("the form is damaged; reload the page and fill it in again") from None
    age = time.time() - shown
    if age < MIN_FILL_SECONDS:
        raise LooksLikeSpam("the form was sent too quickly; take a moment and send it again")
    if age > MAX_FORM_AGE_SECONDS:
        raise LooksLikeSpam("the form is more than a day old; reload the page and send it again")
    links = sum(len(_LINK.findall(text)) for text in texts)
    if links > MAX_LINKS:
        raise InvalidInput(f"message: at most {MAX_LINKS} links, not {links}")


def _key(address: str) -> str:
    return f"apply:{address}"


def check_budget(session: Session, address: str) -> None:
    """Raise RateLimited when this address has sent APPLICATIONS_PER_WINDOW applications in the window."""
    since = utcnow() - WINDOW
    count = session.scalar(
        select(func.count()).where(SignInFailure.key == _key(address), SignInFailure.at > since)
    )
    if (count or 0) >= APPLICATIONS_PER_WINDOW:
        raise RateLimited("too many applications from your network lately; try again in an hour")


def spend_budget(session: Session, address: str) -> None:
    """Count one application against the address, dropping its counts older than the window."""
    now = utcnow()
    session.execute(
        delete(SignInFailure).where(SignInFailure.key == _key(address), SignInFailure.at <= now - WINDOW)
    )
    session.add(SignInFailure(key=_key(address), at=now))
