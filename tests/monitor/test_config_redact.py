"""Configuration validation (bad config names the key) and credential redaction."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from monitor.config import ConfigError, from_mapping, load
from monitor.redact import RedactingFilter, redact


def test_defaults_without_a_section() -> None:
    cfg = from_mapping({}, env={})
    assert cfg.workers == 0 and cfg.max_workers >= 1  # 0 = the pool is sized automatically
    assert cfg.state_dir == "instance/monitor" and cfg.metrics_port == 0


def test_unknown_key_stops_start_up_naming_it() -> None:
    with pytest.raises(ConfigError, match="probe_timeout"):
        from_mapping({"probe_timeout": 3}, env={})


def test_wrong_type_stops_start_up_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="workers"):
        from_mapping({"workers": "four"}, env={})
    with pytest.raises(ConfigError, match="probe_timeout_s"):
        from_mapping({"probe_timeout_s": True}, env={})


def test_out_of_range_values_name_the_key() -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        from_mapping({"batch_size": 501}, env={})
    with pytest.raises(ConfigError, match="log_level"):
        from_mapping({"log_level": "LOUD"}, env={})


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ({"probe_timeout": 3}, "probe_timeout", "未知的配置项"),
        ({"workers": "four"}, "workers", "应为整数"),
        ({"probe_timeout_s": 0}, "probe_timeout_s", "必须大于 0"),
        ({"batch_size": 501}, "batch_size", "最多 500"),
        ({"tracker_url": "ftp://tracker"}, "tracker_url", "http://"),
        ({"host_limits": {"10.0.0.5": 0}}, "host_limits", "至少为 1"),
        ({"host_limits": {"10.0.0.5": "two"}}, "host_limits.10.0.0.5", "应为整数"),
        ({"max_workers": 0}, "max_workers", "不能小于 1"),
    ],
)
def test_every_error_names_the_key_in_chinese(
    section: dict[str, object], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(section, env={})
    assert f"[monitor] {key}：" in str(err.value) and words in str(err.value)


def test_per_host_session_limits_and_integer_seconds_are_accepted() -> None:
    cfg = from_mapping({"host_limits": {"10.0.0.5": 2}, "probe_timeout_s": 2}, env={})
    assert cfg.host_limits == {"10.0.0.5": 2} and cfg.probe_timeout_s == 2.0


def test_the_cache_key_must_be_a_fernet_key_and_comes_from_the_env() -> None:
    from cryptography.fernet import Fernet

    with pytest.raises(ConfigError, match="cache_key"):
        from_mapping({"cache_key": "not-a-key"}, env={})
    key = Fernet.generate_key().decode()
    cfg = from_mapping({}, env={"MONITOR_CACHE_KEY": key})
    assert cfg.cache_key == key and cfg.redacted()["cache_key"] == "***"


def test_env_overrides_url_and_token() -> None:
    cfg = from_mapping(
        {"tracker_url": "http://a:1", "token": "file"},
        env={"MONITOR_TRACKER_URL": "http://b:2", "MONITOR_TOKEN": "env-secret"},
    )
    assert cfg.tracker_url == "http://b:2" and cfg.token == "env-secret"
    assert cfg.redacted()["token"] == "***"


def test_the_project_config_file_is_valid(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    cfg = load(root / "config.toml", env={})
    assert cfg.snapshot_width > 0


def test_load_reports_the_bad_key_from_a_file(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text("[monitor]\nworkers = 2\nmetrics_prot = 9100\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="metrics_prot"):
        load(p, env={})


@pytest.mark.parametrize(
    "text",
    [
        "rtsp://admin:Hik12345@10.0.0.8:554/ch1",
        "opening http://user:p%40ss@cam.local/video failed",
        "rtsp://10.0.0.8/cam?user=admin&password=Hik12345&channel=1",
        "Authorization: Bearer abc.def-ghi",
    ],
)
def test_redact_masks_credentials(text: str) -> None:
    out = redact(text)
    for secret in ("Hik12345", "p%40ss", "abc.def-ghi"):
        assert secret not in out
    assert "***" in out


def test_redact_keeps_plain_urls() -> None:
    assert redact("rtsp://10.0.0.8:554/ch1") == "rtsp://10.0.0.8:554/ch1"


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("monitor.test")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("probing %s", "rtsp://admin:topsecret@10.1.1.1/ch1")
        try:
            raise RuntimeError("failed rtsp://admin:topsecret@10.1.1.1/ch1")
        except RuntimeError:
            logger.exception("boom")
    assert "topsecret" not in caplog.text
