"""Demo data: a batch of seconded cadres in the first county, six months into the term.

Uses its own random sequence (seeded from the demo's date) so adding it does not
move the data of the seeders after it. Adds the login ``cadre`` (a seconded cadre,
editor of the first township) and ``office`` (the assessment office, county editor).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.demo import DEMO_PASSWORD, DemoWorld
from tracker.extensions import db
from tracker.models import Role
from tracker.org.services import create_user
from tracker.secondment import services
from tracker.secondment.models import (
    Grade,
    GroupKind,
    Outcome,
    PostType,
    ResultKind,
    WeeklyReport,
)
from tracker.secondment.rules import assessment_windows, report_due_on, scheduled_weeks, week_start

CADRES = [
    ("刘建国", "县发展和改革局", "副科级", PostType.town_village),
    ("陈晓燕", "县财政局", "后备干部", PostType.three_areas),
    ("王海峰", "县住房和城乡建设局", "副科级", PostType.project),
    ("赵丽娜", "县人力资源和社会保障局", "后备干部", PostType.street_community),
    ("孙志强", "县信访局", "副科级", PostType.petition),
    ("周明", "县农业农村局", "副科级", PostType.town_village),
    ("吴婷", "县教育局", "后备干部", PostType.town_village),
]
WORK = ["入户走访脱贫户", "协调修缮村道", "调解邻里纠纷", "宣讲惠农政策", "推进庭院经济项目"]


def seed_secondment(world: DemoWorld) -> None:
    rng = random.Random(f"secondment-{world.today.isoformat()}")
    county = world.counties[0]
    towns = [t for t in world.townships if t.parent_id == county.id]
    villages = [v for v in world.villages if v.parent_id in {t.id for t in towns}]
    today = world.today
    cal = load_calendar()
    start = week_start(today - timedelta(days=182))
    batch = services.create_batch(
        county,
        start.year,
        f"{start.year}年机关干部服务基层挂职",
        "选派机关干部到基层一线锻炼、服务群众",
    )
    office_user = create_user("office", DEMO_PASSWORD, Role.editor, county, display_name="考核办")
    services.add_group(batch, GroupKind.leading, "挂职工作领导小组", [("县委副书记", "组长", None)])
    services.add_group(batch, GroupKind.office, "领导小组办公室", [("组织部副部长", "主任", None)])
    services.add_group(
        batch, GroupKind.assessment_office, "考核办", [("考核办主任", "主任", office_user.id)]
    )
    groups = [
        services.add_group(
            batch,
            GroupKind.assessment,
            f"第{'一二'[i]}考核组",
            [("组长", "组长", None)],
            towns[i::2],
        )
        for i in range(min(2, len(towns)))
    ]
    checked = start - timedelta(days=20)
    candidates = []
    for name, unit, rank, post_type in CADRES:
        c = services.propose_candidate(batch, name, rank, unit, post_type)
        services.record_checks(c, checked, "县纪委监委", checked, "县司法局")
        candidates.append(c)
    vetoed = services.propose_candidate(batch, "钱某", "副科级", "县市场监管局", PostType.project)
    services.veto(vetoed, "2022年受党内警告处分", "县纪委监委", checked - timedelta(days=900))
    for c in candidates:
        services.select_candidate(c)
    services.complete_selection(batch, start - timedelta(days=3))
    cadre_user = create_user("cadre", DEMO_PASSWORD, Role.editor, towns[0], display_name="刘建国")
    world.users.update({"office": office_user, "cadre": cadre_user})
    n = current_settings().rules.secondment_report_working_days
    kind = current_settings().rules.secondment_assessment
    for i, c in enumerate(candidates):
        region = (
            towns[i % len(towns)] if i % 3 != 2 or not villages else villages[i % len(villages)]
        )
        s = services.create_secondment(
            c,
            region,
            services.SecondmentInput(
                receiving_unit=f"{region.name}党委" if region in towns else f"{region.name}党支部",
                post="党委副书记" if region in towns else "第一书记",
                post_type=c.wanted_post_type,
                start_on=start,
                planned_end_on=start + timedelta(days=364),
                guarantee_given=True,
                guarantee_on=start - timedelta(days=2),
                guarantee_note="派出单位承诺挂职期间工资福利、评优晋升不受影响",
                joint_management="县委组织部、接收单位、派出单位三方共管",
                user_id=cadre_user.id if i == 0 else None,
            ),
        )
        diligent = rng.random()
        for monday in scheduled_weeks(start, today - timedelta(days=7)):
            due = report_due_on(monday, cal, n)
            if rng.random() > 0.85 + diligent * 0.14:
                continue  # missing
            late = rng.random() < 0.1
            filed = due + timedelta(days=rng.randint(1, 4)) if late else due - timedelta(days=1)
            db.session.add(
                WeeklyReport(
                    secondment_id=s.id,
                    region_id=s.region_id,
                    week_start=monday,
                    work_done="；".join(rng.sample(WORK, 2)),
                    problems=rng.choice(["", "部分村道雨后难行", "群众反映饮水问题"]),
                    next_plan="继续走访，跟进问题解决",
                    public_fields=["work_done", "next_plan"],
                    submitted_at=datetime.combine(min(filed, today), time(18, 0), UTC),
                    on_time=not late,
                )
            )
            day = monday + timedelta(days=rng.randint(0, 4))
            services.add_log(s, day, rng.choice(WORK), region.name, "村两委成员", "已记录群众诉求")
        for key, _a, w_end in assessment_windows(kind, s.start_on, s.end_on):
            if w_end < today - timedelta(days=10) and key != "end":
                grade = rng.choices(list(Grade), weights=[3, 6, 1, 0.3])[0]
                services.record_assessment(
                    s, key, w_end + timedelta(days=7), grade, "考核组、接收单位党委"
                )
        for _ in range(rng.randint(1, 3)):
            day = start + timedelta(days=rng.randint(10, 170))
            present = rng.random() > 0.15
            visit = services.record_inspection(
                s,
                groups[i % len(groups)] if groups else None,
                day,
                s.receiving_unit,
                present,
                "" if present else "督查时不在岗，未请假",
                "" if present else "书面说明情况",
                None if present else day + timedelta(days=7),
            )
            # Most rectifications are done within their week; cadre 2's stay overdue.
            if not present and i != 2:
                done_on = min(day + timedelta(days=rng.randint(1, 9)), today)
                services.record_rectification(visit, done_on, "已提交书面说明，补办请假手续")
        for _ in range(rng.randint(2, 6)):
            day = start + timedelta(days=rng.randint(5, 175))
            services.add_result(
                s,
                rng.choice(list(ResultKind)),
                day,
                rng.choice(["修缮村道", "解决饮水", "化解信访"]),
            )
        if i == 3:
            services.close_complaint(
                services.file_complaint(
                    s, "反映该干部工作日经常不在岗", "群众", "139****0000", cal=cal
                ),
                "经核查，系外出协调项目，已补办手续",
                "已核查，感谢监督",
                today - timedelta(days=2),
            )
        if i == 4:
            services.file_complaint(s, "反映信访接待不及时", channel="staff", cal=cal)
        if i == 6:
            services.end_secondment(
                s,
                today - timedelta(days=5),
                Outcome.promoted,
                "县委常委会议研究决定",
                today - timedelta(days=5),
            )
    db.session.flush()
