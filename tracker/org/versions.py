"""Versions of one record, read from the audit log (who changed what, when).

Every write of an audited model leaves an :class:`~tracker.models.AuditLog` row with
the values before and after (``tracker.audit``); a record's versions are those rows in
order: version 1 is the insert, each update a new version naming the fields it changed
with their previous and new values. Detail pages show them as a version list
(``templates/_versions.html``). One statement for the rows, one for their actors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker import clock
from tracker.extensions import db
from tracker.models import AuditLog, User
from tracker.org.labels import FIELD_LABELS

# Field names of the team and training registers that the shared table lacks.
EXTRA_FIELDS = {
    "source": "来源",
    "track": "培养方向",
    "entered_on": "入库日期",
    "mentor": "结对培养人",
    "plan": "培养计划",
    "status_on": "状态日期",
    "status_reason": "任用职务或退出原因",
    "grade": "考核等次",
    "decided_by": "考核（决定）机关",
    "decided_on": "考核日期",
    "opened_on": "启动日期",
    "outcome": "处理结果",
    "closed_on": "结案日期",
    "done_on": "完成日期",
    "topic": "专题类别",
    "trainee_count": "参训人数",
    "participants": "参训人数",
    "provider": "提供单位",
    "opening_hours": "服务时间",
    "unit": "统计口径",
    "vacated_on": "空缺日期",
    "filled_on": "补缺日期",
    "cause": "空缺原因",
    "reserve_id": "后备干部",
    "new_cadre_id": "新任村干部",
    "previous_cadre_id": "原任村干部",
    "fill_note": "补缺说明",
    "assessor": "考察人/单位",
    "assessed_on": "考察日期",
}
HIDDEN = {"id", "region_id", "entered_at", "updated_at", "created_at", "entered_by_id"}
ACTIONS = {"insert": "新增", "update": "修改", "delete": "删除"}


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Version:
    number: int
    at: datetime
    actor: str
    action: str
    action_label: str
    changes: tuple[Change, ...]


def _text(value: Any, labels: Mapping[str, str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and value in labels:
        return labels[value]
    if isinstance(value, str) and len(value) >= 16 and value[10:11] == "T":
        try:
            return clock.local(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        except (ValueError, TypeError):
            return value
    return str(value)


def versions_of(
    entity: str,
    entity_id: int | str,
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
    field_labels: Mapping[str, str] | None = None,
    shown: Mapping[str, Callable[[str], str]] | None = None,
) -> list[Version]:
    """The versions of one record (``entity`` is its table name), oldest first.

    ``field_labels`` names fields whose shared label does not fit this record (a
    household's ``since`` is the day of the link, not a term of office); ``shown``
    masks a field's values for this reader (villagers' phones and addresses).
    """
    value_labels = value_labels or {}
    field_labels = field_labels or {}
    shown = shown or {}

    def text(key: str, value: Any) -> str:
        out = _text(value, value_labels.get(key, {}))
        return shown[key](out) if key in shown and out != "—" else out

    rows = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.at, AuditLog.id)
    ).all()
    actor_ids = {r.actor_id for r in rows if r.actor_id}
    names = (
        dict(
            db.session.execute(
                select(User.id, User.display_name).where(User.id.in_(actor_ids))
            ).all()
        )
        if actor_ids
        else {}
    )
    out = []
    for n, row in enumerate(rows, start=1):
        before = row.before or {}
        after = row.after or {}
        keys = [k for k in (after or before) if k not in HIDDEN]
        if row.action == "update":
            keys = [k for k in after if k not in HIDDEN]
        changes = tuple(
            Change(
                field=k,
                label=field_labels.get(k) or EXTRA_FIELDS.get(k) or FIELD_LABELS.get(k, k),
                before=text(k, before.get(k)) if row.action != "insert" else "",
                after=text(k, after.get(k)) if row.action != "delete" else "",
            )
            for k in keys
        )
        out.append(
            Version(
                number=n,
                at=row.at,
                actor=names.get(row.actor_id, "") if row.actor_id else "",
                action=row.action,
                action_label=ACTIONS.get(row.action, row.action),
                changes=changes,
            )
        )
    return out
