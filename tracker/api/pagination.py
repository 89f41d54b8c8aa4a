"""Paginated API lists: every list endpoint takes ``page`` and ``per_page`` and answers
``{"items": [...], "total": N, "page": p, "per_page": n, "next": "/api/v1/...?page=p+1"}``.

A list's response never grows with the scope (a city admin's meetings, a county's
matters): at most :data:`MAX_PER_PAGE` rows per request, read with LIMIT/OFFSET; the
total is counted without the ORDER BY — or not at all when the page came back short
(it is then the rows before the page plus the page's). ``next`` is the same request
with the page after, or ``null`` on the last page.

Two ways to build the items, one pagination:

* :func:`paginate` — ``stmt`` selects one entity; ``convert`` makes each item's model;
* :func:`paginate_rows` — for long lists (hundreds of children per page): ``stmt``
  selects plain columns (no ORM instances), ``items`` turns all the page's rows into
  plain dicts at once (loading their children with :func:`tracker.rows.rows_by`, one
  statement per kind of child) and the page is serialised once, without a pydantic model per item.
  The endpoint still documents the page model; under test every such page is checked
  to be exactly what the page model would have answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import pydantic_core
from flask import Response, current_app, request, url_for
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from tracker.extensions import db
from tracker.rows import AnyRow, AnySelect, fetch

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
    """Run ``stmt`` (one entity) for the requested page and build the page model from
    its objects."""
    objects, total = _page_of(stmt, query, scalars=True)
    return page_model(
        items=[convert(obj) for obj in objects],
        total=total,
        page=query.page,
        per_page=query.per_page,
        next=_next_url(query, total),
    )


def paginate_rows(
    page_model: type[Page[Any]],
    stmt: AnySelect,
    query: PageQuery,
    items: Callable[[Sequence[AnyRow]], list[dict[str, Any]]],
) -> Response:
    """Run ``stmt`` (plain columns) for the requested page and answer the JSON of
    ``page_model`` whose items ``items`` builds, as plain dicts, from the page's rows."""
    rows, total = _page_of(stmt, query, scalars=False)
    page = {
        "items": items(rows),
        "total": total,
        "page": query.page,
        "per_page": query.per_page,
        "next": _next_url(query, total),
    }
    body = pydantic_core.to_json(page, ensure_ascii=True)
    if current_app.testing:
        _check_page(page_model, page, body)
    return current_app.response_class(body + b"\n", mimetype="application/json")


def _page_of(stmt: AnySelect, query: PageQuery, *, scalars: bool) -> tuple[list[Any], int]:
    """The page's objects (``scalars``) or rows, and the total."""
    offset = (query.page - 1) * query.per_page
    paged = stmt.limit(query.per_page).offset(offset)
    found: list[Any] = (
        list(db.session.execute(paged).unique().scalars()) if scalars else list(fetch(paged))
    )
    if len(found) < query.per_page and (found or offset == 0):
        return found, offset + len(found)
    counted = stmt.options(lazyload("*")) if scalars else stmt
    total = db.session.scalar(select(func.count()).select_from(counted.order_by(None).subquery()))
    return found, total or 0


def _next_url(query: PageQuery, total: int) -> str | None:
    if query.page * query.per_page >= total:
        return None
    args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
    args.update(page=query.page + 1, per_page=query.per_page)
    return url_for(str(request.endpoint), **args)


def _check_page(page_model: type[Page[Any]], page: dict[str, Any], body: bytes) -> None:
    """Under test: the JSON built from plain dicts is what ``page_model`` answers."""
    expected = page_model.model_validate(page).model_dump(mode="json")
    if json.loads(body) != expected:
        raise AssertionError(f"{page_model.__name__}: the items differ from the model")
