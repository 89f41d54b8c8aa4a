"""English pages: every package's main page read with ?lang=en shows its own text in English.

The visible text of ``<main>`` is checked for Chinese; what is left may only be data
people typed or imported (region, branch, member and user names, meeting topics …),
which is shown as it was written.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.tracker.test_dashboard_scores import build_dash_world

CJK = re.compile(r"[\u4e00-\u9fff]+")
# The language switch names each language in itself.
LANGUAGE_NAMES = ("中文",)


def visible_main(page: str) -> str:
    """The text a reader sees in ``<main>`` (tags, scripts and styles removed)."""
    start = page.find("<main")
    end = page.find("</main>")
    body = page[start:end] if start >= 0 and end > start else page
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return htmllib.unescape(body)


def data_names(db: Any) -> set[str]:
    """Names stored as data: shown as typed, in whatever language they were typed in."""
    from tracker import models
    from tracker.halls.models import Camera, ServiceHall
    from tracker.matters.models import MatterType

    names: set[str] = set()
    for model, columns in (
        (models.Region, ("name",)),
        (models.Branch, ("name",)),
        (models.PartyGroup, ("name",)),
        (models.Member, ("name",)),
        (models.User, ("display_name",)),
        (MatterType, ("name",)),
        (Camera, ("name",)),
        (ServiceHall, ("name",)),
    ):
        for col in columns:
            names.update(v for v in db.session.scalars(select(getattr(model, col))) if v)
    return names


def chinese_left(page: str, allowed: set[str]) -> str:
    """The Chinese left in the visible text, each with some context (empty when none)."""
    text = visible_main(page)
    for name in sorted(allowed | set(LANGUAGE_NAMES), key=len, reverse=True):
        text = text.replace(name, " ")
    text = re.sub(r"\s+", " ", text)
    return "\n".join(
        sorted({text[max(m.start() - 30, 0) : m.end() + 30] for m in CJK.finditer(text)})
    )


def english(client: Any, url: str) -> str:
    from flask import g

    g.pop("_flask_babel", None)
    resp = client.get(url + ("&" if "?" in url else "?") + "lang=en")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    return resp.get_data(as_text=True)


@pytest.fixture
def dash_world(db: Any, world: Any) -> dict[str, Any]:
    return build_dash_world(db, world)


def test_dashboard_pages_in_english(db, world, dash_world, login):
    client = login(world.users["county_a_admin"])
    allowed = data_names(db)
    page = english(client, f"/dashboard/r/{world.county_a.id}?period=2025-09")
    assert "Compliance dashboard" in page and "Scores by" in page and "Score" in page
    assert not (left := chinese_left(page, allowed)), left
    village = english(client, f"/dashboard/r/{world.village_a1a.id}?period=2025-09")
    assert "Meetings held" in village and "How it is calculated" in village
    assert not (left := chinese_left(village, allowed)), left


def meeting_texts(db: Any) -> set[str]:
    """What clerks typed into meeting records (topics, places, reasons …)."""
    from tracker.meetings.models import Attendance, Meeting

    out: set[str] = set()
    for m in db.session.scalars(select(Meeting)):
        for text in (m.place, m.recorder, m.lecturer, m.topics, m.content, m.resolutions, m.guests):
            if text:
                out.update(line.strip() for line in text.splitlines() if line.strip())
    out.update(r for r in db.session.scalars(select(Attendance.absence_reason)) if r)
    return out


def test_meeting_pages_in_english(db, world, login):
    from flask import g

    from tests.tracker.test_meeting_helpers import meeting_input, recent
    from tracker.meetings import services
    from tracker.workdays import WorkCalendar

    v = world.village_a1a
    m = services.record_meeting(
        world.branch(v),
        meeting_input(world, v, recent(), kind="branch_general_meeting"),
        None,
        WorkCalendar(),
    )
    db.session.commit()
    g.pop("scope", None)
    g.pop("_login_user", None)
    client = login(world.users["town_a1_editor"])
    allowed = data_names(db) | meeting_texts(db)
    pages = {
        "/meetings/": ("Three Meetings and One Lesson register", "Not held"),
        f"/meetings/v/{v.id}": ("Meeting register", "Meeting type"),
        f"/meetings/v/{v.id}/grid": ("Completion", "Held"),
        f"/meetings/v/{v.id}/new": ("Record a meeting", "Attendance"),
        f"/meetings/v/{v.id}/plans": ("File a plan", "Planned date"),
        f"/meetings/v/{v.id}/import": ("Download the import template", "Upload"),
        f"/meetings/{m.id}": ("Branch general meeting", "Chair"),
        f"/meetings/{m.id}/edit": ("Edit meeting record", "Save"),
        f"/meetings/{m.id}/history": ("Change history", "Version 1"),
        "/meetings/rules": ("Meeting frequency rules", "At least once a month"),
    }
    for url, words in pages.items():
        page = english(client, url)
        for word in words:
            assert word in page, (url, word)
        assert not (left := chinese_left(page, allowed)), (url, left)
    printed = english(client, f"/meetings/{m.id}/print")
    assert "Recorder (signature)" in printed
    assert not (left := chinese_left(printed, allowed)), left


def matter_texts(db: Any) -> set[str]:
    """What the counter typed: applicants, catalogue items, materials, notices."""
    from tracker.matters.models import MatterType, ServiceMatter

    out: set[str] = set()
    for t in db.session.scalars(select(MatterType)):
        out.update([t.name, t.category, *t.materials])
    for m in db.session.scalars(select(ServiceMatter)):
        out.update([m.applicant_name, m.serial_no, *m.materials_received, *m.materials_missing])
        out.update(line for line in (m.one_time_notice or "").splitlines() if line)
    return {t for t in out if t}


def test_matter_pages_in_english(db, world, login):
    from tests.tracker.test_matter_services import register

    matter = register(world)
    db.session.commit()
    client = login(world.users["village_a1a_editor"])
    allowed = data_names(db) | matter_texts(db)
    pages = {
        "/matters/": ("My matters", "First contact"),
        "/matters/?view=all": ("All service matters", "Search"),
        "/matters/new": ("First-contact responsibility", "Materials received"),
        f"/matters/{matter.id}": ("Handling steps", "First-contact officer"),
        f"/matters/{matter.id}/receipt": ("Citizen service receipt", "Materials received"),
        "/matters/overdue": ("Overdue matters", "As of"),
        "/matters/catalog": ("Service catalogue", "Promised time"),
        "/matters/measures": ("Service matter figures", "Satisfaction rate"),
        "/matters/register": ("citizen service register book", "Export Excel"),
    }
    for url, words in pages.items():
        page = english(client, url)
        for word in words:
            assert word in page, (url, word)
        assert not (left := chinese_left(page, allowed)), (url, left)


def test_shared_pages_in_english(db, world, login, client):
    from flask import g

    page = english(client, "/login")
    assert "Sign in" in page and not (left := chinese_left(page, set())), left
    g.pop("_flask_babel", None)
    user = login(world.users["county_a_admin"])
    allowed = data_names(db)
    for url, word in (
        ("/notifications/", "Notifications"),
        ("/no-such-page", "Page not found"),
    ):
        g.pop("_flask_babel", None)
        resp = user.get(url + "?lang=en")
        page = resp.get_data(as_text=True)
        assert word in page, (url, page[:500])
        assert not (left := chinese_left(page, allowed)), (url, left)


@pytest.mark.parametrize("user", ["village_a1a_editor", "county_a_admin"])
def test_home_in_english(db, world, login, user):
    client = login(world.users[user])
    page = english(client, "/")
    assert "To do" in page
    assert not (left := chinese_left(page, data_names(db))), left


def test_hall_pages_in_english(db, world, login, client):
    from datetime import UTC, datetime

    from tests.tracker.test_station_api import make_setup, post_reports, state
    from tracker.halls import services
    from tracker.halls.models import ExcuseKind, Station

    s = make_setup(world)
    db.session.commit()
    resp = post_reports(
        client,
        s.token,
        [state(s.cam1, "08:00", "down", "unreachable"), state(s.cam2, "08:00", "up")],
    )
    assert resp.status_code == 200
    reason = "村委会停电检修"
    services.file_excuse(
        s.cam1,
        datetime(2025, 11, 20, 1, 0, tzinfo=UTC),
        datetime(2025, 11, 20, 2, 0, tzinfo=UTC),
        ExcuseKind.power_cut,
        reason,
        world.users["village_a1a_editor"],
    )
    db.session.commit()
    user = login(world.users["county_a_admin"])
    allowed = data_names(db) | {reason} | set(db.session.scalars(select(Station.name)))
    pages = {
        "/halls/": ("One-stop service halls and video monitoring", "Working rate today"),
        f"/halls/{s.hall.id}": ("Add camera", "Mon"),
        f"/halls/{s.hall.id}/edit": ("Edit service hall", "Weekly opening hours"),
        "/halls/new": ("Register a service hall", "Save"),
        f"/halls/cameras/{s.cam1.id}": ("Offline · Unreachable", "Last 24 hours"),
        f"/halls/cameras/{s.cam2.id}": ("Online rate", "Evidence snapshots"),
        f"/halls/cameras/{s.cam1.id}/edit": ("Edit camera", "RTSP transport"),
        f"/halls/{s.hall.id}/cameras/new": ("Add camera", "Scheduled snapshot"),
        "/halls/excuses?status=all": ("Explanations of camera outages", "Power cut"),
        "/halls/report": ("Monthly camera report", "Assessed working rate"),
    }
    for url, words in pages.items():
        page = english(user, url)
        for word in words:
            assert word in page, (url, word)
        assert not (left := chinese_left(page, allowed)), (url, left)


def test_hall_form_errors_in_english(db, world, login):
    from flask import g

    from tests.tracker.test_station_api import make_setup

    s = make_setup(world)
    db.session.commit()
    user = login(world.users["county_a_admin"])
    camera = {
        "name": "后门",
        "stream_url": "ftp://nope",
        "station_id": "0",
        "check_interval_s": "5",
        "snapshot_every_min": "60",
        "rtsp_transport": "tcp",
    }
    g.pop("_flask_babel", None)
    page = user.post(f"/halls/{s.hall.id}/cameras/new?lang=en", data=camera)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "must be between 10 and 3600" in text, text
    camera["check_interval_s"] = "60"
    g.pop("_flask_babel", None)
    text = user.post(f"/halls/{s.hall.id}/cameras/new?lang=en", data=camera).get_data(as_text=True)
    assert "The stream address must start with rtsp://" in text
    g.pop("_flask_babel", None)
    hours = {"region_id": str(s.hall.region_id), "name": s.hall.name, "hours_0": "8:30-12:00"}
    text = user.post(f"/halls/{s.hall.id}/edit?lang=en", data=hours).get_data(as_text=True)
    assert "Times are written HH:MM (e.g. 08:30), not &#39;8:30&#39;" in text, text
    g.pop("_flask_babel", None)
    text = user.post(
        f"/halls/{s.hall.id}?lang=en", data={"day": "2026-01-05", "hours": "9-"}
    ).get_data(as_text=True)
    assert "Times are written HH:MM (e.g. 08:30), not &#39;9&#39;" in text, text
