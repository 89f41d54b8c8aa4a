"""The ``[monitor]`` section of ``config.toml``: typed settings, validated at start-up.

One pydantic model (``extra="forbid"``, strict types, value checks): a typo or
a value out of range stops start-up with a Chinese message that names the key
(a typo in a config file must not silently fall back to a default for months).
Every key has a default, so an empty section works for a demo. Environment
variables override the URL and the secret, so the token need not live in a
file: ``MONITOR_TRACKER_URL``, ``MONITOR_TOKEN``, ``MONITOR_CACHE_KEY`` (also
``MONITOR_STATE_DIR`` and ``MONITOR_METRICS_PORT`` for tests and containers).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CONFIG_PATH = Path("config.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


CACHE_KEY_ERROR = (
    "[monitor] cache_key（MONITOR_CACHE_KEY）：不是 Fernet 密钥（32 字节，url-safe base64 编码）；"
    "生成一个：python3 -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


class ConfigError(ValueError):
    """A bad configuration; the message names the key (in Chinese)."""


class MonitorConfig(BaseModel):
    """Settings of one station's monitor daemon."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    tracker_url: str = "http://127.0.0.1:5000"
    token: str = ""
    # Fernet key sealing the cached camera list (stream credentials); "" = derived from the token
    cache_key: str = ""
    state_dir: str = "instance/monitor"
    workers: int = Field(default=0, ge=0, le=256)
    """Probe worker processes; 0 = sized from the cameras, their intervals and probe times."""
    max_workers: int = Field(default=16, ge=1, le=256)
    """The most workers automatic sizing may start (each is a process of ~30–60 MB)."""
    probe_timeout_s: float = Field(default=3.0, gt=0, le=60)
    max_concurrent_per_host: int = Field(default=4, ge=1, le=64)
    host_limits: dict[str, int] = Field(default_factory=dict)
    """Sessions allowed per host or NVR (``"10.0.0.5" = 2``); others learn theirs from 453/454/503."""
    heartbeat_interval_s: float = Field(default=60.0, gt=0)
    batch_size: int = Field(default=200, ge=1, le=500)
    metrics_port: int = Field(default=0, ge=0, le=65535)
    snapshot_width: int = Field(default=640, ge=0, le=4096)
    max_window_s: float = Field(default=2.0, ge=0, le=30)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    jitter_s: float = Field(default=5.0, ge=0)
    delivery_interval_s: float = Field(default=5.0, gt=0)
    camera_refresh_s: float = Field(default=300.0, gt=0)
    request_timeout_s: float = Field(default=10.0, gt=0)
    max_backoff_s: float = Field(default=300.0, gt=0)

    @field_validator("tracker_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("必须以 http:// 或 https:// 开头")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("host_limits")
    @classmethod
    def _positive_limits(cls, value: dict[str, int]) -> dict[str, int]:
        for host, limit in value.items():
            if limit < 1:
                raise ValueError(f"主机 {host} 的会话数至少为 1")
        return value

    @property
    def state_path(self) -> Path:
        """The state directory as a path (created on demand by the daemon)."""
        return Path(self.state_dir)

    def redacted(self) -> dict[str, Any]:
        """The settings for display, the token masked."""
        d = self.model_dump()
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

_TYPE_WORDS = {
    "int_type": "应为整数",
    "float_type": "应为数字",
    "string_type": "应为字符串",
    "dict_type": '应为表（如 {"10.0.0.5" = 2}）',
    "bool_type": "应为 true 或 false",
}


def _message(error: Mapping[str, Any]) -> str:
    """One pydantic error as a Chinese sentence naming the key."""
    loc = [str(p) for p in error.get("loc", ())]
    key = loc[0] if loc else "?"
    where = f"[monitor] {'.'.join(loc) or key}"
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    got = "***" if key in ("token", "cache_key") else error.get("input")
    if kind == "extra_forbidden":
        known = ", ".join(MonitorConfig.model_fields)
        return f"[monitor] {key}：未知的配置项（可用的有：{known}）"
    if kind in _TYPE_WORDS:
        return f"{where}：{_TYPE_WORDS[kind]}，实际为 {got!r}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ("ge", "不能小于"), "greater_than": ("gt", "必须大于"),
              "less_than_equal": ("le", "不能大于"), "less_than": ("lt", "必须小于")}[kind]  # fmt: skip
        extra = "（契约规定每批最多 500 条）" if key == "batch_size" and op[0] == "le" else ""
        return f"{where}：{op[1]} {ctx.get(op[0])}{extra}，实际为 {got!r}"
    if kind == "literal_error":
        return f"{where}：应为以下之一：{', '.join(LOG_LEVELS)}，实际为 {got!r}"
    if kind == "value_error":
        reason = str(ctx.get("error") or error.get("msg", ""))
        return f"{where}：{reason}，实际为 {got!r}"
    return f"{where}：{error.get('msg', '取值无效')}，实际为 {got!r}"


def from_mapping(section: Mapping[str, Any], env: Mapping[str, str] | None = None) -> MonitorConfig:
    """Validate a ``[monitor]`` table (plus env overrides) into a :class:`MonitorConfig`."""
    values: dict[str, Any] = dict(section)
    for var, name in _ENV.items():
        raw = (env if env is not None else os.environ).get(var)
        if raw is None or raw == "":
            continue
        if name == "metrics_port":
            try:
                values[name] = int(raw)
            except ValueError:
                raise ConfigError(f"{var}（{name}）：应为整数，实际为 {raw!r}") from None
        else:
            values[name] = raw
    # TOML integers are fine where a number is expected (timeout = 3)
    for name, field in MonitorConfig.model_fields.items():
        value = values.get(name)
        if field.annotation is float and isinstance(value, int) and not isinstance(value, bool):
            values[name] = float(value)
    try:
        cfg = MonitorConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError("；".join(_message(e) for e in exc.errors())) from None
    if cfg.cache_key:
        try:
            Fernet(cfg.cache_key.encode())
        except ValueError:
            raise ConfigError(CACHE_KEY_ERROR) from None  # never echo a secret
    return cfg


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
            raise ConfigError(f"{p}：不是有效的 TOML：{exc}") from None
        raw = data.get("monitor", {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}：[monitor] 必须是一个表")
        section = raw
    return from_mapping(section, environ)
