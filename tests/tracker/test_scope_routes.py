"""Every route of the app, walked as every role: the scope rule holds everywhere.

The test iterates ``app.url_map`` — every blueprint, including routes added by
packages written after this test — and for each rule and method checks:

- anonymous: a page redirects to the login page, the JSON API answers 401
  (public endpoints listed in :data:`PUBLIC_ENDPOINTS` and API operations
  declared with ``auth="none"`` are exempt);
- ids of another county's objects: 404 on every GET, and on writes the same
  answer as for an id that does not exist (no leak of existence); pages 404;
- ids that exist nowhere: 404 on every GET;
- a county viewer writing to objects in its own county: 403 on pages, never a
  2xx on the API, and no row of the audit log written;
- nothing ever answers 5xx (in testing, an unhandled error fails the test).

Ids are substituted from :data:`SCOPE_OBJECTS`, keyed by the URL argument
name (``member_id`` …). Each entry gets the test world and a village and
returns the id of an object of that kind *in that village*, creating it if
needed. Unknown argument names ``<thing>_id`` are resolved automatically: the
table named ``thing`` (or a table whose model class is ``Thing``) is searched
for a row with ``region_id`` in the village. A package whose objects are not
found that way adds a module ``tests/**/scope_objects_<package>.py`` with a
``SCOPE_OBJECTS`` dict of the same shape; it is merged in here.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import World, make_user
from tracker.extensions import db as sqla
from tracker.models import AuditLog, Member, PartyGroup, Region, Role, VillageCadre

ObjectFinder = Callable[[World, Region], int | None]

UNKNOWN_ID = 987_654_321
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Endpoints anyone may reach without signing in.
PUBLIC_ENDPOINTS = {"static", "auth.login", "main.healthz", "main.set_language", "api.openapi_json"}
# Writes a viewer may make: they concern only the viewer's own account or session.
VIEWER_MAY_WRITE = {
    "auth.logout",
    "main.set_language",
    "org.my_tokens",
    "notifications.read_all",
    "notifications.open_note",
}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes most of a second per user; tests need no such cost."""
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def _cadre(world: World, village: Region) -> int:
    cadre = sqla.session.scalar(select(VillageCadre).where(VillageCadre.region_id == village.id))
    if cadre is None:
        cadre = VillageCadre(
            region_id=village.id, name="测试干部", post="委员", since=date(2020, 1, 1)
        )
        sqla.session.add(cadre)
        sqla.session.flush()
    return cadre.id


def _user(world: World, village: Region) -> int:
    from tracker.models import User

    found = sqla.session.scalar(select(User.id).where(User.region_id == village.id).limit(1))
    return found if found is not None else make_user(Role.editor, village).id


SCOPE_OBJECTS: dict[str, ObjectFinder] = {
    "region_id": lambda w, v: v.id,
    "village_id": lambda w, v: v.id,
    "township_id": lambda w, v: v.parent_id,
    "branch_id": lambda w, v: w.branch(v).id,
    "group_id": lambda w, v: w.groups[v.id][0].id,
    "member_id": lambda w, v: w.members[v.id][0].id,
    "cadre_id": _cadre,
    "user_id": _user,
}


def _load_extensions() -> None:
    """Merge ``SCOPE_OBJECTS`` of every ``tests/**/scope_objects_*.py``."""
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("scope_objects_*.py")):
        spec = importlib.util.spec_from_file_location(f"_scope_ext_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        SCOPE_OBJECTS.update(getattr(module, "SCOPE_OBJECTS", {}))
        VIEWER_MAY_WRITE.update(getattr(module, "VIEWER_MAY_WRITE", set()))


_load_extensions()


def _model_for(arg: str) -> Any:
    """The model a ``<thing>_id`` argument names, by table or class name."""
    from tracker.domain import import_models
    from tracker.models import Base

    import_models()

    stem = arg.removesuffix("_id")
    camel = "".join(part.capitalize() for part in stem.split("_"))
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__tablename__", None) == stem or cls.__name__ == camel:
            return cls
    return None


_FOUND: dict[tuple[int, str, int], int | None] = {}


def find_object(arg: str, world: World, village: Region) -> int | None:
    """An id for URL argument ``arg`` of an object in ``village`` (None if unknown).

    A registered finder may create its object; it is then committed (into the
    test's outer transaction, still rolled back at the end) so that an error
    handler's rollback cannot take it away, and remembered for the test.
    """
    if arg in SCOPE_OBJECTS:
        key = (id(world), arg, village.id)
        if key not in _FOUND:
            _FOUND[key] = SCOPE_OBJECTS[arg](world, village)
            sqla.session.commit()
        return _FOUND[key]
    model = _model_for(arg)
    if model is None or not hasattr(model, "region_id"):
        return None
    return sqla.session.scalar(
        select(model.id).where(model.region_id == village.id).order_by(model.id).limit(1)
    )


def _int_args(rule: Any) -> list[str]:
    return [
        name for name, conv in rule._converters.items() if type(conv).__name__ == "IntegerConverter"
    ]


def _other_args(rule: Any) -> list[str]:
    return [
        name for name, conv in rule._converters.items() if type(conv).__name__ != "IntegerConverter"
    ]


def _routes(app: Flask) -> list[tuple[Any, str]]:
    """(rule, method) for every route of the app that takes only int arguments."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or _other_args(rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return out


def _api_auth(rule: Any, method: str) -> str | None:
    """The declared auth scheme of a JSON API operation (None for pages)."""
    from tracker.api.core import OPERATIONS

    if not rule.rule.startswith("/api/"):
        return None
    path = rule.rule.removeprefix("/api/v1")
    for op in OPERATIONS:
        if op.rule == path and op.method == method:
            return op.auth
    return "user"


def _url(rule: Any, ids: dict[str, int]) -> str:
    return re.sub(r"<(?:int:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def _call(client: Any, method: str, url: str) -> Any:
    kwargs: dict[str, Any] = {}
    if method in WRITE_METHODS:
        kwargs = {"json": {}} if url.startswith("/api/") else {"data": {}}
    return client.open(url, method=method, **kwargs)


def _fresh_request_state() -> None:
    """The test's app context is shared by its requests; drop per-request caches."""
    from flask import g

    for key in ("scope", "_flask_babel", "token_auth", "_login_user"):
        g.pop(key, None)


def _audit_rows() -> int:
    return int(sqla.session.scalar(select(func.count(AuditLog.id))) or 0)


@pytest.fixture
def routes(app: Flask) -> list[tuple[Any, str]]:
    return _routes(app)


@pytest.fixture
def world(world: World, db: Any) -> World:
    """The shared world, committed to the test's savepoint.

    Error handlers roll the session back; without this commit that rollback
    would take the world with it. The outer transaction still rolls back.
    """
    _FOUND.clear()
    db.session.commit()
    for village in (world.village_a1a, world.village_b1a):
        for arg in SCOPE_OBJECTS:
            find_object(arg, world, village)
    return world


def test_the_walk_covers_the_organisation_routes(routes):
    endpoints = {rule.endpoint for rule, _ in routes}
    assert {"org.village", "org.member_edit", "org.users", "api.org_member"} <= endpoints
    assert len(routes) >= 40


def test_anonymous_is_sent_to_login_or_gets_401(app, world, client, routes):
    problems = []
    for rule, method in routes:
        auth = _api_auth(rule, method)
        if auth == "none":
            continue
        ids = {
            arg: find_object(arg, world, world.village_a1a) or UNKNOWN_ID for arg in _int_args(rule)
        }
        url = _url(rule, ids)
        _fresh_request_state()
        resp = _call(client, method, url)
        if auth is not None:
            if resp.status_code != 401 or "error" not in (resp.get_json(silent=True) or {}):
                problems.append(f"{method} {url}: {resp.status_code}, expected 401 JSON")
        elif resp.status_code != 302 or "/login" not in resp.headers.get("Location", ""):
            problems.append(f"{method} {url}: {resp.status_code}, expected redirect to login")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["county_a_admin", "county_a_viewer", "town_a1_editor"])
def test_other_countys_objects_are_404_for_every_role(app, world, login, routes, role):
    """County B is outside every one of these users' scope: it must look like it does not exist."""
    client = login(world.users[role])
    problems = []
    for rule, method in routes:
        if _api_auth(rule, method) not in (None, "user"):
            continue
        args = _int_args(rule)
        if not args:
            continue
        outside = {arg: find_object(arg, world, world.village_b1a) for arg in args}
        missing = dict.fromkeys(args, UNKNOWN_ID)
        _fresh_request_state()
        unknown = _call(client, method, _url(rule, missing))
        is_api = rule.rule.startswith("/api/")
        # 404 for an id that exists nowhere — unless the role may not use the
        # route at all (403 whatever the id) or the API refused the request
        # before looking anything up (400/415/422 whatever the id).
        allowed_unknown = {404, 403} | ({400, 415, 422} if is_api else set())
        if method == "GET" and unknown.status_code not in allowed_unknown:
            problems.append(
                f"{method} {_url(rule, missing)}: {unknown.status_code} for an unknown id"
            )
        if any(v is None for v in outside.values()):
            continue
        url = _url(rule, outside)  # type: ignore[arg-type]
        before = _audit_rows()
        _fresh_request_state()
        resp = _call(client, method, url)
        if resp.status_code != unknown.status_code:
            problems.append(
                f"{method} {url}: {resp.status_code} out of scope but {unknown.status_code} "
                "for an unknown id (leaks existence)"
            )
        elif resp.status_code not in allowed_unknown:
            problems.append(f"{method} {url}: {resp.status_code}, expected 404 (out of scope)")
        if _audit_rows() != before:
            problems.append(f"{method} {url}: wrote to another county")
    assert not problems, "\n".join(problems)


def test_a_viewer_cannot_write_in_its_own_county(app, world, login, routes):
    client = login(world.users["county_a_viewer"])
    problems = []
    for rule, method in routes:
        if method not in WRITE_METHODS or rule.endpoint in VIEWER_MAY_WRITE:
            continue
        if _api_auth(rule, method) not in (None, "user"):
            continue
        ids = {arg: find_object(arg, world, world.village_a1a) for arg in _int_args(rule)}
        if any(v is None for v in ids.values()):
            continue
        url = _url(rule, ids)  # type: ignore[arg-type]
        before = _audit_rows()
        _fresh_request_state()
        resp = _call(client, method, url)
        if url.startswith("/api/"):
            if resp.status_code < 400:
                problems.append(f"{method} {url}: {resp.status_code}, a viewer wrote")
        elif resp.status_code != 403:
            problems.append(f"{method} {url}: {resp.status_code}, expected 403 for a viewer")
        if _audit_rows() != before:
            problems.append(f"{method} {url}: a viewer's request changed data")
    assert not problems, "\n".join(problems)


def test_in_scope_pages_answer_without_server_errors(app, world, login, routes):
    """Admins, editors and viewers open every page of their own county: never a 5xx."""
    problems = []
    for role in ("city_admin", "county_a_viewer", "town_a1_editor"):
        client = login(world.users[role])
        for rule, method in routes:
            if method != "GET" or _api_auth(rule, method) not in (None, "user"):
                continue
            ids = {arg: find_object(arg, world, world.village_a1a) for arg in _int_args(rule)}
            if any(v is None for v in ids.values()):
                continue
            url = _url(rule, ids)  # type: ignore[arg-type]
            _fresh_request_state()
            resp = client.get(url)
            if resp.status_code >= 500:
                problems.append(f"{role} GET {url}: {resp.status_code}")
    assert not problems, "\n".join(problems)


def test_viewer_api_write_to_member_is_403(world, login):
    """The strict form of the rule on one API write with a valid body."""
    client = login(world.users["county_a_viewer"])
    member = world.members[world.village_a1a.id][0]
    resp = client.patch(f"/api/v1/members/{member.id}", json={"phone": "13912345678"})
    assert resp.status_code == 403
    assert sqla.session.get(Member, member.id).phone == "13800001234"


def test_township_editor_cannot_see_the_neighbouring_township(world, login):
    client = login(world.users["town_a1_editor"])
    other = world.village_a2a
    assert client.get(f"/org/villages/{other.id}").status_code == 404
    assert client.get(f"/api/v1/villages/{other.id}/members").status_code == 404
    group = sqla.session.scalar(select(PartyGroup).where(PartyGroup.region_id == other.id))
    assert client.get(f"/org/groups/{group.id}/edit").status_code == 404


@pytest.mark.parametrize("role", ["city_admin", "town_a1_editor"])
def test_empty_writes_in_scope_never_fail_with_a_server_error(app, world, login, routes, role):
    """An empty form or JSON body posted to every write route: a 4xx or a redirect, never a 5xx."""
    problems = []
    for rule, method in routes:
        if method not in WRITE_METHODS or _api_auth(rule, method) not in (None, "user"):
            continue
        ids = {arg: find_object(arg, world, world.village_a1a) for arg in _int_args(rule)}
        if any(v is None for v in ids.values()):
            continue
        url = _url(rule, ids)  # type: ignore[arg-type]
        client = login(world.users[role])  # a previous request may have logged out
        _fresh_request_state()
        resp = _call(client, method, url)
        if resp.status_code >= 500:
            problems.append(f"{role} {method} {url}: {resp.status_code}")
    assert not problems, "\n".join(problems)
