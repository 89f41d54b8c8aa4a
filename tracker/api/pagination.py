"""Paginated API lists: every list endpoint takes ``page`` and ``per_page`` and answers
``{"items": [...], "total": N, "page": p, "per_page": n, "next": "/api/v1/...?page=p+1"}``.

A list's response never grows with the scope (a city admin's meetings, a county's
matters): at most :data:`MAX_PER_PAGE` rows per request, read by the library's
pagination (``db.paginate``: the rows with LIMIT/OFFSET, the total with a count
that drops the ORDER BY). ``next`` is the same request with the page after, or
``null`` on the last page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from flask import request, url_for
from pydantic import BaseModel, Field
from sqlalchemy import Select

from tracker.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200

ItemT = TypeVar("ItemT")


class PageQuery(BaseModel):
    """The page arguments of every list endpoint (subclass it for a list's filters)."""

    page: int = Field(default=1, ge=1, description="页码，从 1 起")
    per_page: int = Field(
        default=DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PER_PAGE,
        description=f"每页条数（最多 {MAX_PER_PAGE}）",
    )


class Page(BaseModel, Generic[ItemT]):
    """One page of a list (subclass ``Page[ItemOut]`` to name it in the OpenAPI document)."""

    items: list[ItemT]
    total: int = Field(description="符合条件的总条数")
    page: int
    per_page: int
    next: str | None = Field(description="下一页的地址；最后一页为 null")


PageT = TypeVar("PageT", bound=Page[Any])


def paginate(
    page_model: type[PageT],
    stmt: Select[Any],
    query: PageQuery,
    convert: Callable[[Any], Any],
) -> PageT:
    """Run ``stmt`` for the requested page and build the page model from its rows."""
    pagination = db.paginate(
        stmt,
        page=query.page,
        per_page=query.per_page,
        max_per_page=MAX_PER_PAGE,
        error_out=False,
    )
    total = pagination.total or 0
    following = None
    if query.page * query.per_page < total:
        args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
        args.update(page=query.page + 1, per_page=query.per_page)
        following = url_for(str(request.endpoint), **args)
    return page_model(
        items=[convert(row) for row in pagination.items],
        total=total,
        page=query.page,
        per_page=query.per_page,
        next=following,
    )
