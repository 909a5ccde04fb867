"""Pydantic shapes of the content library, its utilisation and playbooks for the API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from ecoops.enablement.models import ContentItem, ContentKind, ContentStage, Motion, Playbook
from ecoops.enablement.uses import ItemCounts, Utilisation
from ecoops.web.fields import Id, UtcDateTime


class ContentIn(BaseModel):
    """A link for the library (files are uploaded on the library page); no partner: for all partners."""

    title: str = Field(min_length=1, max_length=200)
    kind: ContentKind
    link: str = Field(min_length=1, max_length=2000, description="an http:// or https:// address")
    description: str = Field("", max_length=4000)
    partner_id: Id | None = None
    product: str = Field("", max_length=120)
    motion: Motion = Motion.ANY
    stage: ContentStage = ContentStage.ANY


class ContentOut(BaseModel):
    """An item, with its counted uses (each a person-day)."""

    id: int
    title: str
    kind: str
    description: str
    link: str
    file_name: str
    file_size: int
    partner_id: int | None
    product: str
    motion: str
    stage: str
    created_by: str
    created_at: UtcDateTime
    internal_views: int
    partner_views: int
    internal_shares: int
    partner_shares: int

    @classmethod
    def of(cls, item: ContentItem, counts: ItemCounts) -> ContentOut:
        return cls(
            id=item.id,
            title=item.title,
            kind=item.kind,
            description=item.description,
            link=item.link,
            file_name=item.file_name,
            file_size=item.file_size,
            partner_id=item.partner_id,
            product=item.product,
            motion=item.motion,
            stage=item.stage,
            created_by=item.created_by,
            created_at=item.created_at,
            internal_views=counts.internal_views,
            partner_views=counts.partner_views,
            internal_shares=counts.internal_shares,
            partner_shares=counts.partner_shares,
        )


class ContentPage(BaseModel):
    items: list[ContentOut]
    total: int
    page: int
    per_page: int


class UtilisationOut(BaseModel):
    """Content utilisation by Sales on referrals: of the inbound referrals submitted in the period, the
    share from which a seller opened content by its end (docs/enablement.md)."""

    start: date
    end: date
    referrals: int
    opened: int
    share: float | None = Field(description="opened / referrals; null when there were no referrals")
    opened_ids: list[int] = Field(description="the referrals counted as opened")
    not_opened_ids: list[int]

    @classmethod
    def of(cls, figure: Utilisation) -> UtilisationOut:
        return cls(
            start=figure.start,
            end=figure.end,
            referrals=figure.total,
            opened=figure.opened,
            share=None if figure.share is None else round(figure.share, 4),
            opened_ids=[r.referral.id for r in figure.referrals if r.opened],
            not_opened_ids=[r.referral.id for r in figure.referrals if not r.opened],
        )


class StepOut(BaseModel):
    position: int
    title: str
    detail: str
    who: str
    content_id: int | None


class PlaybookOut(BaseModel):
    id: int
    title: str
    motion: str
    summary: str
    published: bool
    partner_id: int | None
    steps: list[StepOut]

    @classmethod
    def of(cls, playbook: Playbook) -> PlaybookOut:
        return cls(
            id=playbook.id,
            title=playbook.title,
            motion=playbook.motion,
            summary=playbook.summary,
            published=playbook.published,
            partner_id=playbook.partner_id,
            steps=[
                StepOut(
                    position=s.position, title=s.title, detail=s.detail, who=s.who, content_id=s.content_id
                )
                for s in playbook.steps
            ],
        )
