"""Figures of the team registers (队伍建设): one definition, used by the dashboard's
队伍建设 component, the duty pages, the home to-do and the API (docs/figures.md#teams).

For a period ``[start, end]`` judged at the cut-off ``C`` (the end, or today while it
runs) every village owes five kinds of items; each is *due* once its deadline has
passed (on or before ``C`` and before today) and *met* as defined here:

=================  ======================================================  =====================================
part               due                                                      met
=================  ======================================================  =====================================
后备干部            the "2+5" targets (``[teams] reserve_*_target``)         candidates in cultivation on ``C``, up to each target
召回步骤            recall steps due in the period                           done on or before their deadline
设岗评议            half-years of an assignment whose review deadline        a review of that half-year entered
                   (half end + ``post_review_working_days``) is in it       on or before ``C``
评诺                pledges of a year whose rating deadline (31 Dec +        rated on or before ``C``
                   ``pledge_rating_working_days``) is in it
联户联系            contact windows (``household_contact``) of a link        a contact of a counting kind in the
                   that end in it, while the link existed                   window
=================  ======================================================  =====================================

The component's rate is Σ met ÷ Σ due over the five parts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import Member
from tracker.teams.duty_models import (
    DutyPost,
    HouseholdContact,
    HouseholdLink,
    Pledge,
    PostAssignment,
    PostReview,
)
from tracker.teams.duty_rules import (
    half_bounds,
    halves_between,
    judged,
    rating_deadline,
    review_deadline,
    window_kind,
    windows_between,
)
from tracker.teams.models import RecallStep, ReserveCadre, ReserveStatus, ReserveTrack
from tracker.workdays import WorkCalendar

PARTS = ("reserves", "recalls", "reviews", "pledges", "contacts")
PART_LABELS = {
    "reserves": "后备干部",
    "recalls": "召回步骤按时",
    "reviews": "设岗半年评议",
    "pledges": "年终评诺",
    "contacts": "联户联系",
}


@dataclass
class TeamFigures:
    """``{part: (met, due)}`` of one village in one period."""

    parts: dict[str, tuple[int, int]] = field(default_factory=lambda: dict.fromkeys(PARTS, (0, 0)))

    def add(self, part: str, met: bool) -> None:
        m, d = self.parts[part]
        self.parts[part] = (m + int(met), d + 1)

    @property
    def met(self) -> int:
        return sum(m for m, _d in self.parts.values())

    @property
    def due(self) -> int:
        return sum(d for _m, d in self.parts.values())


def team_figures(
    village_ids: Iterable[int], start: date, end: date, today: date, cal: WorkCalendar
) -> Mapping[int, TeamFigures]:
    """The 队伍建设 figures of many villages in one period, a few queries in all."""
    ids = list(village_ids)
    out = {vid: TeamFigures() for vid in ids}
    if not ids:
        return out
    cutoff = min(end, today)
    s = current_settings().teams
    # 后备干部: in cultivation on the cut-off, against each target.
    counts: dict[tuple[int, ReserveTrack], int] = defaultdict(int)
    for region_id, track, status, status_on in db.session.execute(
        select(
            ReserveCadre.region_id, ReserveCadre.track, ReserveCadre.status, ReserveCadre.status_on
        ).where(ReserveCadre.region_id.in_(ids), ReserveCadre.entered_on <= cutoff)
    ):
        if status == ReserveStatus.cultivating or (status_on is not None and status_on > cutoff):
            counts[(region_id, track)] += 1
    targets = {
        ReserveTrack.secretary: s.reserve_secretary_target,
        ReserveTrack.committee: s.reserve_committee_target,
    }
    if start <= today:
        for vid in ids:
            m = sum(min(counts[(vid, t)], n) for t, n in targets.items())
            d = sum(targets.values())
            out[vid].parts["reserves"] = (m, d)
    # 召回步骤: due in the period, judged once past; on time when done by the deadline.
    for region_id, due_on, done_on in db.session.execute(
        select(RecallStep.region_id, RecallStep.due_on, RecallStep.done_on).where(
            RecallStep.region_id.in_(ids), RecallStep.due_on >= start, RecallStep.due_on <= end
        )
    ):
        done_by_cutoff = done_on is not None and done_on <= cutoff
        if done_by_cutoff or judged(due_on, cutoff, today):
            out[region_id].add(
                "recalls", done_on is not None and done_by_cutoff and done_on <= due_on
            )
    # 设岗评议: the half-years whose review deadline falls in the period.
    done_review = {
        (aid, y, h): on
        for aid, y, h, on in db.session.execute(
            select(
                PostReview.assignment_id, PostReview.year, PostReview.half, PostReview.reviewed_on
            )
            .join(PostAssignment, PostReview.assignment_id == PostAssignment.id)
            .where(PostAssignment.region_id.in_(ids))
        )
    }
    for aid, region_id, started, ended in db.session.execute(
        select(
            PostAssignment.id,
            PostAssignment.region_id,
            PostAssignment.started_on,
            PostAssignment.ended_on,
        ).where(PostAssignment.region_id.in_(ids), PostAssignment.started_on <= end)
    ):
        for y, h in halves_between(started, min(ended or end, end)):
            deadline = review_deadline(y, h, s.post_review_working_days, cal)
            if not start <= deadline <= end:
                continue
            on = done_review.get((aid, y, h))
            met = on is not None and on <= cutoff
            if met or judged(deadline, cutoff, today):
                out[region_id].add("reviews", met)
    # 评诺: a year's pledges, at the rating deadline.
    for region_id, year, rated_on in db.session.execute(
        select(Pledge.region_id, Pledge.year, Pledge.rated_on).where(
            Pledge.region_id.in_(ids), Pledge.year >= start.year - 1, Pledge.year <= end.year
        )
    ):
        deadline = rating_deadline(year, s.pledge_rating_working_days, cal)
        if not start <= deadline <= end:
            continue
        met = rated_on is not None and rated_on <= cutoff
        if met or judged(deadline, cutoff, today):
            out[region_id].add("pledges", met)
    # 联户联系: each window of each link.
    kind = window_kind(s.household_contact)
    if kind is not None:
        kinds = set(s.household_contact_kinds)
        links = db.session.execute(
            select(
                HouseholdLink.id, HouseholdLink.region_id, HouseholdLink.since, HouseholdLink.until
            ).where(
                HouseholdLink.region_id.in_(ids),
                HouseholdLink.since <= end,
                (HouseholdLink.until.is_(None)) | (HouseholdLink.until >= start),
            )
        ).all()
        contacts: dict[int, list[date]] = defaultdict(list)
        for link_id, on, ckind in db.session.execute(
            select(HouseholdContact.link_id, HouseholdContact.on, HouseholdContact.kind)
            .join(HouseholdLink, HouseholdContact.link_id == HouseholdLink.id)
            .where(
                HouseholdLink.region_id.in_(ids),
                HouseholdContact.on >= windows_between(start, start, kind)[0][0],
                HouseholdContact.on <= end,
            )
        ):
            if ckind.value in kinds:
                contacts[link_id].append(on)
        for link_id, region_id, since, until in links:
            for ws, we in windows_between(start, end, kind):
                if we > end or since > we or (until is not None and until < ws):
                    continue
                met = any(ws <= on <= we and on <= cutoff for on in contacts[link_id])
                if met or judged(we, cutoff, today):
                    out[region_id].add("contacts", met)
    return out


# -- what is overdue now (home to-do, village page) --------------------------------------


@dataclass(frozen=True)
class MissingReview:
    assignment_id: int
    region_id: int
    member: str
    post: str
    year: int
    half: int
    deadline: date


@dataclass(frozen=True)
class UnratedPledge:
    pledge_id: int
    region_id: int
    name: str
    year: int
    deadline: date


@dataclass(frozen=True)
class OverdueContact:
    link_id: int
    region_id: int
    member: str
    head: str
    window_start: date
    window_end: date
    last_contact: date | None


@dataclass
class DutyObligations:
    reviews: list[MissingReview] = field(default_factory=list)
    pledges: list[UnratedPledge] = field(default_factory=list)
    contacts: list[OverdueContact] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.reviews) + len(self.pledges) + len(self.contacts)


def open_obligations(
    village_ids: Iterable[int], today: date, cal: WorkCalendar
) -> Mapping[int, DutyObligations]:
    """Reviews past deadline not entered, pledges past the rating deadline not rated, and
    links whose last ended contact window had no counting contact — as of ``today``."""
    ids = list(village_ids)
    out = {vid: DutyObligations() for vid in ids}
    if not ids:
        return out
    s = current_settings().teams
    done = {
        (aid, y, h)
        for aid, y, h in db.session.execute(
            select(PostReview.assignment_id, PostReview.year, PostReview.half)
            .join(PostAssignment, PostReview.assignment_id == PostAssignment.id)
            .where(PostAssignment.region_id.in_(ids))
        )
    }
    for aid, region_id, started, ended, member, post in db.session.execute(
        select(
            PostAssignment.id,
            PostAssignment.region_id,
            PostAssignment.started_on,
            PostAssignment.ended_on,
            Member.name,
            DutyPost.name,
        )
        .join(Member, PostAssignment.member_id == Member.id)
        .join(DutyPost, PostAssignment.post_id == DutyPost.id)
        .where(PostAssignment.region_id.in_(ids))
        .order_by(PostAssignment.id)
    ):
        for y, h in halves_between(started, min(ended or today, today)):
            if half_bounds(y, h)[1] >= today:
                continue
            deadline = review_deadline(y, h, s.post_review_working_days, cal)
            if deadline < today and (aid, y, h) not in done:
                out[region_id].reviews.append(
                    MissingReview(aid, region_id, member, post, y, h, deadline)
                )
    for pid, region_id, name, year in db.session.execute(
        select(Pledge.id, Pledge.region_id, Pledge.name, Pledge.year)
        .where(Pledge.region_id.in_(ids), Pledge.rating.is_(None), Pledge.year < today.year)
        .order_by(Pledge.year, Pledge.id)
    ):
        deadline = rating_deadline(year, s.pledge_rating_working_days, cal)
        if deadline < today:
            out[region_id].pledges.append(UnratedPledge(pid, region_id, name, year, deadline))
    kind = window_kind(s.household_contact)
    if kind is not None:
        kinds = set(s.household_contact_kinds)
        current = windows_between(today, today, kind)[0]
        before = current[0] - timedelta(days=1)
        last_ws, last_we = windows_between(before, before, kind)[0]
        last: dict[int, date] = {}
        in_window: set[int] = set()
        for link_id, on, ckind in db.session.execute(
            select(HouseholdContact.link_id, HouseholdContact.on, HouseholdContact.kind)
            .join(HouseholdLink, HouseholdContact.link_id == HouseholdLink.id)
            .where(HouseholdLink.region_id.in_(ids), HouseholdLink.until.is_(None))
        ):
            if ckind.value not in kinds:
                continue
            last[link_id] = max(on, last.get(link_id, on))
            if last_ws <= on <= last_we:
                in_window.add(link_id)
        for link_id, region_id, since, member, head in db.session.execute(
            select(
                HouseholdLink.id,
                HouseholdLink.region_id,
                HouseholdLink.since,
                Member.name,
                HouseholdLink.head,
            )
            .join(Member, HouseholdLink.member_id == Member.id)
            .where(HouseholdLink.region_id.in_(ids), HouseholdLink.until.is_(None))
            .order_by(HouseholdLink.id)
        ):
            if since <= last_we and link_id not in in_window:
                out[region_id].contacts.append(
                    OverdueContact(
                        link_id, region_id, member, head, last_ws, last_we, last.get(link_id)
                    )
                )
    return out


# -- post vacancies and concentrated trainings owed (village page, dashboard) ------------


@dataclass(frozen=True)
class OverdueVacancy:
    vacancy_id: int
    region_id: int
    post: str
    vacated_on: date
    due_on: date


@dataclass(frozen=True)
class MissedTraining:
    region_id: int
    window: str  # the window's label (e.g. 2025年)
    hours: Decimal
    required_hours: Decimal


@dataclass
class PostsTrainingsOwed:
    vacancies: list[OverdueVacancy] = field(default_factory=list)
    trainings: list[MissedTraining] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.vacancies) + len(self.trainings)


def posts_and_trainings_owed(
    village_ids: Iterable[int], today: date
) -> Mapping[int, PostsTrainingsOwed]:
    """Vacant posts past their fill deadline (:func:`tracker.teams.posts.overdue_vacancies`,
    the home to-do's definition) and the village organization's concentrated-training
    windows of this year and last that ended short of the required hours
    (:func:`tracker.trainings.concentrated.concentrated_figures`, status 未完成) — as of
    ``today``. A fixed number of statements whatever the number of villages."""
    from tracker.periods import Period
    from tracker.teams.models import PostVacancy
    from tracker.teams.posts import overdue_clause
    from tracker.trainings.concentrated import concentrated_figures_of

    ids = list(village_ids)
    out = {vid: PostsTrainingsOwed() for vid in ids}
    if not ids:
        return out
    for row in db.session.execute(
        select(
            PostVacancy.id,
            PostVacancy.region_id,
            PostVacancy.post,
            PostVacancy.vacated_on,
            PostVacancy.due_on,
        )
        .where(PostVacancy.region_id.in_(ids), overdue_clause(today))
        .order_by(PostVacancy.due_on, PostVacancy.id)
    ):
        out[row.region_id].vacancies.append(OverdueVacancy(*row))
    years = [Period.of_year(today.year - 1), Period.of_year(today.year)]
    by_year = concentrated_figures_of(years, ids, today)
    for year in years:
        for rid, fig in by_year[year.key].items():
            out[rid].trainings.extend(
                MissedTraining(rid, w.label, w.hours, fig.required_hours)
                for w in fig.windows
                if w.status == "missing"
            )
    return out
