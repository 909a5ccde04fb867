"""Pagination for API lists: the `page` and `per_page` parameters, and the envelope lists answer with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from ecoops.pagination import Page
from ecoops.web.fields import PageNumber, PerPage

ItemOut = TypeVar("ItemOut", bound=BaseModel)


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int


def page_request(
    page: Annotated[PageNumber, Query(description="1-based page number")] = 1,
    per_page: Annotated[PerPage, Query(description="items per page")] = 50,
) -> PageRequest:
    """A dependency reading the pager's query parameters."""
    return PageRequest(page=page, per_page=per_page)


class PageOut(BaseModel, Generic[ItemOut]):
    """One page of a list; `total` counts every match, `pages` how many pages they fill."""

    items: list[ItemOut]
    total: int
    page: int
    per_page: int
    pages: int


def page_out(page: Page[Any], schema: type[ItemOut]) -> PageOut[ItemOut]:
    """Convert a service's page of records into the API envelope of `schema` items."""
    return PageOut[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(item) for item in page.items],
        total=page.total,
        page=page.page,
        per_page=page.per_page,
        pages=page.pages,
    )
