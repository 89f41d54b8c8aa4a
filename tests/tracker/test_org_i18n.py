"""Chinese by default, English switchable: the catalog covers the organisation, login, home and nav."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from tracker.i18n import load_po, po_path

ROOT = Path(__file__).resolve().parents[2]
# Files whose every string must have an English translation.
COVERED = [
    "templates/base.html",
    "templates/home.html",
    "tracker/domain.py",  # the home link of the navigation bar
    "tracker/dashboard/__init__.py",  # each domain's links (its DOMAIN's nav entries)
    "tracker/halls/__init__.py",
    "tracker/matters/__init__.py",
    "tracker/meetings/__init__.py",
    "tracker/notifications/__init__.py",
    "tracker/trainings/__init__.py",
    "templates/auth/",
    "templates/org/",
    "tracker/org/",
    "tracker/auth/",
]


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
    catalog = load_po(po_path("en"))
    missing = sorted(m for m in extracted() if catalog.gettext(m) == m)
    assert not missing, "add to tracker/translations/en/LC_MESSAGES/messages.po:\n" + "\n".join(
        missing
    )


def test_placeholders_survive_translation():
    catalog = load_po(po_path("en"))
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
