"""Scheduled work of the service ledger (run by ``tracker jobs`` only).

* ``matters.reminders`` — hourly; from the configured ``[jobs] reminder_hour`` on,
  publishes due-soon, overdue and call-back reminders to the first responder,
  the current handler and (for overdue) the township staff: inbox and e-mail
  per person; an overdue matter also goes once to the group robots, without the
  applicant's name. Every message carries a dedupe key, so running it again
  the same day adds nothing.
* ``matters.calendar_check`` — daily; in ``[calendar] warn_missing_year_in_month``
  (December) warns the top-level admins once a week when next year's official
  calendar is neither in the ``chinesecalendar`` package nor entered as overrides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.extensions import db
from tracker.jobs import scheduled_job
from tracker.matters import rules
from tracker.matters.models import ServiceMatter
from tracker.models import Region, Role, User, utcnow
from tracker.notifications.models import Notification
from tracker.notifications.services import Message, publish, publish_many
from tracker.workdays import WorkCalendar

# What a reminder names (village, catalog entry, first responder): read for all the
# matters of a run in one statement each, never one matter at a time.
_NAMED = (
    selectinload(ServiceMatter.region),
    selectinload(ServiceMatter.matter_type),
    selectinload(ServiceMatter.first_responder),
)


def _sent(keys: Iterable[str]) -> set[tuple[int, str]]:
    """(user id, dedupe key) of the reminders already in the inboxes, for these keys
    (read 500 keys a statement): an hourly re-run skips them without a query per matter."""
    wanted = list(dict.fromkeys(keys))
    found: set[tuple[int, str]] = set()
    for i in range(0, len(wanted), 500):
        found.update(
            (uid, key)
            for uid, key in db.session.execute(
                select(Notification.user_id, Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(wanted[i : i + 500])
                )
            )
            if key is not None
        )
    return found


def _unsent(
    pending: list[tuple[ServiceMatter, list[int], str]], sent: set[tuple[int, str]]
) -> list[ServiceMatter]:
    """The matters whose reminder (recipients, dedupe key) someone has not had yet."""
    return [m for m, users, key in pending if any((u, key) not in sent for u in users)]


def _url(matter: ServiceMatter) -> str:
    return f"/matters/{matter.id}"


def _owners(matter: ServiceMatter) -> list[int]:
    ids = [matter.first_responder_id]
    if matter.handler_id and matter.handler_id not in ids:
        ids.append(matter.handler_id)
    return ids


def _township_staff(village_ids: set[int]) -> dict[int, list[int]]:
    """village id → ids of the writers sitting at its township node."""
    if not village_ids:
        return {}
    villages = db.session.execute(
        select(Region.id, Region.parent_id).where(Region.id.in_(village_ids))
    ).all()
    town_ids = {p for _, p in villages if p}
    staff = db.session.execute(
        select(User.id, User.region_id).where(
            User.region_id.in_(town_ids),
            User.active.is_(True),
            User.role.in_([Role.admin, Role.editor]),
        )
    ).all()
    by_town: dict[int, list[int]] = {}
    for uid, rid in staff:
        by_town.setdefault(rid, []).append(uid)
    return {vid: by_town.get(pid or 0, []) for vid, pid in villages}


def send_reminders(today: date, calendar: WorkCalendar) -> int:
    """Notify due-soon, overdue and call-back reminders; returns messages created."""
    open_statuses = list(rules.OPEN_STATUSES)
    horizon, _ = calendar.add_working_days(today, 1)
    # Every reminder of the run, published at once (a few statements, one flush).
    outgoing: list[tuple[list[int], Message]] = []
    due_soon = db.session.scalars(
        select(ServiceMatter)
        .where(
            ServiceMatter.status.in_(open_statuses),
            ServiceMatter.due_on >= today,
            ServiceMatter.due_on <= horizon,
        )
        .options(*_NAMED)
    ).all()
    keyed = [(m, _owners(m), f"matter:{m.id}:due_soon:{m.due_on}") for m in due_soon]
    due_soon = _unsent(keyed, _sent(k for _, _, k in keyed))
    for m in due_soon:
        when = "今天" if m.due_on == today else f"{m.due_on.isoformat() if m.due_on else ''}"
        outgoing.append(
            (
                _owners(m),
                Message(
                    title=f"事项即将到期：{m.serial_no} {m.matter_type.name}",
                    body=f"{m.region.name} {m.applicant_name} 的事项应于{when}办结。",
                    url=_url(m),
                    kind="matter_due_soon",
                    dedupe_key=f"matter:{m.id}:due_soon:{m.due_on}",
                ),
            )
        )
    overdue = db.session.scalars(
        select(ServiceMatter)
        .where(ServiceMatter.status.in_(open_statuses), ServiceMatter.due_on < today)
        .options(*_NAMED)
    ).all()
    town_staff = _township_staff({m.region_id for m in overdue})
    keyed = [
        (
            m,
            _owners(m) + town_staff.get(m.region_id, []),
            f"matter:{m.id}:overdue:{m.due_on}",
        )
        for m in overdue
    ]
    overdue = _unsent(keyed, _sent(k for _, _, k in keyed))
    for m in overdue:
        late = calendar.working_days_between(m.due_on, today) if m.due_on else 0
        recipients = list(dict.fromkeys(_owners(m) + town_staff.get(m.region_id, [])))
        title = f"事项已逾期：{m.serial_no} {m.matter_type.name}"
        outgoing.append(
            (
                recipients,
                Message(
                    title=title,
                    body=f"{m.region.name} {m.applicant_name} 的事项应于 {m.due_on} 办结，"
                    f"已超期 {late} 个工作日。首问责任人：{m.first_responder.display_name}。",
                    url=_url(m),
                    kind="matter_overdue",
                    dedupe_key=f"matter:{m.id}:overdue:{m.due_on}",
                    # The group robots hear it once, without the applicant: place, number, days.
                    public_text=f"{title}\n{m.region.name}，应于 {m.due_on} 办结，"
                    f"已超期 {late} 个工作日。",
                    data={"matter_id": m.id, "serial_no": m.serial_no, "late_days": late},
                ),
            )
        )
    callbacks = db.session.scalars(
        select(ServiceMatter)
        .where(
            ServiceMatter.rating.in_(list(rules.BAD_RATINGS)),
            ServiceMatter.rating_void.is_(False),
            ServiceMatter.called_back_on.is_(None),
            ServiceMatter.callback_due_on <= horizon,
        )
        .options(*_NAMED)
    ).all()
    keyed = [
        (
            m,
            [m.first_responder_id],
            f"matter:{m.id}:callback:"
            f"{'late' if m.callback_due_on is not None and m.callback_due_on < today else 'due'}",
        )
        for m in callbacks
    ]
    callbacks = _unsent(keyed, _sent(k for _, _, k in keyed))
    for m in callbacks:
        late = m.callback_due_on is not None and m.callback_due_on < today
        outgoing.append(
            (
                [m.first_responder_id],
                Message(
                    title=f"差评{'回访已超期' if late else '待回访'}：{m.serial_no} {m.matter_type.name}",
                    body=f"{m.applicant_name} 评价为“{rules.RATING_LABELS[m.rating] if m.rating else ''}”，"
                    f"应于 {m.callback_due_on} 前回访。",
                    url=_url(m),
                    kind="matter_callback",
                    dedupe_key=f"matter:{m.id}:callback:{'late' if late else 'due'}",
                ),
            )
        )
    return publish_many(outgoing)


def check_calendar_coverage(today: date, calendar: WorkCalendar, warn_month: int) -> int:
    """Warn top-level admins when next year's calendar is missing; returns messages created."""
    if today.month != warn_month:
        return 0
    year = today.year + 1
    if calendar.year_is_official(year):
        return 0
    admins = db.session.scalars(
        select(User.id)
        .join(Region, Region.id == User.region_id)
        .where(User.role == Role.admin, User.active.is_(True), Region.parent_id.is_(None))
    ).all()
    if not admins:  # no top-level admin: tell every admin
        admins = db.session.scalars(
            select(User.id).where(User.role == Role.admin, User.active.is_(True))
        ).all()
    week = today.isocalendar().week
    title = f"{year} 年节假日安排尚未录入"
    return len(
        publish(
            list(admins),
            Message(
                title=title,
                body=f"系统中还没有 {year} 年的官方节假日和调休安排。限时办结到期日将按周一至周五推算，"
                "并标注“非官方日历”。国务院公布后，请在“服务事项 → 工作日调整”中录入。",
                url=f"/matters/calendar?year={year}",
                kind="calendar_missing",
                dedupe_key=f"calendar-missing:{year}:w{week}",
            ),
        )
    )


@scheduled_job("matters.reminders", "interval", description="限时办结/差评回访提醒", hours=1)
def reminders_job() -> None:
    """Send today's reminders once the configured reminder hour has come."""
    settings = current_settings()
    local_hour = utcnow().astimezone(clock.zone()).hour
    if local_hour < settings.jobs.reminder_hour:
        return
    send_reminders(clock.today(), load_calendar())


@scheduled_job(
    "matters.calendar_check", "cron", description="下一年度工作日日历检查", hour=9, minute=5
)
def calendar_check_job() -> None:
    """December: warn admins when next year's holidays are not in the system."""
    month = int(current_settings().calendar.warn_missing_year_in_month)
    check_calendar_coverage(clock.today(), load_calendar(), month)


__all__ = ["check_calendar_coverage", "send_reminders"]
