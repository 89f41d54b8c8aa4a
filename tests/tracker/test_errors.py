"""One domain error: every domain's rule errors answer the same way, mapped in one place."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tracker.dashboard.services import DashboardError
from tracker.errors import DomainError
from tracker.halls.rules import HoursError
from tracker.halls.services import HallError
from tracker.matters.rules import MatterError, TransitionError
from tracker.meetings.rules import RuleError
from tracker.meetings.services import MeetingError
from tracker.models import Region
from tracker.org import services as org_services
from tracker.org.services import OrgError
from tracker.periods import PeriodError
from tracker.trainings.services import TrainingError


@pytest.mark.parametrize(
    "cls",
    [
        OrgError,
        MeetingError,
        RuleError,
        MatterError,
        TransitionError,
        HallError,
        HoursError,
        TrainingError,
        PeriodError,
        DashboardError,
    ],
)
def test_every_domain_error_is_a_domain_error(cls):
    exc = cls("消息", "name")
    assert isinstance(exc, DomainError)
    assert (exc.message, exc.field) == ("消息", "name")


def test_defaults_come_from_the_class_and_a_raise_site_may_override_them():
    assert (PeriodError("x").field, PeriodError("x").status) == ("period", 422)
    transition = TransitionError("不能重复办结")
    assert (transition.status, transition.code, transition.fields()) == (
        409,
        "illegal_transition",
        {},
    )
    assert OrgError("重名", status=409).status == 409
    assert OrgError("坏了").fields() == {"body": "坏了"}


def _login_api(client, user):
    from tracker.auth.services import create_api_token

    _, plain = create_api_token(user, "test")
    return {"Authorization": f"Bearer {plain}"}


def test_the_api_answers_any_domain_error_with_its_status_and_field(world, db, client, monkeypatch):
    """Not only the package's own error: the mapping lives in ``endpoint``, not per package."""
    headers = _login_api(client, world.users["county_a_admin"])

    def broken(*args, **kwargs):
        raise HallError("名称与大厅重复", "name")

    monkeypatch.setattr(org_services, "create_child_region", broken)
    resp = client.post(
        f"/api/v1/regions/{world.county_a.id}/children", json={"name": "新镇"}, headers=headers
    )
    assert resp.status_code == 422
    assert resp.json["error"]["fields"] == {"name": "名称与大厅重复"}

    def conflict(*args, **kwargs):
        raise TransitionError("事项已归档")

    monkeypatch.setattr(org_services, "create_child_region", conflict)
    resp = client.post(
        f"/api/v1/regions/{world.county_a.id}/children", json={"name": "新镇"}, headers=headers
    )
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "illegal_transition"
    assert resp.json["error"]["message"] == "事项已归档"


def test_an_integrity_error_is_a_409_and_nothing_is_saved(world, db, client, monkeypatch):
    headers = _login_api(client, world.users["county_a_admin"])
    before = db.session.scalar(select(func.count(Region.id)))
    real = org_services.create_child_region

    def racing(*args, **kwargs):
        real(*args, **kwargs)
        raise IntegrityError("INSERT", {}, Exception("unique"))

    monkeypatch.setattr(org_services, "create_child_region", racing)
    resp = client.post(
        f"/api/v1/regions/{world.county_a.id}/children", json={"name": "新镇"}, headers=headers
    )
    assert resp.status_code == 409
    assert db.session.scalar(select(func.count(Region.id))) == before


def test_a_cli_command_prints_a_domain_error_and_exits_1(app):
    import click
    from click.testing import CliRunner

    from tracker.cli_support import with_app

    @click.command()
    @with_app
    def broken() -> None:
        raise HallError("本村已有同名的服务大厅", "name")

    result = CliRunner().invoke(
        broken, [], env={"TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    )
    assert result.exit_code == 1
    assert "本村已有同名的服务大厅" in result.output
