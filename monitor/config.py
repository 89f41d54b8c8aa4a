"""The ``[monitor]`` section of ``config.toml``, validated at start-up.

Every key has a default, so an empty section works for a demo. An unknown key
or a value of the wrong type stops start-up with an error naming the key (a
typo in a config file must not silently fall back to a default for months).
Environment variables override the URL and the secret, so the token need not
live in a file: ``MONITOR_TRACKER_URL``, ``MONITOR_TOKEN``, ``MONITOR_CACHE_KEY`` (also
``MONITOR_STATE_DIR`` and ``MONITOR_METRICS_PORT`` for tests and containers).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

DEFAULT_CONFIG_PATH = Path("config.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


CACHE_KEY_ERROR = (
    "[monitor] cache_key（MONITOR_CACHE_KEY）：不是 Fernet 密钥（32 字节，url-safe base64 编码）；"
    "生成一个：python3 -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


class ConfigError(ValueError):
    """A bad configuration; the message names the key."""


@dataclass(frozen=True)
class MonitorConfig:
    """Settings of one station's monitor daemon."""

    tracker_url: str = "http://127.0.0.1:5000"
    token: str = ""
    # Fernet key sealing the cached camera list (stream credentials); "" = derived from the token
    cache_key: str = ""
    state_dir: str = "instance/monitor"
    workers: int = 4
    probe_timeout_s: float = 3.0
    max_concurrent_per_host: int = 4
    heartbeat_interval_s: float = 60.0
    batch_size: int = 200
    metrics_port: int = 0
    snapshot_width: int = 640
    max_window_s: float = 2.0
    log_level: str = "INFO"
    jitter_s: float = 5.0
    delivery_interval_s: float = 5.0
    camera_refresh_s: float = 300.0
    request_timeout_s: float = 10.0
    max_backoff_s: float = 300.0

    @property
    def state_path(self) -> Path:
        """The state directory as a path (created on demand by the daemon)."""
        return Path(self.state_dir)

    def redacted(self) -> dict[str, Any]:
        """The settings for display, the token masked."""
        d = dataclasses.asdict(self)
        d["token"] = "***" if self.token else ""
        d["cache_key"] = "***" if self.cache_key else ""
        return d


_ENV = {
    "MONITOR_TRACKER_URL": "tracker_url",
    "MONITOR_TOKEN": "token",
    "MONITOR_CACHE_KEY": "cache_key",
    "MONITOR_STATE_DIR": "state_dir",
    "MONITOR_METRICS_PORT": "metrics_port",
}


def _check(name: str, value: Any, kind: type) -> Any:
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"[monitor] {name}: expected a number, got {value!r}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"[monitor] {name}: expected an integer, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"[monitor] {name}: expected a string, got {value!r}")
    return value


def from_mapping(section: Mapping[str, Any], env: Mapping[str, str] | None = None) -> MonitorConfig:
    """Validate a ``[monitor]`` table (plus env overrides) into a :class:`MonitorConfig`."""
    types = {
        f.name: {"str": str, "int": int, "float": float}[str(f.type)] for f in fields(MonitorConfig)
    }
    values: dict[str, Any] = {}
    for name, value in section.items():
        if name not in types:
            known = ", ".join(sorted(types))
            raise ConfigError(f"[monitor] {name}: unknown key (known keys: {known})")
        values[name] = _check(name, value, types[name])
    for var, name in _ENV.items():
        raw = (env if env is not None else os.environ).get(var)
        if raw is None or raw == "":
            continue
        if types[name] is int:
            try:
                values[name] = int(raw)
            except ValueError:
                raise ConfigError(f"{var} ({name}): expected an integer, got {raw!r}") from None
        else:
            values[name] = raw
    cfg = MonitorConfig(**values)
    _validate_ranges(cfg)
    return cfg


def _validate_ranges(cfg: MonitorConfig) -> None:
    def bad(name: str, why: str) -> ConfigError:
        return ConfigError(f"[monitor] {name}: {why}, got {getattr(cfg, name)!r}")

    if not cfg.tracker_url.startswith(("http://", "https://")):
        raise bad("tracker_url", "must start with http:// or https://")
    for name in ("workers", "max_concurrent_per_host", "batch_size"):
        if getattr(cfg, name) < 1:
            raise bad(name, "must be at least 1")
    if cfg.batch_size > 500:
        raise bad("batch_size", "the contract allows at most 500 items per batch")
    for name in (
        "probe_timeout_s",
        "heartbeat_interval_s",
        "delivery_interval_s",
        "camera_refresh_s",
        "request_timeout_s",
        "max_backoff_s",
    ):
        if getattr(cfg, name) <= 0:
            raise bad(name, "must be positive")
    if cfg.jitter_s < 0:
        raise bad("jitter_s", "must not be negative")
    if not 0 <= cfg.metrics_port <= 65535:
        raise bad("metrics_port", "must be a port number (0 = off)")
    if cfg.max_window_s < 0:
        raise bad("max_window_s", "must not be negative (0 = one decoded frame per check)")
    if cfg.snapshot_width < 0:
        raise bad("snapshot_width", "must not be negative (0 = no snapshots)")
    if cfg.cache_key:
        try:
            Fernet(cfg.cache_key.encode())
        except ValueError:
            raise ConfigError(CACHE_KEY_ERROR) from None
    if cfg.log_level.upper() not in LOG_LEVELS:
        raise bad("log_level", f"must be one of {', '.join(LOG_LEVELS)}")


def load(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> MonitorConfig:
    """Read the ``[monitor]`` section of ``path`` (``$MONITOR_CONFIG`` or ./config.toml).

    A missing file gives the defaults (plus env overrides); a file that is not
    valid TOML, or a ``monitor`` entry that is not a table, is an error.
    """
    environ = env if env is not None else os.environ
    p = Path(path or environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG_PATH)
    section: Mapping[str, Any] = {}
    if p.exists():
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        raw = data.get("monitor", {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}: [monitor] must be a table")
        section = raw
    return from_mapping(section, environ)
