"""A member's standing on any day, from the dated facts (党员状态记录).

Every past question — "full members of this branch on 2026-11-20", who could
vote at a meeting — is answered here, from :class:`MemberFact` rows, never from
today's ``Member.status``. :func:`fold` is the rule (pure); :func:`standings_on`
is the one bulk query (one SELECT for any number of branches).

A fact holds from its day on: a member who is 转正 on 11-20 is full on 11-20,
one transferred out on 11-20 is off the roster on 11-20 (as ``Member.left_on``
always meant).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Member, MemberStatus
from tracker.org.models import FactKind, MemberFact

LABELS = {
    FactKind.probationary: "预备党员",
    FactKind.full: "转正（正式党员）",
    FactKind.away: "外出流动",
    FactKind.transfer_in: "组织关系转入",
    FactKind.transfer_out: "组织关系转出",
    FactKind.deceased: "去世",
    FactKind.expelled: "开除党籍",
    FactKind.stopped: "停止党籍",
    FactKind.left: "离开名册",
}

# Facts after which the member is no longer on the branch's roster.
ENDING = frozenset(
    {FactKind.transfer_out, FactKind.deceased, FactKind.expelled, FactKind.stopped, FactKind.left}
)
# Facts that put a member on the roster.
OPENING = frozenset({FactKind.probationary, FactKind.full, FactKind.transfer_in})


@dataclass(frozen=True)
class Standing:
    """Where a member stood on a day."""

    on_roster: bool
    status: MemberStatus | None
    away: bool = False  # a 流动党员 away on that day (still on the roster, still votes)
    since: date | None = None  # the day of the fact that put them where they stand

    @property
    def can_vote(self) -> bool:
        return self.on_roster and self.status == MemberStatus.full


NOWHERE = Standing(on_roster=False, status=None)


def _key(fact: MemberFact) -> tuple[date, int]:
    return (fact.on or date.min, fact.id or 0)


def fold(facts: Iterable[MemberFact], day: date | None = None) -> Standing:
    """The standing after the facts dated up to ``day`` (all facts when ``day`` is None)."""
    on_roster = False
    status: MemberStatus | None = None
    away = False
    since: date | None = None
    for fact in sorted(facts, key=_key):
        if day is not None and fact.on is not None and fact.on > day:
            break
        if fact.kind == FactKind.away:
            away = fact.until is None or day is None or fact.until >= day
            continue
        if fact.kind in ENDING:
            on_roster, away = False, False
        elif fact.kind == FactKind.transfer_in:
            on_roster = True
            status = fact.status or status or MemberStatus.full
        elif fact.kind == FactKind.probationary:
            on_roster, status = True, MemberStatus.probationary
        elif fact.kind == FactKind.full:
            on_roster, status = True, MemberStatus.full
        since = fact.on
    return Standing(on_roster=on_roster, status=status, away=away and on_roster, since=since)


def facts_of(member_id: int) -> list[MemberFact]:
    """A member's facts, oldest first."""
    rows = db.session.scalars(select(MemberFact).where(MemberFact.member_id == member_id)).all()
    return sorted(rows, key=_key)


def standings_on(branch_ids: Sequence[int], day: date) -> dict[int, dict[int, Standing]]:
    """``{branch_id: {member_id: Standing}}`` of everyone on a branch's roster on ``day``."""
    out: dict[int, dict[int, Standing]] = {b: {} for b in branch_ids}
    if not branch_ids:
        return out
    rows = db.session.execute(
        select(Member.branch_id, MemberFact)
        .join(Member, Member.id == MemberFact.member_id)
        .where(
            Member.branch_id.in_(list(branch_ids)),
            (MemberFact.on.is_(None)) | (MemberFact.on <= day),
        )
    ).all()
    by_member: dict[int, tuple[int, list[MemberFact]]] = {}
    for branch_id, fact in rows:
        by_member.setdefault(fact.member_id, (branch_id, []))[1].append(fact)
    for member_id, (branch_id, facts) in by_member.items():
        standing = fold(facts, day)
        if standing.on_roster:
            out[branch_id][member_id] = standing
    return out


def members_on(branch_id: int, day: date) -> list[Member]:
    """The members on the branch's roster on ``day``, by group then name."""
    ids = standings_on([branch_id], day)[branch_id]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Member).where(Member.id.in_(list(ids))).order_by(Member.group_id, Member.name)
        )
    )


def full_members_on(branch_ids: Sequence[int], day: date) -> dict[int, set[int]]:
    """``{branch_id: {member_id}}`` of the full members (who vote) on ``day``."""
    return {
        b: {m for m, s in standing.items() if s.can_vote}
        for b, standing in standings_on(branch_ids, day).items()
    }


def full_dates(member_ids: Sequence[int], as_of: date | None = None) -> dict[int, date]:
    """``{member_id: 转正 day}``: the latest 转正 fact (up to ``as_of``) after a probation."""
    if not member_ids:
        return {}
    rows = db.session.scalars(
        select(MemberFact).where(MemberFact.member_id.in_(list(member_ids)))
    ).all()
    by_member: dict[int, list[MemberFact]] = {}
    for fact in rows:
        by_member.setdefault(fact.member_id, []).append(fact)
    out: dict[int, date] = {}
    for member_id, facts in by_member.items():
        probation = False
        for fact in sorted(facts, key=_key):
            if as_of is not None and fact.on is not None and fact.on > as_of:
                break
            if fact.kind == FactKind.probationary:
                probation = True
            elif fact.kind == FactKind.full and probation and fact.on is not None:
                out[member_id] = fact.on
                probation = False
    return out
