"""The home page: what is the logged-in user's to do.

Each domain registers a provider with :func:`todo_provider`; a provider takes
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
TODO_PROVIDERS: list[TodoProvider] = []


def todo_provider(fn: TodoProvider) -> TodoProvider:
    TODO_PROVIDERS.append(fn)
    return fn


def todo_for(user: User) -> list[TodoItem]:
    scope = Scope.for_user(user)
    items: list[TodoItem] = []
    for provider in TODO_PROVIDERS:
        items.extend(provider(scope, user))
    return sorted(items, key=lambda i: (i.severity, i.title))
