"""docs/contract.schema.json as validators, for checking what the monitor sends.

The monitor shares no code with the tracker, only the contract; the tracker
generates this file from its station API models (``tracker contract-schema``,
kept current by ``tests/tracker/test_contract_schema.py``). Here it is read
as plain data and applied with ``jsonschema`` to the monitor's own output.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "contract.schema.json"

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _aware_datetime(value: object) -> bool:
    """ISO 8601 with an offset (the contract's times; ``Z`` for UTC)."""
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@cache
def schema() -> dict[str, Any]:
    """The whole schema document."""
    doc: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return doc


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator of one message of the contract (a ``$defs`` name, e.g. ``ReportItem``)."""
    defs = schema()["$defs"]
    if name not in defs:
        raise KeyError(f"{name} is not in {SCHEMA_PATH.name}")
    return Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{name}"}, format_checker=FORMATS)


def violations(name: str, doc: Any) -> list[str]:
    """Why ``doc`` is not a valid ``name`` (empty when it is)."""
    return [
        f"{name} {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator(name).iter_errors(doc)
    ]
