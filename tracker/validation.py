"""Input hygiene shared by every way data comes in: forms, JSON bodies, queries, imports.

One rule each, one message each, so a form field, an API field and an Excel
cell refuse the same value with the same Chinese words:

- **Control characters.** C0 control characters other than tab and newline
  (carriage return counts as part of a newline: browsers post ``\\r\\n``) are
  refused. They are invisible to the user, PostgreSQL refuses NUL in text, and
  Excel cannot store them (an export would fail).
- **Integers** outside the database's 32-bit ``INTEGER`` range (every id and
  count column) are refused instead of overflowing in the driver.
- **Dates** outside :data:`MIN_YEAR`–:data:`MAX_YEAR` are refused: no ledger
  record, birth year or term of office lies outside it, and period arithmetic
  near ``date.max`` overflows.
- **JSON nesting** deeper than :data:`MAX_JSON_DEPTH` is refused before it is
  walked (no request body of the API nests that deep).

Functions here return Chinese messages (or raise :class:`ValueError` with one);
callers put them beside the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = "含有不可见的控制字符（第 {position} 个字符），请删除后重新填写"
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
INT_MESSAGE = f"数值超出范围（应在 {INT_MIN} 到 {INT_MAX} 之间）"
MIN_YEAR = 1900
MAX_YEAR = 2100
DATE_MESSAGE = f"日期超出合理范围（应在 {MIN_YEAR} 年到 {MAX_YEAR} 年之间）"
MAX_JSON_DEPTH = 32
DEPTH_MESSAGE = f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）"


def control_error(text: str) -> str | None:
    """The message for a text holding a refused control character, else ``None``."""
    found = CONTROL_RE.search(text)
    if found is None:
        return None
    return CONTROL_MESSAGE.format(position=found.start() + 1)


def check_text(text: str) -> str:
    """``text`` unchanged, or :class:`ValueError` with the control-character message."""
    message = control_error(text)
    if message is not None:
        raise ValueError(message)
    return text


def value_error(value: Any) -> str | None:
    """The message for one scalar value that no field may hold, else ``None``.

    Texts with control characters, integers past the database's range, dates
    outside the sane range. ``bool`` is an ``int`` in Python and always fine.
    """
    if isinstance(value, str):
        return control_error(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT_MIN <= value <= INT_MAX else INT_MESSAGE
    if isinstance(value, date):  # datetime is a date too
        return None if MIN_YEAR <= value.year <= MAX_YEAR else DATE_MESSAGE
    return None


class TooDeep(ValueError):
    """A JSON document nests deeper than :data:`MAX_JSON_DEPTH`."""


def _walk(data: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    if depth > MAX_JSON_DEPTH:
        raise TooDeep(DEPTH_MESSAGE)
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield (f"{path}.{key}" if path else key), key
            yield from _walk(value, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _walk(value, f"{path}[{i}]", depth + 1)
    else:
        yield path or "body", data


def field_errors(data: Any, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """``{"field.path": message}`` for every refused value inside parsed JSON-like data.

    ``skip`` names top-level keys the caller checks itself, item by item (the
    station's report batch refuses a bad item, not the whole batch). Raises
    :class:`TooDeep` for data nested deeper than :data:`MAX_JSON_DEPTH`.
    """
    if isinstance(data, dict) and skip:
        data = {k: v for k, v in data.items() if k not in skip}
    errors: dict[str, str] = {}
    for path, value in _walk(data, "", 0):
        message = value_error(value)
        if message is not None:
            errors.setdefault(path, message)
    return errors


def sane_date(value: date | datetime) -> bool:
    """Whether ``value`` lies in :data:`MIN_YEAR`–:data:`MAX_YEAR`."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def check_depth(data: Any) -> None:
    """:class:`TooDeep` when ``data`` nests deeper than :data:`MAX_JSON_DEPTH`."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise TooDeep(DEPTH_MESSAGE)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((v, depth + 1) for v in value)


_INT_LITERAL = re.compile(r"[+-]?[0-9]+")


def query_errors(args: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Messages for query-string values no page or endpoint accepts.

    Control characters anywhere, integer literals past the database's range,
    and a ``year`` outside the sane range (pages build ``date(year, 1, 1)``
    from it).
    """
    errors: dict[str, str] = {}
    for name, value in args:
        message = control_error(name) or control_error(value)
        digits = value.strip()
        if message is None and _INT_LITERAL.fullmatch(digits):
            # Eleven digits already pass the range; int() of thousands of digits raises.
            number = int(digits) if len(digits.lstrip("+-")) <= 11 else INT_MAX + 1
            if not INT_MIN <= number <= INT_MAX:
                message = INT_MESSAGE
            elif name == "year" and not MIN_YEAR <= number <= MAX_YEAR:
                message = DATE_MESSAGE
        if message is not None:
            errors.setdefault(name, message)
    return errors


def path_out_of_range(view_args: dict[str, Any] | None) -> bool:
    """Whether an ``<int:…>`` path argument lies past the database's range (such an id
    cannot exist: 404, instead of an overflow in the driver)."""
    return any(
        isinstance(v, int) and not isinstance(v, bool) and not INT_MIN <= v <= INT_MAX
        for v in (view_args or {}).values()
    )
