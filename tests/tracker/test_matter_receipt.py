"""受理回执 with a QR link: the applicant follows the matter without an account and rates it once;
the counter may copy in a paper rating slip, marked as such."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.tracker.test_matter_services import at, event, register
from tracker.matters import services
from tracker.matters.models import EventKind, MatterEvent, Rating, RatingSource
from tracker.security import hash_token


def link_of(page: str) -> str:
    found = re.search(r'id="receipt-link">https?://[^/]+(/matters/a/[^<"]+)<', page)
    assert found, "the receipt shows its link"
    return found.group(1)


def completed_matter(world, db, **kw):
    clerk = world.users["village_a1a_editor"]
    matter = register(world, **kw)
    event(matter, EventKind.referred, clerk, at(2026, 9, 30, 10), to_unit="镇民政办")
    event(matter, EventKind.completed, clerk, services.utcnow() - timedelta(hours=1), note="已办")
    db.session.commit()
    return matter


def test_the_receipt_shows_what_the_applicant_needs_and_a_qr_code(world, db, login):
    world.users["village_a1a_editor"].phone = "0436-1234567"
    matter = register(world, materials_missing=["户口簿"], one_time_notice="请于三日内补齐户口簿。")
    page = login(world.users["village_a1a_editor"]).get(f"/matters/{matter.id}/receipt")
    assert page.status_code == 200
    text = page.text
    for expected in (matter.serial_no, "户口簿", "请于三日内补齐户口簿", "0436-1234567", "<svg"):
        assert expected in text
    assert world.users["village_a1a_editor"].display_name in text
    assert "13812345678" not in text  # the applicant's phone is masked on paper
    token = link_of(text).rsplit("/", 1)[1]
    assert matter.receipt_token_hash == hash_token(token)
    assert token not in (matter.receipt_nonce or "")
    again = login(world.users["village_a1a_editor"]).get(f"/matters/{matter.id}/receipt")
    assert link_of(again.text) == link_of(text)  # a reprint carries the same QR code


def test_viewers_cannot_print_a_receipt(world, db, login):
    matter = register(world)
    assert (
        login(world.users["county_a_viewer"]).get(f"/matters/{matter.id}/receipt").status_code
        == 403
    )


def test_the_public_page_shows_steps_dates_and_offices_but_no_people(world, db, client):
    matter = completed_matter(world, db)
    token = services.receipt_token(matter)
    db.session.commit()
    page = client.get(f"/matters/a/{token}")
    assert page.status_code == 200
    for expected in ("受理", "转办", "镇民政办", "办结", matter.matter_type.name, "提交评价"):
        assert expected in page.text
    for hidden in (
        "13812345678",
        "11010519491231002X",
        world.users["village_a1a_editor"].display_name,
    ):
        assert hidden not in page.text


def test_the_applicant_rates_once_after_completion(world, db, client):
    matter = completed_matter(world, db)
    token = services.receipt_token(matter)
    db.session.commit()
    url = f"/matters/a/{token}"
    resp = client.post(url, data={"rating": "very_satisfied", "note": "很快", "client_token": "r1"})
    assert resp.status_code == 302
    db.session.refresh(matter)
    assert matter.rating == Rating.very_satisfied
    rated = db.session.scalar(select(MatterEvent).where(MatterEvent.kind == EventKind.rated))
    assert rated.actor_id is None and rated.data == {"source": "applicant"}
    again = client.post(url, data={"rating": "dissatisfied", "client_token": "r2"})
    assert again.status_code == 409
    db.session.refresh(matter)
    assert matter.rating == Rating.very_satisfied
    assert "已评价：非常满意" in client.get(url).text


def test_no_rating_before_completion(world, db, client):
    matter = register(world)
    token = services.receipt_token(matter)
    db.session.commit()
    page = client.get(f"/matters/a/{token}")
    assert page.status_code == 200 and "提交评价" not in page.text
    assert "已逾期" in page.text  # the clock, as the counter sees it
    assert client.post(f"/matters/a/{token}", data={"rating": "satisfied"}).status_code == 409
    assert matter.rating is None


def test_unknown_renewed_and_expired_links_do_not_open(world, db, client, login):
    matter = register(world)
    old = services.receipt_token(matter)
    db.session.commit()
    assert client.get("/matters/a/not-a-token").status_code == 404
    login(world.users["village_a1a_editor"]).post(f"/matters/{matter.id}/receipt/renew")
    db.session.refresh(matter)
    assert services.matter_for_token(old) is None
    done = register(world, matter_type=matter.matter_type, applicant_name="李四")
    clerk = world.users["village_a1a_editor"]
    event(done, EventKind.completed, clerk, at(2026, 10, 9), note="已办")  # > 30 days ago
    token = services.receipt_token(done)
    db.session.commit()
    assert services.matter_for_token(token) is not None
    assert client.get(f"/matters/a/{token}").status_code == 410


def test_the_public_pages_are_rate_limited_per_address(world, db, client, app):
    app.config["SETTINGS"].matters.public_requests_per_10_minutes = 3
    try:
        codes = [client.get("/matters/a/guess-" + str(i)).status_code for i in range(5)]
    finally:
        app.config["SETTINGS"].matters.public_requests_per_10_minutes = 30
    assert codes == [404, 404, 404, 429, 429]


def test_the_counter_copies_in_a_paper_slip_but_may_not_rate_itself(world, db, login):
    matter = completed_matter(world, db)
    client = login(world.users["village_a1a_editor"])
    detail = client.get(f"/matters/{matter.id}").text
    assert "纸质评价单（代录）" in detail and "工作人员代录" not in detail
    self_rating = client.post(
        f"/matters/{matter.id}/events",
        data={"kind": "rated", "rated-rating": "very_satisfied", "rated-source": "staff"},
    )
    assert self_rating.status_code == 422 and matter.rating is None
    slip = client.post(
        f"/matters/{matter.id}/events",
        data={
            "kind": "rated",
            "rated-rating": "dissatisfied",
            "rated-source": "paper_slip",
            "rated-note": "评价单 No.0012",
        },
    )
    assert slip.status_code == 302
    db.session.refresh(matter)
    assert matter.rating == Rating.dissatisfied and matter.callback_due_on is not None
    assert "纸质评价单（代录）" in client.get(f"/matters/{matter.id}").text


def test_the_api_takes_paper_slips_but_not_the_applicants_own_rating(world, db, client):
    from tracker.auth.services import create_api_token

    matter = completed_matter(world, db)
    _, plain = create_api_token(world.users["village_a1a_editor"], "t")
    db.session.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    url = f"/api/v1/matters/{matter.id}/events"
    posing = client.post(url, json={"kind": "rated", "rating": "satisfied", "source": "applicant"})
    assert posing.status_code == 422 and "rated.source" in posing.get_json()["error"]["fields"]
    ok = client.post(url, json={"kind": "rated", "rating": "satisfied", "source": "paper_slip"})
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["data"] == {"source": RatingSource.paper_slip.value}


def test_a_matter_registered_before_receipts_gets_its_code_on_request(world, db, login):
    matter = register(world)
    matter.receipt_nonce = matter.receipt_token_hash = None
    db.session.commit()
    client = login(world.users["village_a1a_editor"])
    page = client.get(f"/matters/{matter.id}/receipt").text
    assert "生成回执二维码" in page and "<svg" not in page
    assert matter.receipt_nonce is None  # reading the page writes nothing
    assert client.post(f"/matters/{matter.id}/receipt/renew").status_code == 302
    db.session.refresh(matter)
    assert matter.receipt_nonce and "<svg" in client.get(f"/matters/{matter.id}/receipt").text
