"""Scheduled work of 党费收缴 (run by ``tracker jobs`` only).

* ``dues.reminders`` — daily; from ``[dues] reminder_day`` of a month on, tells each
  branch's clerk (the editors at the village; the township's editors when the village
  has none) who has not paid last month and who is flagged by the six-months rule.
  Set-based: the ledgers of all branches are read in a few statements per 500
  branches, recipients and dedupe keys for all at once; one message per branch and
  month (the dedupe key), so running it again adds nothing. Robots get a count only.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker import clock
from tracker.config import current_settings
from tracker.dues import figures
from tracker.dues.rules import yuan
from tracker.extensions import db
from tracker.jobs import scheduled_job
from tracker.models import Branch, Region, Role, User
from tracker.notifications.models import Notification
from tracker.notifications.services import Message, publish

CHUNK = 500


def _clerks(branches: list[tuple[int, int, int | None]]) -> dict[int, list[int]]:
    """branch id → the ids of its clerks: editors/admins at the village, else at the township."""
    nodes = {v for _, v, _ in branches} | {t for _, _, t in branches if t}
    by_node: dict[int, list[int]] = {}
    for uid, rid in db.session.execute(
        select(User.id, User.region_id).where(
            User.region_id.in_(list(nodes)),
            User.active.is_(True),
            User.role.in_([Role.editor, Role.admin]),
        )
    ):
        by_node.setdefault(rid, []).append(uid)
    return {b: by_node.get(v) or by_node.get(t or 0, []) for b, v, t in branches}


def send_reminders(today: date) -> int:
    """Remind branch clerks of last month's unpaid dues; returns inbox messages created."""
    if today.day < current_settings().dues.reminder_day:
        return 0
    month = figures.last_ended_month(today)
    rows = db.session.execute(
        select(Branch.id, Branch.region_id, Region.parent_id, Region.name).join(
            Region, Region.id == Branch.region_id
        )
    ).all()
    created = 0
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        summaries = figures.month_summaries([r[0] for r in chunk], month)
        owing = [r for r in chunk if summaries[r[0]].arrears_members or summaries[r[0]].flagged]
        if not owing:
            continue
        keys = {r[0]: f"dues:{r[0]}:{month:%Y-%m}" for r in owing}
        sent = {
            (uid, key)
            for uid, key in db.session.execute(
                select(Notification.user_id, Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(list(keys.values()))
                )
            )
        }
        clerks = _clerks([(r[0], r[1], r[2]) for r in owing])
        for branch_id, village_id, _town, village in owing:
            users = [u for u in clerks[branch_id] if (u, keys[branch_id]) not in sent]
            if not users:
                continue
            s = summaries[branch_id]
            unpaid = [r.ledger.member.name for r in s.rows if r.due_fen and r.paid_fen is None]
            label = f"{month.year}年{month.month}月"
            body = (
                f"{village} {label}应交 {s.due_members} 人 {yuan(s.due_fen)} 元，"
                f"已交 {s.paid_members} 人，欠交 {s.arrears_members} 人 {yuan(s.arrears_fen)} 元"
                + (
                    f"：{'、'.join(unpaid[:10])}{'等' if len(unpaid) > 10 else ''}"
                    if unpaid
                    else ""
                )
                + "。"
            )
            if s.flagged:
                body += f"另有 {s.flagged} 名党员连续6个月以上未交党费，须谈话并登记原因。"
            created += len(
                publish(
                    users,
                    Message(
                        title=f"党费收缴提醒：{village} {label}",
                        body=body,
                        url=f"/dues/v/{village_id}?month={month:%Y-%m}",
                        kind="dues_reminder",
                        dedupe_key=keys[branch_id],
                        public_text=f"党费收缴提醒：{village} {label}欠交 {s.arrears_members} 人。",
                        data={"branch_id": branch_id, "month": f"{month:%Y-%m}"},
                    ),
                )
            )
    db.session.flush()
    return created


@scheduled_job("dues.reminders", "cron", description="党费收缴提醒（支部文书）", hour=9, minute=20)
def reminders_job() -> None:
    """From the configured day of the month: last month's unpaid dues to the branch clerks."""
    send_reminders(clock.today())


__all__ = ["send_reminders"]
