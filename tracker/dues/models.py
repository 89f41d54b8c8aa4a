"""党费收缴 tables: a member's dues base by effective month, payments, recorded reasons.

Money is integer fen (分). A base stores the monthly amount it was set to
(``monthly_fen``, computed from the bands in force when it was entered), so a
later change of ``[dues]`` or a new base never rewrites a past month. Months are
stored as their first day.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.dues.rules import CATEGORY_LABELS, METHOD_LABELS, DuesCategory, PayMethod, yuan
from tracker.models.base import Base, audited, utcnow
from tracker.models.party import Member


@audited
class DuesBase(Base):
    """A member's dues base (党费缴纳基数) from ``effective_month`` on."""

    __tablename__ = "dues_base"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    effective_month: Mapped[date]
    category: Mapped[DuesCategory] = mapped_column(
        Enum(DuesCategory, native_enum=False, length=16, validate_strings=True)
    )
    income_fen: Mapped[int | None]  # monthly income after tax (税后月收入), category income
    rate_bp: Mapped[int | None]  # the band's rate when entered; None for a fixed amount
    monthly_fen: Mapped[int]
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()

    __table_args__ = (
        Index("ix_dues_base_member_month", "member_id", "effective_month", unique=True),
    )

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def monthly_yuan(self) -> str:
        return yuan(self.monthly_fen)


@audited
class DuesPayment(Base):
    """One payment (交纳记录) covering the months ``first_month`` … ``last_month``."""

    __tablename__ = "dues_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    first_month: Mapped[date]
    last_month: Mapped[date]
    amount_fen: Mapped[int]
    paid_on: Mapped[date]
    method: Mapped[PayMethod] = mapped_column(
        Enum(PayMethod, native_enum=False, length=16, validate_strings=True)
    )
    collector: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()

    __table_args__ = (Index("ix_dues_payment_member_months", "member_id", "first_month"),)

    @property
    def method_label(self) -> str:
        return METHOD_LABELS[self.method]

    @property
    def amount_yuan(self) -> str:
        return yuan(self.amount_fen)

    @property
    def months(self) -> int:
        return (
            (self.last_month.year - self.first_month.year) * 12
            + self.last_month.month
            - self.first_month.month
            + 1
        )


@audited
class DuesExcuse(Base):
    """A recorded reason for unpaid dues (未交原因), from ``from_month`` to ``until_month``.

    While one covers the last ended month, a long run of unpaid months is not
    flagged (the arrears are still counted and shown).
    """

    __tablename__ = "dues_excuse"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    from_month: Mapped[date]
    until_month: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(200))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
