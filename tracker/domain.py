"""How a feature package plugs into the tracker: one :class:`Domain` per package.

Each domain package declares, in its ``__init__.py``, everything the core needs
to switch it on::

    DOMAIN = Domain(
        "tracker.halls",
        models=("models",),
        api=("api", "station_api"),
        jobs="jobs",
        commands="cli:commands",
        seeder="demo:seed_halls",
        todo=("views:camera_todo",),
        nav=(NavEntry("halls.index", _l("大厅监控"), order=30),),
    )

The parts are named ``"module:attribute"`` relative to the package and loaded
only when the core asks for them, so ``import tracker.halls`` stays cheap and
the core never imports a domain module at import time: the web app, ``tracker
jobs``, the CLI, Alembic and the demo each load the parts they need from the
one list :data:`PACKAGES`. Adding a package is one line there and one
``DOMAIN`` in the package.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from flask_babel import lazy_gettext as _l

# Every domain package, in the order their parts are loaded (blueprints, jobs,
# demo seeders — the demo's random sequence depends on the seeder order).
PACKAGES = (
    "tracker.dashboard",
    "tracker.halls",
    "tracker.matters",
    "tracker.meetings",
    "tracker.notifications",
    "tracker.org",
    "tracker.secondment",
    "tracker.trainings",
    "tracker.teams",
    "tracker.dues",
    "tracker.recruitment",
)


@dataclass(frozen=True)
class NavEntry:
    """One link of the navigation bar.

    ``label`` is a Chinese msgid (a ``lazy_gettext`` string); ``show(user)``
    hides the link from users it does not concern; ``badge`` names a function
    ``"module:attribute"`` ``(user) -> int`` whose non-zero answer is shown
    beside the label (as ``<span id=badge_id>``). ``section`` lists the endpoints
    (or endpoint prefixes) whose pages belong to the link, for the current-section
    mark; by default every page of the link's blueprint (the home link: only itself).
    """

    endpoint: str
    label: Any
    order: int
    show: Callable[[Any], bool] | None = None
    badge: str | None = None
    badge_id: str | None = None
    section: tuple[str, ...] = ()

    def prefixes(self) -> tuple[str, ...]:
        if self.section:
            return self.section
        blueprint = self.endpoint.split(".", 1)[0]
        return (self.endpoint,) if blueprint == "main" else (f"{blueprint}.",)


@dataclass(frozen=True)
class Domain:
    """What one feature package contributes (every part optional but the package)."""

    package: str
    blueprint: str | None = "views:bp"
    models: tuple[str, ...] = ("models",)
    api: tuple[str, ...] = ()  # modules declaring ``tracker.api.endpoint`` routes
    jobs: str | None = None  # module whose ``@scheduled_job`` functions ``tracker jobs`` runs
    commands: str | None = None  # ``() -> list[click.Command]`` added to ``tracker``
    seeder: str | None = None  # ``(DemoWorld) -> None`` for ``tracker seed-demo``
    companions: str | None = None  # ``(app, port, no_monitor) -> [(name, argv, env)]``
    todo: tuple[str, ...] = ()  # ``(scope, user) -> list[TodoItem]`` for the home page
    filters: str | None = None  # ``{name: function}``: Jinja filters (see tracker.formatting)
    nav: tuple[NavEntry, ...] = ()

    def module(self, name: str) -> ModuleType:
        """Import ``<package>.<name>``."""
        return importlib.import_module(f"{self.package}.{name}")

    def load(self, ref: str) -> Any:
        """The object a ``"module:attribute"`` reference names."""
        module, _, attr = ref.partition(":")
        return getattr(self.module(module), attr)


@functools.cache
def domains() -> tuple[Domain, ...]:
    """The :class:`Domain` of every package in :data:`PACKAGES`."""
    out = []
    for name in PACKAGES:
        domain = importlib.import_module(name).DOMAIN
        if not isinstance(domain, Domain) or domain.package != name:
            raise TypeError(f"{name}.DOMAIN must be Domain({name!r}, ...)")
        out.append(domain)
    return tuple(out)


def parts(attr: str) -> Iterator[tuple[Domain, Any]]:
    """Every domain's declared part ``attr`` (tuples flattened, ``None`` skipped)."""
    for domain in domains():
        value = getattr(domain, attr)
        for ref in value if isinstance(value, tuple) else (value,):
            if ref is not None:
                yield domain, ref


def import_models() -> None:
    """Import every domain's models so one metadata holds every table (Alembic, drift, tests)."""
    import tracker.models  # noqa: F401

    for domain, ref in parts("models"):
        domain.module(ref)


def blueprints() -> list[Any]:
    """Every domain's blueprint, after importing its API modules (their routes register first)."""
    for domain, ref in parts("api"):
        domain.module(ref)
    return [domain.load(ref) for domain, ref in parts("blueprint")]


def load_jobs() -> None:
    """Import every domain's jobs module, whose decorators fill :data:`tracker.jobs.JOBS`."""
    for domain, ref in parts("jobs"):
        domain.module(ref)


def loaded(attr: str) -> list[Any]:
    """Every domain's ``"module:attribute"`` part ``attr``, loaded (commands, seeders, todo …)."""
    return [domain.load(ref) for domain, ref in parts(attr)]


HOME = NavEntry("main.home", _l("首页"), order=0)


@dataclass(frozen=True)
class NavLink:
    """A navigation link as one user sees it: the entry and its badge count."""

    entry: NavEntry
    count: int = 0
    current: bool = False


def current_entry(entries: list[NavEntry], endpoint: str | None) -> NavEntry | None:
    """The entry whose section holds ``endpoint`` (the longest matching prefix wins)."""
    best: tuple[int, NavEntry | None] = (0, None)
    for entry in entries:
        for prefix in entry.prefixes():
            if endpoint and endpoint.startswith(prefix) and len(prefix) > best[0]:
                best = (len(prefix), entry)
    return best[1]


@functools.cache
def nav_entries() -> tuple[tuple[NavEntry, Callable[[Any], int] | None], ...]:
    """Every navigation entry in ``order`` with its loaded badge function (once per
    process: the declarations do not change while it runs; the counts are asked per page)."""
    entries = sorted([(None, HOME), *parts("nav")], key=lambda pair: pair[1].order)
    return tuple(
        (entry, domain.load(entry.badge) if domain is not None and entry.badge else None)
        for domain, entry in entries
    )


def nav_for(user: Any) -> list[NavLink]:
    """The navigation bar of ``user``: the home page and every domain's links, in ``order``."""
    from flask import has_request_context, request

    shown = [pair for pair in nav_entries() if pair[0].show is None or pair[0].show(user)]
    endpoint = request.endpoint if has_request_context() else None
    current = current_entry([entry for entry, _badge in shown], endpoint)
    return [
        NavLink(entry, _count(entry, badge, user) if badge is not None else 0, entry is current)
        for entry, badge in shown
    ]


def _count(entry: NavEntry, badge: Callable[[Any], int], user: Any) -> int:
    """A link's badge count, kept by data versions on a cached page
    (:func:`tracker.pagecache.memoized`): a hit asks the database nothing more."""
    from tracker import pagecache

    user_id = getattr(user, "id", None)
    return int(pagecache.memoized(("badge", entry.endpoint, user_id), lambda: badge(user)))
