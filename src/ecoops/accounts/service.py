"""Users, partner users and API tokens: creation, sign-in and token checks."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import ApiToken, ContactRole, PartnerUser, User
from ecoops.actors import Actor, ActorKind, Role
from ecoops.audit import utcnow
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.permissions import Forbidden, NotFound, Permission, allowed, require

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane; Password Storage Cheat Sheet), not
# argon2-cffi's default RFC 9106 profile (64 MiB, 3 passes, 4 lanes): that one costs about 140 ms of CPU
# on 4 threads per sign-in, and on a small server a stream of sign-ins takes a quarter of its CPU from
# everyone else (docs/load.md). Stored hashes of other parameters are rehashed at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "eco_"  # noqa: S105 - a public marker, not a secret


class InvalidInput(ValueError):
    """A value the user gave is not acceptable; the message says which and why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _normal_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(f"not an e-mail address: {email!r}")
    return email


def _refuse_taken_email(session: Session, email: str) -> None:
    """One e-mail, one sign-in: internal and partner users share the login form."""
    for model in (User, PartnerUser):
        if session.scalar(select(func.count()).where(model.email == email)):
            raise InvalidInput(f"a user with e-mail {email} already exists")


def user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Our users' display names by id (pages name people rather than show their ids)."""
    wanted = {i for i in ids if i is not None}
    return {id_: name for id_, name in session.execute(select(User.id, User.name).where(User.id.in_(wanted)))}


def names_by_email(session: Session, emails: set[str]) -> dict[str, str]:
    """Display names of our users and partner users by the e-mail their acts were recorded under."""
    partner_users = select(PartnerUser.email, PartnerUser.name).where(PartnerUser.email.in_(emails))
    users = select(User.email, User.name).where(User.email.in_(emails))
    # An address both tables hold: our user's name wins.
    names = [*session.execute(partner_users), *session.execute(users)]
    return {email: name for email, name in names if name}


def user_actor(user: User) -> Actor:
    return Actor(kind=ActorKind.USER, id=user.id, label=user.email, role=Role(user.role))


def partner_user_actor(user: PartnerUser) -> Actor:
    return Actor(kind=ActorKind.PARTNER_USER, id=user.id, label=user.email, partner_id=user.partner_id)


def create_user(
    session: Session, actor: Actor, *, email: str, name: str, role: Role | str, password: str
) -> User:
    """Create an internal user; only admins (or the CLI) may."""
    require(actor, Permission.MANAGE_USERS)
    email = _normal_email(email)
    _refuse_taken_email(session, email)
    if role not in Role.__members__.values():
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(Role)}")
    user = User(email=email, name=name.strip() or email, role=Role(role).value)
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.created", "user", user.id, email=email, role=user.role)
    return user


def create_partner_user(
    session: Session,
    actor: Actor,
    *,
    partner_id: int,
    email: str,
    name: str,
    password: str,
    is_partner_admin: bool = False,
    contact_role: str = "",
    can_sign_in: bool = True,
) -> PartnerUser:
    """Create a contact at one partner (internal admins; partner admins for their own partner). A contact who
    may sign in needs a password; one who may not only receives e-mail and has none."""
    require_contact_manager(session, actor, partner_id)
    if session.get(Partner, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    email = _normal_email(email)
    _refuse_taken_email(session, email)
    if not can_sign_in and is_partner_admin:
        raise InvalidInput("a partner admin must be able to sign in")
    user = PartnerUser(
        partner_id=partner_id,
        email=email,
        name=name.strip() or email,
        is_partner_admin=is_partner_admin,
        contact_role=checked_contact_role(contact_role),
        can_sign_in=can_sign_in,
    )
    user.password_hash = hash_password(password) if can_sign_in else ""
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "partner_user.created",
        "partner_user",
        user.id,
        email=email,
        partner_id=partner_id,
        contact_role=user.contact_role,
        can_sign_in=can_sign_in,
    )
    return user


def require_contact_manager(session: Session, actor: Actor, partner_id: int) -> None:
    """Internal user managers manage every partner's contacts; a partner admin those of its own partner."""
    if actor.kind == ActorKind.PARTNER_USER:
        is_admin = session.scalar(select(PartnerUser.is_partner_admin).where(PartnerUser.id == actor.id))
        if actor.partner_id != partner_id or not is_admin:
            raise Forbidden("only a partner admin may manage colleagues of the same partner")
    else:
        require(actor, Permission.MANAGE_USERS)


def checked_contact_role(value: str) -> str:
    value = value.strip()
    if value and value not in ContactRole.__members__.values():
        raise InvalidInput(f"unknown contact role {value!r}; one of {', '.join(ContactRole)}, or none")
    return value


def authenticate(session: Session, email: str, password: str) -> User | PartnerUser | None:
    """The active internal or partner user with these credentials, else None (in constant-ish time).

    Only reads: a sign-in checks first and writes after (`record_sign_in`), so that on SQLite the one
    write lock is not held while argon2 works.
    """
    email = email.strip().lower()
    user: User | PartnerUser | None = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = session.scalar(select(PartnerUser).where(PartnerUser.email == email))
    if user is None or not user.is_active or (isinstance(user, PartnerUser) and not user.can_sign_in):
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    return user


def record_sign_in(user: User | PartnerUser, password: str) -> None:
    """Note the sign-in of `user`, whose `password` was just verified (rehashed if the parameters changed)."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()


LAST_USED_PRECISION = timedelta(minutes=1)


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_hold_tokens(actor: Actor) -> bool:
    """Internal users whose role allows it, and every partner user (whose tokens reach the partner API)."""
    return actor.kind == ActorKind.PARTNER_USER or (
        actor.kind == ActorKind.USER and allowed(actor, Permission.USE_API_TOKENS)
    )


def _require_token_holder(actor: Actor) -> None:
    if actor.id is None or not may_hold_tokens(actor):
        raise Forbidden(f"{actor.label} may not hold API tokens")


def _held_by(actor: Actor) -> ColumnElement[bool]:
    if actor.kind == ActorKind.PARTNER_USER:
        return ApiToken.partner_user_id == actor.id
    return ApiToken.user_id == actor.id


def create_api_token(
    session: Session, actor: Actor, *, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token acting as the calling user; the secret is returned once and never stored."""
    _require_token_holder(actor)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    partner_user = actor.kind == ActorKind.PARTNER_USER
    token = ApiToken(
        user_id=None if partner_user else actor.id,
        partner_user_id=actor.id if partner_user else None,
        name=name,
        prefix=secret[:12],
        token_hash=_token_hash(secret),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "api_token.created", "api_token", token.id, name=name)
    return token, secret


def revoke_api_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens (admins: anyone's); revoking twice keeps the first date."""
    _require_token_holder(actor)
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id, _held_by(actor)))
    if token is None and actor.kind == ActorKind.USER and actor.role == Role.ADMIN:
        token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "api_token.revoked", "api_token", token.id, name=token.name)
    return token


def token_status(token: ApiToken, now: datetime) -> str:
    """ "revoked", "expired" or "active" at `now` (an aware UTC time)."""
    if token.revoked_at is not None:
        return "revoked"
    # SQLite hands datetimes back without their zone; they were stored in UTC.
    if token.expires_at is not None and token.expires_at.replace(tzinfo=now.tzinfo) <= now:
        return "expired"
    return "active"


def actor_for_token(session: Session, secret: str) -> Actor | None:
    """The active user or partner user behind a valid, unexpired, unrevoked token, as an actor."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    now = utcnow()
    if token is None or token_status(token, now) != "active":
        return None
    actor: Actor | None = None
    if token.user_id is not None:
        user = session.get(User, token.user_id)
        actor = user_actor(user) if user is not None and user.is_active else None
    elif token.partner_user_id is not None:
        partner_user = session.get(PartnerUser, token.partner_user_id)
        # As with a session: a contact whose portal access was taken away cannot keep calling the API.
        if partner_user is not None and partner_user.is_active and partner_user.can_sign_in:
            actor = partner_user_actor(partner_user)
    if actor is None:
        return None
    # At most one write a minute per token: every API call is otherwise a write, even a read.
    last = token.last_used_at
    if last is None or last.replace(tzinfo=now.tzinfo) <= now - LAST_USED_PRECISION:
        token.last_used_at = now
    return actor


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, newest first, revoked and expired ones included."""
    _require_token_holder(actor)
    statement = select(ApiToken).where(_held_by(actor)).order_by(ApiToken.id.desc())
    return list(session.scalars(statement))


def own_user(session: Session, actor: Actor) -> User:
    """The internal user the actor is (not the CLI or a partner user)."""
    user = session.get(User, actor.id) if actor.kind == ActorKind.USER and actor.id is not None else None
    if user is None:
        raise NotFound("the caller is not an internal user")
    return user


def list_users(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[User]:
    require(actor, Permission.MANAGE_USERS)
    statement = select(User).order_by(User.is_active.desc(), func.lower(User.name), User.id)
    return paginate(session, statement, page=page, per_page=per_page)


def list_partner_users(
    session: Session, actor: Actor, *, partner_id: int | None = None, page: int = 1, per_page: int = 50
) -> Page[PartnerUser]:
    """Partner users of every partner, or of one, for a user manager."""
    require(actor, Permission.MANAGE_USERS)
    statement = select(PartnerUser)
    if partner_id is not None:
        statement = statement.where(PartnerUser.partner_id == partner_id)
    statement = statement.order_by(PartnerUser.is_active.desc(), func.lower(PartnerUser.name), PartnerUser.id)
    return paginate(session, statement, page=page, per_page=per_page)


_TARGET_TYPE: dict[type[User | PartnerUser], str] = {User: "user", PartnerUser: "partner_user"}


def set_active(
    session: Session, actor: Actor, model: type[User | PartnerUser], record_id: int, *, active: bool
) -> User | PartnerUser:
    """Deactivate a user (its sign-ins, sessions and API tokens stop working at once) or reactivate it."""
    require(actor, Permission.MANAGE_USERS)
    record = session.get(model, record_id)
    target_type = _TARGET_TYPE[model]
    if not isinstance(record, User | PartnerUser):
        raise NotFound(f"no {target_type.replace('_', ' ')} {record_id}")
    if model is User and actor.kind == ActorKind.USER and record.id == actor.id and not active:
        raise InvalidInput("you cannot deactivate your own account; ask another admin")
    if record.is_active != active:
        record.is_active = active
        action = f"{target_type}.{'reactivated' if active else 'deactivated'}"
        audit.record(session, actor, action, target_type, record.id, email=record.email)
    return record


def change_role(session: Session, actor: Actor, user_id: int, role: str) -> User:
    """Give an internal user another role; the workspace always keeps one active admin."""
    require(actor, Permission.MANAGE_USERS)
    if role not in Role.__members__.values():
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(Role)}")
    # Lock the active admins (PostgreSQL; SQLite's write transaction already excludes other writers), so two
    # admins demoting each other at once cannot both pass the check and leave none.
    admins = session.scalars(
        select(User).where(User.role == Role.ADMIN, User.is_active).order_by(User.id).with_for_update()
    ).all()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if user.role == role:
        return user
    if user.role == Role.ADMIN and user.is_active and [a.id for a in admins] == [user.id]:
        raise InvalidInput(f"{user.email} is the only active admin; make another user admin first")
    audit.record(
        session, actor, "user.role_changed", "user", user.id, email=user.email, old=user.role, new=role
    )
    user.role = Role(role).value
    return user


def signed_in_person(session: Session, actor: Actor) -> User | PartnerUser:
    """The user or partner user behind a signed-in actor."""
    model: type[User | PartnerUser] = PartnerUser if actor.kind == ActorKind.PARTNER_USER else User
    person = session.get(model, actor.id)
    if not isinstance(person, User | PartnerUser):
        raise NotFound("no such user")
    return person


def new_own_password_hash(person: User | PartnerUser, *, current: str, new: str) -> str:
    """The hash of `new` once `current` is proven; only computes (see `set_own_password`)."""
    if not _verify(person.password_hash, current):
        raise InvalidInput("the current password is wrong")
    if new == current:
        raise InvalidInput("the new password must differ from the current one")
    return hash_password(new)


def set_own_password(session: Session, actor: Actor, person: User | PartnerUser, new_hash: str) -> None:
    """Store one's own new password, whose hash `new_own_password_hash` made before the transaction wrote."""
    person.password_hash = new_hash
    target_type = _TARGET_TYPE[type(person)]
    audit.record(session, actor, f"{target_type}.password_changed", target_type, person.id)
