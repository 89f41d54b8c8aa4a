"""The app starts, migrations apply, and the basic pages answer."""

from tracker.models import Member


def test_home_redirects_to_login_when_anonymous(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_home_shows_user_region(world, login):
    client = login(world.users["town_a1_editor"])
    resp = client.get("/")
    assert resp.status_code == 200
    assert "镇甲一" in resp.get_data(as_text=True)


def test_world_has_members(world, db):
    assert db.session.query(Member).count() >= 24
