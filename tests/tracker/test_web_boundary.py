"""The request boundary of the HTML pages: permission before the form, one commit for a
successful write, a rollback for anything else, domain errors beside their field."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from tracker.errors import DomainError
from tracker.extensions import db as sqla
from tracker.models import Region
from tracker.org import services as org_services
from tracker.org.services import OrgError
from tracker.web import form_error


@pytest.fixture
def spy(monkeypatch):
    """Counts the session's commits and rollbacks while still doing them."""
    calls = {"commit": 0, "rollback": 0}
    real_commit, real_rollback = sqla.session.commit, sqla.session.rollback

    def commit():
        calls["commit"] += 1
        real_commit()

    def rollback():
        calls["rollback"] += 1
        real_rollback()

    monkeypatch.setattr(sqla.session, "commit", commit)
    monkeypatch.setattr(sqla.session, "rollback", rollback)
    return calls


def test_a_successful_write_is_committed_once_by_the_boundary(world, db, login, spy):
    client = login(world.users["county_a_admin"])
    resp = client.post(f"/org/regions/{world.village_a1a.id}/edit", data={"name": "改名村"})
    assert resp.status_code == 302
    assert spy["commit"] == 1
    assert db.session.get(Region, world.village_a1a.id).name == "改名村"


def test_a_refused_form_is_rolled_back_not_committed(world, db, login, spy):
    client = login(world.users["county_a_admin"])
    resp = client.post(f"/org/regions/{world.village_a1a.id}/edit", data={"name": ""})
    assert resp.status_code == 422
    assert spy["commit"] == 0 and spy["rollback"] >= 1


def test_a_domain_error_goes_beside_its_field_and_nothing_is_saved(world, db, login, monkeypatch):
    real = org_services.update_region

    def half_then_fail(region, name, code):
        real(region, name, code)  # flushed ...
        raise OrgError("该名称已被占用", "name")  # ... then a rule breaks

    monkeypatch.setattr(org_services, "update_region", half_then_fail)
    client = login(world.users["county_a_admin"])
    resp = client.post(f"/org/regions/{world.village_a1a.id}/edit", data={"name": "半截村"})
    assert resp.status_code == 422
    assert "该名称已被占用" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Region).where(Region.name == "半截村")) is None


def test_a_viewer_is_refused_before_any_form_is_read(world, login, spy):
    client = login(world.users["county_a_viewer"])
    resp = client.post(f"/org/regions/{world.village_a1a.id}/edit", data={})
    assert resp.status_code == 403
    assert spy["commit"] == 0


def test_a_viewer_may_still_change_its_own_account(world, login):
    client = login(world.users["county_a_viewer"])
    assert client.post("/notifications/read-all").status_code == 302
    assert client.post("/logout").status_code == 302


def test_a_domain_error_no_view_caught_goes_back_with_a_message(world, login, monkeypatch):
    from tracker.notifications import services as note_services

    def broken(*args, **kwargs):
        raise DomainError("收件箱暂不可用")

    monkeypatch.setattr(note_services, "mark_read", broken)
    client = login(world.users["county_a_viewer"])
    resp = client.post("/notifications/read-all")
    assert resp.status_code == 302
    with client.session_transaction() as sess:
        assert ("danger", "收件箱暂不可用") in sess["_flashes"]


class _Form(FlaskForm):
    name = StringField("姓名")
    frozen_s = StringField("冻结判定秒数")
    hours_0 = StringField("周一营业时间")


@pytest.mark.parametrize(
    ("field", "default", "aliases", "where"),
    [
        ("name", None, None, "name"),
        ("thresholds.frozen_s", None, None, "frozen_s"),  # dotted: the last part
        ("weekly_hours", None, {"weekly_hours": "hours_0"}, "hours_0"),
        ("nowhere", "name", None, "name"),  # not on the form: beside the default
        (None, None, None, "form"),  # no field and no default: the form's own errors
    ],
)
def test_form_error_puts_the_message_where_the_user_looks(app, field, default, aliases, where):
    with app.test_request_context(method="POST"):
        form = _Form(meta={"csrf": False})
        form_error(form, DomainError("错了", field), default, aliases)
        if where == "form":
            assert form.form_errors == ["错了"]
        else:  # beside the field, naming it
            label = getattr(form, where).label.text
            assert getattr(form, where).errors == [f"{label}：错了"]
