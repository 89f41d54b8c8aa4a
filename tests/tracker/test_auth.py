"""Login, logout, throttling, CSRF, password and token hashing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from tracker.auth.services import create_api_token, user_for_token
from tracker.models import ApiToken, LoginAttempt, utcnow
from tracker.security import hash_password, hash_token, verify_password


@pytest.fixture
def world(world, db):
    db.session.commit()
    return world


def fresh() -> None:
    """Requests of one test share its app context: forget the last request's user."""
    from flask import g

    for key in ("_login_user", "scope", "token_auth"):
        g.pop(key, None)


def sign_in(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password})


def test_password_is_stored_as_argon2id_and_verifies(world):
    user = world.users["town_a1_editor"]
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD + "x")


def test_verify_never_raises_on_garbage():
    assert not verify_password("not-a-hash", "x")
    assert not verify_password(None, "x")
    assert verify_password(hash_password("pa55word!"), "pa55word!")


def test_api_tokens_are_stored_hashed(world, db):
    user = world.users["town_a1_editor"]
    token, plain = create_api_token(user, "script")
    stored = db.session.get(ApiToken, token.id)
    assert stored.token_hash == hash_token(plain) != plain
    assert plain not in {stored.token_hash, stored.prefix}
    assert user_for_token(plain) is user
    assert user_for_token(plain + "x") is None


def test_revoked_token_and_inactive_user_do_not_authenticate(world, db, client):
    user = world.users["town_a1_editor"]
    token, plain = create_api_token(user, "script")
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    token.revoked_at = utcnow()
    db.session.commit()
    fresh()
    assert client.get("/api/v1/regions", headers=headers).status_code == 401
    _, plain = create_api_token(user, "second")
    headers = {"Authorization": f"Bearer {plain}"}
    fresh()
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    user.active = False
    db.session.commit()
    fresh()
    assert client.get("/api/v1/regions", headers=headers).status_code == 401


def test_bearer_token_is_ignored_on_pages(world, client):
    _, plain = create_api_token(world.users["town_a1_editor"], "script")
    resp = client.get("/", headers={"Authorization": f"Bearer {plain}"})
    assert resp.status_code == 302


def test_login_and_logout(world, client):
    resp = sign_in(client, world.users["town_a1_editor"].username, PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    resp = client.post("/logout")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/").status_code == 302


def test_wrong_password_is_told_beside_the_field(world, client):
    resp = sign_in(client, world.users["town_a1_editor"].username, "wrong")
    assert "用户名或密码不正确" in resp.get_data(as_text=True)


def test_logout_needs_post(world, login):
    client = login(world.users["town_a1_editor"])
    assert client.get("/logout").status_code == 405


def test_login_refuses_an_offsite_next(world, client):
    resp = client.post(
        "/login?next=https://evil.example/",
        data={"username": world.users["town_a1_editor"].username, "password": PASSWORD},
    )
    assert resp.headers["Location"] == "/"


def test_login_is_throttled_after_repeated_failures(world, db, client, app):
    username = world.users["town_a1_editor"].username
    limit = app.config["SETTINGS"].tracker.login_max_failures
    for _ in range(limit):
        sign_in(client, username, "wrong")
    resp = sign_in(client, username, PASSWORD)  # even the right password waits
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.get_data(as_text=True)
    attempts = db.session.scalars(select(LoginAttempt).where(LoginAttempt.username == username))
    assert len(list(attempts)) == limit


def test_inactive_user_cannot_sign_in(world, db, client):
    user = world.users["town_a1_editor"]
    user.active = False
    db.session.commit()
    resp = sign_in(client, user.username, PASSWORD)
    assert resp.status_code == 200 and "用户名或密码不正确" in resp.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.fixture
def csrf_client(app_factory, db):
    app = app_factory(WTF_CSRF_ENABLED=True)
    return app.test_client()


def test_forms_without_a_csrf_token_are_refused(world, csrf_client):
    resp = sign_in(csrf_client, world.users["town_a1_editor"].username, PASSWORD)
    assert resp.status_code == 400
    assert "表单已过期" in resp.get_data(as_text=True)


def _login_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_forms_with_the_csrf_token_work(world, csrf_client):
    token = _login_token(csrf_client)
    resp = csrf_client.post(
        "/login",
        data={
            "username": world.users["town_a1_editor"].username,
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert resp.status_code == 302
    # A logged-in form post without the token is refused too, and changes nothing.
    resp = csrf_client.post(
        f"/org/villages/{world.village_a1a.id}/groups", data={"name": "没有令牌"}
    )
    assert resp.status_code == 400


def _page_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_a_csrf_token_signed_once_per_session_secret_still_validates_only_its_session(
    world, csrf_client, app_factory, monkeypatch
):
    from flask import session

    from tracker import security

    app = csrf_client.application
    user = world.users["town_a1_editor"].username
    form = {"username": user, "password": PASSWORD}
    for client in (csrf_client, other := app.test_client()):
        token = _login_token(client)
        assert client.post("/login", data={**form, "csrf_token": token}).status_code == 302
    # The same browser gets the same signed token again, from the kept signature (its
    # first page after signing in makes the new session's secret) ...
    mine = _page_token(csrf_client)
    assert _page_token(csrf_client) == mine
    kept = app.extensions[security.CSRF_TOKENS]
    assert len(kept) == 1
    # ... another browser has its own session secret, and so its own token.
    theirs = _page_token(other)
    assert _page_token(other) == theirs != mine and len(kept) == 2
    # A kept token validates a form in its own session, and not in another one.
    url = f"/org/villages/{world.village_a1a.id}/groups"
    assert other.post(url, data={"name": "一组", "csrf_token": mine}).status_code == 400
    assert csrf_client.post(url, data={"name": "一组", "csrf_token": mine}).status_code == 302
    # The signing key is part of what is kept: under another key, another token.
    with csrf_client.session_transaction() as sess:
        secret = sess["csrf_token"]
    with app.test_request_context():
        session["csrf_token"] = secret
        assert security.csrf_token() == mine
    monkeypatch.setitem(app.config, "WTF_CSRF_SECRET_KEY", "another-csrf-key-of-enough-length-0123")
    with app.test_request_context():
        session["csrf_token"] = secret
        assert security.csrf_token() != mine
    # With a time limit on tokens, every request signs its own (the timestamp counts).
    timed = app_factory(WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=3600)
    with timed.test_request_context():
        session["csrf_token"] = secret
        security.csrf_token()
    assert len(timed.extensions[security.CSRF_TOKENS]) == 0


def _opened(app, cookie: str):
    """The session the app's interface opens for a request sending ``cookie``."""
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie}"}) as ctx:
        return app.session_interface.open_session(app, ctx.request)


def test_a_session_cookie_verified_once_is_still_checked_for_tampering_age_and_keys(
    world, client, app, monkeypatch
):
    from tracker import security

    sign_in(client, world.users["town_a1_editor"].username, PASSWORD)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="tracker.test").value
    interface = app.session_interface
    assert isinstance(interface, security.CookieSessions)
    first = _opened(app, cookie)
    assert first.get("_user_id") and len(interface._verified) >= 1
    # Each request gets its own copy: what one request changes is not kept for the next.
    for _ in range(2):
        again = _opened(app, cookie)
        assert "lang" not in again and again["_user_id"] == first["_user_id"]
        again["lang"] = "en"
    fresh()
    assert client.get("/").status_code == 200
    # A changed byte is a bad signature, kept value or not: signed out.
    payload, _, signature = cookie.rpartition(".")
    tampered = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert "_user_id" not in _opened(app, tampered)
    # Older than the session lifetime: refused as Flask refuses it, and forgotten.
    lifetime = app.permanent_session_lifetime.total_seconds()
    real_time = security.time.time
    monkeypatch.setattr(security.time, "time", lambda: real_time() + lifetime + 60)
    assert "_user_id" not in _opened(app, cookie)
    assert not any(value == cookie for _, value in interface._verified._entries)
    monkeypatch.setattr(security.time, "time", real_time)
    assert _opened(app, cookie)["_user_id"] == first["_user_id"]
    # A new secret key (without the old one as a fallback) refuses the old cookie.
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-of-enough-length-0123")
    assert "_user_id" not in _opened(app, cookie)
    # With the old key as a fallback (a key rotation) it is accepted again.
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    assert _opened(app, cookie)["_user_id"] == first["_user_id"]
