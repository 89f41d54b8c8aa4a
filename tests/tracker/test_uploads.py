"""Attachments and snapshots: the content is what it claims to the end, it is served inertly,
and a refused record leaves no file behind."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import files
from tests.tracker.test_meeting_helpers import form_data, meeting_input, recent
from tests.tracker.test_station_api import auth, bj, setup, uid  # noqa: F401  (fixture)
from tracker import uploads
from tracker.meetings import services
from tracker.meetings.models import Meeting
from tracker.workdays import WorkCalendar

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _committed(world, db):
    db.session.commit()  # views roll back on bad input


@pytest.fixture
def login(login):
    from flask import g

    def do(user):
        g.pop("scope", None)
        g.pop("_login_user", None)
        return login(user)

    return do


# ---------------------------------------------------------------- what a file is


@pytest.mark.parametrize(
    ("data", "kind"),
    [(files.jpeg(), uploads.JPEG), (files.png(), uploads.PNG), (files.pdf(), uploads.PDF)],
)
def test_whole_files_are_recognised(data, kind):
    assert uploads.sniff(data) == kind


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0" + HTML,  # a JPEG header in front of a page
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + HTML,
        files.jpeg()[:-2],  # no end-of-image
        files.jpeg() + HTML,  # a page after the end of the image
        b"\x89PNG\r\n\x1a\n" + HTML,
        files.png() + HTML,
        files.png()[:-1],
        files.png().replace(b"IDAT", b"IDAX"),  # a chunk whose CRC no longer matches
        b"%PDF-1.4\n" + HTML,  # no end-of-file marker
        HTML,
        b"",
    ],
)
def test_a_known_header_in_front_of_something_else_is_refused(data):
    assert uploads.sniff(data) is None


# ---------------------------------------------------------------- meeting attachments


def _meeting(world):
    return services.record_meeting(
        world.branch(world.village_a1a),
        meeting_input(world, world.village_a1a, recent()),
        None,
        WorkCalendar(),
    )


def test_an_html_page_behind_a_jpeg_header_is_not_attached(world, db, login):
    m = _meeting(world)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    resp = client.post(
        f"/meetings/{m.id}/attachments",
        data={"attachments": (io.BytesIO(b"\xff\xd8\xff\xe0" + HTML), "签到表.jpg")},
    )
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "只能是完整的照片" in page
    db.session.expire_all()
    assert db.session.get(Meeting, m.id).attachments == []


def test_pdfs_are_downloads_in_a_sandbox_and_images_are_not_sniffed(world, db, login, app):
    m = _meeting(world)
    pdf = services.add_attachment(m, "会议记录扫描件.pdf", files.pdf(b"% scan"), None)
    png = services.add_attachment(m, "签到表.png", files.png(b"sheet"), None)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    resp = client.get(f"/meetings/attachments/{pdf.id}")
    assert resp.status_code == 200 and resp.mimetype == uploads.PDF
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    resp = client.get(f"/meetings/attachments/{png.id}")
    assert resp.mimetype == uploads.PNG and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


def test_a_refused_meeting_leaves_no_file_behind(world, db, login, app):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    good = files.jpeg(b"photo of a refused meeting")
    path = Path(app.config["UPLOAD_DIR"]) / "meetings"
    target = services.attachment_path(hashlib.sha256(good).hexdigest())
    assert not target.exists()
    body = form_data(world, v, recent())
    body["attachments"] = [
        (io.BytesIO(good), "合影.jpg"),
        (io.BytesIO(b"\xff\xd8\xff\xe0" + HTML), "签到表.jpg"),
    ]
    resp = client.post(f"/meetings/v/{v.id}/new", data=body)
    assert resp.status_code in (200, 415, 422)
    assert "只能是完整的照片" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.region_id == v.id)) == 0
    assert not target.exists(), "the first attachment of the refused meeting is still on disk"
    assert path.exists()


def test_a_kept_attachment_stays_on_disk(world, db, app):
    m = _meeting(world)
    att = services.add_attachment(m, "合影.jpg", files.jpeg(b"kept"), None)
    db.session.commit()
    assert services.attachment_path(att.sha256).exists()


# ---------------------------------------------------------------- station snapshots


def test_a_snapshot_with_html_behind_a_jpeg_header_is_refused(client, setup, db):  # noqa: F811
    data = b"\xff\xd8\xff\xe0" + HTML
    resp = client.post(
        "/api/v1/station/snapshots",
        data={
            "uuid": uid(),
            "camera_id": str(setup.cam1.id),
            "taken_at": bj("09:00"),
            "reason": "opening",
            "sha256": hashlib.sha256(data).hexdigest(),
            "image": (io.BytesIO(data), "s.jpg", "image/jpeg"),
        },
        headers=auth(setup.token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and resp.json["error"]["code"] == "not_jpeg"


def test_snapshots_are_served_with_nosniff(client, setup, db, world, login):  # noqa: F811
    data = files.jpeg(b"evidence")
    resp = client.post(
        "/api/v1/station/snapshots",
        data={
            "uuid": uid(),
            "camera_id": str(setup.cam1.id),
            "taken_at": bj("09:00"),
            "reason": "opening",
            "sha256": hashlib.sha256(data).hexdigest(),
            "image": (io.BytesIO(data), "s.jpg", "image/jpeg"),
        },
        headers=auth(setup.token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.json
    viewer = login(world.users["county_a_viewer"])
    image = viewer.get(f"/halls/snapshots/{resp.json['id']}.jpg")
    assert image.status_code == 200 and image.data == data
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.mimetype == uploads.JPEG
