"""Form helpers shared by the domain packages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice


def as_choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """``[(value, label), …]`` as WTForms ``SelectChoice`` s (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]
