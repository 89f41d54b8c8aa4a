"""Reminders (due soon, overdue, call-backs), the December calendar warning, the home to-dos
and the demo seeder of the service ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.tracker.test_matter_services import at, catalog, event, register
from tracker.calendar_service import load_calendar
from tracker.matters.jobs import check_calendar_coverage, send_reminders
from tracker.matters.models import EventKind, Rating
from tracker.models import CalendarOverride, Role
from tracker.notifications.models import Notification
from tracker.org.services import create_user
from tracker.workdays import WorkCalendar


def titles(db, user):
    return [
        n.title
        for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
    ]


def test_overdue_matters_notify_the_first_responder_handler_and_township_once(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world)  # due Oct 13
    event(matter, EventKind.referred, clerk, at(2026, 9, 30, 10), to_unit="镇民政办")
    created = send_reminders(date(2026, 10, 20), load_calendar())
    assert created >= 2
    assert any("已逾期" in t for t in titles(db, clerk))
    assert any("已逾期" in t for t in titles(db, world.users["town_a1_editor"]))
    assert not titles(db, world.users["town_a2_editor"])
    assert send_reminders(date(2026, 10, 20), load_calendar()) == 0  # idempotent


def test_due_soon_reminds_on_the_working_day_before(world, db):
    clerk = world.users["village_a1a_editor"]
    register(world, matter_type=catalog(world, 1), received=at(2026, 10, 9))  # due Sat Oct 10
    send_reminders(date(2026, 10, 9), load_calendar())
    assert any("即将到期" in t for t in titles(db, clerk))


def test_a_bad_rating_without_call_back_reminds_the_first_responder(world, db):
    clerk = world.users["village_a1a_editor"]
    other = create_user("hall_jobs_rater", "password-123", Role.editor, world.village_a1a)
    matter = register(world)
    event(matter, EventKind.completed, clerk, at(2026, 10, 9), note="ok")
    event(matter, EventKind.rated, other, at(2026, 10, 9, 10), rating=Rating.dissatisfied)
    send_reminders(date(2026, 10, 19), load_calendar())  # call-back due Oct 16
    assert any("差评回访已超期" in t for t in titles(db, clerk))


def test_december_warns_top_admins_when_next_year_is_missing(world, db):
    created = check_calendar_coverage(date(2026, 12, 1), WorkCalendar(), 12)
    assert created >= 1
    assert any("2027 年节假日安排尚未录入" in t for t in titles(db, world.users["city_admin"]))
    assert not titles(db, world.users["county_a_admin"])
    assert check_calendar_coverage(date(2026, 12, 2), WorkCalendar(), 12) == 0  # same week


def test_no_warning_outside_december_or_once_overrides_exist(world, db):
    assert check_calendar_coverage(date(2026, 11, 1), WorkCalendar(), 12) == 0
    db.session.add(CalendarOverride(day=date(2027, 1, 1), is_workday=False, note="元旦"))
    db.session.flush()
    assert check_calendar_coverage(date(2026, 12, 1), load_calendar(), 12) == 0


def test_home_page_lists_overdue_matters(world, db, login):
    register(world)
    page = login(world.users["town_a1_editor"]).get("/").text
    assert "服务事项已逾期" in page


def test_inbox_badge_and_opening_a_message_marks_it_read(world, db, login):
    from tracker.notifications.services import notify, unread_count

    user = world.users["town_a1_editor"]
    note = notify(user, "事项已逾期：2026-0001", "超期 3 个工作日", "/matters/", "matter_overdue")[
        0
    ]
    db.session.commit()
    client = login(user)
    assert 'id="unread-badge">1<' in client.get("/notifications/").text
    resp = client.post(f"/notifications/{note.id}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/matters/")
    assert unread_count(user.id) == 0


def test_someone_elses_message_is_404(world, db, login):
    from tracker.notifications.services import notify

    note = notify(world.users["town_a1_editor"], "甲")[0]
    db.session.commit()
    resp = login(world.users["town_a2_editor"]).post(f"/notifications/{note.id}/open")
    assert resp.status_code == 404


def test_the_demo_seeder_makes_a_plausible_year(db):
    import random

    from tracker.demo import seed_base
    from tracker.matters.demo import seed_matters
    from tracker.matters.models import ServiceMatter
    from tracker.matters.services import matter_measures
    from tracker.models import RegionLevel

    world = seed_base(date(2026, 11, 26), random.Random(7))
    seed_matters(world)
    db.session.flush()
    matters = db.session.scalars(select(ServiceMatter)).all()
    assert len(matters) >= 12 * len(world.villages)
    measures = matter_measures(
        RegionLevel.county, date(2025, 11, 1), date(2026, 11, 26), today=date(2026, 11, 26)
    )
    total = sum(m.received for m in measures.values())
    assert total == len(matters)
    assert sum(m.bad for m in measures.values()) > 0
    judged = sum(m.judged for m in measures.values())
    assert 0.6 < sum(m.on_time for m in measures.values()) / judged < 1


def test_a_rerun_of_the_reminders_reads_the_same_few_statements_for_2_or_6_matters(
    world, db, assert_max_queries
):
    """The hourly job is set-based: a run that has nothing new to send runs the same
    statements whatever the number of open matters (no query per matter)."""
    counts = []
    kind = catalog(world)
    for n in (2, 4):
        for _ in range(n):
            register(world, matter_type=kind)  # due Oct 13, overdue on the 20th
        send_reminders(date(2026, 10, 20), load_calendar())
        with assert_max_queries(10) as log:
            assert send_reminders(date(2026, 10, 20), load_calendar()) == 0
        counts.append(log.count)
    assert counts[0] == counts[1]


def test_a_first_run_of_the_reminders_writes_them_in_the_same_few_statements_for_2_or_6(
    world, db, assert_max_queries
):
    """Sending is set-based too (publish_many): the users, the dedupe keys and the
    outbox are read once for all reminders and written in one flush — not five
    statements per message (6.5 s at a city's 1,500 overdue matters)."""
    counts = []
    kind = catalog(world)
    for n in (2, 6):
        for _ in range(n):
            register(world, matter_type=kind)
        with assert_max_queries(30) as log:
            assert send_reminders(date(2026, 10, 20), load_calendar()) > 0
        counts.append(log.count)
    assert counts[0] == counts[1]


def test_publish_many_gives_each_user_a_message_once_and_the_robots_one_copy(world, db):
    from tracker.config import current_settings
    from tracker.notifications.models import OutboxMessage
    from tracker.notifications.services import Message, publish, publish_many

    clerk = world.users["village_a1a_editor"]
    town = world.users["town_a1_editor"]
    cfg = current_settings().alerts
    old = cfg.dingtalk_webhook
    object.__setattr__(cfg, "dingtalk_webhook", "http://127.0.0.1:9/robot")
    try:
        publish([clerk.id], Message(title="早先", dedupe_key="k1", public_text="公开"))
        created = publish_many(
            [
                (
                    [clerk.id, town.id, clerk.id],
                    Message(title="一", dedupe_key="k1", public_text="公开"),
                ),
                ([town], Message(title="二", dedupe_key="k2", public_text="公开")),
                ([clerk.id], Message(title="三", dedupe_key="k2")),
            ]
        )
    finally:
        object.__setattr__(cfg, "dingtalk_webhook", old)
    assert created == 3
    inbox = db.session.execute(
        select(Notification.user_id, Notification.title).where(
            Notification.user_id.in_([clerk.id, town.id])
        )
    ).all()
    assert sorted(inbox) == sorted(
        [(clerk.id, "早先"), (town.id, "一"), (town.id, "二"), (clerk.id, "三")]
    )
    robot = db.session.scalars(
        select(OutboxMessage.dedupe_key).where(OutboxMessage.channel == "dingtalk")
    ).all()
    assert sorted(robot) == ["k1", "k2"]  # k1 queued by the first publish, not twice
