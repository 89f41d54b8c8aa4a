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


def test_a_village_clerk_gets_one_tap_actions_for_the_ledgers(world, login):
    page = login(world.users["village_a1a_editor"]).get("/").get_data(as_text=True)
    assert f"/meetings/v/{world.village_a1a.id}/new" in page
    assert "/matters/new" in page
    assert f"/trainings/v/{world.village_a1a.id}/new" in page


def test_a_county_viewer_gets_the_dashboard_and_the_wall(world, login):
    page = login(world.users["county_a_viewer"]).get("/").get_data(as_text=True)
    assert "/dashboard/" in page and "/halls/wall" in page
    assert "/meetings/v/" not in page
