"""The content library: files and links tagged by partner, product, motion and stage; attached to
referrals and opportunities. Every read starts from `readable_content`, which narrows a partner user to
the items for all partners and for its own partner; anything else is "not found", as if it did not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor, ActorKind, Role
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.enablement.models import (
    ContentAttachment,
    ContentItem,
    ContentKind,
    ContentStage,
    Motion,
    Subject,
)
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.partners.programs import FieldError
from ecoops.permissions import Forbidden, NotFound, Permission, allowed, require
from ecoops.referrals.access import get_referral
from ecoops.stored_files import file_name, keep_file

MAX_TITLE, MAX_DESCRIPTION, MAX_LINK, MAX_PRODUCT = 200, 4000, 2000, 120
# What the library keeps: documents, slides, sheets, images and short videos; never served inline.
FILE_SUFFIXES = (".pdf", ".pptx", ".docx", ".xlsx", ".csv", ".txt", ".md", ".png", ".jpg", ".jpeg", ".mp4")
_LINK = re.compile(r"https?://[^\s/]+\S*", re.IGNORECASE)
_ATTACHERS = (Role.ADMIN, Role.OPS, Role.PARTNER_MANAGER, Role.SALES)


@dataclass(frozen=True)
class Upload:
    """A file given for an item: its stream (read up to the cap) and the name its owner knows."""

    stream: BinaryIO
    filename: str


@dataclass(frozen=True)
class ContentInput:
    title: str
    kind: str
    description: str = ""
    link: str = ""
    partner_id: int | None = None  # None: for all partners
    product: str = ""
    motion: str = Motion.ANY.value
    stage: str = ContentStage.ANY.value


@dataclass(frozen=True)
class ContentFilters:
    motion: str = ""
    stage: str = ""
    product: str = ""
    partner_id: int | None = None  # the items for that partner: its own and those for all partners
    q: str = ""


def readable_content(actor: Actor) -> Select[ContentItem]:
    """Internal readers of the program see every item; a partner user those for all partners or its own."""
    statement = select(ContentItem)
    if actor.kind == ActorKind.PARTNER_USER:
        return statement.where(
            or_(ContentItem.partner_id.is_(None), ContentItem.partner_id == actor.partner_id)
        )
    require(actor, Permission.READ_PROGRAM)
    return statement


def get_content(session: Session, actor: Actor, content_id: int) -> ContentItem:
    """The item, or NotFound when it does not exist or is not for the actor's partner (the same answer)."""
    item = session.scalar(readable_content(actor).where(ContentItem.id == content_id))
    if item is None:
        raise NotFound(f"no content item {content_id}")
    return item


def search_content(
    session: Session, actor: Actor, filters: ContentFilters, *, page: int = 1, per_page: int = 50
) -> Page[ContentItem]:
    """The items the actor may see, newest first; an item tagged `any` matches every motion or stage."""
    statement = readable_content(actor)
    if filters.motion:
        statement = statement.where(ContentItem.motion.in_([filters.motion, Motion.ANY.value]))
    if filters.stage:
        statement = statement.where(ContentItem.stage.in_([filters.stage, ContentStage.ANY.value]))
    if filters.product:
        statement = statement.where(ContentItem.product.in_([filters.product, ""]))
    if filters.partner_id is not None:
        statement = statement.where(
            or_(ContentItem.partner_id.is_(None), ContentItem.partner_id == filters.partner_id)
        )
    if filters.q.strip():
        statement = statement.where(ContentItem.title.ilike(f"%{filters.q.strip()}%"))
    return paginate(session, statement.order_by(ContentItem.id.desc()), page=page, per_page=per_page)


def _choice(field: str, value: str, allowed_values: tuple[str, ...]) -> str:
    if value not in allowed_values:
        raise FieldError(field, f"must be one of {', '.join(allowed_values)}, not {value!r}")
    return value


def _checked(session: Session, data: ContentInput, upload: Upload | None) -> ContentInput:
    title, link = data.title.strip(), data.link.strip()
    if not title:
        raise FieldError("title", "give the item a title")
    if len(title) > MAX_TITLE:
        raise FieldError("title", f"at most {MAX_TITLE} characters")
    if len(data.description) > MAX_DESCRIPTION:
        raise FieldError("description", f"at most {MAX_DESCRIPTION} characters")
    if len(data.product.strip()) > MAX_PRODUCT:
        raise FieldError("product", f"at most {MAX_PRODUCT} characters")
    if upload is None and not link:
        raise FieldError("file", "upload a file or give a link")
    if upload is not None and link:
        raise FieldError("link", "an item is a file or a link, not both")
    if link and (len(link) > MAX_LINK or not _LINK.fullmatch(link)):
        raise FieldError("link", f"an http:// or https:// address of at most {MAX_LINK} characters")
    if upload is not None and not upload.filename.lower().endswith(FILE_SUFFIXES):
        raise FieldError(
            "file",
            f"{file_name(upload.filename, 'file')} is not a kind the library keeps "
            f"({', '.join(FILE_SUFFIXES)})",
        )
    if data.partner_id is not None and session.get(Partner, data.partner_id) is None:
        raise FieldError("partner_id", f"no partner {data.partner_id}")
    return ContentInput(
        title=title,
        kind=_choice("kind", data.kind, tuple(ContentKind)),
        description=data.description.strip(),
        link=link,
        partner_id=data.partner_id,
        product=data.product.strip(),
        motion=_choice("motion", data.motion, tuple(Motion)),
        stage=_choice("stage", data.stage, tuple(ContentStage)),
    )


def content_folder(settings: Settings) -> Path:
    # Beside the import uploads, in a folder of its own: the uploads' clean-up never reaches in here.
    return settings.uploads_dir / "enablement"


def add_content(
    session: Session, actor: Actor, data: ContentInput, settings: Settings, upload: Upload | None = None
) -> ContentItem:
    """A new item, a file or a link; FieldError names what is wrong. The file is kept last, once every
    other check passed, so a refusal leaves nothing behind."""
    require(actor, Permission.EDIT_PROGRAM)
    checked = _checked(session, data, upload)
    item = ContentItem(
        title=checked.title,
        kind=checked.kind,
        description=checked.description,
        link=checked.link,
        partner_id=checked.partner_id,
        product=checked.product,
        motion=checked.motion,
        stage=checked.stage,
        created_by=actor.label,
    )
    if upload is not None:
        cap = settings.enablement_max_file_bytes
        item.file_token, item.file_size = keep_file(
            upload.stream, upload.filename, content_folder(settings), cap, "enablement content"
        )
        item.file_name = file_name(upload.filename, "content")
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor,
        "content.added",
        "content_item",
        item.id,
        title=item.title,
        kind=item.kind,
        partner_id=item.partner_id,
        file=item.file_name,
        link=item.link,
    )
    return item


def delete_content(session: Session, actor: Actor, item: ContentItem, settings: Settings) -> None:
    """Remove the item with its attachments, uses and file (playbook steps keep their text)."""
    require(actor, Permission.EDIT_PROGRAM)
    audit.record(session, actor, "content.deleted", "content_item", item.id, title=item.title)
    token = item.file_token
    session.delete(item)
    session.flush()
    if token:
        (content_folder(settings) / token).unlink(missing_ok=True)


def content_file(item: ContentItem, settings: Settings) -> Path:
    """The stored file of a file item (NotFound for a link, or a file gone from the disk)."""
    path = content_folder(settings) / item.file_token
    if not item.file_token or not path.is_file():
        raise NotFound(f"content item {item.id} has no file")
    return path


# --- attachments ---------------------------------------------------------------------------------------


def may_attach(actor: Actor) -> bool:
    """Sellers, partner managers, ops and admins attach content to deals; viewers and partners only read."""
    return actor.is_internal and actor.role in _ATTACHERS


def _subject_key(session: Session, actor: Actor, subject: str, key: str) -> str:
    if subject == Subject.REFERRAL:
        if not key.isdigit() or len(key) > 10:
            raise FieldError("referral", f"a referral number, not {key!r}")
        return str(get_referral(session, actor, int(key)).id)
    if subject == Subject.OPPORTUNITY:
        if session.scalar(select(Opportunity.id).where(Opportunity.crm_id == key.strip())) is None:
            raise FieldError("opportunity", f"no opportunity with CRM id {key!r}")
        return key.strip()
    raise FieldError("subject", f"must be referral or opportunity, not {subject!r}")


def attach(session: Session, actor: Actor, item: ContentItem, subject: str, key: str) -> bool:
    """Attach the item to a referral or an opportunity; False when it already was."""
    if not may_attach(actor):
        raise Forbidden(f"{actor.label} may not attach content")
    subject_key = _subject_key(session, actor, subject, key)
    found = select(ContentAttachment.id).where(
        ContentAttachment.content_id == item.id,
        ContentAttachment.subject == subject,
        ContentAttachment.subject_key == subject_key,
    )
    if session.scalar(found) is not None:
        return False
    try:
        with session.begin_nested():  # the same attachment made at the same moment elsewhere
            session.add(
                ContentAttachment(
                    content_id=item.id, subject=subject, subject_key=subject_key, attached_by=actor.label
                )
            )
            session.flush()
    except IntegrityError:
        return False
    audit.record(
        session, actor, "content.attached", "content_item", item.id, subject=subject, subject_key=subject_key
    )
    return True


def detach(session: Session, actor: Actor, item: ContentItem, subject: str, key: str) -> None:
    if not may_attach(actor):
        raise Forbidden(f"{actor.label} may not attach content")
    session.execute(
        delete(ContentAttachment).where(
            ContentAttachment.content_id == item.id,
            ContentAttachment.subject == subject,
            ContentAttachment.subject_key == key,
        )
    )
    audit.record(
        session, actor, "content.detached", "content_item", item.id, subject=subject, subject_key=key
    )


def attached_to(session: Session, actor: Actor, subject: str, keys: list[str]) -> list[ContentItem]:
    """The items the actor may see attached to any of those referrals or opportunities, oldest first."""
    if not keys:
        return []
    statement = readable_content(actor).where(
        ContentItem.id.in_(
            select(ContentAttachment.content_id).where(
                ContentAttachment.subject == subject, ContentAttachment.subject_key.in_(keys)
            )
        )
    )
    return list(session.scalars(statement.order_by(ContentItem.id)))


def attachments_of(session: Session, item: ContentItem) -> list[ContentAttachment]:
    statement = select(ContentAttachment).where(ContentAttachment.content_id == item.id)
    return list(session.scalars(statement.order_by(ContentAttachment.id)))


def products(session: Session, actor: Actor) -> list[str]:
    """The products items are tagged with, for the filter."""
    statement = readable_content(actor).with_only_columns(ContentItem.product).distinct()
    return sorted(p for p in session.scalars(statement) if p)


def may_edit(actor: Actor) -> bool:
    return allowed(actor, Permission.EDIT_PROGRAM)
