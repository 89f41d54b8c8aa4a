"""Period snapshots of the compliance dashboard (合规看板快照), kept by the jobs process.

:class:`VillageScore` holds, for one village and one period (month, quarter or
year), the raw figures of every score component (numerators and denominators),
the score and its band. The village's township, county and city ids are copied
onto the row so that a township/county/city roll-up is one ``GROUP BY`` over at
most a few thousand rows — the pages never touch the ledgers' raw rows.

:class:`MissedObligation` lists, per village and period, how many obligations
of each meeting kind were missed (for "most-missed obligations").
:class:`DashboardReport` keeps the monthly report workbooks the jobs process
generates, in the database so every web process can serve them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, utcnow


class VillageScore(Base):
    """One village's compliance figures and score for one period."""

    __tablename__ = "dashboard_village_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(8))  # 2026-03, 2026-Q1, 2026
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)  # the village
    township_id: Mapped[int]
    county_id: Mapped[int]
    city_id: Mapped[int]
    # 会议履职: obligations due / met (met_late: met only by late entries).
    meetings_due: Mapped[int] = mapped_column(default=0)
    meetings_met: Mapped[int] = mapped_column(default=0)
    meetings_met_late: Mapped[int] = mapped_column(default=0)
    # 按时录入: meeting records of the period / entered late (补录) / edited after entry.
    records_total: Mapped[int] = mapped_column(default=0)
    records_late: Mapped[int] = mapped_column(default=0)
    records_edited: Mapped[int] = mapped_column(default=0)
    # 限时办结: received; due in the period (completed in it, or open and overdue); on time.
    matters_received: Mapped[int] = mapped_column(default=0)
    matters_due: Mapped[int] = mapped_column(default=0)
    matters_on_time: Mapped[int] = mapped_column(default=0)
    matters_overdue_open: Mapped[int] = mapped_column(default=0)
    # 差评回访: bad ratings whose call-back fell due / called back on time.
    bad_ratings: Mapped[int] = mapped_column(default=0)
    callbacks_on_time: Mapped[int] = mapped_column(default=0)
    # 监控: opening-time seconds of every camera of the village's halls.
    cameras: Mapped[int] = mapped_column(default=0)
    cam_open_s: Mapped[int] = mapped_column(default=0)
    cam_up_s: Mapped[int] = mapped_column(default=0)  # live and picture OK (完好)
    cam_live_s: Mapped[int] = mapped_column(default=0)  # stream live (在线)
    cam_unknown_s: Mapped[int] = mapped_column(default=0)  # monitor blind: not counted
    cam_excused_s: Mapped[int] = mapped_column(default=0)  # approved excuses: not counted
    # 完好率 = cam_up_s / (open − unknown − excused), NULL when nothing counts: the order
    # of the darkest-halls list, kept so a city's lowest rates are read from an index
    # (``cam_up_rate_of``; the list showed the same quotient computed in its query).
    cam_up_rate: Mapped[float | None]
    # The camera seconds above of the period's days before the local day the snapshot
    # was computed on (all of them for a closed period): a run later that day adds only
    # the day's live part to these (:func:`tracker.dashboard.services.refresh_live`).
    cam_past_open_s: Mapped[int] = mapped_column(default=0, server_default="0")
    cam_past_up_s: Mapped[int] = mapped_column(default=0, server_default="0")
    cam_past_live_s: Mapped[int] = mapped_column(default=0, server_default="0")
    cam_past_unknown_s: Mapped[int] = mapped_column(default=0, server_default="0")
    cam_past_excused_s: Mapped[int] = mapped_column(default=0, server_default="0")
    # 培训开展: training obligation windows settled / met (when a trainings register exists).
    trainings_due: Mapped[int] = mapped_column(default=0)
    trainings_met: Mapped[int] = mapped_column(default=0)
    # 挂职管理: the township's seconded-cadre obligations judged / met
    # (tracker.secondment.figures; the same township figures in each of its villages).
    seconded_due: Mapped[int] = mapped_column(default=0)
    seconded_met: Mapped[int] = mapped_column(default=0)
    # 队伍建设: team-register items due / met (tracker.teams.figures).
    teams_due: Mapped[int] = mapped_column(default=0, server_default="0")
    teams_met: Mapped[int] = mapped_column(default=0, server_default="0")
    score: Mapped[float | None]
    band: Mapped[str] = mapped_column(String(8), default="none")
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("period", "region_id"),
        Index("ix_dashboard_village_score_period_township", "period", "township_id"),
        Index("ix_dashboard_village_score_period_county", "period", "county_id"),
        Index("ix_dashboard_village_score_period_city", "period", "city_id"),
        # A city's top-8 lists (most overdue villages, darkest halls) read in their order
        # from these, not over every village row of the period — a province's 10,000
        # (tracker.dashboard.services.top_problems). A county's or a township's few
        # hundred rows come from the period/county and period/township indexes.
        Index(
            "ix_dashboard_village_score_city_overdue",
            "period",
            "city_id",
            "matters_overdue_open",
            "region_id",
        ),
        Index("ix_dashboard_village_score_city_cam_rate", "period", "city_id", "cam_up_rate"),
    )

    @property
    def cam_counted_s(self) -> int:
        """Seconds that count for the camera component (open − unknown − excused)."""
        return max(0, self.cam_open_s - self.cam_unknown_s - self.cam_excused_s)


def cam_up_rate_of(up_s: int, open_s: int, unknown_s: int, excused_s: int) -> float | None:
    """The ``cam_up_rate`` the roll-up stores: 完好 seconds over the seconds that count."""
    counted = open_s - unknown_s - excused_s
    return up_s / counted if counted > 0 else None


class RegionAggregate(Base):
    """The sums of one township's, county's or city's village snapshots for one period.

    Kept by the roll-up (:func:`tracker.dashboard.services.refresh_region_scores`,
    one ``GROUP BY`` per level over the period's village rows), so the city and
    county overviews read one row per child and per month — a number of rows that
    does not grow with the villages under them (a province's 10,000).
    """

    __tablename__ = "dashboard_region_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(8))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))  # township/county/city
    parent_id: Mapped[int | None]
    villages: Mapped[int] = mapped_column(default=0)  # village snapshots summed
    scored: Mapped[int] = mapped_column(default=0)  # of which with a score
    score_sum: Mapped[float] = mapped_column(default=0.0)  # mean = score_sum / scored
    red: Mapped[int] = mapped_column(default=0)
    amber: Mapped[int] = mapped_column(default=0)
    green: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime | None]  # the oldest village snapshot summed
    # Sums (BIGINT: a city's camera seconds of a year pass 2**31).
    meetings_due: Mapped[int] = mapped_column(BigInteger, default=0)
    meetings_met: Mapped[int] = mapped_column(BigInteger, default=0)
    meetings_met_late: Mapped[int] = mapped_column(BigInteger, default=0)
    records_total: Mapped[int] = mapped_column(BigInteger, default=0)
    records_late: Mapped[int] = mapped_column(BigInteger, default=0)
    records_edited: Mapped[int] = mapped_column(BigInteger, default=0)
    matters_received: Mapped[int] = mapped_column(BigInteger, default=0)
    matters_due: Mapped[int] = mapped_column(BigInteger, default=0)
    matters_on_time: Mapped[int] = mapped_column(BigInteger, default=0)
    matters_overdue_open: Mapped[int] = mapped_column(BigInteger, default=0)
    bad_ratings: Mapped[int] = mapped_column(BigInteger, default=0)
    callbacks_on_time: Mapped[int] = mapped_column(BigInteger, default=0)
    cameras: Mapped[int] = mapped_column(BigInteger, default=0)
    cam_open_s: Mapped[int] = mapped_column(BigInteger, default=0)
    cam_up_s: Mapped[int] = mapped_column(BigInteger, default=0)
    cam_live_s: Mapped[int] = mapped_column(BigInteger, default=0)
    cam_unknown_s: Mapped[int] = mapped_column(BigInteger, default=0)
    cam_excused_s: Mapped[int] = mapped_column(BigInteger, default=0)
    trainings_due: Mapped[int] = mapped_column(BigInteger, default=0)
    trainings_met: Mapped[int] = mapped_column(BigInteger, default=0)
    seconded_due: Mapped[int] = mapped_column(BigInteger, default=0)
    seconded_met: Mapped[int] = mapped_column(BigInteger, default=0)
    teams_due: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    teams_met: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("period", "region_id"),
        Index("ix_dashboard_region_score_period_parent", "period", "parent_id"),
    )


class LedgerWrite(Base):
    """When a region's ledgers that feed the score were last written (inserted, changed
    or deleted): one row per region, kept by :mod:`tracker.dashboard.writes`.

    ``region_id`` is the region the written row belongs to (a village, or the township
    or county of a township/county-level row); ``0`` stands for a write that concerns
    every village (the meeting kinds, the work calendar). The roll-up recomputes the
    villages at or under a region written after their snapshot
    (:func:`tracker.dashboard.services.changed_villages`).
    """

    __tablename__ = "dashboard_ledger_write"

    region_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    written_at: Mapped[datetime] = mapped_column(default=utcnow)


class MissedObligation(Base):
    """Obligations of one meeting kind a village missed in a period."""

    __tablename__ = "dashboard_missed_obligation"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(8))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    township_id: Mapped[int]
    county_id: Mapped[int]
    city_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    missing: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        UniqueConstraint("period", "region_id", "kind"),
        Index("ix_dashboard_missed_obligation_period_county", "period", "county_id"),
        # A city's most-missed obligations grouped by kind from the index alone.
        Index(
            "ix_dashboard_missed_obligation_city_kind",
            "period",
            "city_id",
            "kind",
            "region_id",
            "missing",
        ),
    )


class DashboardReport(Base):
    """A generated report workbook (月度报告) kept for download."""

    __tablename__ = "dashboard_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    period: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("region_id", "period"),)
