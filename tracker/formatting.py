"""Template filters: every value is formatted here, never inside a template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from markupsafe import Markup

from tracker import clock


def fmt_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else clock.local(value).strftime(fmt)


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.local(value).date()
    return value.strftime("%Y-%m-%d")


def mask_phone(value: str | None) -> str:
    """138****5678: enough to recognise, not enough to misuse."""
    if not value:
        return ""
    if len(value) < 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str | None) -> str:
    """身份证号 shown as 2201**********1234."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def yes_no(value: bool | None) -> Markup:
    if value is None:
        return Markup('<span class="text-muted">—</span>')
    return Markup("是") if value else Markup("否")


ROLE_LABELS = {"admin": "管理员", "editor": "录入员", "viewer": "查看者"}
LEVEL_LABELS = {
    "city": "市",
    "county": "县（区）",
    "township": "乡镇（街道）",
    "village": "村（社区）",
}


def role_label(value: object) -> str:
    key = getattr(value, "value", value)
    return ROLE_LABELS.get(str(key), str(key))


def level_label(value: object) -> str:
    key = getattr(value, "value", value)
    return LEVEL_LABELS.get(str(key), str(key))


def init_app(app: Flask) -> None:
    from tracker.i18n import LANGUAGES

    @app.context_processor
    def _globals() -> dict[str, object]:
        from flask_babel import get_locale

        return {"languages": LANGUAGES, "get_locale": get_locale}

    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(level_label, "level_label")
    app.add_template_filter(fmt_datetime, "datetime")
    app.add_template_filter(fmt_date, "date")
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_filter(mask_id_number, "mask_id")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(yes_no, "yes_no")
