"""One domain descriptor: each package declares its parts once, the core reads one list,
and no import goes round in a circle."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from flask import Blueprint

from tracker.domain import PACKAGES, Domain, domains

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> dict[str, Path]:
    out = {}
    for path in (ROOT / "tracker").rglob("*.py"):
        parts_ = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts_[-1] == "__init__":
            parts_ = parts_[:-1]
        out[".".join(parts_)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module → the tracker modules it imports anywhere (function-level imports too)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                found = [s for s in subs if s in mods]
                # ``from tracker import periods`` imports the module, not the package's body.
                names = found if len(found) == len(subs) else [node.module, *found]
            graph[module].update(n for n in names if n in mods and n != module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_picture_has_no_circles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_domain_cli_helpers_live_below_the_domains():
    graph = import_graph()
    for pkg in PACKAGES:
        if f"{pkg}.cli" in graph:
            assert "tracker.cli" not in graph[f"{pkg}.cli"], pkg


def test_the_core_imports_no_domain_module_but_the_accounts_service():
    """Only the one list in tracker.domain names the packages; the core loads their parts
    through it. ``create_user`` (org) is the one domain service the core calls (CLI, demo)."""
    graph = import_graph()
    for module, imported in graph.items():
        if any(module == p or module.startswith(p + ".") for p in PACKAGES):
            continue
        reached = {m for m in imported if any(m == p or m.startswith(p + ".") for p in PACKAGES)}
        assert reached <= {"tracker.org.services"}, (module, reached)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_declares_itself_and_every_part_resolves(package):
    domain = next(d for d in domains() if d.package == package)
    assert isinstance(domain, Domain)
    if domain.blueprint:
        assert isinstance(domain.load(domain.blueprint), Blueprint)
    for name in (*domain.models, *domain.api, *((domain.jobs,) if domain.jobs else ())):
        domain.module(name)
    if domain.commands:
        assert all(isinstance(c, click.Command) for c in domain.load(domain.commands)())
    for ref in (domain.seeder, domain.companions, *domain.todo):
        if ref:
            assert callable(domain.load(ref))
    for entry in domain.nav:
        assert entry.endpoint.split(".")[0] == domain.load(domain.blueprint).name
        if entry.badge:
            assert callable(domain.load(entry.badge))


def test_every_domain_blueprint_and_command_is_switched_on(app):
    registered = set(app.blueprints)
    assert {d.load(d.blueprint).name for d in domains() if d.blueprint} <= registered
    from tracker.cli import cli

    ctx = click.Context(cli)
    names = set(cli.list_commands(ctx))
    assert {"import-members", "verify-ledger", "add-station", "dashboard-rollup"} <= names


def test_the_cli_starts_in_a_fresh_interpreter():
    out = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    ).stdout
    assert "matters-remind" in out and "verify-ledger" in out


def _nav(html: str) -> list[str]:
    nav = html.split('<ul class="navbar-nav me-auto">')[1].split("</ul>")[0]
    return [
        re.sub(r"<[^>]+>|\s+", "", a)
        for a in re.findall(r"<a class=\"nav-link[^\"]*\".*?</a>", nav)
    ]


def test_the_navbar_comes_from_the_descriptors(world, login, client):
    from tracker.notifications.services import notify

    village_user = world.users["village_a1a_editor"]
    notify([village_user], "一条通知")
    login(village_user)
    html = client.get("/").get_data(as_text=True)
    assert _nav(html) == [
        "首页",
        "大厅监控",
        "组织与党员",
        "党费收缴",
        "三会一课",
        "服务事项",
        "培训台账",
        "发展党员",
        "后备干部",
        "挂职干部",
        "通知1",
    ]
    assert 'id="unread-badge">1<' in html

    login(world.users["county_a_admin"])
    links = _nav(client.get("/").get_data(as_text=True))
    assert links[:2] == ["首页", "合规看板"] and links[-2:] == ["用户管理", "通知"]
