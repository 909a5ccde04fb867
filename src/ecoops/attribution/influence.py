"""Influence logs: a seller, partner manager or partner user records what a partner did on a deal; it
enters as a proposed touch (the log is its evidence), and the deal owner or a partner manager confirms
it (it counts from then on) or disputes it with a reason (it never counts). docs/influence.md.

A decision is a conditional update of the touch (`status = 'proposed'`), so of two reviewers at once
exactly one decides and the other is told who did. Logging and deciding are audited and emit events
(`influence.logged`, `.confirmed`, `.disputed`) in the same transaction, for automation to notify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind, Role
from ecoops.attribution.models import (
    ACTIVITY_KIND,
    INFLUENCE_EVIDENCE,
    Activity,
    InfluenceLog,
    PartnerTouch,
)
from ecoops.attribution.review import Decision
from ecoops.audit import utcnow
from ecoops.automation.recipients import Resolver
from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity
from ecoops.events import EventKind, emit
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.permissions import Forbidden, NotFound, Permission, allowed, require
from ecoops.referrals.models import Referral
from ecoops.stored_files import file_name, keep_file

MAX_NOTE = 4000
MAX_LINK = 2000
_LINK = re.compile(r"https?://[^\s/]+\S*", re.IGNORECASE)
_LOGGERS = (Role.ADMIN, Role.OPS, Role.PARTNER_MANAGER, Role.SALES)
_OUTCOME = {Decision.CONFIRM: "confirmed", Decision.DISPUTE: "disputed"}
_EVENT = {Decision.CONFIRM: EventKind.INFLUENCE_CONFIRMED, Decision.DISPUTE: EventKind.INFLUENCE_DISPUTED}


class AlreadyDecided(InvalidInput):
    """Someone else decided on the log first (interfaces answer 409)."""


@dataclass(frozen=True)
class LogInput:
    partner_id: int
    activity: str
    happened_on: date | None
    note: str
    link: str = ""
    opportunity_crm_id: str = ""
    account_crm_id: str = ""


@dataclass(frozen=True)
class Evidence:
    """A file given with a log: its stream (read up to the cap) and the name its owner knows."""

    stream: BinaryIO
    filename: str


@dataclass(frozen=True)
class LogRow:
    log: InfluenceLog
    touch: PartnerTouch
    partner_name: str
    deal_name: str  # the opportunity's name, else the account's


def may_log(actor: Actor) -> bool:
    """Sellers, partner managers, ops and admins; a partner user for its own partner; viewers only read."""
    if actor.kind == ActorKind.PARTNER_USER:
        return actor.partner_id is not None
    return actor.is_internal and actor.role in _LOGGERS


def require_logger(actor: Actor) -> None:
    if not may_log(actor):
        raise Forbidden(f"{actor.label} may not log partner influence")


def activity_label(activity: str) -> str:
    return activity.replace("_", " ")


# --- logging ------------------------------------------------------------------------------------------


def log_influence(
    session: Session, actor: Actor, data: LogInput, settings: Settings, evidence: Evidence | None = None
) -> InfluenceLog:
    """Store the log and its proposed touch (all or nothing); the file, if any, is kept under the uploads
    folder once everything else checked out."""
    require_logger(actor)
    partner = _partner_for(session, actor, data.partner_id)
    activity = _activity(data.activity)
    happened_on = _happened_on(data.happened_on, settings)
    note, link = data.note.strip(), data.link.strip()
    if not note:
        raise InvalidInput("note: say what the partner did (it is the evidence the reviewer reads)")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note: at most {MAX_NOTE} characters")
    if link and (len(link) > MAX_LINK or not _LINK.fullmatch(link)):
        raise InvalidInput(f"link: an http:// or https:// address of at most {MAX_LINK} characters")
    opportunity_crm_id, account_crm_id = _deal(session, actor, data.opportunity_crm_id, data.account_crm_id)
    # Every check is behind us: nothing below refuses, so nothing stored is half-written.
    kept = _keep_file(evidence, settings) if evidence is not None else ("", 0)
    touch = PartnerTouch(
        partner_id=partner.id,
        opportunity_crm_id=opportunity_crm_id,
        account_crm_id=account_crm_id,
        kind=ACTIVITY_KIND[activity].value,
        touched_on=happened_on,
        evidence_type=INFLUENCE_EVIDENCE,
        note=note,
        status="proposed",
        recorded_by=actor.label,
    )
    session.add(touch)
    session.flush()
    log = InfluenceLog(
        touch_id=touch.id,
        partner_id=partner.id,
        opportunity_crm_id=opportunity_crm_id,
        account_crm_id=account_crm_id,
        activity=activity.value,
        note=note,
        link=link,
        file_token=kept[0],
        file_size=kept[1],
        file_name=_file_name(evidence.filename) if evidence else "",
        logged_by=actor.label,
        logged_by_partner=actor.kind == ActorKind.PARTNER_USER,
    )
    session.add(log)
    session.flush()
    touch.evidence_ref = str(log.id)
    audit.record(
        session,
        actor,
        "influence.logged",
        "influence_log",
        log.id,
        partner_id=partner.id,
        touch_id=touch.id,
        activity=log.activity,
        opportunity_crm_id=opportunity_crm_id,
        account_crm_id=account_crm_id,
    )
    _emit(session, EventKind.INFLUENCE_LOGGED, log, touch, partner.name)
    return log


def _partner_for(session: Session, actor: Actor, partner_id: int) -> Partner:
    # A partner user logs only for its own partner; another's is "not found", as if it did not exist.
    if actor.kind == ActorKind.PARTNER_USER and partner_id != actor.partner_id:
        raise NotFound(f"no partner {partner_id}")
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def _activity(value: str) -> Activity:
    try:
        return Activity(value)
    except ValueError:
        raise InvalidInput(f"activity: one of {', '.join(a.value for a in Activity)}") from None


def _happened_on(value: date | None, settings: Settings) -> date:
    if value is None:
        raise InvalidInput("date: when did it happen? (YYYY-MM-DD)")
    if value > settings.today():
        raise InvalidInput(f"date: {value} is in the future; log what has happened")
    return value


def _deal(session: Session, actor: Actor, opportunity_crm_id: str, account_crm_id: str) -> tuple[str, str]:
    """(opportunity, account) CRM ids of the deal the log is about: an opportunity (its account
    follows; if an account is given too, it must be the opportunity's), or an account alone.
    A partner user may name only deals of its own referrals."""
    opportunity_crm_id, account_crm_id = opportunity_crm_id.strip(), account_crm_id.strip()
    if actor.kind == ActorKind.PARTNER_USER and (opportunity_crm_id, account_crm_id) not in set(
        partner_deals(session, actor)
    ):
        raise NotFound("choose one of the deals listed (those of your referrals)")
    if opportunity_crm_id:
        account = session.scalar(
            select(Opportunity.account_crm_id).where(Opportunity.crm_id == opportunity_crm_id)
        )
        if account is None:
            raise InvalidInput(f"opportunity: no opportunity {opportunity_crm_id!r}")
        if account_crm_id and account != account_crm_id:
            raise InvalidInput(
                f"opportunity: {opportunity_crm_id!r} is not one of account {account_crm_id!r}'s"
            )
        return opportunity_crm_id, account
    if not account_crm_id:
        raise InvalidInput("opportunity: name the opportunity (or the account) the partner worked on")
    if session.scalar(select(Account.id).where(Account.crm_id == account_crm_id)) is None:
        raise InvalidInput(f"account: no account {account_crm_id!r}")
    return "", account_crm_id


def partner_deals(session: Session, actor: Actor) -> dict[tuple[str, str], str]:
    """A partner user's deals it may log for: (opportunity, account) of its referrals linked to our
    CRM (an opportunity when there is one, else the account), named as the partner named them."""
    if actor.kind != ActorKind.PARTNER_USER:
        raise Forbidden("only partner users pick from their referrals")
    rows = session.execute(
        select(Referral.opportunity_crm_id, Referral.account_crm_id, Referral.company)
        .where(
            Referral.partner_id == actor.partner_id,
            or_(Referral.opportunity_crm_id != "", Referral.account_crm_id != ""),
        )
        .order_by(Referral.company, Referral.id)
    )
    deals: dict[tuple[str, str], str] = {}
    for opportunity, account, company in rows:
        key = (opportunity, "") if opportunity else ("", account)
        deals.setdefault(key, company)
    return deals


def _keep_file(evidence: Evidence, settings: Settings) -> tuple[str, int]:
    """Copy the stream to the evidence folder under a random token, refusing it past the cap."""
    folder, cap = evidence_folder(settings), settings.influence_max_file_bytes
    return keep_file(evidence.stream, evidence.filename, folder, cap, "evidence")


def _file_name(filename: str) -> str:
    return file_name(filename, "evidence")


def evidence_folder(settings: Settings) -> Path:
    # Beside the import uploads, in a folder of its own: the uploads' clean-up never reaches in here.
    return settings.uploads_dir / "influence"


# --- reading ------------------------------------------------------------------------------------------


def _readable(actor: Actor) -> Select[InfluenceLog, PartnerTouch, str, str]:
    """Internal readers of the CRM see every log; a partner user only those its partner's users logged."""
    statement = (
        select(InfluenceLog, PartnerTouch, Partner.name, func.coalesce(Opportunity.name, Account.name, ""))
        .join(PartnerTouch, PartnerTouch.id == InfluenceLog.touch_id)
        .join(Partner, Partner.id == InfluenceLog.partner_id)
        .outerjoin(
            Opportunity,
            (InfluenceLog.opportunity_crm_id != "") & (Opportunity.crm_id == InfluenceLog.opportunity_crm_id),
        )
        .outerjoin(Account, Account.crm_id == InfluenceLog.account_crm_id)
    )
    if actor.kind == ActorKind.PARTNER_USER:
        return statement.where(InfluenceLog.partner_id == actor.partner_id, InfluenceLog.logged_by_partner)
    require(actor, Permission.READ_CRM)
    return statement


def search_logs(
    session: Session,
    actor: Actor,
    *,
    account_crm_id: str = "",
    opportunity_crm_id: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page[LogRow]:
    """Logs the actor may see, newest first; on an account, those of it and of its opportunities."""
    statement = _readable(actor)
    if account_crm_id:
        statement = statement.where(InfluenceLog.account_crm_id == account_crm_id)
    if opportunity_crm_id:
        statement = statement.where(
            or_(
                InfluenceLog.opportunity_crm_id == opportunity_crm_id,
                (InfluenceLog.opportunity_crm_id == "")
                & (
                    InfluenceLog.account_crm_id
                    == select(Opportunity.account_crm_id)
                    .where(Opportunity.crm_id == opportunity_crm_id)
                    .scalar_subquery()
                ),
            )
        )
    if status:
        statement = statement.where(PartnerTouch.status == status)
    statement = statement.order_by(InfluenceLog.id.desc())
    # paginate() returns scalars; the rows are fetched by id for the page it chose.
    ids = paginate(session, statement.with_only_columns(InfluenceLog.id), page=page, per_page=per_page)
    rows = {
        log.id: LogRow(log, touch, partner, deal)
        for log, touch, partner, deal in session.execute(statement.where(InfluenceLog.id.in_(ids.items)))
    }
    return Page(_as_seen(session, actor, [rows[i] for i in ids.items]), ids.total, ids.page, ids.per_page)


def _as_seen(session: Session, actor: Actor, rows: list[LogRow]) -> list[LogRow]:
    """A partner user sees each deal as its own referral named it, never our CRM's names."""
    if actor.kind != ActorKind.PARTNER_USER:
        return rows
    deals = partner_deals(session, actor)
    return [
        replace(
            row,
            deal_name=deals.get(
                (row.log.opportunity_crm_id, "" if row.log.opportunity_crm_id else row.log.account_crm_id), ""
            ),
        )
        for row in rows
    ]


def get_log(session: Session, actor: Actor, log_id: int) -> LogRow:
    """The log, or NotFound when it does not exist or is another partner's (the same answer)."""
    found = session.execute(_readable(actor).where(InfluenceLog.id == log_id)).first()
    if found is None:
        raise NotFound(f"no influence log {log_id}")
    return _as_seen(session, actor, [LogRow(*found)])[0]


def evidence_file(session: Session, actor: Actor, log_id: int, settings: Settings) -> tuple[Path, str]:
    """The stored file of a log the actor may read, and its name."""
    log = get_log(session, actor, log_id).log
    path = evidence_folder(settings) / log.file_token
    if not log.file_token or not path.is_file():
        raise NotFound(f"influence log {log_id} has no file")
    return path, log.file_name


# --- deciding -----------------------------------------------------------------------------------------


def deal_owner(session: Session, log: InfluenceLog) -> str:
    """The CRM owner of the deal: the opportunity's, else the account's (free text, a name or an e-mail)."""
    if log.opportunity_crm_id:
        owner = session.scalar(select(Opportunity.owner).where(Opportunity.crm_id == log.opportunity_crm_id))
        if owner:
            return owner
    return session.scalar(select(Account.owner).where(Account.crm_id == log.account_crm_id)) or ""


def may_decide(session: Session, actor: Actor, log: InfluenceLog) -> bool:
    """Whoever reviews attribution (partner managers, ops, admins), or the deal's owner: the user the
    CRM owner names, matched as automation matches it (e-mail first, then a name only one user has)."""
    if allowed(actor, Permission.REVIEW_ATTRIBUTION):
        return True
    if actor.kind != ActorKind.USER:
        return False
    owner = Resolver(session).owner_user(deal_owner(session, log))
    return owner is not None and owner.id == actor.id


def decide(session: Session, actor: Actor, log_id: int, decision: Decision, reason: str = "") -> LogRow:
    """Confirm or dispute a proposed log (a dispute needs a reason); once only, whoever is first."""
    row = get_log(session, actor, log_id)
    if not may_decide(session, actor, row.log):
        raise Forbidden(
            f"{actor.label} may not confirm or dispute this log: the deal owner or a partner manager may"
        )
    reason = reason.strip()
    if decision == Decision.DISPUTE and not reason:
        raise InvalidInput("reason: say why you dispute it (the partner sees it)")
    if len(reason) > 2000:
        raise InvalidInput("reason: at most 2000 characters")
    outcome = _OUTCOME[decision]
    decided = session.execute(
        update(PartnerTouch)
        .where(PartnerTouch.id == row.touch.id, PartnerTouch.status == "proposed")
        .values(status=outcome, reviewed_by=actor.label, reviewed_at=utcnow(), review_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row.touch)
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        who = f" by {row.touch.reviewed_by}" if row.touch.reviewed_by else ""
        raise AlreadyDecided(f"influence log {log_id} was already {row.touch.status}{who}")
    audit.record(
        session,
        actor,
        f"influence.{outcome}",
        "influence_log",
        row.log.id,
        touch_id=row.touch.id,
        partner_id=row.log.partner_id,
        reason=reason,
    )
    _emit(
        session, _EVENT[decision], row.log, row.touch, row.partner_name, reviewer=actor.label, reason=reason
    )
    return row


def _emit(
    session: Session,
    kind: EventKind,
    log: InfluenceLog,
    touch: PartnerTouch,
    partner_name: str,
    **extra: Any,
) -> None:
    # account_owner carries the deal owner, so a rule's "account owner" recipient reaches them.
    deal = session.scalar(select(Opportunity.name).where(Opportunity.crm_id == log.opportunity_crm_id)) or ""
    account_id, account_name = session.execute(
        select(Account.id, Account.name).where(Account.crm_id == log.account_crm_id)
    ).first() or (None, "")
    emit(
        session,
        kind,
        partner_id=log.partner_id,
        account_crm_id=log.account_crm_id,
        opportunity_crm_id=log.opportunity_crm_id,
        influence_log_id=log.id,
        touch_id=touch.id,
        activity=log.activity,
        activity_label=activity_label(log.activity),
        happened_on=touch.touched_on.isoformat(),
        note=log.note,
        partner_name=partner_name,
        deal_name=deal or account_name or log.account_crm_id,
        account_name=account_name,
        account_owner=deal_owner(session, log),
        logged_by=log.logged_by,
        link=f"/accounts/{account_id}#influence" if account_id else "/attribution/touches",
        **extra,
    )
