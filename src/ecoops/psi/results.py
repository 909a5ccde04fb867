"""What an exchange teaches us, fed into account mapping.

Reveal mode: the partner records that matched become the partner's current list (an upload named
"private exchange #N" holding only what the partner released) and the pairs become matches of
method `psi`; then the overlap history and `overlap` touches are brought up to date by the same
functions a mapping run uses. Count mode: counts per (our population, their population), shown in
the partner's overlap matrix as counts, with no accounts behind them.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.engines.psi import Match as PsiMatch
from ecoops.events import EventKind, emit
from ecoops.mapping import runs
from ecoops.mapping.models import Decision, MappingRun, MatchOverride, PartnerAccount, PartnerUpload
from ecoops.mapping.overlaps import OverlapMatrix
from ecoops.mapping.populations import population_names
from ecoops.mapping.uploads import current_upload
from ecoops.partners.models import Partner
from ecoops.psi.items import ID_SEPARATOR, KEY_KINDS, split_label
from ecoops.psi.models import ExchangeStatus, PsiConnection, PsiExchange

METHOD = "psi"
EXPLANATIONS = {
    "domain": "same registrable domain (private exchange)",
    "name_country": "same normalised name and country (private exchange)",
}
_SHOWN_AS_COLUMNS = ("name", "domain", "country")


def store_counts(
    exchange: PsiExchange, counts: Mapping[tuple[str, str], int], population_keys: Mapping[str, str]
) -> int:
    """Spread the counts per (our label, their label) over single populations; the total matched pairs."""
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for (ours, theirs), n in counts.items():
        for name in split_label(ours):
            if name in population_keys:
                for label in split_label(theirs) or [""]:
                    cells[(population_keys[name], label)] += n
    exchange.counts = [[ours, theirs, n] for (ours, theirs), n in sorted(cells.items()) if n]
    return sum(counts.values())


def store_reveal(
    session: Session,
    actor: Actor,
    connection: PsiConnection,
    exchange: PsiExchange,
    matches: Sequence[PsiMatch],
    today: date,
) -> int:
    """Make the matched partner records the partner's current list and map it; the pairs stored."""
    partner_id = connection.partner_id
    records: dict[str, PartnerAccount] = {}
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    for match in matches:
        crm_id, _, kind = match.record_id.partition(ID_SEPARATOR)
        fields = dict(match.their_fields)
        ref = fields.pop("ref", "") or match.their_ref
        for label in split_label(match.their_population) or [""]:
            their_id = f"{ref}/{label}"[:120] if label else ref
            records.setdefault(
                their_id,
                PartnerAccount(
                    their_id=their_id,
                    name=fields.get("name", "")[:300],
                    domain=fields.get("domain", "")[:300],
                    country=fields.get("country", "")[:80],
                    population=label[:120],
                    fields={k: v for k, v in sorted(fields.items()) if k not in _SHOWN_AS_COLUMNS},
                ),
            )
            kinds[(crm_id, their_id)].add(KEY_KINDS.get(kind, kind))
    rejected: set[tuple[str, str]] = set(
        session.execute(
            select(MatchOverride.our_crm_id, MatchOverride.their_id).where(
                MatchOverride.partner_id == partner_id, MatchOverride.decision == Decision.REJECTED.value
            )
        ).all()
    )
    pairs = sorted(pair for pair in kinds if pair not in rejected)
    listed = sorted(records.values(), key=lambda r: r.their_id)
    content = [[r.their_id, r.name, r.domain, r.country, r.population, r.fields] for r in listed]
    sha256 = hashlib.sha256(
        json.dumps([content, [[*p, sorted(kinds[p])] for p in pairs]], sort_keys=True).encode()
    ).hexdigest()
    current = current_upload(session, partner_id)
    if (
        current is not None
        and current.sha256 == sha256
        and current.columns.get("source") == runs.PRIVATE_EXCHANGE_SOURCE
    ):
        exchange.upload_id = current.id  # the same overlap as last time: nothing to change
        return len(pairs)

    session.execute(
        update(PartnerUpload).where(PartnerUpload.partner_id == partner_id).values(is_current=False)
    )
    upload = PartnerUpload(
        partner_id=partner_id,
        filename=f"private exchange #{exchange.id}",
        sha256=sha256,
        rows=len(listed),
        columns={"source": runs.PRIVATE_EXCHANGE_SOURCE},
        is_current=True,
        uploaded_by=actor.label,
        uploaded_at=utcnow(),
    )
    session.add(upload)
    session.flush()
    for line, record in enumerate(listed, start=1):
        record.upload_id, record.line = upload.id, line
    session.add_all(listed)
    exchange.upload_id = upload.id
    run = MappingRun(partner_id=partner_id, upload_id=upload.id, fingerprint=sha256, run_by=actor.label)
    session.add(run)
    session.flush()
    table = pa.table(
        {
            "our_id": pa.array([o for o, _ in pairs], pa.string()),
            "their_id": pa.array([t for _, t in pairs], pa.string()),
            "method": pa.array([METHOD] * len(pairs), pa.string()),
            "score": pa.array([1.0] * len(pairs), pa.float64()),
            "relation": pa.array(["same"] * len(pairs), pa.string()),
            "explanation": pa.array(
                ["; ".join(EXPLANATIONS[k] for k in sorted(kinds[p])) for p in pairs], pa.string()
            ),
        }
    )

    def explain(our: str, their: str, evidence: dict[str, Any]) -> dict[str, Any]:
        """The evidence columns a mapping run knows that we have, and the kinds of key that matched."""
        kept = {k: v for k, v in evidence.items() if v is not None}
        return kept | {"key_kinds": sorted(kinds[(our, their)])}

    stored = runs.store_matches(session, partner_id, run.id, table, explain)
    runs.update_overlaps(session, partner_id, upload.id, stored, today)
    touches = runs.write_overlap_touches(session, actor, partner_id, today, runs.opportunity_rows(session))
    run.our_accounts, run.their_accounts, run.matches = exchange.our_items, len(listed), len(stored)
    run.finished_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "mapping.partner_list_uploaded",
        "partner",
        partner_id,
        upload_id=upload.id,
        filename=upload.filename,
        rows=len(listed),
        source=runs.PRIVATE_EXCHANGE_SOURCE,
    )
    audit.record(
        session,
        actor,
        "mapping.run",
        "partner",
        partner_id,
        run_id=run.id,
        matches=len(stored),
        touches=touches,
    )
    emit(  # as a trusted upload does (mapping/uploads.py), so rules and their templates treat both alike
        session,
        EventKind.PARTNER_LIST_UPLOADED,
        partner_id=partner_id,
        partner_name=session.scalar(select(Partner.name).where(Partner.id == partner_id)),
        upload_id=upload.id,
        filename=upload.filename,
        rows=len(listed),
        matches=len(stored),
        source=runs.PRIVATE_EXCHANGE_SOURCE,
        link=f"/mapping/partners/{partner_id}",
    )
    return len(stored)


def private_counts(session: Session, partner_id: int) -> tuple[OverlapMatrix, PsiExchange] | None:
    """The counts of the partner's latest completed count-mode exchange, as an overlap matrix."""
    exchange = session.scalar(
        select(PsiExchange)
        .join(PsiConnection, PsiConnection.id == PsiExchange.connection_id)
        .where(
            PsiConnection.partner_id == partner_id,
            PsiExchange.mode == "count",
            PsiExchange.status == ExchangeStatus.DONE.value,
        )
        .order_by(PsiExchange.id.desc())
        .limit(1)
    )
    if exchange is None:
        return None
    counts = {(ours, theirs): int(n) for ours, theirs, n in exchange.counts}
    matrix = OverlapMatrix(
        our_populations=population_names(session),
        their_populations=sorted({theirs for _, theirs in counts}),
        counts=counts,
    )
    return matrix, exchange
