"""Configuration: one ``config.toml``, validated at start-up into typed settings.

Every section the tracker reads is a pydantic model below (``extra="forbid"``,
strict types, value checks): an unknown key, a wrong type or a value that
cannot be right (an unknown meeting frequency, time zone or locale,
``login_max_failures = 0``, a green score band below the amber one) stops
start-up with a Chinese message naming the key
(``[tracker] login_max_failures：不能小于 1``), because a typo in a rule must
not silently fall back to a default. Code reads the typed object:
``current_settings().tracker.per_page``. Sections of other components
(``[monitor]``) are left to them.

Environment variables override URLs and secrets:

=====================  ==========================
``TRACKER_CONFIG``     path of the config file
``TRACKER_DATABASE_URL``  ``[database] url``
``TRACKER_SECRET_KEY`` ``[tracker] secret_key``
``TRACKER_CAMERA_KEY`` ``[tracker] camera_key`` (Fernet key for stream credentials)
``TRACKER_UPLOAD_DIR`` ``[tracker] upload_dir`` (shared storage of several web hosts)
``TRACKER_ENV``        ``production`` = ``[tracker] production = true``
``TRACKER_DEMO``       ``1``: allow the demo keys (set by ``tracker demo`` only)
``TRACKER_PAGE_CACHE_MB``  ``[tracker] page_cache_mb`` (``0``: page cache off)
=====================  ==========================

Secrets: the repository ships none. ``tracker serve``, ``tracker jobs`` and the
WSGI entry refuse to start without a real ``secret_key`` (signs session and
remember cookies) and ``camera_key`` (Fernet key for stream credentials),
naming the key and the command that makes one (``tracker generate-secrets``).
Only ``tracker demo`` and the tests run on the public demo keys. The camera
key is never derived from the cookie secret: a leaked cookie secret must not
decrypt stream passwords from a copy of the database, and rotating it must not
make them unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = ROOT / "config.toml"
# The secret an earlier config.toml shipped; treated like a missing one.
DEV_SECRET = "dev-only-not-secret"
SHIPPED_SECRETS = frozenset({"", DEV_SECRET})
MIN_SECRET_LENGTH = 32
# Public demo keys, for ``tracker demo`` and the tests only. The demo camera key
# is the one earlier demos derived from DEV_SECRET, so existing demo databases
# stay readable.
DEMO_SECRET_KEY = "demo-only-not-secret-" + "0" * 16
DEMO_CAMERA_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"camera-key:" + DEV_SECRET.encode()).digest()
).decode()
GENERATE_COMMAND = "tracker generate-secrets"


class ConfigError(Exception):
    """A bad configuration value; the message names the key."""


# Sections owned by other components; the tracker does not validate them.
FOREIGN_SECTIONS = {"monitor"}
FREQUENCY_PATTERN = r"(?i)^(none|off|monthly|quarterly|yearly(:q[1-4])?)$"
Frequency = Annotated[str, StringConstraints(pattern=FREQUENCY_PATTERN)]


class Section(BaseModel):
    """One ``[section]``: unknown keys refused, no type coercion (``"8"`` is not 8,
    ``true`` is not a count); assignments re-validated (tests may patch a value)."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


class TrackerSettings(Section):
    production: bool = False
    secret_key: str = ""
    camera_key: str = ""
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = "Asia/Shanghai"
    instance_dir: str = "instance"
    upload_dir: str = "instance/uploads"
    max_upload_mb: int = Field(8, ge=1, le=1024)
    session_cookie_secure: bool = False
    session_hours: int = Field(12, ge=1, le=24 * 30)
    remember_days: int = Field(14, ge=1, le=365)
    trusted_proxies: int = Field(0, ge=0, le=5)
    login_max_failures: int = Field(5, ge=1, le=100)
    login_lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    per_page: int = Field(50, ge=1, le=1000)
    # Per-process cache of list pages and API lists, in MiB (tracker.pagecache); 0 = off.
    page_cache_mb: int = Field(64, ge=0, le=16 * 1024)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知的时区“{value}”（例如 Asia/Shanghai）") from exc
        return value


class DatabaseSettings(Section):
    url: str = "sqlite:///instance/tracker.db"
    echo: bool = False


class CalendarSettings(Section):
    late_entry_working_days: int = Field(3, ge=0, le=60)
    callback_working_days: int = Field(5, ge=1, le=60)
    warn_missing_year_in_month: int = Field(12, ge=1, le=12)


class MattersSettings(Section):
    receipt_link_days: int = Field(30, ge=0, le=3650)
    public_requests_per_10_minutes: int = Field(30, ge=1, le=10000)
    public_base_url: str = ""

    @field_validator("public_base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("应以 http:// 或 https:// 开头，例如 https://dangjian.example.cn")
        return value


class RulesSettings(Section):
    branch_general_meeting: Frequency = "quarterly"
    branch_committee_meeting: Frequency = "monthly"
    party_group_meeting: Frequency = "monthly"
    party_lecture: Frequency = "quarterly"
    theme_party_day: Frequency = "monthly"
    organizational_life_meeting: Frequency = "yearly:Q4"
    democratic_appraisal: Frequency = "yearly:Q4"
    heart_to_heart_talk: Frequency = "yearly"
    training: Frequency = "quarterly"
    due_soon_days: int = Field(7, ge=0, le=90)
    edit_lock_days: int = Field(90, ge=1, le=3650)
    secondment_report_working_days: int = Field(2, ge=0, le=30)
    secondment_assessment: Literal["quarterly", "half-yearly"] = "quarterly"
    secondment_complaint_working_days: int = Field(10, ge=1, le=90)
    secondment_complaints_per_hour: int = Field(3, ge=1, le=1000)
    secondment_publication_per_10_minutes: int = Field(30, ge=1, le=10000)


ContactKindName = Literal["visit", "phone", "wechat"]


class TeamsSettings(Section):
    """队伍素质提升: targets of the reserve-cadre register ("2+5")."""

    reserve_secretary_target: int = Field(2, ge=0, le=20)
    reserve_committee_target: int = Field(5, ge=0, le=50)
    # Working days each recall step (召回) may take after the one before it.
    recall_talk_working_days: int = Field(5, ge=1, le=120)
    recall_training_working_days: int = Field(20, ge=1, le=250)
    recall_review_working_days: int = Field(10, ge=1, le=120)
    recall_outcome_working_days: int = Field(5, ge=1, le=120)
    # A vacated village post (召回后调整/免职, 辞职 …) must be filled within this many
    # working days of the day it fell vacant.
    vacancy_fill_working_days: int = Field(30, ge=1, le=250)
    # 无职党员设岗定责: a county's starting categories; reviews due after each half-year.
    post_categories: list[Annotated[str, StringConstraints(min_length=1, max_length=32)]] = Field(
        default_factory=lambda: ["经济发展", "村务监督", "公共事务", "思想政治", "服务群众"],
        min_length=1,
        max_length=30,
    )
    post_review_working_days: int = Field(15, ge=0, le=120)
    # 一诺三联四帮: rating due after year end; household contact window and counting kinds.
    pledge_rating_working_days: int = Field(15, ge=0, le=120)
    household_contact: Frequency = "monthly"
    household_contact_kinds: list[ContactKindName] = Field(
        default_factory=lambda: list[ContactKindName](["visit"]), min_length=1
    )


class TrainingsSettings(Section):
    """培训: the concentrated training each Party organization owes, farmer-training topics."""

    # 每年集中培训 of township and village organizations: frequency and hours per window.
    concentrated: Frequency = "yearly"
    concentrated_hours: float = Field(8, gt=0, le=500)
    # Topic categories of farmer training sessions (农民教育培训), in the order shown.
    farmer_topics: list[str] = Field(
        default_factory=lambda: ["技能", "电商", "政策", "种植养殖", "法律", "健康", "其他"],
        min_length=1,
        max_length=50,
    )

    @field_validator("farmer_topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v or len(v) > 32 for v in cleaned):
            raise ValueError("培训专题类别不能为空，每个最多 32 字")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("培训专题类别不能重复")
        return cleaned


class DuesSettings(Section):
    """党费收缴: the national bands (《关于中国共产党党费收缴、使用和管理的规定》) and fixed amounts.

    Money is integer: income bounds in yuan, rates in basis points (1 bp = 0.01 %),
    fixed amounts in fen (分), so no float ever touches an amount.
    """

    # Monthly income after tax up to and including each bound pays that band's rate;
    # above the last bound pays ``rate_top_bp``.
    band1_upto_yuan: int = Field(3000, ge=1, le=1_000_000)
    band1_rate_bp: int = Field(50, ge=0, le=10_000)
    band2_upto_yuan: int = Field(5000, ge=1, le=1_000_000)
    band2_rate_bp: int = Field(100, ge=0, le=10_000)
    band3_upto_yuan: int = Field(10000, ge=1, le=1_000_000)
    band3_rate_bp: int = Field(150, ge=0, le=10_000)
    rate_top_bp: int = Field(200, ge=0, le=10_000)
    farmer_fen: int = Field(20, ge=0, le=100_000)
    hardship_fen: int = Field(20, ge=0, le=100_000)
    student_fen: int = Field(20, ge=0, le=100_000)
    # Consecutive unpaid months (without a recorded reason) after which the member is flagged.
    arrears_flag_months: int = Field(6, ge=1, le=60)
    # Months ahead a payment may cover (paying a year in advance is common).
    prepay_months: int = Field(12, ge=0, le=60)
    # Day of the month from which the branch clerk is reminded of last month's unpaid dues.
    reminder_day: int = Field(5, ge=1, le=28)

    @model_validator(mode="after")
    def _bands_rise(self) -> DuesSettings:
        if not self.band1_upto_yuan < self.band2_upto_yuan < self.band3_upto_yuan:
            raise ValueError("band1_upto_yuan < band2_upto_yuan < band3_upto_yuan 应逐级升高")
        return self


class RecruitmentSettings(Section):
    """发展党员: the minimum intervals and deadlines of the five stages (中国共产党发展党员工作细则)."""

    # 党组织收到入党申请书后，一个月内派人谈话。
    talk_within_months: int = Field(1, ge=1, le=12)
    # 入党积极分子经过一年以上培养教育和考察，方可列为发展对象。
    activist_min_months: int = Field(12, ge=1, le=60)
    # 培养联系人每季度或每半年对入党积极分子考察一次（月数）。
    review_every_months: int = Field(6, ge=1, le=12)
    # 发展对象集中培训：不少于 3 天，或不少于 24 学时。
    training_min_days: int = Field(3, ge=1, le=30)
    training_min_hours: int = Field(24, ge=1, le=240)
    # 发展对象公示的工作日数。
    publicity_min_working_days: int = Field(5, ge=1, le=30)
    # 上级党委在支部党员大会接收预备党员后三个月内审批。
    approval_within_months: int = Field(3, ge=1, le=12)
    # 预备期一年（月数）；延长预备期只能一次，最多一年（月数）。
    probation_months: int = Field(12, ge=1, le=36)
    extension_max_months: int = Field(12, ge=1, le=24)


class CamerasSettings(Section):
    default_check_interval_s: int = Field(60, ge=10, le=3600)
    default_down_after: int = Field(3, ge=1, le=100)
    default_up_after: int = Field(2, ge=1, le=100)
    heartbeat_interval_s: int = Field(60, ge=5, le=3600)
    max_snapshot_kb: int = Field(1024, ge=16, le=16 * 1024)
    escalate_after_open_hours: int = Field(4, ge=1, le=24 * 7)
    station_outage_min_cameras: int = Field(2, ge=2, le=1000)
    station_outage_share: float = Field(0.5, gt=0, le=1)


class AlertsSettings(Section):
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = ""
    webhook_url: str = ""
    dingtalk_webhook: str = ""
    wecom_webhook: str = ""


Weight = Annotated[float, Field(ge=0, le=1000)]
Target = Annotated[float, Field(gt=0, le=1)]
Band = Annotated[float, Field(ge=0, le=100)]


class DashboardSettings(Section):
    weight_meetings: Weight = 40
    weight_on_time_entry: Weight = 10
    weight_service_on_time: Weight = 20
    weight_callbacks: Weight = 5
    weight_camera_uptime: Weight = 20
    weight_trainings: Weight = 5
    weight_secondment: Weight = 0
    weight_teams: Weight = 0  # 队伍建设: off until a county switches it on (docs/figures.md)
    target_meetings: Target = 1.0
    target_on_time_entry: Target = 0.9
    target_service_on_time: Target = 0.95
    target_callbacks: Target = 1.0
    target_camera_uptime: Target = 0.95
    target_trainings: Target = 1.0
    target_secondment: Target = 1.0
    target_teams: Target = 0.9
    band_green: Band = 85
    band_amber: Band = 60

    @model_validator(mode="after")
    def _bands_in_order(self) -> DashboardSettings:
        if self.band_amber >= self.band_green:
            raise ValueError("band_amber 应小于 band_green（黄色档在绿色档之下）")
        return self


class JobsSettings(Section):
    enabled: bool = True
    rollup_minutes: int = Field(15, ge=1, le=24 * 60)
    reminder_hour: int = Field(8, ge=0, le=23)


class Settings(BaseModel):
    """The whole validated configuration (``app.config["SETTINGS"]``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    tracker: TrackerSettings = Field(default_factory=TrackerSettings)  # type: ignore[arg-type]
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)  # type: ignore[arg-type]
    matters: MattersSettings = Field(default_factory=MattersSettings)  # type: ignore[arg-type]
    rules: RulesSettings = Field(default_factory=RulesSettings)  # type: ignore[arg-type]
    cameras: CamerasSettings = Field(default_factory=CamerasSettings)  # type: ignore[arg-type]
    teams: TeamsSettings = Field(default_factory=TeamsSettings)  # type: ignore[arg-type]
    dues: DuesSettings = Field(default_factory=DuesSettings)  # type: ignore[arg-type]
    recruitment: RecruitmentSettings = Field(default_factory=RecruitmentSettings)  # type: ignore[arg-type]
    trainings: TrainingsSettings = Field(default_factory=TrainingsSettings)  # type: ignore[arg-type]
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)  # type: ignore[arg-type]
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)  # type: ignore[arg-type]


ENV_OVERRIDES = {
    "TRACKER_DATABASE_URL": ("database", "url"),
    "TRACKER_SECRET_KEY": ("tracker", "secret_key"),
    "TRACKER_CAMERA_KEY": ("tracker", "camera_key"),
    # Several web hosts: every one must see the same files (a path on shared storage).
    "TRACKER_UPLOAD_DIR": ("tracker", "upload_dir"),
    "TRACKER_PAGE_CACHE_MB": ("tracker", "page_cache_mb"),
}
# Overrides that are integers (the environment gives text).
INT_OVERRIDES = {"TRACKER_PAGE_CACHE_MB"}

# Chinese for pydantic's error types (the operator reads these at start-up).
_MESSAGES = {
    "extra_forbidden": "未知的配置项（拼写错误？）",
    "int_type": "应为整数",
    "float_type": "应为数字",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本（加引号）",
    "model_type": "应为一个表（[节]）",
    "model_attributes_type": "应为一个表（[节]）",
    "dict_type": "应为一个表（[节]）",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "greater_than": "应大于 {gt}",
    "less_than": "应小于 {lt}",
    "literal_error": "取值应为 {expected}",
    "string_pattern_mismatch": "无法识别：应为 monthly、quarterly、yearly、yearly:Q1–Q4 或 none",
}


def _error_text(exc: ValidationError) -> str:
    """The first error as ``[section] key：中文说明``."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"]]
    where = f"[{loc[0]}]" + (f" {'.'.join(loc[1:])}" if len(loc) > 1 else "") if loc else ""
    if err["type"] in ("value_error", "assertion_error"):
        text = str(err.get("ctx", {}).get("error", err["msg"])).removeprefix("Value error, ")
    elif loc and loc[0] not in Settings.model_fields and err["type"] == "extra_forbidden":
        text = "未知的配置节"
    else:
        ctx = {k: str(v).replace(" or ", " 或 ") for k, v in (err.get("ctx") or {}).items()}
        text = _MESSAGES.get(err["type"], err["msg"]).format(**ctx)
    return f"{where}：{text}"


def current_settings() -> Settings:
    """The running app's typed settings."""
    from flask import current_app

    settings: Settings = current_app.config["SETTINGS"]
    return settings


def load_settings(
    path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Read, validate and complete the configuration (defaults, env overrides).

    Raises :class:`ConfigError` naming the bad key.
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


def validate(raw: dict[str, Any], env: dict[str, str]) -> Settings:
    """Validate a parsed TOML mapping (see :func:`load_settings`)."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for section in FOREIGN_SECTIONS:
        data.pop(section, None)
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var) and isinstance(data.setdefault(section, {}), dict):
            value: Any = env[var]
            if var in INT_OVERRIDES:
                try:
                    value = int(value)
                except ValueError as exc:
                    raise ConfigError(f"{var}：应为整数") from exc
            data[section][key] = value
    if env.get("TRACKER_ENV") == "production" and isinstance(data.setdefault("tracker", {}), dict):
        data["tracker"]["production"] = True
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_error_text(exc)) from exc
    _check_production(settings)
    return settings


def _check_production(settings: Settings) -> None:
    """In production every secret must be real, and cookies go over HTTPS only."""
    if not settings.tracker.production:
        return
    problems = deployment_key_problems(settings)
    if problems:
        raise ConfigError(problems[0])
    settings.tracker.session_cookie_secure = True


def deployment_key_problems(settings: Settings) -> list[str]:
    """Why these settings may not serve real users (empty = they may).

    Each message names the key and the command that generates a value.
    """
    t = settings.tracker
    problems = []
    secret = t.secret_key
    if secret in SHIPPED_SECRETS or secret == DEMO_SECRET_KEY:
        problems.append(
            "[tracker] secret_key 未设置或仍是随附/演示值（它签发登录 Cookie）。"
            f"生成：{GENERATE_COMMAND}，再设置环境变量 TRACKER_SECRET_KEY"
        )
    elif len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"[tracker] secret_key 太短（至少 {MIN_SECRET_LENGTH} 个字符）。"
            f"生成：{GENERATE_COMMAND}，再设置环境变量 TRACKER_SECRET_KEY"
        )
    camera = t.camera_key
    if not camera or camera == DEMO_CAMERA_KEY:
        problems.append(
            "[tracker] camera_key 未设置或仍是演示值（它加密摄像头视频流密码）。"
            f"生成：{GENERATE_COMMAND}，再设置环境变量 TRACKER_CAMERA_KEY"
        )
    elif not _is_fernet_key(camera):
        problems.append(
            "[tracker] camera_key 不是有效的 Fernet 密钥（44 个 base64 字符）。"
            f"生成：{GENERATE_COMMAND}"
        )
    return problems


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (ValueError, TypeError):
        return False


def demo_keys_allowed(env: dict[str, str] | None = None) -> bool:
    """True only under ``tracker demo`` (which sets ``TRACKER_DEMO=1``)."""
    env = dict(os.environ) if env is None else env
    return env.get("TRACKER_DEMO") == "1"


def require_deployment_keys(settings: Settings, env: dict[str, str] | None = None) -> None:
    """Stop a server process (serve, jobs, WSGI) that would run on demo keys."""
    if demo_keys_allowed(env):
        return
    problems = deployment_key_problems(settings)
    if problems:
        raise ConfigError("\n".join(problems))


def flask_config(settings: Settings) -> dict[str, Any]:
    """Map the validated sections onto Flask's upper-case config keys.

    Flask ignores lower-case keys in ``from_mapping``, so each one is mapped
    explicitly; the whole validated tree stays available as ``SETTINGS``.
    """
    t = settings.tracker
    db_url = settings.database.url
    instance = Path(t.instance_dir)
    if not instance.is_absolute():
        instance = ROOT / instance
    upload = Path(t.upload_dir)
    if not upload.is_absolute():
        upload = ROOT / upload
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        rel = db_url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            db_url = "sqlite:///" + str(ROOT / rel)
    return {
        "SETTINGS": settings,
        # Missing secrets fall back to the public demo keys here; the server
        # entry points refuse those (require_deployment_keys), the demo and the
        # tests may use them.
        "SECRET_KEY": t.secret_key if t.secret_key not in SHIPPED_SECRETS else DEMO_SECRET_KEY,
        "CAMERA_KEY": t.camera_key or DEMO_CAMERA_KEY,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ECHO": settings.database.echo,
        "INSTANCE_DIR": str(instance),
        "UPLOAD_DIR": str(upload),
        "MAX_CONTENT_LENGTH": t.max_upload_mb * 1024 * 1024,
        "SESSION_COOKIE_SECURE": t.session_cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": t.session_cookie_secure,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=t.remember_days),
        "TRUSTED_PROXIES": t.trusted_proxies,
        "PERMANENT_SESSION_LIFETIME": t.session_hours * 3600,
        "BABEL_DEFAULT_LOCALE": t.default_locale,
        "BABEL_DEFAULT_TIMEZONE": t.timezone,
        "PRODUCTION": t.production,
        "PAGE_CACHE_MB": t.page_cache_mb,
        "WTF_CSRF_TIME_LIMIT": None,
    }
