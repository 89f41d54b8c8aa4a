"""Steps of a matter's timeline as typed commands: one small dataclass per event kind.

A view, the API, a job or the demo builds one of these and hands it to
:func:`tracker.matters.services.record_event`, which looks up the kind's
handler in its dispatch table. Each command carries exactly the details its
step needs (a referral names a user or a unit, an extension an approver and
its days …), so no caller passes a dozen optional strings that do not apply.

The JSON API mirrors these one to one (``tracker.matters.api.EventIn``, a
discriminated union on ``kind``); ``tests/tracker/test_matter_commands.py``
keeps the two in step.

``at`` is when the step happened (default: now); ``client_token`` makes a
resent submit a no-op (the event already recorded is returned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

from tracker.matters.models import EventKind, HandlingLevel, Rating, RatingSource


@dataclass(frozen=True, kw_only=True)
class Step:
    """What every step has: when it happened and the submit's idempotency token."""

    kind: ClassVar[EventKind]
    at: datetime | None = None
    client_token: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReportMissing(Step):
    """一次性告知补正: the materials still missing and what the applicant was told (clock stops)."""

    kind: ClassVar[EventKind] = EventKind.materials_missing
    missing: Sequence[str] = ()
    notice: str | None = None


@dataclass(frozen=True, kw_only=True)
class SupplyMaterials(Step):
    """材料补齐: the missing materials arrived (the clock runs again from the next day)."""

    kind: ClassVar[EventKind] = EventKind.materials_supplied
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Refer(Step):
    """转办: to a user and/or a unit; the first responder stays the owner (首问负责)."""

    kind: ClassVar[EventKind] = EventKind.referred
    to_user_id: int | None = None
    to_unit: str | None = None
    to_level: HandlingLevel | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Extend(Step):
    """延期: approved by someone, for a reason, by some working days, told to the applicant."""

    kind: ClassVar[EventKind] = EventKind.extended
    days: int | None = None
    approver: str | None = None
    note: str | None = None  # the reason
    notice: str | None = None  # how the applicant was told


@dataclass(frozen=True, kw_only=True)
class Complete(Step):
    """办结: with the result (``note``)."""

    kind: ClassVar[EventKind] = EventKind.completed
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rate(Step):
    """评价 (好差评): one of the five grades, with the applicant's words if any.

    ``source`` says who gave it: a staff member not involved in the matter, the
    applicant's paper slip copied in by the counter (allowed for its own staff,
    marked as such), or the applicant on the receipt's QR page.
    """

    kind: ClassVar[EventKind] = EventKind.rated
    rating: Rating | None = None
    note: str | None = None
    source: RatingSource = RatingSource.staff


@dataclass(frozen=True, kw_only=True)
class CallBack(Step):
    """差评回访: how the applicant was called back and what came of it."""

    kind: ClassVar[EventKind] = EventKind.called_back
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Appeal(Step):
    """评价申诉: why the rating is thought wrong."""

    kind: ClassVar[EventKind] = EventKind.appealed
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class DecideAppeal(Step):
    """申诉处理 (admins): upheld (the rating stops counting) or not, with the reasoning."""

    kind: ClassVar[EventKind] = EventKind.appeal_decided
    upheld: bool | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Archive(Step):
    """归档."""

    kind: ClassVar[EventKind] = EventKind.archived
    note: str | None = None


Command = (
    ReportMissing
    | SupplyMaterials
    | Refer
    | Extend
    | Complete
    | Rate
    | CallBack
    | Appeal
    | DecideAppeal
    | Archive
)

# Every kind a user may record, to its command (受理 is registration, not a step).
COMMANDS: dict[EventKind, type[Step]] = {
    cls.kind: cls
    for cls in (
        ReportMissing,
        SupplyMaterials,
        Refer,
        Extend,
        Complete,
        Rate,
        CallBack,
        Appeal,
        DecideAppeal,
        Archive,
    )
}


def field_names(cls: type[Step]) -> list[str]:
    """The details a command takes (``at`` and ``client_token`` included)."""
    return [f.name for f in fields(cls)]


def build(kind: EventKind, **values: Any) -> Step:
    """The command of ``kind`` from its details (``TypeError`` for a detail it does not take)."""
    return COMMANDS[kind](**values)


__all__ = [
    "COMMANDS",
    "Appeal",
    "Archive",
    "CallBack",
    "Command",
    "Complete",
    "DecideAppeal",
    "Extend",
    "Rate",
    "Refer",
    "ReportMissing",
    "Step",
    "SupplyMaterials",
    "build",
    "field_names",
]
