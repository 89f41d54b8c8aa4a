"""Jinja filters are registered in one place: the shared ones and each domain's, once each."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tracker import formatting
from tracker.matters.models import MatterStatus
from tracker.matters.rules import STATUS_LABELS

ROOT = Path(__file__).resolve().parents[2]


def test_every_domain_filter_is_registered(app):
    for name in ("date", "mask_phone", "matter_status", "gender_label", "kind_name", "duration"):
        assert name in app.jinja_env.filters, name


def test_no_module_registers_a_filter_by_itself():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "tracker").rglob("*.py")
        if p.name != "formatting.py" and "template_filter" in p.read_text()
    ]
    assert offenders == []


def test_a_filter_name_used_twice_stops_the_app(monkeypatch):
    from tracker.matters import views

    monkeypatch.setitem(views.FILTERS, "date", lambda v: v)
    with pytest.raises(RuntimeError, match="'date'"):
        formatting.init_app(Flask(__name__))


def test_labels_show_an_enum_by_its_chinese_name():
    label = formatting.labels(STATUS_LABELS, MatterStatus)
    assert label(MatterStatus.completed) == STATUS_LABELS[MatterStatus.completed]
    assert label("completed") == STATUS_LABELS[MatterStatus.completed]
    assert label("no-such-state") == "no-such-state"
    assert label(None) == "" and label("") == ""


def test_groups_sort_in_natural_order():
    from tracker.formatting import natural_key

    names = ["第十党小组", "第二党小组", "第一党小组", "第十一党小组", "第三党小组", "2组", "10组"]
    assert sorted(names, key=natural_key) == [
        "2组",
        "10组",
        "第一党小组",
        "第二党小组",
        "第三党小组",
        "第十党小组",
        "第十一党小组",
    ]
