"""Partner funds (MDF): finance allocates a quarter's budget to a partner, the partner requests funds for
a planned activity, finance approves, the partner claims what it spent with proof of performance (a file),
and an approved claim is reimbursed by a line in the commission ledger, billed and paid like the others.

Every move is a conditional update from the state it follows, so two people deciding at once move a
request or claim once; a claim is reimbursed by exactly one ledger line (`fund_requests.entry_id` is
unique).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor, ActorKind
from ecoops.commissions.models import (
    CommissionEntry,
    EntryKind,
    FundAllocation,
    FundRequest,
    FundStatus,
    Status,
)
from ecoops.commissions.plans import money, parse_money
from ecoops.events.models import EventKind
from ecoops.events.outbox import emit
from ecoops.partners.models import Partner
from ecoops.partners.programs import FieldError
from ecoops.permissions import Forbidden, NotFound, Permission, require

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
PROOF_TYPES = (".pdf", ".png", ".jpg", ".jpeg", ".csv", ".xlsx", ".txt")
MAX_PROOF_BYTES = 10 << 20
ACTIVITY_MAX, REASON_MAX = 2000, 2000


def proofs_dir(var_dir: Path) -> Path:
    return var_dir / "fund-proofs"


def _partner_user(actor: Actor) -> int:
    if actor.kind != ActorKind.PARTNER_USER or actor.partner_id is None:
        raise Forbidden("partner funds are requested and claimed by the partner's own users")
    return actor.partner_id


def _reason(reason: str, required: bool) -> str:
    reason = reason.strip()
    if required and not reason:
        raise FieldError("reason", "say why (the partner sees it)")
    if len(reason) > REASON_MAX:
        raise FieldError("reason", f"at most {REASON_MAX} characters")
    return reason


def allocate(
    session: Session, actor: Actor, partner_id: int, period: str, amount: str, currency: str
) -> FundAllocation:
    require(actor, Permission.MANAGE_COMMISSIONS)
    if session.get(Partner, partner_id) is None:
        raise FieldError("partner_id", "no such partner")
    if not QUARTER.match(period.strip()):
        raise FieldError("period", f"{period!r} is not a quarter, e.g. 2025-Q2")
    cents = parse_money("amount", amount, required=True)
    assert cents is not None
    if session.scalar(
        select(FundAllocation.id).where(
            FundAllocation.partner_id == partner_id, FundAllocation.period == period
        )
    ):
        raise FieldError("period", f"the partner already has an allocation for {period}")
    allocation = FundAllocation(
        partner_id=partner_id,
        period=period.strip(),
        amount_cents=cents,
        currency=currency,
        created_by=actor.label,
    )
    session.add(allocation)
    session.flush()
    audit.record(
        session,
        actor,
        "fund_allocation.created",
        "fund_allocation",
        allocation.id,
        partner_id=partner_id,
        period=period,
        amount_cents=cents,
    )
    return allocation


def committed(session: Session, allocation_id: int) -> int:
    """What requests waiting or approved hold of an allocation, in cents."""
    total = session.scalar(
        select(func.sum(FundRequest.budget_cents)).where(
            FundRequest.allocation_id == allocation_id,
            FundRequest.status.in_([FundStatus.REQUESTED.value, FundStatus.APPROVED.value]),
        )
    )
    return int(total or 0)


def request_funds(
    session: Session,
    actor: Actor,
    allocation_id: int,
    activity: str,
    budget: str,
    opportunity_crm_id: str = "",
) -> FundRequest:
    """A partner user asks for part of its own allocation for a planned activity."""
    partner_id = _partner_user(actor)
    allocation = session.get(FundAllocation, allocation_id)
    if allocation is None or allocation.partner_id != partner_id:
        raise FieldError("allocation_id", "not one of your allocations")
    activity = activity.strip()
    if not activity or len(activity) > ACTIVITY_MAX:
        raise FieldError("activity", f"describe the activity, 1 to {ACTIVITY_MAX} characters")
    cents = parse_money("budget", budget, required=True)
    assert cents is not None
    left = allocation.amount_cents - committed(session, allocation.id)
    if not 0 < cents <= left:
        raise FieldError(
            "budget", f"more than 0 and at most what is left of {allocation.period}: {money(left)}"
        )
    found = FundRequest(
        allocation_id=allocation.id,
        partner_id=partner_id,
        activity=activity,
        budget_cents=cents,
        opportunity_crm_id=opportunity_crm_id.strip()[:64],
        submitted_by=actor.label,
    )
    session.add(found)
    session.flush()
    audit.record(session, actor, "fund_request.submitted", "fund_request", found.id, budget_cents=cents)
    return found


def _partner_name(session: Session, partner_id: int) -> str:
    """For events' payloads: messages name the partner, not only its id."""
    return session.scalar(select(Partner.name).where(Partner.id == partner_id)) or f"partner {partner_id}"


def _get(session: Session, actor: Actor, request_id: int) -> FundRequest:
    found = session.get(FundRequest, request_id)
    if found is None or (actor.kind == ActorKind.PARTNER_USER and found.partner_id != actor.partner_id):
        raise NotFound("no such fund request")
    if actor.kind != ActorKind.PARTNER_USER:
        require(actor, Permission.MANAGE_COMMISSIONS)
    return found


def decide_request(
    session: Session, actor: Actor, request_id: int, approve: bool, reason: str = ""
) -> FundRequest:
    require(actor, Permission.MANAGE_COMMISSIONS)
    found = _get(session, actor, request_id)
    to = FundStatus.APPROVED if approve else FundStatus.REJECTED
    moved = session.execute(
        update(FundRequest)
        .where(FundRequest.id == found.id, FundRequest.status == FundStatus.REQUESTED.value)
        .values(status=to.value, reason=_reason(reason, not approve), decided_by=actor.label)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise FieldError("decision", f"request {found.id} is already {found.status}")
    session.refresh(found)
    audit.record(session, actor, f"fund_request.{to.value}", "fund_request", found.id, reason=found.reason)
    return found


def submit_claim(
    session: Session, actor: Actor, request_id: int, amount: str, proof: bytes, filename: str, var_dir: Path
) -> FundRequest:
    """The partner claims what the approved activity cost, with a proof file (kept under var_dir)."""
    _partner_user(actor)
    found = _get(session, actor, request_id)
    if found.status != FundStatus.APPROVED.value or found.claim_status not in ("", FundStatus.REJECTED.value):
        raise FieldError(
            "claim", "only an approved request without a pending or approved claim can be claimed"
        )
    cents = parse_money("amount", amount, required=True)
    assert cents is not None
    if not 0 < cents <= found.budget_cents:
        raise FieldError(
            "amount", f"more than 0 and at most the approved budget, {money(found.budget_cents)}"
        )
    name = Path(filename or "").name
    if not name.lower().endswith(PROOF_TYPES):
        raise FieldError("proof", f"a file of type {', '.join(PROOF_TYPES)}")
    if not proof or len(proof) > MAX_PROOF_BYTES:
        raise FieldError("proof", f"a file of 1 byte to {MAX_PROOF_BYTES >> 20} MB")
    key = f"{found.id}-{secrets.token_hex(8)}{Path(name).suffix.lower()}"
    folder = proofs_dir(var_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(proof)
    found.claim_status, found.claimed_cents, found.proof_filename, found.proof_key = (
        FundStatus.REQUESTED.value,
        cents,
        name[:200],
        key,
    )
    found.claim_reason, found.claimed_at = "", audit.utcnow()
    session.flush()
    audit.record(
        session, actor, "fund_claim.submitted", "fund_request", found.id, claimed_cents=cents, proof=name
    )
    emit(
        session,
        EventKind.FUND_CLAIM_SUBMITTED,
        partner_id=found.partner_id,
        partner_name=_partner_name(session, found.partner_id),
        request_id=found.id,
        activity=found.activity,
        amount=f"{cents / 100:.2f}",
        link=f"/commissions/funds#request-{found.id}",
    )
    return found


def decide_claim(
    session: Session, actor: Actor, request_id: int, approve: bool, reason: str = ""
) -> FundRequest:
    """Approve a claim (reimbursed by an approved ledger line, billed with the partner's others) or not."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    found = _get(session, actor, request_id)
    to = FundStatus.APPROVED if approve else FundStatus.REJECTED
    moved = session.execute(
        update(FundRequest)
        .where(FundRequest.id == found.id, FundRequest.claim_status == FundStatus.REQUESTED.value)
        .values(claim_status=to.value, claim_reason=_reason(reason, not approve))
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise FieldError("decision", f"request {found.id} has no claim waiting")
    session.refresh(found)
    if approve:
        assert found.claimed_cents is not None
        allocation = session.get(FundAllocation, found.allocation_id)
        assert allocation is not None
        today = audit.utcnow().date()
        entry = CommissionEntry(
            plan_id=None,
            partner_id=found.partner_id,
            subject=f"fund-request:{found.id}",
            kind=EntryKind.REIMBURSEMENT.value,
            amount_cents=found.claimed_cents,
            currency=allocation.currency,
            earned_on=today,
            closed_on=today,
            credit="mdf",
            explanation=f"Partner funds {allocation.period}: {found.activity} — claim of "
            f"{money(found.claimed_cents)} with proof {found.proof_filename}, approved by {actor.label}",
            status=Status.APPROVED.value,
            status_changed_by=actor.label,
            status_changed_at=audit.utcnow(),
            created_by=actor.label,
        )
        session.add(entry)
        session.flush()
        found.entry_id = entry.id
        session.flush()
        emit(
            session,
            EventKind.FUND_CLAIM_APPROVED,
            partner_id=found.partner_id,
            partner_name=_partner_name(session, found.partner_id),
            request_id=found.id,
            activity=found.activity,
            amount=f"{found.claimed_cents / 100:.2f}",
            entry_id=entry.id,
            link=f"/portal/funds#request-{found.id}",
        )
    audit.record(
        session,
        actor,
        f"fund_claim.{to.value}",
        "fund_request",
        found.id,
        reason=found.claim_reason,
        entry_id=found.entry_id,
    )
    return found


def proof(session: Session, actor: Actor, request_id: int, var_dir: Path) -> tuple[Path, str]:
    """The claim's proof file and its name as uploaded (a partner user: its own partner's only)."""
    found = _get(session, actor, request_id)
    if not found.proof_key:
        raise NotFound("no proof uploaded")
    return proofs_dir(var_dir) / found.proof_key, found.proof_filename


@dataclass(frozen=True)
class AllocationView:
    allocation: FundAllocation
    partner_name: str
    committed_cents: int
    requests: list[FundRequest]


def overview(session: Session, actor: Actor) -> list[AllocationView]:
    """Allocations, newest quarter first, with their requests: finance sees all, a partner user its own."""
    query = select(FundAllocation, Partner.name).join(Partner, Partner.id == FundAllocation.partner_id)
    if actor.kind == ActorKind.PARTNER_USER:
        query = query.where(FundAllocation.partner_id == _partner_user(actor))
    else:
        require(actor, Permission.MANAGE_COMMISSIONS)
    rows = session.execute(query.order_by(FundAllocation.period.desc(), Partner.name)).all()
    ids = [allocation.id for allocation, _ in rows]
    requests: dict[int, list[FundRequest]] = {}
    for found in session.scalars(
        select(FundRequest).where(FundRequest.allocation_id.in_(ids)).order_by(FundRequest.id)
    ):
        requests.setdefault(found.allocation_id, []).append(found)
    return [
        AllocationView(allocation, name, committed(session, allocation.id), requests.get(allocation.id, []))
        for allocation, name in rows
    ]
