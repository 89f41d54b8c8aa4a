"""Form helpers shared by the domain packages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from tracker import validation


def as_choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """``[(value, label), …]`` as WTForms ``SelectChoice`` s (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


class Form(FlaskForm):
    """The base of every form: Flask-WTF plus the input rules of :mod:`tracker.validation`.

    After the fields' own validators, every field's value is checked once more
    (control characters in text, integers past the database's range, dates
    outside the sane range) and the Chinese message goes beside that field.
    Deriving from this class is all a form needs; a test checks that every
    form does.
    """

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            data = field.data
            for value in data if isinstance(data, list) else [data]:
                message = validation.value_error(value)
                if message is not None:
                    errors = field.errors if isinstance(field.errors, list) else []
                    if message not in errors:
                        errors.append(message)
                    field.errors = errors
                    ok = False
                    break
        return ok
