"""A partner's account list: read from its CSV export, stored as a new upload that replaces the
partner's current one (earlier uploads are kept for history). The same content twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pyarrow as pa
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.crm.imports.formats import ImportFileError, normal_header
from ecoops.crm.imports.reader import CsvRows, examine
from ecoops.crm.imports.records import column_length
from ecoops.engines.matching.domains import registrable_domains
from ecoops.events import EventKind, emit
from ecoops.mapping.files import MappingFileError, engine_columns
from ecoops.mapping.models import PartnerAccount, PartnerUpload
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound, Permission, require

# The partner's own segment of each account (their "Customers", "Open Opportunities" …).
POPULATION_HEADERS = ("Population", "Population Name", "Segment", "List", "List Name")
KEY_COLUMNS = ("domain", "website", "email")
# The stored lengths: a longer value refuses the list (cutting it could merge two ids).
_LENGTHS = {
    name: column_length(cast(Table, PartnerAccount.__table__), name)
    for name in ("their_id", "name", "domain", "country", "population")
}


@dataclass(frozen=True)
class UploadOutcome:
    upload: PartnerUpload
    changed: bool  # False: the partner's current list already had this content


def current_upload(session: Session, partner_id: int) -> PartnerUpload | None:
    return session.scalar(
        select(PartnerUpload).where(PartnerUpload.partner_id == partner_id, PartnerUpload.is_current)
    )


def uploads(session: Session, actor: Actor, partner_id: int) -> list[PartnerUpload]:
    """The partner's uploads, newest first."""
    require(actor, Permission.READ_MAPPING)
    return list(
        session.scalars(
            select(PartnerUpload)
            .where(PartnerUpload.partner_id == partner_id)
            .order_by(PartnerUpload.id.desc())
        )
    )


def upload_partner_list(
    session: Session, actor: Actor, partner_id: int, path: Path, filename: str
) -> UploadOutcome:
    """Store a partner's export as its current list; MappingFileError names the file and what is missing."""
    require(actor, Permission.MANAGE_MAPPING)
    if session.get(Partner, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    try:
        facts = examine(path, filename)
        current = current_upload(session, partner_id)
        if current is not None and current.sha256 == facts.sha256:
            return UploadOutcome(current, changed=False)
        with CsvRows(facts) as rows:
            header = rows.header
            columns = engine_columns(header, filename)
            by_normal = {normal_header(h): h for h in header}
            population = next(
                (by_normal[normal_header(h)] for h in POPULATION_HEADERS if normal_header(h) in by_normal),
                None,
            )
            if population is not None:
                columns["population"] = population
            used = set(columns.values())
            position = {h: i for i, h in reversed(list(enumerate(header)))}
            records, without_id = [], []
            for line, cells in rows:
                cell = {h: cells[position[h]].strip() if position[h] < len(cells) else "" for h in header}
                value = {name: cell[h] for name, h in columns.items()}
                if not value["id"]:
                    without_id.append(line)
                    continue
                key = next((k for k in KEY_COLUMNS if value.get(k)), "domain")
                stored = {
                    "their_id": ("id", value["id"]),
                    "name": ("name", value.get("name", "")),
                    "domain": (key, value.get(key, "")),
                    "country": ("country", value.get("country", "")),
                    "population": ("population", value.get("population", "")),
                }
                for attribute, (name, text) in stored.items():
                    if len(text) > _LENGTHS[attribute]:
                        raise MappingFileError(
                            f"{filename}: line {line}: {columns[name]!r} is {len(text):,} characters; "
                            f"at most {_LENGTHS[attribute]:,}"
                        )
                records.append(
                    PartnerAccount(
                        line=line,
                        **{attribute: text for attribute, (_name, text) in stored.items()},
                        fields={h: v for h, v in cell.items() if h not in used and v},
                    )
                )
    except ImportFileError as exc:
        raise MappingFileError(str(exc)) from None
    session.execute(
        update(PartnerUpload).where(PartnerUpload.partner_id == partner_id).values(is_current=False)
    )
    upload = PartnerUpload(
        partner_id=partner_id,
        filename=filename[:300],
        sha256=facts.sha256,
        rows=len(records),
        rows_without_id=without_id,
        rows_without_key=_unkeyed_lines(records),
        columns=columns,
        is_current=True,
        uploaded_by=actor.label,
        uploaded_at=utcnow(),
    )
    session.add(upload)
    session.flush()
    for record in records:
        record.upload_id = upload.id
    session.add_all(records)
    session.flush()
    audit.record(
        session,
        actor,
        "mapping.partner_list_uploaded",
        "partner",
        partner_id,
        upload_id=upload.id,
        filename=filename,
        rows=len(records),
        rows_without_id=len(without_id),
        rows_without_key=len(upload.rows_without_key),
    )
    emit(
        session,
        EventKind.PARTNER_LIST_UPLOADED,
        partner_id=partner_id,
        partner_name=session.scalar(select(Partner.name).where(Partner.id == partner_id)),
        upload_id=upload.id,
        filename=upload.filename,
        rows=len(records),
        link=f"/mapping/partners/{partner_id}",
    )
    return UploadOutcome(upload, changed=True)


def _unkeyed_lines(records: list[PartnerAccount]) -> list[int]:
    """Lines of rows with neither a name nor a usable domain: kept and reported, but never matchable."""
    domains = registrable_domains(pa.array([r.domain for r in records], pa.string())).to_pylist()
    return [r.line for r, domain in zip(records, domains, strict=True) if not r.name and domain is None]
