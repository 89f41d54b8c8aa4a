"""The one pipeline: inbox per person, e-mail per address, one post per message to each robot,
robots never hear personal data, one sender with back-off and robot errcode checks.

Delivery is proven against the local webhook and SMTP servers of
``tests/tracker/conftest.py`` (127.0.0.1, random ports).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.tracker.test_matter_services import at, event, register
from tracker.calendar_service import load_calendar
from tracker.matters.jobs import send_reminders
from tracker.matters.models import EventKind
from tracker.models import Role
from tracker.notifications import delivery
from tracker.notifications.models import Notification, OutboxMessage, OutChannel, OutStatus
from tracker.notifications.services import Message, publish
from tracker.org.services import create_user


def overdue_matter_with_three_recipients(world: Any, db: Any) -> Any:
    clerk = world.users["village_a1a_editor"]
    town = world.users["town_a1_editor"]
    second = create_user("town_a1_second", "password-123", Role.editor, world.town_a1)
    clerk.email, town.email, second.email = "clerk@example.cn", "town@example.cn", None
    matter = register(world, applicant_name="王秀英", applicant_phone="13812345678")
    event(matter, EventKind.referred, clerk, at(2026, 9, 30, 10), to_unit="镇民政办")
    db.session.flush()
    return matter


def test_an_overdue_matter_is_posted_once_per_robot_without_the_applicant(
    world, db, channels, hook, smtp
):
    matter = overdue_matter_with_three_recipients(world, db)
    created = send_reminders(date(2026, 10, 20), load_calendar())
    assert created == 3  # clerk, two township editors: one inbox message each
    inbox = db.session.scalars(
        select(Notification).where(Notification.kind == "matter_overdue")
    ).all()
    assert all("王秀英" in n.body for n in inbox)  # the people in charge see who it is
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted((r.channel.value, r.target) for r in rows) == [
        ("dingtalk", ""),
        ("email", "clerk@example.cn"),
        ("email", "town@example.cn"),
        ("webhook", ""),
        ("wecom", ""),
    ]
    assert delivery.deliver_due() == (5, 0)
    assert sorted(p for p, _ in hook.received) == ["/dingtalk", "/generic", "/wecom"]
    robots = json.dumps([b for _, b in hook.received], ensure_ascii=False)
    assert matter.serial_no in robots and "已超期 5 个工作日" in robots
    assert "王秀英" not in robots and "13812345678" not in robots and "5678" not in robots
    assert len(smtp.messages) == 2
    # The next hourly run adds nothing anywhere.
    assert send_reminders(date(2026, 10, 20), load_calendar()) == 0
    assert (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == OutStatus.pending))
        is None
    )
    assert len(hook.received) == 3


def test_a_due_soon_reminder_never_reaches_the_group_robots(world, db, channels, hook):
    register(world, received=at(2026, 9, 30))  # due Oct 13
    assert send_reminders(date(2026, 10, 12), load_calendar()) >= 1
    assert not db.session.scalars(select(OutboxMessage)).all()


def test_a_robot_errcode_in_a_200_answer_is_a_failure_and_is_retried(
    world, db, channels, hook, app
):
    app.config["SETTINGS"].alerts.webhook_url = ""
    app.config["SETTINGS"].alerts.wecom_webhook = ""
    hook.answers["/dingtalk"] = json.dumps({"errcode": 130101, "errmsg": "send too fast"}).encode()
    publish(world.users["town_a1_editor"], Message("甲", public_text="甲", dedupe_key="k1"))
    assert delivery.deliver_due() == (0, 1)
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == OutStatus.pending and row.last_error == "errcode 130101: send too fast"
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=50)
    hook.answers.clear()
    assert delivery.deliver_due(now=datetime.now(UTC) + timedelta(minutes=2)) == (1, 0)
    assert row.status == OutStatus.sent and row.attempts == 2


def test_a_permanent_refusal_gives_up_at_once(world, db, channels, hook, app):
    app.config["SETTINGS"].alerts.webhook_url = ""
    hook.answers["/dingtalk"] = b'{"errcode": 310000, "errmsg": "keywords not in content"}'
    hook.answers["/wecom"] = b"<html>not json</html>"
    publish(world.users["town_a1_editor"], Message("甲", public_text="甲", dedupe_key="k2"))
    assert delivery.deliver_due() == (0, 2)
    rows = {r.channel: r for r in db.session.scalars(select(OutboxMessage))}
    assert rows[OutChannel.dingtalk].status == OutStatus.failed
    assert rows[OutChannel.wecom].status == OutStatus.pending  # unreadable answer: retried
    assert rows[OutChannel.wecom].last_error == "robot answer is not JSON"


def test_attempts_back_off_and_stop_after_the_last_one(world, db, app):
    app.config["SETTINGS"].alerts.dingtalk_webhook = "http://127.0.0.1:9/robot?access_token=secret"
    try:
        publish(world.users["town_a1_editor"], Message("甲", public_text="甲", dedupe_key="k3"))
        row = db.session.scalars(select(OutboxMessage)).one()
        now = datetime.now(UTC)
        waits = []
        for _ in range(delivery.MAX_ATTEMPTS):
            assert delivery.deliver_due(now=now) == (0, 1)
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
        assert row.status == OutStatus.failed and row.attempts == delivery.MAX_ATTEMPTS
        assert [w.total_seconds() for w in waits[:4]] == [60, 120, 240, 480]
        assert "secret" not in (row.last_error or "") and "127.0.0.1" not in (row.last_error or "")
        assert delivery.deliver_due(now=now + timedelta(days=1)) == (0, 0)
    finally:
        app.config["SETTINGS"].alerts.dingtalk_webhook = ""


def test_a_message_without_public_text_stays_off_robots_but_is_mailed(world, db, channels, smtp):
    user = world.users["town_a1_editor"]
    user.email = "town@example.cn"
    publish(user, Message("差评待回访", "王秀英 评价为“不满意”", "/matters/1", dedupe_key="k4"))
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert [(r.channel, r.target) for r in rows] == [(OutChannel.email, "town@example.cn")]
    assert delivery.deliver_due() == (1, 0)
    assert "town@example.cn" in smtp.messages[0]


def test_the_outbox_command_shows_states_and_requeues_the_given_up(world, db, app, monkeypatch):
    import importlib

    from click.testing import CliRunner

    from tracker.notifications import cli as outbox_cli

    monkeypatch.setattr(outbox_cli, "with_app", lambda f: f)
    mod = importlib.reload(outbox_cli)
    try:
        runner = CliRunner()
        assert "外发队列为空" in runner.invoke(mod.outbox_cmd, []).output
        app.config["SETTINGS"].alerts.wecom_webhook = "http://127.0.0.1:9/x?key=secret"
        publish(world.users["town_a1_editor"], Message("甲", public_text="甲", dedupe_key="k9"))
        row = db.session.scalars(select(OutboxMessage)).one()
        row.status, row.last_error, row.attempts = OutStatus.failed, "HTTP 404", 8
        db.session.flush()
        shown = runner.invoke(mod.outbox_cmd, [])
        assert shown.exit_code == 0 and "wecom" in shown.output and "已放弃 1" in shown.output
        assert "HTTP 404" in shown.output
        again = runner.invoke(mod.outbox_cmd, ["--retry-failed"])
        assert "已重新排队 1 条" in again.output and "待发送 1" in again.output
        db.session.refresh(row)
        assert row.status == OutStatus.pending and row.attempts == 0
    finally:
        app.config["SETTINGS"].alerts.wecom_webhook = ""
        importlib.reload(outbox_cli)
