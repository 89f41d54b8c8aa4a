"""Issue 14 leftovers in the organisation: the roster import refuses too-long profile cells
by row and column, the A4 花名册 as of a date, and the demo's dated facts and dues."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.factories import World
from tracker.models import Member, MemberStatus
from tracker.org import excel, history
from tracker.org.excel import COLUMNS
from tracker.org.models import FactKind, MemberFact
from tracker.org.services import FactData, add_member, append_fact, member_leaves


def _sheet(row: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    ws.append([row.get(c, "") for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("column", "limit"),
    [
        ("民族", 16),
        ("学历", 16),
        ("家庭住址", 200),
        ("职业", 64),
        ("党内外职务", 200),
        ("帮扶情况", 500),
        ("奖励情况", 2000),
        ("处分情况", 2000),
    ],
)
def test_a_too_long_profile_cell_is_refused_by_row_and_column(
    world: World, column: str, limit: int
) -> None:
    branch = world.branch(world.village_a1a)
    sheet = excel.read_roster(
        _sheet({"姓名": "长文本", column: "字" * (limit + 1)}), "x.xlsx", branch
    )
    assert not sheet.ok and not sheet.rows
    [error] = [e for e in sheet.errors if e.column == column]
    assert error.row == 2
    assert f"{column}太长" in error.message and f"最多 {limit} 个字符" in error.message
    at_limit = excel.read_roster(_sheet({"姓名": "刚好", column: "字" * limit}), "x.xlsx", branch)
    assert not [e for e in at_limit.errors if e.column == column]


def test_the_printed_roster_follows_the_facts_of_its_day(world: World, login: Any) -> None:
    village = world.village_a1a
    branch = world.branch(village)
    newcomer = add_member(
        branch,
        "预备甲",
        status=MemberStatus.probationary,
        joined_on=date(2025, 6, 1),
        phone="13912345678",
    )
    append_fact(newcomer, FactData(kind=FactKind.full, on=date(2026, 6, 2)))
    leaver = world.members[village.id][0]
    member_leaves(leaver, date(2026, 3, 1), "组织关系转出", kind=FactKind.transfer_out)
    away = world.members[village.id][1]
    append_fact(
        away,
        FactData(
            kind=FactKind.away, on=date(2026, 4, 1), place="大连市", org="甘井子区流动党员党支部"
        ),
    )
    client = login(world.users["town_a1_editor"])

    before = client.get(f"/org/villages/{village.id}/roster/print?as_of=2026-02-01")
    assert before.status_code == 200
    html = before.get_data(as_text=True)
    assert "data-print" in html and "党员花名册" in html
    assert leaver.name in html and "139****5678" in html and "13912345678" not in html
    row = html.split("预备甲")[1].split("</tr>")[0]
    assert "预备党员" in row and "2026-06-02" not in row
    assert "外出：大连市" not in html

    after = client.get(f"/org/villages/{village.id}/roster/print?as_of=2026-07-01").get_data(
        as_text=True
    )
    assert leaver.name not in after
    row = after.split("预备甲")[1].split("</tr>")[0]
    assert "正式党员" in row and "2026-06-02" in row
    assert "外出：大连市" in after


def test_the_printed_roster_is_out_of_scope_for_another_county(world: World, login: Any) -> None:
    client = login(world.users["town_b1_editor"])
    assert client.get(f"/org/villages/{world.village_a1a.id}/roster/print").status_code == 404


@pytest.fixture
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.mark.slow
@pytest.mark.usefixtures("_cheap_password_hashing")
def test_the_demo_has_dated_facts_and_dues(db: Any) -> None:
    from tracker import clock
    from tracker.demo import seed_demo
    from tracker.dues import figures
    from tracker.dues.models import DuesPayment

    today = date(2026, 11, 20)
    with clock.frozen(today):
        world = seed_demo(today)
        db.session.flush()
        kinds = dict(
            db.session.execute(
                select(MemberFact.kind, func.count(MemberFact.id)).group_by(MemberFact.kind)
            ).all()
        )
        assert kinds.get(FactKind.away, 0) >= 4
        assert kinds.get(FactKind.transfer_in, 0) >= 2
        branch_ids = list(world.branches.values())
        ids = [b.id for b in branch_ids]
        made_full = history.full_dates(
            list(db.session.scalars(select(Member.id).where(Member.branch_id.in_(ids))))
        )
        assert made_full  # 转正 after a probation
        # The roster of some village differs between two days of this year.
        early = history.standings_on(ids, date(2026, 1, 1))
        late = history.standings_on(ids, today)
        assert any(set(early[b]) != set(late[b]) for b in ids)
        assert any(
            {m for m, s in early[b].items() if s.can_vote}
            != {m for m, s in late[b].items() if s.can_vote}
            for b in ids
        )
        # Dues: payments everywhere, and one member in 胜利村 flagged for a talk.
        assert db.session.scalar(select(func.count(DuesPayment.id))) > 100
        shengli = next(v for v in world.villages if v.name == "胜利村")
        flagged = figures.arrears([world.branches[shengli.id].id], today)[
            world.branches[shengli.id].id
        ]
        assert [a for a in flagged.values() if a.flagged]
        assert [a for a in flagged.values() if a.excused and a.run >= 6]
        october = figures.month_summaries(ids, date(2026, 10, 1))
        assert sum(s.paid_fen for s in october.values()) > 0
        assert sum(1 for s in october.values() if s.arrears_members == 0) >= len(ids) // 2


def test_the_printed_roster_runs_the_same_statements_at_two_sizes(
    world: World, login: Any, assert_max_queries: Any
) -> None:
    from tests.factories import unique

    village = world.village_a1a
    branch = world.branch(village)
    client = login(world.users["town_a1_editor"])
    counts = []
    for n in (2, 20):
        for i in range(n):
            m = add_member(
                branch,
                unique("员"),
                group=world.groups[village.id][i % 2],
                joined_on=date(2020, 1, 1),
            )
            append_fact(m, FactData(kind=FactKind.away, on=date(2026, 5, 1), place="长春市"))
        with assert_max_queries(20) as log:
            r = client.get(f"/org/villages/{village.id}/roster/print?as_of=2026-06-01")
            assert r.status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1]
