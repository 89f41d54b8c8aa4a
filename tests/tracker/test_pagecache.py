"""The page cache (tracker.pagecache): exactly fresh, scoped, per role, per day.

Every cached page and API list is filled, written to through the real API/UI (or
the jobs process's path), and read again: the change shows. A write to a table
the page does not read keeps the hit; a rolled-back transaction bumps nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from tests.tracker.test_matter_services import catalog
from tests.tracker.test_meeting_api import body as meeting_body
from tests.tracker.test_meeting_helpers import recent
from tracker import clock, pagecache
from tracker.halls import services as halls
from tracker.halls.models import ServiceHall
from tracker.jobs import Job, run_job
from tracker.models import CalendarOverride, DataVersion


def _state(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.headers.get(pagecache.HEADER, "")


def _strip_csrf(html: str) -> str:
    return re.sub(r'(name="csrf_token" value="|name="csrf-token" content=")[^"]*', r"\1", html)


@pytest.fixture
def login(login):
    def do(user):
        from flask import g

        g.pop("_login_user", None)
        return login(user)

    return do


def test_members_page_and_api_show_a_new_member_and_an_unrelated_write_keeps_the_hit(
    world, login, db
):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    page, api = f"/org/villages/{v.id}", f"/api/v1/villages/{v.id}/members"
    assert _state(client.get(page)) == "miss"
    assert _state(client.get(page)) == "hit"
    assert _state(client.get(api)) == "miss"
    assert _state(client.get(api)) == "hit"

    # A meeting: the roster does not read meetings.
    assert client.post("/api/v1/meetings", json=meeting_body(world, v, recent())).status_code == 201
    assert _state(client.get(page)) == "hit"
    assert _state(client.get(api)) == "hit"

    resp = client.post(api, json={"name": "缓存新党员", "gender": "male", "birth_year": 1980})
    assert resp.status_code == 201, resp.get_json()
    fresh = client.get(page)
    assert _state(fresh) == "miss" and "缓存新党员" in fresh.get_data(as_text=True)
    fresh_api = client.get(api + "?per_page=200")
    assert _state(fresh_api) == "miss"
    assert "缓存新党员" in [m["name"] for m in fresh_api.get_json()["items"]]


def test_meetings_list_and_api_show_a_new_meeting(world, login, db):
    client = login(world.users["county_a_admin"])
    v = world.village_a1a
    page, api = f"/meetings/?region_id={world.county_a.id}", f"/api/v1/meetings?village_id={v.id}"
    before, before_api = client.get(page), client.get(api)
    assert _state(before) == "miss" and _state(before_api) == "miss"
    assert _state(client.get(page)) == "hit" and _state(client.get(api)) == "hit"
    assert client.post("/api/v1/meetings", json=meeting_body(world, v, recent())).status_code == 201
    after, after_api = client.get(page), client.get(api)
    assert _state(after) == "miss" and _state(after_api) == "miss"
    assert after_api.get_json()["total"] == before_api.get_json()["total"] + 1
    assert after.get_data(as_text=True) != before.get_data(as_text=True)


def test_matters_list_is_per_user_and_fresh(world, login, db):
    editor = world.users["town_a1_editor"]
    client = login(editor)
    page = "/matters/?view=all"
    assert _state(client.get(page)) == "miss"
    assert _state(client.get(page)) == "hit"
    assert _state(client.get("/api/v1/matters")) == "miss"
    matter_type = catalog(world)
    db.session.flush()
    resp = client.post(
        "/api/v1/matters",
        json={
            "village_id": world.village_a1a.id,
            "matter_type_id": matter_type.id,
            "applicant_name": "缓存申请人",
            "applicant_phone": "13912345678",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    fresh = client.get(page)
    assert _state(fresh) == "miss" and "缓存申请人" in fresh.get_data(as_text=True)
    fresh_api = client.get("/api/v1/matters")
    assert _state(fresh_api) == "miss"
    assert "缓存申请人" in [m["applicant_name"] for m in fresh_api.get_json()["items"]]
    # Another user of the same scope and role: the rows mark each user's own matters.
    other = login(world.users["town_a1_editor"])
    assert _state(other.get(page)) == "hit"  # same user again
    login(world.users["village_a1a_editor"])
    assert _state(client.get(page)) == "miss"


def test_halls_list_sees_a_write_of_the_jobs_process_and_moves_by_the_minute(app, world, login, db):
    hall = halls.create_hall(world.village_a1a, halls.HallData(name="便民服务中心"))
    db.session.flush()
    client = login(world.users["county_a_admin"])
    at = datetime(2026, 6, 1, 2, 0, 5, tzinfo=UTC)
    with clock.frozen(at):
        assert _state(client.get("/halls/")) == "miss"
        assert _state(client.get("/api/v1/halls")) == "miss"
    with clock.frozen(at + timedelta(seconds=40)):
        assert _state(client.get("/halls/")) == "hit"
    with clock.frozen(at + timedelta(seconds=50)):
        hall_id = hall.id

        def rename() -> None:
            from tracker.extensions import db as sqla

            sqla.session.execute(
                update(ServiceHall).where(ServiceHall.id == hall_id).values(name="改名大厅")
            )

        assert run_job(app, Job("rename", rename, "interval", {"minutes": 1}))
        page = client.get("/halls/")
        assert _state(page) == "miss" and "改名大厅" in page.get_data(as_text=True)
        listed = client.get("/api/v1/halls")
        assert _state(listed) == "miss"
        assert "改名大厅" in [h["name"] for h in listed.get_json()["items"]]
        assert _state(client.get("/halls/")) == "hit"
    with clock.frozen(at + timedelta(seconds=60)):
        assert _state(client.get("/halls/")) == "miss"  # the next minute
        assert _state(client.get("/api/v1/halls")) == "hit"  # no live figure in the API


def test_trainings_and_dashboard_are_cached_and_a_new_day_misses(world, login, db):
    client = login(world.users["county_a_viewer"])
    day = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    for url in ("/trainings/", f"/dashboard/r/{world.county_a.id}"):
        with clock.frozen(day):
            assert _state(client.get(url)) == "miss"
            if "dashboard" in url:
                # The first view computed and committed the missing snapshots (after the
                # versions were read): its entry is out of date at once, as it should be.
                assert _state(client.get(url)) == "miss"
            assert _state(client.get(url)) == "hit"
        with clock.frozen(day + timedelta(days=1)):
            assert _state(client.get(url)) == "miss"


def test_a_village_drill_down_moves_by_the_minute(app, world, login, db):
    """Its camera table counts today's camera time up to now, with or without a write."""
    halls.create_hall(world.village_a1a, halls.HallData(name="便民服务中心"))
    db.session.flush()
    client = login(world.users["county_a_admin"])
    url = f"/dashboard/r/{world.village_a1a.id}"
    at = datetime(2026, 6, 1, 2, 0, 5, tzinfo=UTC)
    with clock.frozen(at):
        assert _state(client.get(url)) == "miss"
        # the first view computed and committed the missing snapshots: out of date at once
        assert _state(client.get(url)) == "miss"
        assert _state(client.get(url)) == "hit"
    with clock.frozen(at + timedelta(seconds=50)):
        assert _state(client.get(url)) == "hit"
    with clock.frozen(at + timedelta(seconds=60)):
        assert _state(client.get(url)) == "miss"


def test_another_county_or_role_never_gets_the_entry(world, login, db):
    halls.create_hall(world.village_a1a, halls.HallData(name="甲县大厅"))
    halls.create_hall(world.village_b1a, halls.HallData(name="乙县大厅"))
    db.session.flush()
    a = login(world.users["town_a1_editor"]).get("/halls/")
    assert _state(a) == "miss" and "甲县大厅" in a.get_data(as_text=True)
    b = login(world.users["town_b1_editor"]).get("/halls/")
    assert _state(b) == "miss"
    assert "乙县大厅" in b.get_data(as_text=True) and "甲县大厅" not in b.get_data(as_text=True)

    url = f"/meetings/?region_id={world.county_a.id}"
    admin = login(world.users["county_a_admin"]).get(url)
    viewer = login(world.users["county_a_viewer"]).get(url)
    assert _state(admin) == "miss" and _state(viewer) == "miss"


def test_a_rolled_back_write_bumps_nothing_and_a_committed_one_bumps_its_table(app, db):
    from tracker.extensions import db as sqla

    def version(conn) -> int:
        n = conn.execute(
            select(DataVersion.n).where(DataVersion.table_name == "calendar_override")
        ).scalar()
        return int(n or 0)

    with app.app_context():
        engine = sqla.engine
        with engine.connect() as conn:
            start = version(conn)
            conn.rollback()
            conn.execute(update(CalendarOverride).where(CalendarOverride.id == -1).values(note=""))
            conn.rollback()
            assert version(conn) == start
            conn.rollback()
            conn.execute(update(CalendarOverride).where(CalendarOverride.id == -1).values(note=""))
            conn.commit()
            assert version(conn) == start + 1
            # raw SQL is parsed for its table
            conn.execute(text("UPDATE calendar_override SET note = '' WHERE id = -1"))
            conn.commit()
            assert version(conn) == start + 2
            conn.commit()


def test_raw_sql_writes_are_told_by_table_or_counted_as_any():
    assert pagecache.raw_written_table('UPDATE "member" SET x = 1') == "member"
    assert pagecache.raw_written_table("insert into audit_log (a) values (1)") == "audit_log"
    assert pagecache.raw_written_table("DELETE FROM public.region WHERE 1=0") == "region"
    assert pagecache.raw_written_table("WITH x AS (SELECT 1) DELETE FROM y") == pagecache.ANY_TABLE
    assert pagecache.raw_written_table("SELECT 1") is None
    assert pagecache.raw_written_table("BEGIN IMMEDIATE") is None


def test_the_cached_blocks_hold_no_csrf_token_and_each_session_gets_its_own(
    app, world, login, db, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = f"/org/villages/{world.village_a1a.id}"
    first = login(world.users["town_a1_editor"])
    page = first.get(url).get_data(as_text=True)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert tokens, "the page's shell has forms with a CSRF token"
    cache = pagecache.store(app)
    assert cache is not None and len(cache) >= 1
    stored = "".join(
        str(block)
        for entry in cache._entries.values()
        if isinstance(entry.value, dict)
        for block in entry.value.values()
    )
    assert stored and not any(token in stored for token in tokens)
    assert world.users["town_a1_editor"].display_name not in stored  # the shell's user menu

    other_client = app.test_client()  # a second browser: its own session and token
    from flask_login.utils import _create_identifier

    from tracker.auth.services import start_session

    with app.test_request_context(environ_base=other_client.environ_base):
        identifier = _create_identifier()
    key = start_session(world.users["town_a1_editor"], remember=False, hours=1, remember_days=1)
    with other_client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"], sess["_id"] = key, True, identifier
    if True:
        resp = other_client.get(url)
        assert resp.status_code == 200, resp.headers
        assert resp.headers[pagecache.HEADER] == "hit"
        theirs = set(re.findall(r'name="csrf_token" value="([^"]+)"', resp.get_data(as_text=True)))
        assert theirs and not theirs & tokens


def test_a_token_in_a_cached_block_is_stored_as_a_placeholder(app):
    """A cached block with a form keeps no token; each session gets its own put back."""
    from flask_wtf.csrf import generate_csrf
    from markupsafe import Markup

    with app.test_request_context():
        mine = generate_csrf()
        kept = pagecache.stored_blocks(
            {"content": Markup(f'<input name="csrf_token" value="{mine}">'), "title": Markup("t")}
        )
    assert mine not in kept["content"] and pagecache.CSRF_PLACEHOLDER in kept["content"]
    with app.test_request_context():
        theirs = generate_csrf()
        served = kept["content"].replace(pagecache.CSRF_PLACEHOLDER, theirs)
    assert theirs != mine and f'value="{theirs}"' in served


@pytest.mark.parametrize("user", ["county_a_admin", "county_a_viewer", "town_a1_editor"])
def test_pages_are_the_same_with_the_cache_on_and_off(app, world, login, db, user):
    halls.create_hall(world.village_a1a, halls.HallData(name="便民服务中心"))
    db.session.flush()
    client = login(world.users[user])
    urls = [
        f"/meetings/?region_id={world.county_a.id}",
        "/matters/?view=all",
        "/halls/",
        "/trainings/",
        f"/org/villages/{world.village_a1a.id}",
        f"/dashboard/r/{world.county_a.id}",
        f"/api/v1/meetings?village_id={world.village_a1a.id}",
        "/api/v1/matters",
        "/api/v1/halls",
        f"/api/v1/trainings?village_id={world.village_a1a.id}",
        f"/api/v1/villages/{world.village_a1a.id}/members",
    ]
    if user == "county_a_admin":
        urls[0] = f"/meetings/?region_id={world.county_a.id}"
    with clock.frozen(datetime(2026, 6, 1, 2, 0, 5, tzinfo=UTC)):
        cache = app.extensions.pop("pagecache")
        try:
            off = [client.get(u) for u in urls]
        finally:
            app.extensions["pagecache"] = cache
        miss = [client.get(u) for u in urls]
        hit = [client.get(u) for u in urls]  # the shell rendered live around the blocks
        kept = [client.get(u) for u in urls]  # the whole page kept for this shell
    for url, *answers in zip(urls, off, miss, hit, kept, strict=True):
        a = answers[0]
        if a.status_code != 200:
            assert [r.status_code for r in answers] == [a.status_code] * 4, url
            continue
        assert pagecache.HEADER not in a.headers
        assert [r.headers[pagecache.HEADER] for r in answers[1:]] == ["miss", "hit", "hit"], url
        html = [_strip_csrf(r.get_data(as_text=True)) for r in answers]
        assert html[0] == html[1] == html[2] == html[3], url
        if not url.startswith("/api/"):
            assert 'data-max-upload=""' not in html[0], url  # Flask's config, not a page's


def test_a_page_size_of_zero_switches_the_cache_off(app_factory):
    off = app_factory(PAGE_CACHE_MB=0)
    assert pagecache.store(off) is None


def test_halls_list_sees_a_station_report_within_the_same_minute(client, login, db, world):
    from tests.tracker.test_station_api import (
        DAY,
        heartbeats,
        make_setup,
        post_reports,
        send_heartbeats,
        state,
    )

    s = make_setup(world)
    db.session.commit()
    send_heartbeats(client, s.token, heartbeats("08:00", "12:00"))
    assert post_reports(client, s.token, [state(s.cam1, "08:00", "up")]).status_code == 200
    admin = login(world.users["county_a_admin"])
    with clock.frozen(datetime.fromisoformat(f"{DAY}T11:59:10+08:00")):
        before = admin.get("/halls/")
        assert _state(before) == "miss"
        assert _state(admin.get("/halls/")) == "hit"
        report = [state(s.cam1, "09:00", "down", "unreachable"), state(s.cam1, "11:00", "up")]
        assert post_reports(client, s.token, report).status_code == 200
        after = admin.get("/halls/")
        assert _state(after) == "miss"
        assert after.get_data(as_text=True) != before.get_data(as_text=True)


def test_the_environment_sets_the_cache_size():
    from tracker.config import ConfigError, validate

    assert validate({}, {}).tracker.page_cache_mb == 64
    assert validate({}, {"TRACKER_PAGE_CACHE_MB": "0"}).tracker.page_cache_mb == 0
    with pytest.raises(ConfigError, match="TRACKER_PAGE_CACHE_MB"):
        validate({}, {"TRACKER_PAGE_CACHE_MB": "lots"})
    with pytest.raises(ConfigError, match="page_cache_mb"):
        validate({"tracker": {"page_cache_mb": -1}}, {})


def test_the_lru_keeps_within_its_bytes():
    lru = pagecache.LRU(10_000)
    for i in range(50):
        lru.put(i, pagecache.Entry({"content": "x"}, (), 1_000))
    assert lru.size <= 10_000 and len(lru) == 10
    assert lru.get(0) is None and lru.get(49) is not None
    lru.put("big", pagecache.Entry({}, (), 5_000))  # over a quarter: not kept
    assert lru.get("big") is None


def test_every_migration_run_invalidates_every_cached_page(tmp_path):
    """A data migration writes past the engine event: ``*`` (every entry's) is bumped."""
    from sqlalchemy import create_engine

    from tracker.database import upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    star = select(DataVersion.n).where(DataVersion.table_name == pagecache.ANY_TABLE)
    with engine.connect() as conn:
        first = conn.execute(star).scalar()
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(star).scalar() == (first or 0) + 1
    engine.dispose()


def test_reads_are_recorded_by_table_and_a_raw_read_is_not_cacheable(db, world):
    from tracker.models import Branch, Region

    with pagecache.recording() as rec:
        db.session.execute(select(Branch.id).join(Region, Branch.region_id == Region.id)).all()
        db.session.execute(
            select(Region.id).where(Region.id.in_(select(Branch.region_id).scalar_subquery()))
        ).all()
    assert {"branch", "region"} <= rec.tables and rec.cacheable
    with pagecache.recording() as raw:
        db.session.execute(text("SELECT id FROM member")).all()
    assert not raw.cacheable


def test_a_sign_in_keeps_the_cached_pages_and_a_renamed_user_does_not(app, world, login, db):
    """Every entry depends on ``user_account``; a sign-in's ``last_login_at`` is bookkeeping
    (:data:`tracker.pagecache.QUIET_UPDATES`), a change of a user is not."""
    from flask import g

    from tests.factories import PASSWORD
    from tracker.extensions import db as sqla
    from tracker.models import User

    def fresh() -> None:  # the requests of one test share its app context
        for key in ("_login_user", "scope", "token_auth"):
            g.pop(key, None)

    def version() -> int:
        n = sqla.session.scalar(
            select(DataVersion.n).where(DataVersion.table_name == "user_account")
        )
        return int(n or 0)

    client = login(world.users["town_a1_editor"])
    page = f"/org/villages/{world.village_a1a.id}"
    assert _state(client.get(page)) == "miss"
    assert _state(client.get(page)) == "hit"
    before = version()
    fresh()
    viewer = world.users["county_a_viewer"]
    resp = app.test_client().post(
        "/login", data={"username": viewer.username, "password": PASSWORD}
    )
    assert resp.status_code == 302, resp.status_code
    assert sqla.session.get(User, viewer.id).last_login_at is not None
    assert version() == before  # the sign-in bumped nothing
    fresh()
    assert _state(client.get(page)) == "hit"
    # a real change of an account (with or without the bookkeeping column) is seen
    sqla.session.execute(
        update(User)
        .where(User.id == viewer.id)
        .values(display_name="改了名的查看员", last_login_at=datetime.now(UTC))
    )
    sqla.session.commit()
    assert version() > before
    fresh()
    assert _state(client.get(page)) == "miss"


def test_an_update_is_quiet_only_when_it_sets_nothing_but_bookkeeping_columns():
    class Compiled:
        def __init__(self, sql: str) -> None:
            self.string = sql

    quiet = "UPDATE user_account SET last_login_at=? WHERE user_account.id = ?"
    loud = 'UPDATE user_account SET "display_name"=%(d)s, last_login_at=%(l)s WHERE id = %(i)s'
    assert pagecache.quiet_update(Compiled(quiet), "user_account")
    assert not pagecache.quiet_update(Compiled(loud), "user_account")
    assert not pagecache.quiet_update(Compiled(quiet), "member")  # no quiet columns there
    assert not pagecache.quiet_update(Compiled("UPDATE user_account SET x"), "user_account")


def test_a_hit_asks_nothing_for_the_navbar_badge_and_a_new_message_shows_at_once(world, login, db):
    from tests.conftest import count_queries
    from tracker.notifications.services import notify

    user = world.users["town_a1_editor"]
    client = login(user)
    page = "/meetings/"
    assert _state(client.get(page)) == "miss"
    with count_queries() as log:
        html = client.get(page)
    assert _state(html) == "hit"
    assert not [s for s in log.statements if "notification" in s], log.report()
    assert 'id="unread-badge"' not in html.get_data(as_text=True)

    notify([user], "缓存测试消息")
    db.session.flush()
    fresh = client.get(page)
    assert _state(fresh) == "hit"  # the meetings page does not read messages ...
    assert re.search(r'id="unread-badge">1<', fresh.get_data(as_text=True))  # ... the badge does
    notify([user], "第二条")
    db.session.flush()
    assert re.search(r'id="unread-badge">2<', client.get(page).get_data(as_text=True))
    other = login(world.users["county_a_admin"])  # another user: their own count
    assert 'id="unread-badge"' not in other.get(page).get_data(as_text=True)


def test_a_hit_runs_one_statement_and_the_kept_user_ends_with_a_sign_out_or_deactivation(
    world, login, db
):
    """The signed-in user is kept by the versions of sessions, users and regions
    (:func:`tracker.auth.services.user_for_session`): a hit reads only the versions,
    and a sign-out everywhere, a deactivation or a rename is seen at the next request."""
    from tests.conftest import count_queries
    from tracker.auth.services import revoke_sessions
    from tracker.models import User

    user = world.users["town_a1_editor"]
    client = login(user)
    page = "/meetings/"
    assert _state(client.get(page)) == "miss"
    assert _state(client.get(page)) == "hit"
    with count_queries() as log:
        assert _state(client.get(page)) == "hit"
    assert log.count == 1 and "data_version" in log.statements[0], log.report()

    db.session.execute(update(User).where(User.id == user.id).values(display_name="新名字"))
    assert "新名字" in client.get(page).get_data(as_text=True)

    revoke_sessions(user)  # "sign out everywhere", from another device
    resp = client.get(page)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]

    client = login(user)
    assert _state(client.get(page)) == "hit"
    db.session.execute(update(User).where(User.id == user.id).values(active=False))
    resp = client.get(page)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_kept_whole_page_is_per_shell_and_a_flash_is_shown_once(app, world, login, db):
    """A hit's whole page is kept per what ``base.html``'s shell shows
    (:func:`tracker.views.shell_vary`): another user of the same scope gets their own
    name, another language its own page, and a flash message is shown once, on a page
    whose shell is rendered live; the kept page holds no CSRF token."""
    from tests.factories import make_user
    from tracker.models import Role

    page = "/meetings/"
    editor = world.users["town_a1_editor"]
    colleague = make_user(Role.editor, world.town_a1)  # (a new user would be a miss)
    client = login(editor)
    assert [_state(client.get(page)) for _ in range(3)] == ["miss", "hit", "hit"]
    cache = pagecache.store(app)
    assert cache is not None
    kept = [e.value for e in cache._entries.values() if isinstance(e.value, str)]
    assert len(kept) == 1 and editor.display_name in kept[0]
    served = client.get(page).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', served)
    assert token and token.group(1) not in kept[0]
    assert kept[0].replace(pagecache.CSRF_PLACEHOLDER, token.group(1)) == served

    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", "会议已保存")]
    flashed = client.get(page)
    assert _state(flashed) == "hit" and "会议已保存" in flashed.text
    again = client.get(page)
    assert _state(again) == "hit" and "会议已保存" not in again.text
    assert _strip_csrf(again.text) == _strip_csrf(served)

    theirs = login(colleague).get(page)
    assert _state(theirs) == "hit"
    assert colleague.display_name in theirs.text and editor.display_name not in theirs.text

    with client.session_transaction() as sess:
        sess["lang"] = "en"
    english = client.get(page)
    assert _state(english) == "miss" and '<html lang="en">' in english.text
    assert _state(client.get(page)) == "hit"
