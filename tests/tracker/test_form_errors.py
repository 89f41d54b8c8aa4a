"""Every form shows every error at once, beside its field, naming the field, keeping what was
typed (passwords aside)."""

from __future__ import annotations

import re

from tests.tracker.test_matter_services import catalog
from tracker.matters.models import ServiceMatter


def _beside(html: str) -> dict[str, list[str]]:
    """``{field id: [messages]}``: the invalid-feedback blocks after each invalid input."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(
        r'<(?:input|select|textarea)[^>]*class="[^"]*is-invalid[^"]*"[^>]*>', html
    ):
        tag = m.group(0)
        ident = re.search(r'\bid="([^"]+)"', tag) or re.search(r'\bname="([^"]+)"', tag)
        rest = html[m.end() : m.end() + 2000]
        rest = rest[: rest.find('<div class="mb-3') if '<div class="mb-3' in rest else None]
        out[ident.group(1) if ident else "?"] = re.findall(
            r'invalid-feedback d-block">([^<]+)<', rest
        )
    return out


def test_registration_shows_every_error_at_once_and_keeps_the_values(world, db, login):
    t = catalog(world)
    db.session.commit()
    client = login(world.users["village_a1a_editor"])
    resp = client.post(
        "/matters/new",
        data={
            "village_id": world.village_a1a.id,
            "matter_type_id": t.id,
            "applicant_name": "",
            "applicant_phone": "12345",
            "applicant_id_number": "110105194912310021",
            "channel": "in_person",
            "received_at": "2099-01-01T09:00",
            "first_responder_id": world.users["village_a1a_editor"].id,
            "note": "申请人下午再来",
            "client_token": "t-all-errors",
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    errors = _beside(html)
    assert set(errors) >= {
        "applicant_name",
        "applicant_phone",
        "applicant_id_number",
        "received_at",
    }, errors
    assert any("申请人" in e for e in errors["applicant_name"])
    assert any(e.startswith("联系电话") for e in errors["applicant_phone"])
    assert any(e.startswith("身份证号") for e in errors["applicant_id_number"])
    assert any("晚于现在" in e for e in errors["received_at"])
    # What was typed is still there.
    assert 'value="12345"' in html and 'value="110105194912310021"' in html
    assert "申请人下午再来" in html
    assert db.session.query(ServiceMatter).filter_by(client_token="t-all-errors").count() == 0


def test_generic_messages_name_their_field(world, db, login):
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    html = client.post(f"/org/villages/{v.id}/members/new", data={}).get_data(as_text=True)
    messages = [m for ms in _beside(html).values() for m in ms]
    assert "姓名：必填" in messages and "党员类别：必填" in messages
    page = client.post(
        f"/meetings/v/{v.id}/new", data={"started_at": "昨天", "ended_at": "bad"}
    ).get_data(as_text=True)
    assert "开始时间：" in page and "结束时间：" in page


def test_a_password_is_never_sent_back(world, db, login):
    db.session.commit()
    client = login(world.users["county_a_admin"])
    html = client.post(
        "/org/users/new",
        data={"username": "", "display_name": "新同志", "password": "s3cret-typed", "phone": "1"},
    ).get_data(as_text=True)
    assert "s3cret-typed" not in html and 'value="新同志"' in html
    assert "用户名：" in html or "请填写用户名" in html


def test_a_refused_batch_comes_back_beside_its_fields_with_what_was_typed(world, db, login):
    """The new-batch form used to flash its errors at the top and forget the input."""
    db.session.commit()
    client = login(world.users["county_a_admin"])
    resp = client.post(
        f"/secondment/batches/new/{world.county_a.id}",
        data={"year": "2026", "name": "", "purpose": "乡村振兴一线锻炼"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "请填写批次名称" in [m for ms in _beside(html).values() for m in ms]
    assert "乡村振兴一线锻炼" in html and 'value="2026"' in html
    assert 'class="alert alert-danger' not in html
