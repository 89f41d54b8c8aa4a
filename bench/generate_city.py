"""Generate a city-scale dataset for the dashboard benchmark.

1 city, 5 counties, 100 townships, 1,000 villages (``--villages 10000`` for a
province's 10,000: 50 counties of 20 townships x 10 villages; one branch each, two party
groups, ~12 members), 5 years of meetings with attendance (~90 % of obligations
held, some late, some edited), service matters (on time / late / overdue, bad
ratings and call-backs), one hall with two cameras per village (2,000 cameras),
their state intervals (outages) and the halls package's per-camera daily
roll-ups.

Bulk inserts only: ``COPY`` on PostgreSQL, ``executemany`` on SQLite, ids
assigned here. Then the dashboard snapshots of every month, quarter and year
are computed (what the jobs process maintains).

    .venv/bin/python bench/generate_city.py --url sqlite:////tmp/city.db
    .venv/bin/python bench/generate_city.py --url postgresql+psycopg://postgres@127.0.0.1:5432/city
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

BENCH_PASSWORD = "bench-pass-2026"
NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _pg_value(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return v


def bulk(engine: Engine, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows fast: COPY on PostgreSQL, executemany on SQLite. Returns the count."""
    n = 0
    cols = ", ".join(columns)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row([_pg_value(v) for v in row])
                    n += 1
            raw.commit()
        finally:
            raw.close()
        return n
    marks = ", ".join("?" for _ in columns)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(
                [
                    json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                    for v in row
                ]
            )
            if len(batch) >= 50_000:
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
            n += len(batch)
        cur.execute("COMMIT")
    finally:
        raw.close()
    return n


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    """Naive UTC of a Shanghai local time (what UTCDateTime stores), never later than
    now: a record of today "entered at 16:00" generated at 11:00 would be a write in
    the future, which the roll-up would take for a change on every run until then."""
    return min(datetime(day.year, day.month, day.day, hour, minute) - timedelta(hours=8), NOW)


def generate(
    url: str, villages_per_town: int, years: int, seed: int, counties: int = 5
) -> dict[str, Any]:
    rng = random.Random(seed)
    from tracker.database import upgrade

    started = time.monotonic()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        if conn.execute(text("SELECT count(*) FROM region")).scalar():
            raise SystemExit(f"{url} is not empty; use a fresh database")
    today = date.today()
    first_year = today.year - years + 1
    start = date(first_year, 1, 1)

    # -- regions ------------------------------------------------------------------
    regions: list[tuple[Any, ...]] = []
    villages: list[tuple[int, int, int, int]] = []  # village, township, county, city
    rid = 1
    regions.append((1, None, "city", "基准市", "229900000000", "/1/", NOW))
    for c in range(1, counties + 1):
        rid += 1
        county = rid
        regions.append((county, 1, "county", f"基准县{c}", None, f"/1/{county}/", NOW))
        for t in range(1, 21):
            rid += 1
            town = rid
            regions.append(
                (town, county, "township", f"县{c}镇{t:02d}", None, f"/1/{county}/{town}/", NOW)
            )
            for v in range(1, villages_per_town + 1):
                rid += 1
                regions.append(
                    (
                        rid,
                        town,
                        "village",
                        f"{c}-{t:02d}-{v:02d}村",
                        None,
                        f"/1/{county}/{town}/{rid}/",
                        NOW,
                    )
                )
                villages.append((rid, town, county, 1))
    bulk(
        engine,
        "region",
        ["id", "parent_id", "level", "name", "code", "path", "created_at"],
        regions,
    )
    log(f"regions: {len(regions)} ({len(villages)} villages)")

    # -- branches, groups, members ----------------------------------------------------
    branches, groups, members = [], [], []
    roster: dict[int, list[tuple[int, int]]] = {}  # village → [(member id, group id)]
    gid = mid = 0
    for bid, (vid, *_rest) in enumerate(villages, start=1):
        branches.append((bid, vid, "党支部", date(1998, 7, 1), start, NOW))
        gids = []
        for g in range(2):
            gid += 1
            gids.append(gid)
            groups.append((gid, bid, vid, f"第{'一二'[g]}党小组", start, None))
        roster[vid] = []
        for i in range(rng.randint(10, 14)):
            mid += 1
            g = gids[i % 2]
            status = "probationary" if i == 0 else "full"
            members.append((mid, bid, vid, g, f"党员{mid}", status, date(2000, 1, 1), NOW))
            roster[vid].append((mid, g))
    bulk(
        engine,
        "branch",
        ["id", "region_id", "name", "founded_on", "tracked_from", "created_at"],
        branches,
    )
    bulk(
        engine,
        "party_group",
        ["id", "branch_id", "region_id", "name", "created_on", "dissolved_on"],
        groups,
    )
    bulk(
        engine,
        "member",
        ["id", "branch_id", "region_id", "group_id", "name", "status", "joined_on", "created_at"],
        members,
    )
    log(f"branches {len(branches)}, groups {len(groups)}, members {len(members)}")
    branch_of = {vid: bid for bid, (vid, *_r) in enumerate(villages, start=1)}
    groups_of = {vid: [g[0] for g in groups if g[2] == vid] for vid in ()}  # filled below
    for g in groups:
        groups_of.setdefault(g[2], []).append(g[0])

    # -- meetings and attendance --------------------------------------------------------
    monthly = ["branch_committee_meeting", "theme_party_day"]
    quarterly = ["branch_general_meeting", "party_lecture"]
    yearly = [
        ("organizational_life_meeting", 12),
        ("democratic_appraisal", 12),
        ("heart_to_heart_talk", 6),
    ]
    meeting_rows: list[tuple[Any, ...]] = []
    attendance_rows: list[tuple[Any, ...]] = []
    meet_id = att_id = 0
    # A village's diligence: most keep their ledgers, some are poor.
    diligence = {v[0]: rng.choice([0.98, 0.95, 0.92, 0.85, 0.7, 0.5]) for v in villages}

    def add_meeting(vid: int, kind: str, day: date, group: int | None) -> None:
        nonlocal meet_id, att_id
        if day > today:
            return
        meet_id += 1
        late = rng.random() < 0.08
        entered_day = day + timedelta(days=rng.randint(8, 40) if late else rng.randint(0, 2))
        people = [m for m in roster[vid] if group is None or m[1] == group]
        full = [m for m in people if m[0] != roster[vid][0][0]]
        present_ids = {m[0] for m in people if rng.random() < 0.85}
        full_present = sum(1 for m in full if m[0] in present_ids)
        quorum = full_present * 2 > len(full) if kind == "branch_general_meeting" else None
        meeting_rows.append(
            (
                meet_id,
                branch_of[vid],
                vid,
                kind,
                group,
                utc(day, 9),
                utc(day, 11),
                "村部",
                roster[vid][1][0],
                "记录员",
                "议题",
                "",
                "",
                "",
                len(full),
                full_present,
                quorum,
                utc(min(entered_day, today), 16),
                late,
                6 if late else 0,
                False,
                2 if rng.random() < 0.05 else 1,
                utc(min(entered_day, today), 16),
            )
        )
        for m_id, _g in people:
            att_id += 1
            here = m_id in present_ids
            attendance_rows.append(
                (
                    att_id,
                    meet_id,
                    vid,
                    m_id,
                    here,
                    "" if here else "外出务工",
                    m_id != roster[vid][0][0],
                )
            )

    for vid, *_rest in villages:
        p = diligence[vid]
        for year in range(first_year, today.year + 1):
            for month in range(1, 13):
                for kind in monthly:
                    if rng.random() < p:
                        add_meeting(vid, kind, date(year, month, rng.randint(1, 28)), None)
                for g in groups_of[vid]:
                    if rng.random() < p:
                        add_meeting(
                            vid, "party_group_meeting", date(year, month, rng.randint(1, 28)), g
                        )
                if month % 3 == 0:
                    for kind in quarterly:
                        if rng.random() < p:
                            add_meeting(
                                vid,
                                kind,
                                date(year, month - rng.randint(0, 2), rng.randint(1, 28)),
                                None,
                            )
            for kind, month in yearly:
                if rng.random() < p:
                    add_meeting(
                        vid, kind, date(year, month - rng.randint(0, 2), rng.randint(1, 28)), None
                    )
    mcols = [
        "id",
        "branch_id",
        "region_id",
        "kind",
        "group_id",
        "started_at",
        "ended_at",
        "place",
        "host_id",
        "recorder",
        "topics",
        "content",
        "resolutions",
        "guests",
        "full_members",
        "full_present",
        "quorum_met",
        "entered_at",
        "late",
        "late_working_days",
        "imported",
        "version",
        "updated_at",
    ]
    bulk(engine, "meeting", mcols, meeting_rows)
    log(f"meetings {len(meeting_rows)}")
    meeting_rows.clear()
    bulk(
        engine,
        "meeting_attendance",
        ["id", "meeting_id", "region_id", "member_id", "present", "absence_reason", "voting"],
        attendance_rows,
    )
    log(f"attendance {len(attendance_rows)}")
    attendance_rows.clear()

    # -- users (bench logins) ------------------------------------------------------------
    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Region, Role
    from tracker.org.services import create_user

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        city = db.session.get(Region, 1)
        county = db.session.get(Region, 2)
        village = db.session.get(Region, villages[0][0])
        assert city and county and village
        users = {
            "bench_city": create_user("bench_city", BENCH_PASSWORD, Role.viewer, city),
            "bench_county": create_user("bench_county", BENCH_PASSWORD, Role.viewer, county),
            "bench_village": create_user("bench_village", BENCH_PASSWORD, Role.editor, village),
        }
        db.session.commit()
        responder = users["bench_village"].id

    # -- service matters ------------------------------------------------------------------
    types = []
    for c in range(counties):
        for k in range(10):
            types.append(
                (
                    c * 10 + k + 1,
                    2 + c * (20 * villages_per_town + 21),
                    f"事项{k + 1}",
                    "民政",
                    "promised",
                    5,
                    None,
                    [],
                    "village",
                    True,
                    NOW,
                )
            )
    county_ids = {r[0] for r in regions if r[2] == "county"}
    types = [(t[0], sorted(county_ids)[(t[0] - 1) // 10], *t[2:]) for t in types]
    bulk(
        engine,
        "matter_type",
        [
            "id",
            "region_id",
            "name",
            "category",
            "kind",
            "promised_days",
            "statutory_days",
            "materials",
            "handling_level",
            "active",
            "created_at",
        ],
        types,
    )
    county_index = {cid: i for i, cid in enumerate(sorted(county_ids))}
    matter_rows = []
    sm_id = 0
    for vid, _town, cid, _city in villages:
        serial = 0
        day = start
        while day < today:
            day += timedelta(days=rng.randint(3, 15))
            if day >= today:
                break
            sm_id += 1
            serial += 1
            due = day + timedelta(days=7)
            r = rng.random()
            status, done, on_time = "completed", day + timedelta(days=rng.randint(0, 6)), True
            if r < 0.08:
                done, on_time = day + timedelta(days=rng.randint(8, 20)), False
            elif r < 0.11 and due < today:
                status, done, on_time = "accepted", None, None
            if done and done >= today:
                status, done, on_time = "accepted", None, None
            rating = rated = cb_due = cb_on = cb_time = None
            if done and rng.random() < 0.06:
                rating, rated = "dissatisfied", done
                cb_due = done + timedelta(days=7)
                if rng.random() < 0.8:
                    cb_on, cb_time = done + timedelta(days=rng.randint(1, 9)), None
                    cb_time = cb_on <= cb_due
            matter_rows.append(
                (
                    sm_id,
                    vid,
                    f"{day.year}-{serial:05d}",
                    county_index[cid] * 10 + rng.randint(1, 10),
                    "村民",
                    "13800000000",
                    "in_person",
                    utc(day, 10),
                    day,
                    responder,
                    [],
                    [],
                    "promised",
                    5,
                    0,
                    status,
                    due,
                    True,
                    False,
                    utc(done, 15) if done else None,
                    done,
                    on_time,
                    rating,
                    rated,
                    False,
                    cb_due,
                    cb_on,
                    cb_time,
                    utc(day, 10),
                )
            )
    bulk(
        engine,
        "service_matter",
        [
            "id",
            "region_id",
            "serial_no",
            "matter_type_id",
            "applicant_name",
            "applicant_phone",
            "channel",
            "received_at",
            "received_on",
            "first_responder_id",
            "materials_received",
            "materials_missing",
            "kind",
            "promised_days",
            "extension_days",
            "status",
            "due_on",
            "calendar_official",
            "referred",
            "completed_at",
            "completed_on",
            "on_time",
            "rating",
            "rated_on",
            "rating_void",
            "callback_due_on",
            "called_back_on",
            "callback_on_time",
            "created_at",
        ],
        matter_rows,
    )
    log(f"service matters {len(matter_rows)}")
    matter_rows.clear()

    # -- halls, cameras, intervals, daily roll-ups ----------------------------------------
    stations = [
        (i + 1, cid, f"基准站{i + 1}", uuid.uuid4().hex * 2, "bench", NOW)
        for i, cid in enumerate(sorted(county_ids))
    ]
    bulk(
        engine,
        "hall_station",
        ["id", "region_id", "name", "token_hash", "token_prefix", "created_at"],
        stations,
    )
    station_of = {cid: i + 1 for i, cid in enumerate(sorted(county_ids))}
    hours = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}
    halls, cams = [], []
    cam_id = 0
    for hid, (vid, _t, cid, _c) in enumerate(villages, start=1):
        halls.append((hid, vid, "便民服务大厅", "", "", "", hours, NOW))
        for k in range(2):
            cam_id += 1
            cams.append(
                (
                    cam_id,
                    hid,
                    vid,
                    station_of[cid],
                    f"摄像头{k + 1}",
                    "",
                    "-",
                    "rtsp://***:***@10.0.0.1/stream",
                    "tcp",
                    60,
                    60,
                    {},
                    True,
                    NOW,
                )
            )
    bulk(
        engine,
        "service_hall",
        [
            "id",
            "region_id",
            "name",
            "address",
            "contact_name",
            "contact_phone",
            "weekly_hours",
            "created_at",
        ],
        halls,
    )
    bulk(
        engine,
        "camera",
        [
            "id",
            "hall_id",
            "region_id",
            "station_id",
            "name",
            "position",
            "stream_url_encrypted",
            "stream_url_masked",
            "rtsp_transport",
            "check_interval_s",
            "snapshot_every_min",
            "thresholds",
            "active",
            "created_at",
        ],
        cams,
    )
    changes, rollups = [], []
    ch_id = 0
    open_s = 7.5 * 3600
    for cam in cams:
        cid_, vid, station = cam[0], cam[2], cam[3]
        flaky = rng.choice([0.0, 0.01, 0.02, 0.05, 0.15])
        ch_id += 1
        changes.append((ch_id, str(uuid.uuid4()), cid_, station, utc(start, 0), "up", None, NOW))
        day = start
        while day < today:
            if day.weekday() >= 5:
                # Closed at weekends: a roll-up row with no opening time.
                rollups.append((cid_, day, vid, 0, 0, 0, 0, 0, 0, 0, NOW))
            else:
                down = 0
                if rng.random() < flaky * 3:
                    down = rng.randint(1800, 4 * 3600)
                    at = utc(day, 9)
                    ch_id += 2
                    changes.append(
                        (
                            ch_id - 1,
                            str(uuid.uuid4()),
                            cid_,
                            station,
                            at,
                            "down",
                            "unreachable",
                            NOW,
                        )
                    )
                    changes.append(
                        (
                            ch_id,
                            str(uuid.uuid4()),
                            cid_,
                            station,
                            at + timedelta(seconds=down),
                            "up",
                            None,
                            NOW,
                        )
                    )
                down = min(down, int(open_s))
                unknown = 1800 if rng.random() < 0.01 else 0
                excused = down // 2 if down and rng.random() < 0.2 else 0
                rollups.append(
                    (
                        cid_,
                        day,
                        vid,
                        int(open_s),
                        int(open_s) - down - unknown,
                        down,
                        0,
                        unknown,
                        excused,
                        0,
                        NOW,
                    )
                )
            day += timedelta(days=1)
    bulk(
        engine,
        "camera_state_change",
        ["id", "uuid", "camera_id", "station_id", "at", "state", "cause", "received_at"],
        changes,
    )
    log(f"camera state changes {len(changes)}")
    bulk(
        engine,
        "camera_daily_rollup",
        [
            "camera_id",
            "day",
            "region_id",
            "open_s",
            "up_s",
            "down_online_s",
            "down_picture_s",
            "unknown_s",
            "excused_online_s",
            "excused_picture_s",
            "computed_at",
        ],
        rollups,
    )
    log(f"camera daily roll-ups {len(rollups)}")
    changes.clear()
    rollups.clear()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in (
                "region",
                "branch",
                "party_group",
                "member",
                "meeting",
                "meeting_attendance",
                "matter_type",
                "service_matter",
                "hall_station",
                "service_hall",
                "camera",
                "camera_state_change",
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    log(f"raw data done in {time.monotonic() - started:.0f}s")

    # -- snapshots (what the jobs process maintains) -------------------------------------
    from tracker.dashboard.services import compute_period
    from tracker.periods import Period, PeriodKind

    # What the pages and the benchmark read: the last 24 months (trend and
    # selector), 8 quarters and every year; older periods are computed on demand.
    periods: list[Period] = []
    for kind, n in ((PeriodKind.month, 24), (PeriodKind.quarter, 8), (PeriodKind.year, years)):
        periods += [p for p in Period.containing(today, kind).last(n) if p.start >= start]
    t0 = time.monotonic()
    with app.test_request_context():
        for i, p in enumerate(periods, start=1):
            compute_period(p, "/")
            db.session.commit()
            if i % 10 == 0:
                log(f"snapshots {i}/{len(periods)} ({time.monotonic() - t0:.0f}s)")
    log(f"snapshots of {len(periods)} periods in {time.monotonic() - t0:.0f}s")
    # Statistics for the planner over everything, the snapshots included (without
    # them PostgreSQL plans the dashboard's reads as if the snapshot table were empty).
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    log("ANALYZE done")
    engine.dispose()
    return {"villages": len(villages), "periods": len(periods)}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", required=True, help="database URL (fresh, empty)")
    ap.add_argument("--villages-per-town", type=int, default=10)
    ap.add_argument(
        "--villages",
        type=int,
        default=None,
        help="total villages (a multiple of the 100 townships): 1000 = a city, "
        "10000 = a province; overrides --villages-per-town",
    )
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20260301)
    args = ap.parse_args()
    per_town, counties = args.villages_per_town, 5
    if args.villages is not None:
        if args.villages <= 1000:
            if args.villages < 100 or args.villages % 100:
                ap.error(
                    "--villages up to 1000 must be a multiple of 100 (5 counties x 20 townships)"
                )
            per_town = args.villages // 100
        else:
            # A province grows by counties (of 20 townships x 10 villages), not by
            # ever larger counties.
            if args.villages % 200:
                ap.error(
                    "--villages above 1000 must be a multiple of 200 (20 townships x 10 villages)"
                )
            per_town, counties = 10, args.villages // 200
    generate(args.url, per_town, args.years, args.seed, counties)


if __name__ == "__main__":
    main()
