"""Demo data of 党费收缴: every member's base from January of last year (mostly 农民党员
at 0.2 元, some by income, a few in hardship), payments month by month or a quarter or
a year at a time. Every village is paid up to last month but the villages of
``tracker.demo.STORY``, where a few members are one to three months behind; in 胜利村,
whose secretary is away, one member has paid nothing for seven months without a reason
(须谈话) and another for six with a reason recorded.

Uses its own random generator so the other seeders' sequence stays the same.
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from tracker.demo import STORY, DemoWorld
from tracker.dues import rules
from tracker.dues.rules import DuesCategory, PayMethod
from tracker.dues.services import PaymentInput, ledgers, record_excuse, record_payment, set_base
from tracker.extensions import db
from tracker.models import Member

INCOMES = [2800_00, 3000_00, 3650_00, 4800_00, 5000_00, 6200_00, 12500_00]


def seed_dues(world: DemoWorld) -> None:
    rng = random.Random(20_261_401)
    start = date(world.today.year - 1, 1, 1)
    last = rules.add_months(rules.month_of(world.today), -1)
    for village in world.villages:
        branch = world.branches[village.id]
        members = db.session.scalars(
            select(Member).where(Member.branch_id == branch.id).order_by(Member.id)
        ).all()
        for m in members:
            roll = rng.random()
            if roll < 0.7:
                set_base(m, start, DuesCategory.farmer)
            elif roll < 0.9:
                set_base(m, start, DuesCategory.income, rng.choice(INCOMES))
            else:
                set_base(m, start, DuesCategory.hardship)
        books = ledgers([branch.id])[branch.id]
        behind = village.name == "胜利村"
        n = 0  # the story's members behind: the first two on the roster through last month
        for lg in books:
            mm = lg.months(start, last)
            owed = sorted(mm.owed)
            if not owed:
                continue
            stop = len(owed)
            story_member = behind and owed[-1] == last
            if story_member:
                n += 1
            if story_member and n == 1:
                stop = max(0, len(owed) - 7)  # seven months unpaid, no reason: flagged
            elif story_member and n == 2:
                stop = max(0, len(owed) - 6)
                record_excuse(
                    lg.member,
                    owed[stop] if stop < len(owed) else last,
                    None,
                    "外出务工，已电话联系，承诺春节返乡补交",
                )
            elif village.name in STORY and rng.random() < 0.25:
                stop = max(0, len(owed) - rng.randint(1, 3))  # a few months behind
            step = rng.choice([1, 1, 3, 12])
            i = 0
            while i < stop:
                chunk = owed[i : min(i + step, stop)]
                # Only consecutive months go in one payment.
                run = [chunk[0]]
                for month in chunk[1:]:
                    if month == rules.add_months(run[-1], 1):
                        run.append(month)
                    else:
                        break
                due = sum(mm.owed[month] for month in run)
                paid_on = min(world.today, rules.month_end(run[-1]))
                paid_on = paid_on.replace(day=min(paid_on.day, rng.randint(5, 25)))
                record_payment(
                    lg.member,
                    PaymentInput(
                        first_month=run[0],
                        last_month=run[-1],
                        amount_fen=due,
                        paid_on=paid_on,
                        method=rng.choice(
                            [PayMethod.cash, PayMethod.cash, PayMethod.wechat, PayMethod.transfer]
                        ),
                        collector="支部组织委员",
                    ),
                    ledger=lg,
                )
                i += len(run)
