"""Template filters: every value is formatted by a filter, never inside a template.

:func:`init_app` is the one place filters are registered: the shared ones of
:data:`FILTERS`, then each domain's (``Domain(filters="views:FILTERS")``); a
name registered twice stops the app at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import gettext
from markupsafe import Markup

from tracker import clock

Filter = Callable[..., Any]


def excel_datetime(value: datetime | None) -> datetime | None:
    """A stored time as an Excel date/time cell: local wall time, no zone, whole seconds.

    openpyxl writes a naive ``datetime`` as a real Excel date (sortable, filterable);
    give the cell a ``number_format`` such as ``yyyy-mm-dd hh:mm``.
    """
    if value is None:
        return None
    return clock.local(value).replace(tzinfo=None, microsecond=0)


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_NUMBER = re.compile(r"\d+|[零〇一二两三四五六七八九十百]+")


def _cn_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105 (the numerals of group names)."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch == "百":
            total += (digit or 1) * 100
            digit = 0
        elif ch == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = _CN_DIGITS[ch]
    return total + digit


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key in natural order: 第二党小组 before 第十党小组, 2 before 10."""
    parts: list[tuple[int, int | str]] = []
    pos = 0
    for m in _NUMBER.finditer(name):
        if m.start() > pos:
            parts.append((1, name[pos : m.start()]))
        parts.append((0, _cn_number(m.group(0))))
        pos = m.end()
    if pos < len(name):
        parts.append((1, name[pos:]))
    return tuple(parts)


def fmt_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else clock.local(value).strftime(fmt)


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.local(value).date()
    return value.strftime("%Y-%m-%d")


def fmt_cell(value: object) -> str:
    """A table cell that may hold a date/time (shared with an Excel export) as text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.tzinfo is None else fmt_datetime(value)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def excel_formats(rows: object) -> None:
    """Give every date/time cell of an openpyxl worksheet's rows a readable number format."""
    for row in rows:  # type: ignore[attr-defined]
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"


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
    return Markup(gettext("是")) if value else Markup(gettext("否"))


ROLE_LABELS = {"admin": "管理员", "editor": "录入员", "viewer": "查看者"}
LEVEL_LABELS = {
    "city": "市",
    "county": "县（区）",
    "township": "乡镇（街道）",
    "village": "村（社区）",
}


def role_label(value: object) -> str:
    key = getattr(value, "value", value)
    return gettext(ROLE_LABELS[str(key)]) if str(key) in ROLE_LABELS else str(key)


def level_label(value: object) -> str:
    key = getattr(value, "value", value)
    return gettext(LEVEL_LABELS[str(key)]) if str(key) in LEVEL_LABELS else str(key)


def labels(mapping: Mapping[Any, str], kind: Callable[[Any], Any] | None = None) -> Filter:
    """A filter showing an enum value by its label (``""`` for none), in the page's language.

    ``kind`` turns the raw value (a string from a row, a JSON field) into the
    mapping's key first; a value it does not know is shown as it is. The Chinese
    label is the message id: the English is in the package's ``.po`` file (a test
    checks every table of a filter, through ``label.mapping``).
    """

    def label(value: Any) -> str:
        if value is None or value == "":
            return ""
        try:
            key = kind(value) if kind is not None else value
        except ValueError:
            return str(value)
        text = mapping.get(key)
        return str(value) if text is None else gettext(text)

    label.mapping = mapping  # type: ignore[attr-defined]
    return label


# The template filters every page may use; each domain adds its own through
# ``Domain(filters="module:FILTERS")``, and :func:`init_app` registers them all here.
FILTERS: dict[str, Filter] = {
    "role_label": role_label,
    "level_label": level_label,
    "datetime": fmt_datetime,
    "date": fmt_date,
    "cell": fmt_cell,
    "mask_phone": mask_phone,
    "mask_id": mask_id_number,
    "percent": percent,
    "yes_no": yes_no,
}


def init_app(app: Flask) -> None:
    from flask_babel import get_locale

    from tracker.i18n import LANGUAGES

    # Globals, not a context processor: the same names in every template, without a
    # function call per render.
    app.jinja_env.globals.update(languages=LANGUAGES, get_locale=get_locale)

    from tracker.domain import parts

    sources = [("tracker.formatting", FILTERS)]
    sources += [(domain.package, domain.load(ref)) for domain, ref in parts("filters")]
    registered: dict[str, str] = {}
    for origin, filters in sources:
        for name, fn in filters.items():
            if name in registered:
                raise RuntimeError(f"template filter {name!r} of {origin} is {registered[name]}'s")
            registered[name] = origin
            app.add_template_filter(fn, name)
