"""Configuration: one ``config.toml``, validated at start-up.

Every section the tracker reads is declared here as a schema of key → (type,
default). An unknown key or a value of the wrong type stops start-up with a
message naming the key (``[rules] branch_meeting_per_quarter: expected int``),
because a typo in a rule must not silently fall back to a default. Sections of
other components (``[monitor]``) are left to them.

Environment variables override URLs and secrets:

=====================  ==========================
``TRACKER_CONFIG``     path of the config file
``TRACKER_DATABASE_URL``  ``[database] url``
``TRACKER_SECRET_KEY`` ``[tracker] secret_key``
``TRACKER_CAMERA_KEY`` ``[tracker] camera_key`` (Fernet key for stream credentials)
``TRACKER_ENV``        ``production`` turns on production checks
=====================  ==========================
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = ROOT / "config.toml"
DEV_SECRET = "dev-only-not-secret"


class ConfigError(Exception):
    """A bad configuration value; the message names the key."""


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default and whether it is a secret."""

    type: type | tuple[type, ...]
    default: Any
    secret: bool = False


# Sections owned by other components; the tracker does not validate them.
FOREIGN_SECTIONS = {"monitor"}

SCHEMA: dict[str, dict[str, Key]] = {
    "tracker": {
        "production": Key(bool, False),
        "secret_key": Key(str, DEV_SECRET, secret=True),
        "camera_key": Key(str, "", secret=True),
        "default_locale": Key(str, "zh_CN"),
        "timezone": Key(str, "Asia/Shanghai"),
        "instance_dir": Key(str, "instance"),
        "upload_dir": Key(str, "instance/uploads"),
        "max_upload_mb": Key(int, 8),
        "session_cookie_secure": Key(bool, False),
        "session_hours": Key(int, 12),
        "login_max_failures": Key(int, 5),
        "login_lockout_minutes": Key(int, 15),
        "per_page": Key(int, 50),
    },
    "database": {
        "url": Key(str, "sqlite:///instance/tracker.db"),
        "echo": Key(bool, False),
    },
    "calendar": {
        "late_entry_working_days": Key(int, 3),
        "callback_working_days": Key(int, 5),
        "warn_missing_year_in_month": Key(int, 12),
    },
    "rules": {
        "branch_general_meeting": Key(str, "quarterly"),
        "branch_committee_meeting": Key(str, "monthly"),
        "party_group_meeting": Key(str, "monthly"),
        "party_lecture": Key(str, "quarterly"),
        "theme_party_day": Key(str, "monthly"),
        "organizational_life_meeting": Key(str, "yearly:Q4"),
        "democratic_appraisal": Key(str, "yearly:Q4"),
        "heart_to_heart_talk": Key(str, "yearly"),
        "training": Key(str, "quarterly"),
        "due_soon_days": Key(int, 7),
        "edit_lock_days": Key(int, 90),
        "secondment_report_working_days": Key(int, 2),
        "secondment_assessment": Key(str, "quarterly"),
        "secondment_complaint_working_days": Key(int, 10),
        "secondment_complaints_per_hour": Key(int, 3),
    },
    "cameras": {
        "default_check_interval_s": Key(int, 60),
        "default_down_after": Key(int, 3),
        "default_up_after": Key(int, 2),
        "heartbeat_interval_s": Key(int, 60),
        "max_snapshot_kb": Key(int, 1024),
        "escalate_after_open_hours": Key(int, 4),
        "station_outage_min_cameras": Key(int, 3),
    },
    "alerts": {
        "smtp_host": Key(str, ""),
        "smtp_port": Key(int, 25),
        "smtp_from": Key(str, ""),
        "webhook_url": Key(str, "", secret=True),
        "dingtalk_webhook": Key(str, "", secret=True),
        "wecom_webhook": Key(str, "", secret=True),
    },
    "dashboard": {
        "weight_meetings": Key((int, float), 40),
        "weight_on_time_entry": Key((int, float), 10),
        "weight_service_on_time": Key((int, float), 20),
        "weight_callbacks": Key((int, float), 5),
        "weight_camera_uptime": Key((int, float), 20),
        "weight_trainings": Key((int, float), 5),
        "target_meetings": Key((int, float), 1.0),
        "target_on_time_entry": Key((int, float), 0.9),
        "target_service_on_time": Key((int, float), 0.95),
        "target_callbacks": Key((int, float), 1.0),
        "target_camera_uptime": Key((int, float), 0.95),
        "target_trainings": Key((int, float), 1.0),
        "band_green": Key((int, float), 85),
        "band_amber": Key((int, float), 60),
    },
    "jobs": {
        "enabled": Key(bool, True),
        "rollup_minutes": Key(int, 15),
        "reminder_hour": Key(int, 8),
    },
}

ENV_OVERRIDES = {
    "TRACKER_DATABASE_URL": ("database", "url"),
    "TRACKER_SECRET_KEY": ("tracker", "secret_key"),
    "TRACKER_CAMERA_KEY": ("tracker", "camera_key"),
}


def _check_type(section: str, key: str, spec: Key, value: Any) -> Any:
    expected = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    # bool is an int in Python; a rule count of ``true`` is still a mistake.
    ok = isinstance(value, expected) and not (isinstance(value, bool) and bool not in expected)
    if not ok:
        names = " or ".join(t.__name__ for t in expected)
        raise ConfigError(f"[{section}] {key}: expected {names}, got {type(value).__name__}")
    return value


def load_settings(
    path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Read, validate and complete the configuration.

    Returns ``{section: {key: value}}`` with defaults filled in and env overrides
    applied. Raises :class:`ConfigError` naming the bad key.
    """
    env = dict(os.environ) if env is None else env
    cfg_path = Path(path or env.get("TRACKER_CONFIG") or DEFAULT_CONFIG_PATH)
    raw: dict[str, Any] = {}
    if cfg_path.exists():
        try:
            raw = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg_path}: {exc}") from exc
    return validate(raw, env)


def validate(raw: dict[str, Any], env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Validate a parsed TOML mapping (see :func:`load_settings`)."""
    settings: dict[str, dict[str, Any]] = {}
    for section, value in raw.items():
        if section in FOREIGN_SECTIONS:
            continue
        if section not in SCHEMA:
            raise ConfigError(f"[{section}]: unknown section")
        if not isinstance(value, dict):
            raise ConfigError(f"[{section}]: expected a table")
        for key in value:
            if key not in SCHEMA[section]:
                raise ConfigError(f"[{section}] {key}: unknown key")
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        settings[section] = {
            key: _check_type(section, key, spec, given[key]) if key in given else spec.default
            for key, spec in keys.items()
        }
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            settings[section][key] = env[var]
    if env.get("TRACKER_ENV") == "production":
        settings["tracker"]["production"] = True
    _check_production(settings)
    return settings


def _check_production(settings: dict[str, dict[str, Any]]) -> None:
    """In production every secret must be given; there is no dev default."""
    if not settings["tracker"]["production"]:
        return
    secret = settings["tracker"]["secret_key"]
    if not secret or secret == DEV_SECRET or len(secret) < 32:
        raise ConfigError(
            "[tracker] secret_key: production needs a secret of at least 32 characters "
            "(set TRACKER_SECRET_KEY)"
        )
    if not settings["tracker"]["camera_key"]:
        raise ConfigError(
            "[tracker] camera_key: production needs a Fernet key for camera credentials "
            "(set TRACKER_CAMERA_KEY)"
        )


def flask_config(settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Map the validated sections onto Flask's upper-case config keys.

    Flask ignores lower-case keys in ``from_mapping``, so each one is mapped
    explicitly; the whole validated tree stays available as ``SETTINGS``.
    """
    t = settings["tracker"]
    db_url = settings["database"]["url"]
    instance = Path(t["instance_dir"])
    if not instance.is_absolute():
        instance = ROOT / instance
    upload = Path(t["upload_dir"])
    if not upload.is_absolute():
        upload = ROOT / upload
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        rel = db_url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            db_url = "sqlite:///" + str(ROOT / rel)
    return {
        "SETTINGS": settings,
        "SECRET_KEY": t["secret_key"],
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ECHO": settings["database"]["echo"],
        "INSTANCE_DIR": str(instance),
        "UPLOAD_DIR": str(upload),
        "MAX_CONTENT_LENGTH": t["max_upload_mb"] * 1024 * 1024,
        "SESSION_COOKIE_SECURE": t["session_cookie_secure"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": t["session_cookie_secure"],
        "PERMANENT_SESSION_LIFETIME": t["session_hours"] * 3600,
        "BABEL_DEFAULT_LOCALE": t["default_locale"],
        "BABEL_DEFAULT_TIMEZONE": t["timezone"],
        "PRODUCTION": t["production"],
        "WTF_CSRF_TIME_LIMIT": None,
    }
