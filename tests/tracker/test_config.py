"""config.toml validation: wrong keys, types and values and missing production secrets stop
start-up with a Chinese message naming the key; the settings are typed."""

from __future__ import annotations

import pytest

from tracker.config import DEFAULT_CONFIG_PATH, ConfigError, flask_config, load_settings, validate


def test_the_shipped_config_toml_is_valid():
    settings = load_settings(DEFAULT_CONFIG_PATH, env={})
    assert settings.tracker.default_locale == "zh_CN"


def test_defaults_fill_missing_keys():
    settings = validate({}, env={})
    assert settings.tracker.login_max_failures == 5
    assert settings.database.url.startswith("sqlite")


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"\[tracker\] secrett_key：未知的配置项"):
        validate({"tracker": {"secrett_key": "x"}}, env={})


def test_unknown_section_is_named():
    with pytest.raises(ConfigError, match=r"\[trackr\]"):
        validate({"trackr": {}}, env={})


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match=r"\[tracker\] max_upload_mb：应为整数"):
        validate({"tracker": {"max_upload_mb": "8"}}, env={})


def test_a_boolean_is_not_a_number():
    with pytest.raises(ConfigError, match="login_max_failures"):
        validate({"tracker": {"login_max_failures": True}}, env={})


def test_section_must_be_a_table():
    with pytest.raises(ConfigError, match=r"\[tracker\]：应为一个表"):
        validate({"tracker": 3}, env={})


def test_broken_toml_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[tracker\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings(path, env={})


def test_environment_overrides_url_and_secret():
    settings = validate(
        {}, env={"TRACKER_DATABASE_URL": "postgresql+psycopg://x/y", "TRACKER_SECRET_KEY": "s" * 40}
    )
    assert settings.database.url == "postgresql+psycopg://x/y"
    assert settings.tracker.secret_key == "s" * 40


def test_production_without_a_secret_key_stops_naming_the_key():
    with pytest.raises(ConfigError, match=r"\[tracker\] secret_key"):
        validate({}, env={"TRACKER_ENV": "production"})


def test_production_with_a_short_secret_stops():
    with pytest.raises(ConfigError, match="secret_key"):
        validate({}, env={"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": "short"})


def test_production_without_a_camera_key_stops_naming_the_key():
    with pytest.raises(ConfigError, match=r"\[tracker\] camera_key"):
        validate({}, env={"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": "k" * 40})


def test_production_with_every_secret_starts_with_secure_cookies():
    from cryptography.fernet import Fernet

    env = {
        "TRACKER_ENV": "production",
        "TRACKER_SECRET_KEY": "k" * 40,
        "TRACKER_CAMERA_KEY": Fernet.generate_key().decode(),
    }
    settings = validate({}, env=env)
    assert settings.tracker.production is True
    cfg = flask_config(settings)
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["REMEMBER_COOKIE_SECURE"] is True


def test_production_refuses_a_camera_key_that_is_not_a_fernet_key():
    env = {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": "k" * 40, "TRACKER_CAMERA_KEY": "c"}
    with pytest.raises(ConfigError, match=r"\[tracker\] camera_key .*Fernet"):
        validate({}, env=env)


def test_flask_config_maps_sections_to_upper_case_keys():
    cfg = flask_config(validate({"tracker": {"max_upload_mb": 2}}, env={}))
    assert cfg["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    assert cfg["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:////")


def test_create_app_refuses_a_bad_config(tmp_path, monkeypatch):
    from tracker import create_app

    path = tmp_path / "config.toml"
    path.write_text("[tracker]\nper_page = 'many'\n", encoding="utf-8")
    monkeypatch.setenv("TRACKER_CONFIG", str(path))
    with pytest.raises(ConfigError, match="per_page"):
        create_app()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"rules": {"party_lecture": "weekly"}}, r"\[rules\] party_lecture：无法识别"),
        ({"rules": {"organizational_life_meeting": "yearly:Q5"}}, r"organizational_life_meeting"),
        ({"tracker": {"timezone": "Asia/Shanghia"}}, r"\[tracker\] timezone：未知的时区"),
        ({"tracker": {"default_locale": "fr"}}, r"\[tracker\] default_locale：取值应为"),
        ({"tracker": {"login_max_failures": 0}}, r"\[tracker\] login_max_failures：不能小于 1"),
        ({"tracker": {"trusted_proxies": -1}}, r"\[tracker\] trusted_proxies：不能小于 0"),
        ({"dashboard": {"band_green": 50, "band_amber": 60}}, r"\[dashboard\]：band_amber 应小于"),
        ({"dashboard": {"target_meetings": 0}}, r"\[dashboard\] target_meetings：应大于 0"),
        ({"jobs": {"reminder_hour": 24}}, r"\[jobs\] reminder_hour：不能大于 23"),
        ({"cameras": {"default_check_interval_s": 5}}, r"default_check_interval_s：不能小于 10"),
    ],
)
def test_values_that_cannot_be_right_stop_start_up_naming_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate(raw, env={})


def test_settings_are_typed_objects():
    settings = validate({"rules": {"training": "yearly:Q2"}, "dashboard": {"band_green": 90}}, {})
    assert settings.rules.training == "yearly:Q2"
    assert settings.dashboard.band_green == 90.0
    assert settings.cameras.default_check_interval_s == 60


def test_a_float_key_accepts_an_integer_but_a_count_refuses_a_float():
    assert validate({"dashboard": {"target_callbacks": 1}}, {}).dashboard.target_callbacks == 1.0
    with pytest.raises(ConfigError, match=r"\[tracker\] per_page：应为整数"):
        validate({"tracker": {"per_page": 50.5}}, {})


def test_the_receipt_settings_are_checked():
    with pytest.raises(ConfigError, match=r"\[matters\] public_base_url：应以 http:// 或 https://"):
        validate({"matters": {"public_base_url": "dangjian.example.cn"}}, env={})
    with pytest.raises(
        ConfigError, match=r"\[matters\] public_requests_per_10_minutes：不能小于 1"
    ):
        validate({"matters": {"public_requests_per_10_minutes": 0}}, env={})
