"""Where each user lands after signing in, and the navigation bar's current-section mark."""

from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD


def _sign_in(client, user, next_url: str | None = None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": user.username, "password": PASSWORD})


@pytest.mark.parametrize(
    ("user", "landing"),
    [
        ("city_admin", "/dashboard/"),
        ("county_a_admin", "/dashboard/"),
        ("county_a_viewer", "/dashboard/"),
        ("town_a1_editor", "/"),
        ("village_a1a_editor", "/"),
    ],
)
def test_county_and_city_users_land_on_their_dashboard(world, client, user, landing):
    resp = _sign_in(client, world.users[user])
    assert resp.status_code == 302 and resp.headers["Location"] == landing
    assert client.get(resp.headers["Location"]).status_code in (200, 302)
    # Signed in already: the login page sends them to the same start page.
    again = client.get("/login")
    assert again.status_code == 302 and again.headers["Location"] == landing


def test_a_page_asked_for_before_signing_in_wins_over_the_landing_page(world, client):
    resp = _sign_in(client, world.users["county_a_admin"], "/meetings/")
    assert resp.headers["Location"] == "/meetings/"
    offsite = _sign_in(client, world.users["county_a_admin"], "https://evil.example/")
    assert offsite.headers["Location"] == "/dashboard/"


def _navbar(html: str) -> str:
    return html[html.index('<nav class="navbar') : html.index("</nav>")]


def _current(html: str) -> list[str]:
    nav = _navbar(html)
    return re.findall(r'<a class="nav-link active" href="([^"]+)" aria-current="page"', nav)


@pytest.mark.parametrize(
    ("url", "section"),
    [
        ("/", "/"),
        ("/meetings/", "/meetings/"),
        ("/matters/", "/matters/"),
        ("/matters/overdue", "/matters/"),
        ("/org/users", "/org/users"),
        ("/org/audit", "/org/users"),
        ("/notifications/", "/notifications/"),
    ],
)
def test_navigation_marks_the_current_section(world, login, url, section):
    from flask import g

    g.pop("scope", None)
    g.pop("_login_user", None)
    client = login(world.users["county_a_admin"])
    html = client.get(url).get_data(as_text=True)
    assert _current(html) == [section]
    assert _navbar(html).count('aria-current="page"') == 1


def test_a_page_outside_every_section_marks_none(world, login):
    client = login(world.users["county_a_admin"])
    html = client.get("/figures").get_data(as_text=True)
    assert _current(html) == [] and 'aria-current="page"' not in _navbar(html)


def test_the_navbar_kept_per_process_shows_every_change_and_each_sessions_token(world, login, app):
    """``tracker.views.navbar`` keeps the bar's HTML per what it shows: a new badge count,
    a renamed user and another locale show at once; each session gets its own token."""
    from flask import g

    from tracker.extensions import db
    from tracker.notifications.services import notify

    def page(client, url: str = "/") -> str:
        for key in ("scope", "_login_user"):
            g.pop(key, None)
        return client.get(url).get_data(as_text=True)

    def tokens(html: str) -> set[str]:
        return set(re.findall(r'name="csrf_token" value="([^"]*)"', _navbar(html)))

    # A token is signed with the time to the second: two requests may differ in it alone.
    blank = re.compile(r'name="csrf_token" value="[^"]*"')
    user = world.users["village_a1a_editor"]
    first = page(login(user))
    again = page(login(user))
    assert blank.sub("", _navbar(first)) == blank.sub("", _navbar(again))
    assert 'id="unread-badge"' not in _navbar(first)
    notify([user], "一条通知")
    db.session.flush()
    assert 'id="unread-badge">1<' in _navbar(page(login(user)))
    user.display_name = "改名后的村干部"
    db.session.flush()
    assert "改名后的村干部" in _navbar(page(login(user)))
    english = page(login(user), "/?lang=en")
    assert "Sign out" in _navbar(english) and "退出登录" not in _navbar(english)
    # Two sessions: the bar is the same but for each session's own CSRF token.
    one, other = app.test_client(), app.test_client()
    for client in (one, other):
        assert _sign_in(client, user).status_code == 302
    html_one, html_other = page(one), page(other)
    assert tokens(html_one) and tokens(html_other) and tokens(html_one) != tokens(html_other)
    assert blank.sub("", _navbar(html_one)) == blank.sub("", _navbar(html_other))
