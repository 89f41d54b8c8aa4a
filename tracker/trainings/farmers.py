"""农民教育培训: farmer training sessions of a village (topic category, hours, trainees).

Trainees are counted (签到人数) and/or named one by one; named trainees are villagers,
not roster members, so their phones are masked in every list and export
(``|mask_phone``). Plain functions: validate, change objects, ``flush()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import Region, User, utcnow
from tracker.trainings.models import FarmerTrainee, FarmerTraining
from tracker.trainings.services import MAX_HOURS, TrainingError

PHONE_RE = re.compile(r"^[0-9][0-9 -]{5,19}$")
MAX_TRAINEES = 500


@dataclass
class TraineeInput:
    name: str
    phone: str = ""


@dataclass
class FarmerInput:
    """What a user enters for a farmer training (form or API)."""

    topic: str
    title: str
    held_on: date
    hours: Decimal | float | str
    place: str
    organizer: str = ""
    lecturer: str = ""
    trainee_count: int = 0
    trainees: list[TraineeInput] = field(default_factory=list)
    content: str = ""


def topics() -> list[str]:
    """The configured topic categories (``[trainings] farmer_topics``)."""
    return list(current_settings().trainings.farmer_topics)


def clean_hours(value: Decimal | float | str, field_name: str = "hours") -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError) as exc:
        raise TrainingError("学时应为数字，如 2 或 1.5", field_name) from exc
    if not Decimal("0") < hours <= MAX_HOURS:
        raise TrainingError(f"学时应大于 0 且不超过 {MAX_HOURS}", field_name)
    return hours


def check_held_on(day: date) -> None:
    if day > clock.today():
        raise TrainingError("培训日期不能晚于今天", "held_on")
    if day < date(1990, 1, 1):
        raise TrainingError("培训日期不合理（早于 1990 年）", "held_on")


def parse_trainees(text: str) -> list[TraineeInput]:
    """The form's trainee box: one villager a line, ``姓名 电话`` (the phone optional)."""
    out = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        parts = line.replace("，", " ").replace(",", " ").split()
        if not parts:
            continue
        if len(parts) > 2:
            raise TrainingError(f"第 {n} 行应为“姓名 电话”", "trainees")
        out.append(TraineeInput(parts[0], parts[1] if len(parts) > 1 else ""))
    return out


def trainees_text(training: FarmerTraining) -> str:
    return "\n".join(f"{t.name} {t.phone}".strip() for t in training.trainees)


def _validate(data: FarmerInput) -> tuple[Decimal, list[TraineeInput]]:
    if data.topic not in topics():
        raise TrainingError("请选择培训专题类别", "topic")
    if not (data.title or "").strip():
        raise TrainingError("请填写培训主题", "title")
    if len(data.title.strip()) > 100:
        raise TrainingError("培训主题最多 100 字", "title")
    if not (data.place or "").strip():
        raise TrainingError("请填写培训地点", "place")
    check_held_on(data.held_on)
    hours = clean_hours(data.hours)
    if not 0 <= data.trainee_count <= 10000:
        raise TrainingError("参训人数应在 0–10000 之间", "trainee_count")
    if len(data.trainees) > MAX_TRAINEES:
        raise TrainingError(f"逐一登记的学员最多 {MAX_TRAINEES} 名", "trainees")
    trainees = []
    for t in data.trainees:
        name = (t.name or "").strip()
        phone = (t.phone or "").strip()
        if not name or len(name) > 32:
            raise TrainingError("学员姓名不能为空，最多 32 字", "trainees")
        if phone and not PHONE_RE.match(phone):
            raise TrainingError(f"{name}的电话应为 6–20 位数字", "trainees")
        trainees.append(TraineeInput(name, phone))
    if not trainees and data.trainee_count == 0:
        raise TrainingError("请填写参训人数或逐一登记学员", "trainee_count")
    return hours, trainees


def _apply(
    t: FarmerTraining, data: FarmerInput, hours: Decimal, people: list[TraineeInput]
) -> None:
    t.topic = data.topic
    t.title = data.title.strip()
    t.held_on = data.held_on
    t.hours = hours
    t.place = data.place.strip()[:100]
    t.organizer = (data.organizer or "").strip()[:100]
    t.lecturer = (data.lecturer or "").strip()[:64]
    t.trainee_count = data.trainee_count
    t.content = (data.content or "").strip()
    t.trainees = [FarmerTrainee(region_id=t.region_id, name=p.name, phone=p.phone) for p in people]


def create_farmer_training(village: Region, data: FarmerInput, user: User | None) -> FarmerTraining:
    hours, people = _validate(data)
    training = FarmerTraining(
        region_id=village.id, entered_at=utcnow(), entered_by_id=user.id if user else None
    )
    _apply(training, data, hours, people)
    db.session.add(training)
    db.session.flush()
    return training


def update_farmer_training(training: FarmerTraining, data: FarmerInput) -> None:
    if training.deleted_at is not None:
        raise TrainingError("已删除的记录不能修改")
    hours, people = _validate(data)
    load_trainees(training)
    _apply(training, data, hours, people)
    training.updated_at = utcnow()
    db.session.flush()


def farmer_trainings(
    region_ids: Iterable[int] | Any, year: int | None = None, *, include_deleted: bool = False
) -> Select[Any]:
    """Farmer trainings of these villages (a list or a subquery of ids), with their named
    trainees in one more statement whatever the number of rows."""
    stmt = (
        select(FarmerTraining)
        .where(FarmerTraining.region_id.in_(region_ids))
        .options(selectinload(FarmerTraining.trainees))
    )
    if year is not None:
        stmt = stmt.where(
            FarmerTraining.held_on >= date(year, 1, 1), FarmerTraining.held_on <= date(year, 12, 31)
        )
    if not include_deleted:
        stmt = stmt.where(FarmerTraining.deleted_at.is_(None))
    return stmt


def load_trainees(training: FarmerTraining) -> FarmerTraining:
    if training.id is not None and "trainees" in sa_inspect(training).unloaded:
        rows = db.session.scalars(
            select(FarmerTrainee)
            .where(FarmerTrainee.training_id == training.id)
            .order_by(FarmerTrainee.id)
        ).all()
        set_committed_value(training, "trainees", list(rows))
    return training


@dataclass(frozen=True)
class FarmerFigures:
    """Farmer trainings of one village in a year: sessions, class hours, trainees (人次)."""

    sessions: int
    hours: Decimal
    trainees: int
    by_topic: dict[str, int]


def farmer_figures(trainings: Iterable[FarmerTraining]) -> FarmerFigures:
    rows = list(trainings)
    by_topic: dict[str, int] = {}
    for t in rows:
        by_topic[t.topic] = by_topic.get(t.topic, 0) + 1
    return FarmerFigures(
        sessions=len(rows),
        hours=sum((t.hours for t in rows), Decimal("0")),
        trainees=sum(t.total for t in rows),
        by_topic=by_topic,
    )
