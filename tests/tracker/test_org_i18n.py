"""Chinese by default, English switchable: every marked string of every template and module
has an English translation, and the pages converted so far hold no unmarked Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from tracker.i18n import load_po, po_files, read_catalogs

ROOT = Path(__file__).resolve().parents[2]
# Files whose every marked string (_(), _l(), gettext()) must have an English translation:
# every template and every module of every package.
COVERED = ["templates/", "tracker/"]
# Templates in which every Chinese text is marked for translation (nothing shows in
# Chinese on the English page). Add a template here when its text is wrapped in _().
FULLY_MARKED = [
    "templates/base.html",
    "templates/teams/_duty_nav.html",
    "templates/teams/duty_index.html",
    "templates/teams/duty_village.html",
    "templates/teams/catalog.html",
    "templates/teams/assignments.html",
    "templates/teams/assignment.html",
    "templates/teams/pledges.html",
    "templates/teams/pledge.html",
    "templates/teams/households.html",
    "templates/teams/household.html",
    "templates/teams/duty_print.html",
    "templates/home.html",
    "templates/halls/stations.html",
    "templates/halls/wall.html",
]
CJK = re.compile(r"[\u4e00-\u9fff]")
JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)


def _covered(path: str) -> bool:
    return any(path == c or (c.endswith("/") and path.startswith(c)) for c in COVERED)


def extracted() -> set[str]:
    method_map = [("tracker/**.py", "python"), ("templates/**.html", "jinja2")]
    ids: set[str] = set()
    for filename, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT),
        method_map,
        keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None},
    ):
        if _covered(filename) and isinstance(message, str):
            ids.add(message)
    return ids


def test_every_covered_string_has_an_english_translation():
    catalog = load_po(po_files("en"))
    missing = sorted(m for m in extracted() if catalog.gettext(m) == m)
    assert not missing, (
        "add to tracker/translations/en/LC_MESSAGES/<package>.po (or messages.po):\n"
        + "\n".join(missing)
    )


def test_a_message_in_two_catalog_files_has_one_translation():
    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    files = po_files("en")
    assert files and files[0].name == "messages.po"
    for path, catalog in zip(files, read_catalogs(files), strict=True):
        for message in catalog:
            if not message.id:
                continue
            first = seen.setdefault(message.id, (path.name, message.string))
            if first[1] != message.string:
                clashes.append(f"{message.id!r}: {first[0]} vs {path.name}")
    assert not clashes, "one translation per message id:\n" + "\n".join(clashes)


def _unmarked(template: Path) -> list[str]:
    """Lines of ``template`` with Chinese outside any Jinja expression (so never translated)."""
    text = JINJA.sub(lambda m: "\n" * m.group(0).count("\n"), template.read_text("utf-8"))
    return [
        f"{template.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        if CJK.search(line)
    ]


def test_fully_marked_templates_hold_no_unmarked_chinese():
    lines = [line for path in FULLY_MARKED for line in _unmarked(ROOT / path)]
    assert not lines, "wrap in {{ _('…') }}:\n" + "\n".join(lines)


def test_label_tables_shown_through_gettext_are_translated():
    from tracker.halls.rules import CONDITION_LABELS

    catalog = load_po(po_files("en"))
    missing = [v for v in CONDITION_LABELS.values() if catalog.gettext(v) == v]
    assert not missing


def test_camera_wall_in_english(world, login):
    client = login(world.users["county_a_admin"])
    html = client.get("/halls/wall?lang=en").get_data(as_text=True)
    assert "Faults only" in html and "Offline 0" in html and "Picture fault 0" in html


def test_placeholders_survive_translation():
    catalog = load_po(po_files("en"))
    assert catalog.gettext("已导入 %(n)s 名党员。") % {"n": 3} == "Imported 3 members."


@pytest.mark.parametrize(
    ("path", "chinese", "english"),
    [("/login", "登录", "Sign in"), ("/login", "用户名", "User name")],
)
def test_login_page_in_both_languages(client, path, chinese, english):
    from flask import g

    assert chinese in client.get(path).get_data(as_text=True)
    g.pop("_flask_babel", None)
    html = client.get(path + "?lang=en").get_data(as_text=True)
    assert english in html and 'lang="en"' in html


def test_chinese_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "村级党建台账" in html


def test_home_and_nav_in_english(world, login):
    client = login(world.users["county_a_admin"])
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "To do" in html and "Organisation" in html and "Sign out" in html
