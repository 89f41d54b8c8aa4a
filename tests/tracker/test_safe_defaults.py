"""Safe without reading a manual: secrets, file modes, proxies, throttling, sessions,
security headers, a database outage, API token use."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select

from tests.factories import PASSWORD
from tracker.models import (
    ApiToken,
    AuditLog,
    LoginAttempt,
    LoginSession,
    LoginThrottle,
    User,
    utcnow,
)

ROOT = Path(__file__).resolve().parents[2]
NO_SECRETS = {
    k: v for k, v in os.environ.items() if k not in ("TRACKER_SECRET_KEY", "TRACKER_CAMERA_KEY")
}
NO_SECRETS.pop("TRACKER_DEMO", None)


@pytest.fixture
def world(world, db):
    db.session.commit()
    return world


def sign_in(client, username: str, password: str = PASSWORD, ip: str | None = None, **extra):
    return client.post(
        "/login",
        data={"username": username, "password": password, **extra},
        environ_overrides={"REMOTE_ADDR": ip} if ip else {},
    )


# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize("command", [["serve"], ["jobs", "--once"]])
def test_server_commands_refuse_to_start_without_real_secrets(command, monkeypatch):
    from tracker.cli import cli

    for key in ("TRACKER_SECRET_KEY", "TRACKER_CAMERA_KEY", "TRACKER_DEMO"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code != 0
    assert "[tracker] secret_key" in result.output
    assert "[tracker] camera_key" in result.output
    assert "tracker generate-secrets" in result.output


def test_the_shipped_dev_secret_counts_as_missing(monkeypatch):
    from tracker.cli import cli

    monkeypatch.setenv("TRACKER_SECRET_KEY", "dev-only-not-secret")
    monkeypatch.setenv("TRACKER_CAMERA_KEY", Fernet.generate_key().decode())
    monkeypatch.delenv("TRACKER_DEMO", raising=False)
    result = CliRunner().invoke(cli, ["jobs", "--once"])
    assert result.exit_code != 0 and "[tracker] secret_key" in result.output
    assert "camera_key" not in result.output


def test_the_wsgi_entry_refuses_to_start_without_real_secrets():
    proc = subprocess.run(
        [sys.executable, "-c", "import tracker.wsgi"],
        env=NO_SECRETS,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "[tracker] secret_key" in proc.stderr and "tracker generate-secrets" in proc.stderr


def test_generate_secrets_prints_usable_keys():
    from tracker.cli import cli
    from tracker.config import deployment_key_problems, validate

    out = CliRunner().invoke(cli, ["generate-secrets"]).output
    env = dict(line.split("=", 1) for line in out.split())
    assert set(env) == {"TRACKER_SECRET_KEY", "TRACKER_CAMERA_KEY"}
    assert deployment_key_problems(validate({}, env=env)) == []


def test_the_camera_key_is_not_derived_from_the_cookie_secret(app_factory):
    from tracker.halls.services import encrypt_url, fernet

    camera_key = Fernet.generate_key().decode()
    one = app_factory(SECRET_KEY="a" * 40, CAMERA_KEY=camera_key)
    other = app_factory(SECRET_KEY="b" * 40, CAMERA_KEY=camera_key)
    with one.app_context():
        token = encrypt_url("rtsp://admin:pw@10.0.0.9/1")
    with other.app_context():  # another cookie secret, the same camera key: readable
        assert fernet().decrypt(token.encode()) == b"rtsp://admin:pw@10.0.0.9/1"


def test_demo_databases_from_before_stay_readable_with_the_demo_key(app):
    """Earlier demos encrypted with a key derived from the shipped dev secret."""
    import base64
    import hashlib

    from tracker.halls.services import fernet

    old_key = base64.urlsafe_b64encode(hashlib.sha256(b"camera-key:dev-only-not-secret").digest())
    old_token = Fernet(old_key).encrypt(b"rtsp://demo/1")
    with app.app_context():
        assert fernet().decrypt(old_token) == b"rtsp://demo/1"


def test_db_upgrade_creates_the_database_owner_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'tracker.db'}"
    env = {**NO_SECRETS, "TRACKER_DATABASE_URL": url}
    proc = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    for name in ("tracker.db", "tracker.db-wal", "tracker.db-shm"):
        path = tmp_path / "new" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_the_monitor_state_directory_is_owner_only(tmp_path):
    from monitor.outbox import Outbox

    Outbox(tmp_path / "state" / "outbox.db")
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


# ---------------------------------------------------------------- proxies


def test_behind_a_trusted_proxy_the_real_client_address_is_seen(app_factory, world, db):
    proxied = app_factory(TRUSTED_PROXIES=1)
    client = proxied.test_client()
    user = world.users["county_a_viewer"]
    client.post(
        "/login",
        data={"username": user.username, "password": "wrong-password"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    attempt = db.session.scalars(
        select(LoginAttempt).where(LoginAttempt.username == user.username)
    ).one()
    assert attempt.ip == "203.0.113.7"


def test_without_trusted_proxies_a_forwarded_address_is_ignored(client, world, db):
    user = world.users["county_a_viewer"]
    client.post(
        "/login",
        data={"username": user.username, "password": "wrong-password"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    ips = db.session.scalars(select(LoginAttempt.ip).where(LoginAttempt.username == user.username))
    assert list(ips) == ["127.0.0.1"]


# ---------------------------------------------------------------- throttling


def test_failures_from_one_address_do_not_lock_the_account_out_elsewhere(client, world, app):
    max_failures = app.config["SETTINGS"].tracker.login_max_failures
    name = world.users["town_a1_editor"].username
    for _ in range(max_failures):
        assert sign_in(client, name, "wrong-password", ip="10.9.9.9").status_code == 200
    assert sign_in(client, name, PASSWORD, ip="10.9.9.9").status_code == 429
    # the rightful user at their own desk is not locked out ...
    assert sign_in(client, name, PASSWORD, ip="10.0.0.1").status_code == 302


def test_failures_from_one_address_do_not_lock_other_accounts_of_that_address(client, world, app):
    max_failures = app.config["SETTINGS"].tracker.login_max_failures
    name = world.users["town_a1_editor"].username
    for _ in range(max_failures):
        sign_in(client, name, "wrong-password", ip="10.9.9.9")
    # ... nor is a colleague behind the same office address (or proxy)
    other = world.users["county_a_viewer"].username
    assert sign_in(client, other, PASSWORD, ip="10.9.9.9").status_code == 302


def test_an_account_attacked_from_many_addresses_is_slowed_not_locked(client, world, app, db):
    max_failures = app.config["SETTINGS"].tracker.login_max_failures
    user = world.users["village_a1a_editor"]
    assert sign_in(client, user.username, ip="10.0.0.5").status_code == 302  # known desk
    client.post("/logout")
    for i in range(max_failures * 4):
        sign_in(client, user.username, "wrong-password", ip=f"198.51.100.{i}")
    first = sign_in(client, user.username, "wrong-password", ip="198.51.100.200")
    assert first.status_code == 200  # one check per interval for a new address ...
    second = sign_in(client, user.username, "wrong-password", ip="198.51.100.201")
    assert second.status_code == 429 and "秒后再试" in second.get_data(as_text=True)
    assert int(second.headers["Retry-After"]) <= 11
    # ... while the owner, from an address they signed in from before, gets in
    assert sign_in(client, user.username, ip="10.0.0.5").status_code == 302


def test_forty_parallel_attempts_get_at_most_max_failures_password_checks(
    app_factory, database_url
):
    """Real connections and commits: the count is atomic (a row lock / the write lock)."""
    from werkzeug.serving import make_server

    from tests.factories import make_user
    from tracker.extensions import db
    from tracker.models import Region, RegionLevel, Role
    from tracker.org.services import create_region

    app = app_factory(SERVER_NAME=None)
    with app.app_context():
        city = create_region(f"节流市{os.getpid()}", RegionLevel.city)
        user = make_user(Role.viewer, city)
        db.session.commit()
        name, city_id = user.username, city.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    statuses: list[int] = []
    try:
        import requests

        url = f"http://127.0.0.1:{server.server_port}/login"

        def attempt() -> None:
            r = requests.post(url, data={"username": name, "password": "nope-nope"}, timeout=60)
            statuses.append(r.status_code)

        threads = [threading.Thread(target=attempt) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with app.app_context():
            checks = db.session.scalar(
                select(func.count(LoginAttempt.id)).where(LoginAttempt.username == name)
            )
            limit = app.config["SETTINGS"].tracker.login_max_failures
    finally:
        server.shutdown()
        with app.app_context():
            db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == name))
            db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.contains(name)))
            db.session.execute(delete(AuditLog).where(AuditLog.region_id == city_id))
            db.session.execute(delete(User).where(User.username == name))
            db.session.execute(delete(Region).where(Region.id == city_id))
            db.session.commit()
    assert sorted(set(statuses)) == [200, 429]
    assert checks == limit
    assert statuses.count(200) == limit


# ---------------------------------------------------------------- sessions


def _cookie(client, name: str) -> str | None:
    cookie = client.get_cookie(name, domain="tracker.test")
    return cookie.value if cookie else None


def test_logout_ends_every_saved_copy_of_the_session_and_the_remember_cookie(app, world):
    user = world.users["town_a1_editor"]
    browser = app.test_client()
    assert sign_in(browser, user.username, remember="y").status_code == 302
    saved_session = _cookie(browser, "session")
    saved_remember = _cookie(browser, "remember_token")
    assert saved_session and saved_remember
    other_device = app.test_client()
    sign_in(other_device, user.username)
    assert other_device.get("/").status_code == 200
    browser.post("/logout")

    replay = app.test_client()
    replay.set_cookie("session", saved_session, domain="tracker.test")
    assert replay.get("/").status_code == 302  # to the login page
    replay = app.test_client()
    replay.set_cookie("remember_token", saved_remember, domain="tracker.test")
    assert replay.get("/").status_code == 302
    assert other_device.get("/").status_code == 302  # every device of that user


def test_a_password_reset_by_an_admin_ends_the_users_sessions(app, world, db):
    from tracker.org.services import reset_password

    user = world.users["town_a2_editor"]
    browser = app.test_client()
    sign_in(browser, user.username, remember="y")
    assert browser.get("/").status_code == 200
    reset_password(db.session.get(User, user.id), "a-new-password-1")
    db.session.commit()
    assert browser.get("/").status_code == 302
    assert (
        db.session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
        )
        == 0
    )


def test_remember_cookies_rotate_per_login_and_last_the_configured_days(app, world):
    user = world.users["town_b1_editor"]
    values, headers = [], []
    for _ in range(2):
        browser = app.test_client()
        resp = sign_in(browser, user.username, remember="y")
        values.append(_cookie(browser, "remember_token"))
        headers.append(
            next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
        )
    assert values[0] != values[1]
    header = headers[0]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    expires = re.search(r"Expires=([^;]+)", header)
    assert expires is not None
    from email.utils import parsedate_to_datetime

    days = (parsedate_to_datetime(expires.group(1)) - utcnow()).total_seconds() / 86400
    assert 13.9 < days <= 14.0


def test_an_expired_login_session_no_longer_signs_in(app, world, db):
    user = world.users["county_a_admin"]
    browser = app.test_client()
    sign_in(browser, user.username)
    row = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert browser.get("/").status_code == 302


# ---------------------------------------------------------------- headers


def test_every_response_carries_the_security_headers(client, login, world):
    login(world.users["town_a1_editor"])
    for path in (
        "/",
        "/login",
        "/api/v1/regions",
        "/nope",
        f"/org/villages/{world.village_a1a.id}",
    ):
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert resp.headers["Cache-Control"] == "no-store", path
        assert "Strict-Transport-Security" not in resp.headers  # plain-HTTP demo


def test_static_files_stay_cacheable_and_hsts_comes_with_secure_cookies(app_factory):
    secure = app_factory(SESSION_COOKIE_SECURE=True)
    resp = secure.test_client().get("/static/js/app.js")
    assert resp.status_code == 200
    assert resp.headers.get("Cache-Control") != "no-store"
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_template_has_inline_script_or_event_handlers():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{path.name}: {match.group(0)}")
        offenders += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+=\"", text)]
        offenders += [f"{path.name}: javascript:" for _ in re.findall("javascript:", text)]
    assert offenders == []


# ---------------------------------------------------------------- outage


@pytest.fixture
def outage_app(app_factory, tmp_path):
    # A database file in a folder that does not exist: every connect fails.
    return app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'gone' / 'x.db'}")


def test_healthz_answers_json_with_the_database_state(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["database"]["state"] == "ok"


def test_during_a_database_outage_healthz_and_the_api_answer_503_json(outage_app):
    client = outage_app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"]["state"] == "unavailable"
    api = client.get("/api/v1/regions", headers={"Authorization": "Bearer vt_whatever"})
    assert api.status_code == 503
    assert api.json["error"]["code"] == "database_unavailable"
    assert api.headers["Retry-After"]


def test_during_a_database_outage_pages_answer_a_short_chinese_page(outage_app):
    client = outage_app.test_client()
    resp = client.post("/login", data={"username": "town", "password": "whatever-1"})
    assert resp.status_code == 503
    assert "系统暂时不可用" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- API tokens


def test_a_read_only_token_is_seen_as_used_at_most_every_few_minutes(client, world, db):
    from tracker.auth.services import create_api_token

    token, plain = create_api_token(world.users["county_a_viewer"], "read-only script")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    first = db.session.get(ApiToken, token.id).last_used_at
    assert first is not None
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first  # no write this time


def test_rekey_cameras_moves_credentials_from_the_old_derived_key(tmp_path, monkeypatch):
    """A database from before camera_key was required becomes readable under the new key."""
    import base64
    import hashlib

    from tracker import create_app
    from tracker.cli import cli
    from tracker.database import upgrade
    from tracker.extensions import db
    from tracker.halls import services
    from tracker.halls.models import Camera
    from tracker.models import RegionLevel
    from tracker.org.services import create_region

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    secret = "an-old-deployment-secret-of-40-characters"
    old_key = base64.urlsafe_b64encode(hashlib.sha256(b"camera-key:" + secret.encode()).digest())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CAMERA_KEY": old_key.decode()})
    with app.app_context():
        county = create_region("旧县", RegionLevel.county, create_region("旧市", RegionLevel.city))
        town = create_region("旧镇", RegionLevel.township, county)
        hall = services.create_hall(
            create_region("旧村", RegionLevel.village, town), services.HallData(name="旧大厅")
        )
        services.create_camera(
            hall, services.CameraData(name="门口", stream_url="rtsp://u:secret@10.1.1.1/1")
        )
        db.session.commit()
        db.engine.dispose()
    new_key = Fernet.generate_key().decode()
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_SECRET_KEY", secret)
    monkeypatch.setenv("TRACKER_CAMERA_KEY", new_key)
    result = CliRunner().invoke(cli, ["rekey-cameras"])
    assert result.exit_code == 0, result.output
    assert "已重新加密 1 个" in result.output
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with fresh.app_context():
        cam = db.session.scalars(select(Camera)).one()
        assert services.decrypt_url(cam) == "rtsp://u:secret@10.1.1.1/1"
        db.engine.dispose()
