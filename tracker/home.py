"""The home page: what is the logged-in user's to do.

Each domain names its providers in its ``DOMAIN`` (``todo=``); a provider takes
the user's scope and returns :class:`TodoItem` s (overdue matters, meetings
missing this month, dark cameras …). The home page shows them, most urgent first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracker.models import User
from tracker.scope import Scope


# severity: 0 = urgent (red), 1 = soon (amber), 2 = information
@dataclass(frozen=True)
class TodoItem:
    severity: int
    title: str
    detail: str
    url: str
    count: int | None = None


TodoProvider = Callable[[Scope, User], list[TodoItem]]


def todo_for(user: User) -> list[TodoItem]:
    """Every domain's to-do items for ``user``, most urgent first."""
    from tracker.domain import loaded

    scope = Scope.for_user(user)
    items: list[TodoItem] = []
    provider: TodoProvider
    for provider in loaded("todo"):
        items.extend(provider(scope, user))
    return sorted(items, key=lambda i: (i.severity, i.title))
