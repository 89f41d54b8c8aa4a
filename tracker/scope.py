"""Region scope: the one mechanism that limits every read and write.

A user (or API token) is bound to one region node; they may see what lies in
that node's subtree and nothing else. Every scoped model carries a
``region_id`` (the village, or the node the row belongs to), so the rule is a
single indexed condition added to every query:

    region_id IN (SELECT id FROM region WHERE path LIKE '/1/4/%')

Out-of-scope objects are answered with 404, exactly like missing ones, so a
township editor cannot even learn that another township's record exists.
Viewers get 403 on writes to objects they can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from tracker.extensions import db
from tracker.models import Branch, Region, RegionLevel, Role, User, in_subtree, subtree_ids

T = TypeVar("T")
SelectT = TypeVar("SelectT", bound=Select)


@dataclass(frozen=True)
class Scope:
    """What one user may see (the subtree at ``region_path``) and do (``role``)."""

    user_id: int | None
    region_id: int
    region_path: str
    role: Role

    @classmethod
    def for_user(cls, user: User) -> Scope:
        return cls(user.id, user.region_id, user.region.path, user.role)

    @property
    def can_write(self) -> bool:
        return self.role in (Role.admin, Role.editor)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    def region_ids(self) -> Any:
        """Scalar subquery: ids of every region node in scope."""
        return subtree_ids(self.region_path)

    def column_for(self, model: type) -> InstrumentedAttribute[Any]:
        col = getattr(model, "region_id", None)
        if model is Region:
            col = Region.id
        if col is None:
            raise TypeError(f"{model.__name__} has no region_id; it cannot be scoped")
        return col

    def filter(self, stmt: SelectT, model: type) -> SelectT:
        """Limit ``stmt`` (which selects from ``model``) to rows in scope."""
        if model is Region:
            return stmt.where(in_subtree(self.region_path))
        return stmt.where(self.column_for(model).in_(self.region_ids()))

    def select(self, model: type[T]) -> Select[T]:
        """``select(model)`` limited to the scope."""
        return self.filter(select(model), model)

    def contains_region(self, region: Region | None) -> bool:
        return region is not None and self.contains_path(region.path)

    def contains_path(self, path: str) -> bool:
        """Whether the region at materialized ``path`` is in scope (no query)."""
        return path.startswith(self.region_path)

    def contains_region_id(self, region_id: int | None) -> bool:
        if region_id is None:
            return False
        region = db.session.get(Region, region_id)
        return self.contains_region(region)

    def get_or_404(self, model: type[T], ident: Any) -> T:
        """Load one object by primary key; 404 if missing *or* out of scope."""
        try:
            obj = db.session.get(model, ident)
        except (ValueError, TypeError):
            obj = None
        if obj is None:
            abort(404)
        region_id = getattr(obj, "id" if model is Region else "region_id", None)
        if not self.contains_region_id(region_id):
            abort(404)
        return obj

    def get_village(self, region_id: Any) -> Region:
        """A village (村/社区) in scope; 404 for anything else, a township id included."""
        region = self.get_or_404(Region, region_id)
        if region.level != RegionLevel.village:
            abort(404)
        return region

    def get_village_for_write(self, region_id: Any) -> Region:
        """A village to write in: 404 as :meth:`get_village`, then 403 for a viewer."""
        region = self.get_village(region_id)
        self.require_write(region.id)
        return region

    def get_village_branch(self, region_id: Any) -> tuple[Region, Branch]:
        """A village in scope and its party branch; 404 when either is missing."""
        region = self.get_village(region_id)
        branch = db.session.scalar(select(Branch).where(Branch.region_id == region.id).limit(1))
        if branch is None:
            abort(404)
        return region, branch

    def get_for_write(self, model: type[T], ident: Any) -> T:
        """Load one object to change it: 404 if missing or out of scope, 403 for a viewer."""
        obj = self.get_or_404(model, ident)
        if not self.can_write:
            abort(403)
        return obj

    def require_write(self, region_id: int | None = None) -> None:
        """Abort unless this user may write in ``region_id`` (or anywhere, if None)."""
        if region_id is not None and not self.contains_region_id(region_id):
            abort(404)
        if not self.can_write:
            abort(403)

    def require_admin(self, region_id: int | None = None) -> None:
        if region_id is not None and not self.contains_region_id(region_id):
            abort(404)
        if not self.is_admin:
            abort(403)


def current_scope() -> Scope:
    """The scope of the user of this request (session or API token)."""
    scope: Scope | None = g.get("scope")
    if scope is None:
        if not current_user.is_authenticated:
            abort(401)
        scope = Scope.for_user(current_user._get_current_object())
        g.scope = scope
    return scope
