"""A member's dated facts (党员状态记录): the standing on any past day, and the ledger using it."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests.tracker.test_meeting_helpers import at, meeting_input
from tracker.meetings.services import record_meeting, update_meeting
from tracker.models import MemberStatus
from tracker.org import history
from tracker.org.models import FactKind, MemberFact
from tracker.org.services import (
    FactData,
    MemberData,
    OrgError,
    add_member,
    append_fact,
    member_leaves,
    member_returns,
    update_member,
)
from tracker.workdays import WorkCalendar

CAL = WorkCalendar()


def fact(kind: FactKind, on: date | None, fid: int, **kw) -> MemberFact:
    return MemberFact(id=fid, member_id=1, region_id=1, kind=kind, on=on, **kw)


def test_fold_follows_the_facts_day_by_day():
    facts = [
        fact(FactKind.probationary, date(2025, 6, 1), 1),
        fact(FactKind.full, date(2026, 6, 1), 2),
        fact(FactKind.away, date(2026, 7, 1), 3, until=date(2026, 8, 31), place="苏州"),
        fact(FactKind.transfer_out, date(2026, 9, 1), 4),
    ]
    assert history.fold(facts, date(2025, 5, 31)) == history.NOWHERE
    s = history.fold(facts, date(2025, 6, 1))
    assert (s.on_roster, s.status, s.can_vote) == (True, MemberStatus.probationary, False)
    assert history.fold(facts, date(2026, 5, 31)).status == MemberStatus.probationary
    s = history.fold(facts, date(2026, 6, 1))
    assert (s.status, s.can_vote, s.since) == (MemberStatus.full, True, date(2026, 6, 1))
    assert history.fold(facts, date(2026, 7, 15)).away is True
    assert history.fold(facts, date(2026, 7, 15)).can_vote is True  # 流动党员 still vote
    assert history.fold(facts, date(2026, 8, 31)).away is True
    assert history.fold(facts, date(2026, 9, 1)).on_roster is False
    assert history.fold(reversed(facts)).on_roster is False  # order of the rows does not matter


def test_an_opening_fact_without_a_day_holds_since_before_the_records():
    facts = [fact(FactKind.full, None, 1)]
    assert history.fold(facts, date(1990, 1, 1)).can_vote is True
    incoming = [fact(FactKind.transfer_in, date(2026, 3, 1), 1, status=MemberStatus.probationary)]
    assert history.fold(incoming, date(2026, 3, 1)).status == MemberStatus.probationary


def test_full_members_of_a_branch_on_past_days_across_zhuanzheng_and_transfers(world, db):
    branch = world.branch(world.village_b1a)
    base = {m.id for m in world.members[world.village_b1a.id] if m.status == MemberStatus.full}
    a = add_member(branch, "预备甲", status=MemberStatus.probationary, joined_on=date(2025, 6, 1))
    append_fact(a, FactKind.full, date(2026, 6, 1))  # 转正
    b = add_member(branch, "转出乙", joined_on=date(2001, 7, 1))
    append_fact(
        b,
        FactData(
            kind=FactKind.transfer_out,
            on=date(2026, 9, 1),
            org="江苏省苏州市某社区党委",
            letter_no="吉组转〔2026〕12号",
        ),
    )
    c = add_member(branch, "转入丙", joined_on=date(2026, 10, 1))
    day = date(2026, 11, 20)
    assert a.status == MemberStatus.full and b.left_on == date(2026, 9, 1)

    def full_on(d: date) -> set[int]:
        return history.full_members_on([branch.id], d)[branch.id] - base

    assert full_on(date(2026, 5, 31)) == {b.id}
    assert full_on(date(2026, 6, 1)) == {a.id, b.id}
    assert full_on(date(2026, 8, 31)) == {a.id, b.id}
    assert full_on(date(2026, 9, 1)) == {a.id}
    assert full_on(day) == {a.id, c.id}
    # Several branches in one call; a probationary member is on the roster but does not vote.
    both = history.standings_on([branch.id, world.branch(world.village_a1a).id], date(2026, 1, 1))
    assert both[branch.id][a.id].status == MemberStatus.probationary
    assert len(both[world.branch(world.village_a1a).id]) == 6
    assert [m.name for m in history.members_on(branch.id, date(2026, 9, 1))].count("转出乙") == 0


def test_one_service_writes_the_status_and_refuses_impossible_facts(world, db):
    branch = world.branch(world.village_a1a)
    m = add_member(branch, "预备丁", status=MemberStatus.probationary, joined_on=date(2025, 3, 1))
    with pytest.raises(OrgError, match="早于") as err:
        append_fact(m, FactKind.full, date(2025, 2, 1))
    assert err.value.field == "on"
    with pytest.raises(OrgError, match="外出地点"):
        append_fact(m, FactData(kind=FactKind.away, on=date(2026, 1, 5)))
    with pytest.raises(OrgError, match="处理决定"):
        append_fact(m, FactData(kind=FactKind.expelled, on=date(2026, 1, 5)))
    with pytest.raises(OrgError):
        append_fact(m, FactKind.full, date(2999, 1, 1))
    # An edit of the form that changes the status is a dated 转正, never an overwrite.
    data = MemberData(name=m.name, status=MemberStatus.full, joined_on=m.joined_on)
    data.full_on = date(2026, 3, 1)
    update_member(m, data)
    assert m.status == MemberStatus.full
    assert [(f.kind, f.on) for f in history.facts_of(m.id)] == [
        (FactKind.probationary, date(2025, 3, 1)),
        (FactKind.full, date(2026, 3, 1)),
    ]
    with pytest.raises(OrgError, match="已是正式党员"):
        append_fact(m, FactKind.full, date(2026, 4, 1))
    member_leaves(m, date(2026, 5, 1), "去世", kind=FactKind.deceased)
    assert m.left_on == date(2026, 5, 1)
    with pytest.raises(OrgError, match="不在册"):
        append_fact(m, FactData(kind=FactKind.stopped, on=date(2026, 6, 1), decision="x"))
    member_returns(m)  # the leave was a mistake
    assert m.left_on is None and m.status == MemberStatus.full
    assert history.fold(history.facts_of(m.id), date(2026, 6, 1)).can_vote


def test_a_past_meetings_quorum_stays_after_a_later_zhuanzheng_and_an_edit(world, db):
    """3 of 5 full members present (the probationary one too): quorate with 5 voters. The
    probationary member becomes full a week later; the meeting, entered only after that, and
    then edited, still counts the 5 voters of its day — not today's 6."""
    village = world.village_a1a
    branch = world.branch(village)
    members = world.members[village.id]
    prob = members[5]
    assert prob.status == MemberStatus.probationary
    append_fact(prob, FactKind.full, date(2026, 3, 9))
    present = {m.id for m in members[:3]} | {prob.id}
    start = at(2026, 3, 2)
    data = meeting_input(world, village, start, kind="branch_general_meeting", present_ids=present)
    m = record_meeting(branch, data, None, CAL, now=at(2026, 3, 10))
    assert (m.full_members, m.full_present, m.quorum_met) == (5, 3, True)
    assert {a.member_id for a in m.attendance if a.voting} == {x.id for x in members[:5]}

    data = meeting_input(
        world, village, start, kind="branch_general_meeting", present_ids=present, topics="改"
    )
    update_meeting(m, data, None, CAL, expected_version=1, now=at(2026, 3, 11))
    assert m.version == 2
    assert (m.full_members, m.full_present, m.quorum_met) == (5, 3, True)
    # A meeting after the 转正 counts the new full member.
    later = meeting_input(
        world, village, at(2026, 3, 16), kind="branch_general_meeting", present_ids=present
    )
    m2 = record_meeting(branch, later, None, CAL, now=at(2026, 3, 16, 12))
    assert (m2.full_members, m2.full_present) == (6, 4)


def test_the_migration_back_fills_a_fact_for_every_member(tmp_path):
    """Members that exist before the revision get their opening fact and their leave."""
    from tracker.database import upgrade

    url = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
    admin = None
    if url.startswith("postgresql"):
        name = "mig_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = url.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path / 'mig.db'}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            upgrade(url, connection=conn, revision="0510_safe_sessions")
            now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
            conn.execute(
                sa.text(
                    "insert into region (id, level, name, path, created_at)"
                    " values (1, 'village', '村', '/1/', :t)"
                ),
                {"t": now},
            )
            conn.execute(
                sa.text(
                    "insert into branch (id, region_id, name, created_at) values (1, 1, '支部', :t)"
                ),
                {"t": now},
            )
            for mid, status, joined, left in (
                (1, "full", date(2001, 7, 1), None),
                (2, "probationary", date(2025, 6, 1), None),
                (3, "full", None, date(2025, 12, 1)),
            ):
                conn.execute(
                    sa.text(
                        "insert into member (id, branch_id, region_id, name, status, joined_on,"
                        " left_on, created_at) values (:i, 1, 1, :n, :s, :j, :l, :t)"
                    ),
                    {"i": mid, "n": f"党员{mid}", "s": status, "j": joined, "l": left, "t": now},
                )
            upgrade(url, connection=conn, revision="0530_members14_facts")
            rows = conn.execute(
                sa.text('select member_id, kind, "on" from member_fact order by member_id, id')
            ).all()
        # SQLite answers a raw date as text, PostgreSQL as a date: compare as text.
        assert [(r[0], r[1], str(r[2]) if r[2] is not None else None) for r in rows] == [
            (1, "full", "2001-07-01"),
            (2, "probationary", "2025-06-01"),
            (3, "full", None),
            (3, "left", "2025-12-01"),
        ]
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE "{name}"'))
            admin.dispose()


def test_facts_are_audited_and_labelled(world, db):
    from tracker.org.labels import entity_label, value_label

    m = world.members[world.village_a1a.id][0]
    f = append_fact(
        m, FactData(kind=FactKind.away, on=date(2026, 2, 1), place="浙江义乌", org="义乌市某党委")
    )
    assert entity_label("member_fact") == "党员状态记录"
    assert value_label("member_fact", "kind", f.kind.value) == "外出流动"
    assert db.session.scalar(select(MemberFact).where(MemberFact.id == f.id)).place == "浙江义乌"
    assert m.status == MemberStatus.full and m.left_on is None


def test_the_roster_page_and_its_export_as_of_a_past_day(world, db, login):
    """截至日期: the page and the Excel show who was on the roster, and as what, that day."""
    import io

    from openpyxl import load_workbook

    village = world.village_a1a
    branch = world.branch(village)
    prob = world.members[village.id][5]
    append_fact(prob, FactKind.full, date(2026, 6, 1))
    late = add_member(branch, "新转入党员", joined_on=date(2026, 9, 1))
    gone = world.members[village.id][1]
    member_leaves(gone, date(2026, 8, 1), kind=FactKind.transfer_out)
    db.session.flush()
    client = login(world.users["town_a1_editor"])
    url = f"/org/villages/{village.id}"

    html = client.get(f"{url}?as_of=2026-05-31&status=probationary").get_data(as_text=True)
    assert prob.name in html and "截至 2026-05-31 的名册" in html
    html = client.get(f"{url}?as_of=2026-05-31").get_data(as_text=True)
    assert gone.name in html and late.name not in html
    assert client.get(f"{url}?status=probationary").get_data(as_text=True).count(prob.name) == 0
    html = client.get(f"{url}?as_of=2026-08-15&show=left").get_data(as_text=True)
    assert gone.name in html and prob.name not in html

    resp = client.get(f"{url}/export.xlsx?as_of=2026-05-31")
    assert resp.status_code == 200
    assert "20260531" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert "截至 2026-05-31" in ws["A1"].value
    rows = {r[1]: r[4] for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows[prob.name] == "预备党员" and gone.name in rows and late.name not in rows
    today = load_workbook(io.BytesIO(client.get(f"{url}/export.xlsx").data)).active
    rows = {r[1]: r[4] for r in today.iter_rows(min_row=3, values_only=True)}
    assert rows[prob.name] == "正式党员" and gone.name not in rows and late.name in rows


def test_the_members_api_answers_as_of_a_day(world, db, login):
    village = world.village_a1a
    prob = world.members[village.id][5]
    append_fact(prob, FactKind.full, date(2026, 6, 1))
    db.session.flush()
    client = login(world.users["town_a1_editor"])
    body = client.get(f"/api/v1/villages/{village.id}/members?as_of=2026-05-31").get_json()["items"]
    assert {m["id"]: m["status"] for m in body}[prob.id] == "probationary"
    body = client.get(f"/api/v1/villages/{village.id}/members").get_json()["items"]
    assert {m["id"]: m["status"] for m in body}[prob.id] == "full"
    resp = client.get(f"/api/v1/villages/{village.id}/members?as_of=someday")
    assert resp.status_code == 422


def test_the_roster_import_fills_the_history_and_the_export_carries_zhuanzheng(world, db):
    import io

    from openpyxl import Workbook, load_workbook

    from tracker.org import excel

    branch = world.branch(world.village_b1a)
    wb = Workbook()
    ws = wb.active
    ws.append(excel.COLUMNS)
    ws.append([1, "导入甲", "男", 1980, "正式党员", "", "2019-07-01", "", "", "2020-07-01"])
    ws.append([2, "导入乙", "女", 1990, "预备党员", "", "2025-12-01", "", "", ""])
    ws.append([3, "导入丙", "男", 1970, "正式党员", "", "1999-07-01", "", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    sheet = excel.read_roster(buf.getvalue(), "r.xlsx", branch)
    assert sheet.ok, sheet.errors
    a, b, c = excel.commit_roster(sheet, branch, None)
    assert [(f.kind, f.on) for f in history.facts_of(a.id)] == [
        (FactKind.probationary, date(2019, 7, 1)),
        (FactKind.full, date(2020, 7, 1)),
    ]
    assert [(f.kind, f.on) for f in history.facts_of(b.id)] == [
        (FactKind.probationary, date(2025, 12, 1))
    ]
    assert [(f.kind, f.on) for f in history.facts_of(c.id)] == [(FactKind.full, date(1999, 7, 1))]
    full_2020 = history.full_members_on([branch.id], date(2020, 6, 30))[branch.id]
    assert a.id not in full_2020 and c.id in full_2020
    assert a.id in history.full_members_on([branch.id], date(2020, 7, 1))[branch.id]

    out = load_workbook(io.BytesIO(excel.export_roster(branch, [a, b, c]))).active
    assert [r[9] for r in out.iter_rows(min_row=3, values_only=True)] == [
        datetime(2020, 7, 1),
        None,
        None,
    ]
    # A 转正 day before joining, or on a probationary member, is an error of that cell.
    wb = Workbook()
    ws = wb.active
    ws.append(excel.COLUMNS)
    ws.append([1, "错甲", "男", 1980, "正式党员", "", "2019-07-01", "", "", "2018-07-01"])
    ws.append([2, "错乙", "女", 1990, "预备党员", "", "2025-12-01", "", "", "2026-01-01"])
    buf = io.BytesIO()
    wb.save(buf)
    bad = excel.read_roster(buf.getvalue(), "bad.xlsx", branch)
    assert [(e.row, e.column) for e in bad.errors] == [(2, "转正日期"), (3, "转正日期")]


def test_the_member_page_records_a_fact_and_shows_the_history(world, db, login):
    client = login(world.users["town_a1_editor"])
    prob = world.members[world.village_a1a.id][5]
    resp = client.post(f"/org/members/{prob.id}/facts", data={"kind": "away", "on": "2026-04-01"})
    assert resp.status_code == 422
    assert "请填写外出地点" in resp.get_data(as_text=True)
    resp = client.post(
        f"/org/members/{prob.id}/facts",
        data={"kind": "full", "on": "2026-03-09", "note": "支部大会通过"},
    )
    assert resp.status_code == 302
    assert prob.status == MemberStatus.full
    html = client.get(f"/org/members/{prob.id}/edit").get_data(as_text=True)
    assert "状态记录" in html and "转正（正式党员）" in html and "支部大会通过" in html
    assert 'value="2026-03-09"' in html  # the 转正 day fills the form's 转正日期
    assert history.fold(history.facts_of(prob.id), date(2026, 3, 8)).can_vote is False
