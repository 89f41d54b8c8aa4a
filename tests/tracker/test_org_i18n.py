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


def _templates() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html"))


def test_every_template_is_fully_marked():
    lines = [line for path in _templates() for line in _unmarked(ROOT / path)]
    assert not lines, "wrap in {{ _('…') }}:\n" + "\n".join(lines)


LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
TAG = re.compile(r"{{.*?}}|{%.*?%}", re.S)


def _bare_literals(template: Path) -> list[str]:
    """Chinese string literals inside Jinja that are shown without ``_()``.

    A literal used as a key (``row['日期']``) or tested against (``'非官方' in s``) is data,
    not text, and is allowed.
    """
    out = []
    for tag in TAG.finditer(template.read_text("utf-8")):
        code = tag.group(0)
        for lit in LITERAL.finditer(code):
            before, after = code[: lit.start()].rstrip(), code[lit.end() :].lstrip()
            if not CJK.search(lit.group(0)) or before.endswith(("_(", "[")):
                continue
            if after.startswith(("in ", "==", "!=")):
                continue
            out.append(f"{template.relative_to(ROOT)}: {lit.group(0)}")
    return out


def test_fully_marked_templates_show_no_bare_chinese_literal():
    lines = [line for path in _templates() for line in _bare_literals(ROOT / path)]
    assert not lines, "wrap in _('…'):\n" + "\n".join(lines)


def test_label_tables_shown_through_gettext_are_translated():
    from tracker.dashboard.details import STATUS_LABELS as OBLIGATION_LABELS
    from tracker.dashboard.rules import BAND_LABELS, COMPONENTS
    from tracker.formatting import LEVEL_LABELS, ROLE_LABELS
    from tracker.halls import rules as hall_rules
    from tracker.halls.rules import CONDITION_LABELS
    from tracker.matters.services import PUBLIC_KINDS, REGISTER_COLUMNS
    from tracker.meetings.rules import BUILTIN_KINDS
    from tracker.meetings.views import (
        ABSENCE_REASONS,
        FIELD_LABELS,
    )
    from tracker.meetings.views import ACTION_LABELS as MEETING_ACTIONS
    from tracker.meetings.views import STATUS_LABELS as MEETING_STATES
    from tracker.org import labels as audit_labels

    tables: list[list[str]] = [
        list(CONDITION_LABELS.values()),
        list(hall_rules.VERDICT_LABELS.values()),
        list(hall_rules.STATE_LABELS.values()),
        list(hall_rules.EXCUSE_KIND_LABELS.values()),
        list(hall_rules.EXCUSE_STATUS_LABELS.values()),
        [hall_rules.cause_label(None)],
        list(BAND_LABELS.values()),
        list(OBLIGATION_LABELS.values()),
        list(LEVEL_LABELS.values()),
        list(ROLE_LABELS.values()),
        [k.name for k in BUILTIN_KINDS],
        list(ABSENCE_REASONS),
        list(PUBLIC_KINDS.values()),
        list(audit_labels.ENTITY_LABELS.values()),
        list(audit_labels.FIELD_LABELS.values()),
        list(audit_labels.CHANNEL_LABELS.values()),
        list(audit_labels.ACTION_LABELS.values()),
        list(REGISTER_COLUMNS),
        list(FIELD_LABELS.values()),
        list(MEETING_ACTIONS.values()),
        list(MEETING_STATES.values()),
        [
            text
            for c in COMPONENTS
            for text in (c.name, c.rate_label, c.numerator_label, c.denominator_label, c.unit)
        ],
    ]
    catalog = load_po(po_files("en"))
    missing = [v for table in tables for v in table if v and catalog.gettext(v) == v]
    assert not missing


# Packages whose label filters (``tracker.formatting.labels``) must all be translated; a
# package joins when its English is complete.
LABELLED_PACKAGES = (
    "tracker.matters",
    "tracker.meetings",
    "tracker.dashboard",
    "tracker.org",
    "tracker.halls",
)


def test_every_label_filter_of_the_translated_packages_is_translated(app):
    from tracker.domain import parts

    catalog = load_po(po_files("en"))
    missing, checked = [], 0
    for domain, ref in parts("filters"):
        if not domain.package.startswith(LABELLED_PACKAGES):
            continue
        for name, fn in domain.load(ref).items():
            for text in getattr(fn, "mapping", {}).values():
                checked += 1
                if catalog.gettext(text) == text:
                    missing.append(f"{name}: {text}")
    assert checked > 20 and not missing, missing


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
