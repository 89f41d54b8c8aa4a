"""Pure rules of the meeting ledgers: kinds, periods, obligations, quorum, lateness.

No database, no Flask: values in, values out, tested without either.

The obligations engine
======================

A *rule* is a :class:`Frequency` per meeting kind (``[rules]`` in config.toml,
overridden per county by :class:`~tracker.meetings.models.MeetingRuleOverride`).
A frequency cuts a year into *windows*: twelve months, four quarters, the year,
or one named quarter (``yearly:Q4``). For a branch and a query period (month,
quarter or year) the engine lists every window that overlaps the period, for
each kind — and for 党小组会 for each party group — and gives it a status on
``today``:

``met``       a counting record in the window was entered on time;
``met_late``  only late (补录) records count for it;
``missing``   the window has ended without a counting record;
``due``       the window has not ended yet (``due_soon`` when it ends within
              ``due_soon_days`` and has begun).

A record *counts* when it is not deleted and, for kinds that need a quorum
(支部党员大会), the quorum was met.

Boundaries: a window applies to a branch (group) only if the branch was tracked
(the group existed) on the window's first day and the group was not dissolved
before its last day — a branch created mid-quarter owes that quarter nothing
and owes every month from the next one. Dates are local (Asia/Shanghai).

Bulk use: :func:`evaluate_many` takes flat rows of many branches (one query per
table, see :func:`tracker.meetings.obligations.obligations_for_branches`) and
groups them in one pass — the county dashboard calls it for 1,000 villages.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal, NamedTuple

from tracker import periods as _periods
from tracker.errors import DomainError
from tracker.workdays import WorkCalendar

# ---------------------------------------------------------------------------
# Kinds


@dataclass(frozen=True)
class KindDef:
    """A meeting kind: its code (the ``[rules]`` key), Chinese name and needs."""

    code: str
    name: str
    per_group: bool = False
    needs_quorum: bool = False
    needs_lecturer: bool = False
    builtin: bool = True


BUILTIN_KINDS: tuple[KindDef, ...] = (
    KindDef("branch_general_meeting", "支部党员大会", needs_quorum=True),
    KindDef("branch_committee_meeting", "支部委员会"),
    KindDef("party_group_meeting", "党小组会", per_group=True),
    KindDef("party_lecture", "党课", needs_lecturer=True),
    KindDef("theme_party_day", "主题党日"),
    KindDef("organizational_life_meeting", "组织生活会"),
    KindDef("democratic_appraisal", "民主评议党员"),
    KindDef("heart_to_heart_talk", "谈心谈话"),
)
BUILTIN_CODES = tuple(k.code for k in BUILTIN_KINDS)


# ---------------------------------------------------------------------------
# Periods: the shared reporting periods (``2026-03``, ``2026-Q1``, ``2026``).

Period = _periods.Period
PeriodError = _periods.PeriodError
Unit = _periods.Unit


# ---------------------------------------------------------------------------
# Frequencies


class RuleError(DomainError):
    """A frequency that cannot be read (message for the user)."""

    field = "frequency"


@dataclass(frozen=True)
class Frequency:
    """How often a kind is required: ``monthly``, ``quarterly``, ``yearly[:Qn]`` or ``none``."""

    unit: Unit | None
    quarter: int | None = None  # yearly inside this quarter

    @classmethod
    def parse(cls, text: str) -> Frequency:
        value = (text or "").strip().lower()
        if value in ("none", "", "off"):
            return cls(None)
        if value == "monthly":
            return cls("month")
        if value == "quarterly":
            return cls("quarter")
        if value == "yearly":
            return cls("year")
        m = re.fullmatch(r"yearly:q([1-4])", value)
        if m:
            return cls("year", int(m[1]))
        raise RuleError(f"频次“{text}”无法识别：应为 monthly、quarterly、yearly、yearly:Q4 或 none")

    @property
    def text(self) -> str:
        if self.unit is None:
            return "none"
        base = {"month": "monthly", "quarter": "quarterly", "year": "yearly"}[self.unit]
        return f"{base}:Q{self.quarter}" if self.quarter else base

    @property
    def label(self) -> str:
        """每月、每季度、每年（第四季度）、不作要求, in the page's language."""
        from flask_babel import gettext

        if self.unit is None:
            return gettext("不作要求")
        if self.unit == "month":
            return gettext("每月至少一次")
        if self.unit == "quarter":
            return gettext("每季度至少一次")
        if self.quarter:
            return (
                gettext("每年至少一次（第一季度内）"),
                gettext("每年至少一次（第二季度内）"),
                gettext("每年至少一次（第三季度内）"),
                gettext("每年至少一次（第四季度内）"),
            )[self.quarter - 1]
        return gettext("每年至少一次")

    def windows_in_year(self, year: int) -> list[Period]:
        """The obligation windows of ``year``."""
        if self.unit is None:
            return []
        if self.unit == "month":
            return [Period.month(year, m) for m in range(1, 13)]
        if self.unit == "quarter":
            return [Period.quarter(year, q) for q in range(1, 5)]
        if self.quarter:
            return [Period.quarter(year, self.quarter)]
        return [Period.of_year(year)]

    def windows(self, period: Period) -> tuple[Period, ...]:
        """Windows that overlap ``period`` (a month inside a quarterly rule → that quarter)."""
        return _windows(self, period)


@lru_cache(maxsize=1024)
def _windows(freq: Frequency, period: Period) -> tuple[Period, ...]:
    # Cached: the same windows serve every branch of a bulk evaluation.
    years = range(period.start.year, period.end.year + 1)
    return tuple(w for y in years for w in freq.windows_in_year(y) if w.overlaps(period))


Rules = Mapping[str, Frequency]


def rules_from_config(
    section: Mapping[str, object], codes: Iterable[str] = BUILTIN_CODES
) -> dict[str, Frequency]:
    """``[rules]`` → ``{kind code: Frequency}`` (keys that are not kinds are ignored)."""
    return {code: Frequency.parse(str(section[code])) for code in codes if code in section}


def merge_rules(base: Rules, overrides: Mapping[str, str]) -> dict[str, Frequency]:
    """A county's rules: the config's, with its overrides on top."""
    merged = dict(base)
    for code, text in overrides.items():
        merged[code] = Frequency.parse(text)
    return merged


# ---------------------------------------------------------------------------
# Facts and statuses


@dataclass(frozen=True)
class BranchFacts:
    """What the engine needs to know of a branch."""

    id: int
    tracked_from: date | None = None
    county_id: int | None = None


@dataclass(frozen=True)
class GroupFacts:
    """A party group: obligations of 党小组会 are per group."""

    id: int
    branch_id: int
    name: str = ""
    created_on: date | None = None
    dissolved_on: date | None = None


class MeetingFact(NamedTuple):
    """A meeting record reduced to what decides obligations.

    A named tuple, not a dataclass: a county's list page builds thousands per
    request, and a tuple is made in one call instead of one per field.
    """

    id: int
    branch_id: int
    kind: str
    held_on: date
    group_id: int | None = None
    late: bool = False
    counts: bool = True  # not deleted, and quorum met where needed


Status = Literal["met", "met_late", "missing", "due"]


@dataclass(frozen=True)
class ObligationStatus:
    """One obligation window of one branch (or party group) and its status."""

    kind: str
    window: Period
    status: Status
    due_soon: bool = False
    group_id: int | None = None
    group_name: str = ""
    record_ids: tuple[int, ...] = ()  # counting records, on time first
    late_record_ids: tuple[int, ...] = ()
    other_record_ids: tuple[int, ...] = ()  # held in the window but not counting
    started: bool = True  # the window has begun (today >= its first day)


def applies(window: Period, since: date | None, until: date | None = None) -> bool:
    """Whether an entity that exists from ``since`` (to ``until``) owes this window."""
    if since is not None and since > window.start:
        return False
    return not (until is not None and until <= window.end)


def _status(
    kind: str,
    window: Period,
    inside: list[MeetingFact],
    today: date,
    due_soon_days: int,
    group: GroupFacts | None = None,
) -> ObligationStatus:
    """The status of one window from the records held inside it."""
    counting = [f for f in inside if f.counts]
    on_time = tuple(f.id for f in counting if not f.late)
    late = tuple(f.id for f in counting if f.late)
    others = tuple(f.id for f in inside if not f.counts)
    started = window.start <= today
    soon = False
    if on_time:
        status: Status = "met"
    elif late:
        status = "met_late"
    elif today > window.end:
        status = "missing"
    else:
        status = "due"
        soon = started and (window.end - today).days < due_soon_days
    return ObligationStatus(
        kind=kind,
        window=window,
        status=status,
        due_soon=soon,
        group_id=group.id if group else None,
        group_name=group.name if group else "",
        record_ids=on_time + late,
        late_record_ids=late,
        other_record_ids=others,
        started=started,
    )


def evaluate_branch(
    branch: BranchFacts,
    groups: Iterable[GroupFacts],
    meetings: Iterable[MeetingFact],
    rules: Rules,
    period: Period,
    today: date,
    kinds: Iterable[KindDef] = BUILTIN_KINDS,
    due_soon_days: int = 7,
) -> list[ObligationStatus]:
    """Every obligation window of one branch overlapping ``period``, with its status."""
    # Facts bucketed by month, so each window reads only its own months (linear overall).
    by_month: dict[tuple[str, int, int], list[MeetingFact]] = defaultdict(list)
    by_group_month: dict[tuple[str, int | None, int, int], list[MeetingFact]] = defaultdict(list)
    for fact in meetings:
        by_month[(fact.kind, fact.held_on.year, fact.held_on.month)].append(fact)
        by_group_month[(fact.kind, fact.group_id, fact.held_on.year, fact.held_on.month)].append(
            fact
        )
    group_list = list(groups)
    out: list[ObligationStatus] = []
    for kind in kinds:
        freq = rules.get(kind.code)
        if freq is None or freq.unit is None:
            continue
        for window in freq.windows(period):
            if not applies(window, branch.tracked_from):
                continue
            months = range(window.first_month, window.first_month + window.n_months)
            if kind.per_group:
                for group in group_list:
                    if not applies(window, group.created_on, group.dissolved_on):
                        continue
                    inside = [
                        f
                        for m in months
                        for f in by_group_month.get((kind.code, group.id, window.year, m), ())
                    ]
                    out.append(_status(kind.code, window, inside, today, due_soon_days, group))
            else:
                inside = [f for m in months for f in by_month.get((kind.code, window.year, m), ())]
                out.append(_status(kind.code, window, inside, today, due_soon_days))
    return out


def evaluate_many(
    branches: Iterable[BranchFacts],
    groups: Iterable[GroupFacts],
    meetings: Iterable[MeetingFact],
    rules_by_county: Mapping[int | None, Rules],
    default_rules: Rules,
    period: Period,
    today: date,
    kinds: Iterable[KindDef] = BUILTIN_KINDS,
    due_soon_days: int = 7,
) -> dict[int, list[ObligationStatus]]:
    """:func:`evaluate_branch` for many branches from flat rows, in one pass over each."""
    kind_list = list(kinds)
    groups_of: dict[int, list[GroupFacts]] = defaultdict(list)
    for g in groups:
        groups_of[g.branch_id].append(g)
    meetings_of: dict[int, list[MeetingFact]] = defaultdict(list)
    for m in meetings:
        meetings_of[m.branch_id].append(m)
    kinds_key = tuple(kind_list)
    frozen_rules: dict[int, tuple[tuple[str, Frequency], ...]] = {}

    def rules_key(county_id: int | None) -> tuple[tuple[str, Frequency], ...]:
        key = id(rules_by_county.get(county_id, default_rules))
        if key not in frozen_rules:
            frozen_rules[key] = tuple(sorted(rules_by_county.get(county_id, default_rules).items()))
        return frozen_rules[key]

    return {
        b.id: list(
            _evaluate_branch_memo(
                b,
                tuple(groups_of.get(b.id, ())),
                tuple(meetings_of.get(b.id, ())),
                rules_key(b.county_id),
                period,
                today,
                kinds_key,
                due_soon_days,
            )
        )
        for b in branches
    }


@lru_cache(maxsize=1024)
def _evaluate_branch_memo(
    branch: BranchFacts,
    groups: tuple[GroupFacts, ...],
    meetings: tuple[MeetingFact, ...],
    rules: tuple[tuple[str, Frequency], ...],
    period: Period,
    today: date,
    kinds: tuple[KindDef, ...],
    due_soon_days: int,
) -> tuple[ObligationStatus, ...]:
    """:func:`evaluate_branch` remembered by its exact inputs (every fact it reads is in
    the key, so an answer is never stale): a list page asked again for the same
    villages, with no record changed, reuses the statuses instead of recomputing the
    year's windows (the meetings list's main cost). Bounded: 1,024 branch-periods."""
    return tuple(
        evaluate_branch(branch, groups, meetings, dict(rules), period, today, kinds, due_soon_days)
    )


@dataclass(frozen=True)
class Summary:
    """Counts of one branch's (or many branches') obligations in a period."""

    met: int = 0
    met_late: int = 0
    missing: int = 0
    due: int = 0
    due_soon: int = 0

    @property
    def settled(self) -> int:
        """Obligations that are decided: met, met late or missing."""
        return self.met + self.met_late + self.missing

    @property
    def rate(self) -> float | None:
        """Share of decided obligations met (on time or late); None if none is decided."""
        return (self.met + self.met_late) / self.settled if self.settled else None

    @property
    def on_time_rate(self) -> float | None:
        """Share of decided obligations met on time."""
        return self.met / self.settled if self.settled else None

    def __add__(self, other: Summary) -> Summary:
        return Summary(
            self.met + other.met,
            self.met_late + other.met_late,
            self.missing + other.missing,
            self.due + other.due,
            self.due_soon + other.due_soon,
        )


def summarize(statuses: Iterable[ObligationStatus]) -> Summary:
    counts = {"met": 0, "met_late": 0, "missing": 0, "due": 0}
    soon = 0
    for s in statuses:
        counts[s.status] += 1
        soon += s.due_soon
    return Summary(counts["met"], counts["met_late"], counts["missing"], counts["due"], soon)


# ---------------------------------------------------------------------------
# Grid (months × kinds)


@dataclass(frozen=True)
class GridCell:
    """A cell spanning ``span`` months from month ``first`` (1-based); status None = no rule."""

    first: int
    span: int
    status: ObligationStatus | None = None


@dataclass(frozen=True)
class GridRow:
    kind: str
    group_name: str
    cells: tuple[GridCell, ...]


def year_grid(statuses: Iterable[ObligationStatus], year: int) -> list[GridRow]:
    """Lay a year's statuses out as rows of cells covering months 1–12 (gaps are empty)."""
    rows: dict[tuple[str, int | None], list[ObligationStatus]] = {}
    names: dict[tuple[str, int | None], str] = {}
    for s in statuses:
        if s.window.year != year:
            continue
        key = (s.kind, s.group_id)
        rows.setdefault(key, []).append(s)
        names[key] = s.group_name
    out = []
    for key, items in rows.items():
        items.sort(key=lambda s: s.window.start)
        cells: list[GridCell] = []
        month = 1
        for s in items:
            if s.window.first_month > month:
                cells.append(GridCell(month, s.window.first_month - month))
            cells.append(GridCell(s.window.first_month, s.window.n_months, s))
            month = s.window.first_month + s.window.n_months
        if month <= 12:
            cells.append(GridCell(month, 13 - month))
        out.append(GridRow(key[0], names[key], tuple(cells)))
    return out


# ---------------------------------------------------------------------------
# Quorum, lateness, edit lock


def quorum_met(full_members: int, full_present: int) -> bool:
    """More than half of the full (voting) members present; probationary members do not count."""
    return full_members > 0 and full_present * 2 > full_members


def working_days_after(held_on: date, entered_on: date, cal: WorkCalendar) -> int:
    """Working days between the meeting and its entry (0 = same day or earlier)."""
    return cal.working_days_between(held_on, entered_on)


def is_late(held_on: date, entered_on: date, cal: WorkCalendar, allowed_working_days: int) -> bool:
    """补录: entered more than ``allowed_working_days`` official working days after the meeting."""
    return working_days_after(held_on, entered_on, cal) > allowed_working_days


def edit_locked(held_on: date, today: date, lock_days: int) -> bool:
    """Records older than ``lock_days`` may be changed only by an admin, with a reason."""
    return (today - held_on).days > lock_days


def diff_snapshots(
    before: Mapping[str, object] | None, after: Mapping[str, object]
) -> dict[str, list[object]]:
    """``{field: [old, new]}`` for every field that changed (``before`` None → all new)."""
    before = before or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def meeting_warnings(
    *,
    needs_quorum: bool,
    full_members: int,
    full_present: int,
    host_present: bool,
    recorder_absent: bool,
) -> list[str]:
    """Why a meeting as entered will not count: not quorate, host or recorder absent."""
    from flask_babel import gettext

    out = []
    if needs_quorum and not quorum_met(full_members, full_present):
        out.append(
            gettext(
                "未达到法定人数：正式党员 %(members)s 人，到会 %(present)s 人"
                "（须超过半数），这次会议不计入完成情况。",
                members=full_members,
                present=full_present,
            )
        )
    if not host_present:
        out.append(gettext("主持人未勾选出席。"))
    if recorder_absent:
        out.append(gettext("记录人未勾选出席。"))
    return out
