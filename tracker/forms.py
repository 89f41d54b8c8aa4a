"""Form helpers shared by the domain packages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from flask import current_app, has_request_context, request, session
from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField as FlaskFileField
from flask_wtf.file import MultipleFileField as FlaskMultipleFileField
from markupsafe import Markup, escape
from werkzeug.wrappers import Response
from wtforms.fields import FileField, MultipleFileField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import Select

from tracker import validation


def as_choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """``[(value, label), …]`` as WTForms ``SelectChoice`` s (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


UPLOAD_REFUSED = "upload_refused"
FILE_FIELDS = (FileField, MultipleFileField, FlaskFileField, FlaskMultipleFileField)


def upload_limit_mb() -> int:
    return int(current_app.config["MAX_CONTENT_LENGTH"] or 0) // (1024 * 1024)


def upload_too_large_message() -> str:
    return gettext(
        "文件过大（最大 %(mb)s MB），没有上传。请压缩照片或分几次上传后再提交。",
        mb=upload_limit_mb(),
    )


def upload_too_large() -> Response:
    """A page's upload over ``MAX_CONTENT_LENGTH`` (413): back to the form it came from.

    The body was never read, so nothing of it is kept; the page that had the
    form is shown again (the referrer, same host, else the posted URL) and its
    file field carries the message (:class:`Form` picks it up), instead of a
    bare 413 page. The page's script refuses such a file before it is sent, so
    what was typed next to it is kept too.
    """
    from urllib.parse import urlsplit

    from flask import redirect

    target = request.referrer or ""
    if not target.startswith(request.host_url):
        target = request.url
    session[UPLOAD_REFUSED] = {"path": urlsplit(target).path, "message": upload_too_large_message()}
    return redirect(target, code=303)


class Check:
    """A field validator from a pure rule: ``Check(rules.phone_error)``.

    The rule takes the field's value and returns the Chinese message, or ``None``
    when the value is fine; empty values are left to ``DataRequired``/``Optional``.
    Checks a service would make anyway run here too, so a form shows every error
    at once instead of the service's first one.
    """

    def __init__(self, rule: Callable[[Any], str | None]) -> None:
        self.rule = rule

    def __call__(self, form: Any, field: Any) -> None:
        if field.data in (None, ""):
            return
        message = self.rule(field.data)
        if message:
            raise ValidationError(message)


def _label_text(field: Any) -> str:
    label = getattr(field, "label", None)
    text = str(getattr(label, "text", "") or "")
    # 身份证号（选填）→ 身份证号: the name, without the hint after it.
    for stop in ("（", "("):
        text = text.split(stop, 1)[0]
    return text.strip(" *：:")


def named(field: Any, message: str) -> str:
    """A field's error that names the field: ``出生年份：必填`` — unless it already does
    (``请填写议题``). Messages read on their own, beside the field and in a summary."""
    label = _label_text(field)
    if not label or label in message:
        return message
    return gettext("%(field)s：%(message)s", field=label, message=message)


class Form(FlaskForm):
    """The base of every form: Flask-WTF plus the input rules of :mod:`tracker.validation`.

    After the fields' own validators, every field's value is checked once more
    (control characters in text, integers past the database's range, dates
    outside the sane range) and the Chinese message goes beside that field.
    Every error of every field is shown at once, each naming its field
    (:func:`named`). Deriving from this class is all a form needs; a test checks that every
    form does. A form with a file field shown right after an upload was refused
    for its size (:func:`upload_too_large`) carries that message beside the field.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refused = session.get(UPLOAD_REFUSED) if has_request_context() else None
        if isinstance(refused, dict) and refused.get("path") == request.path:
            files = [f for f in self if isinstance(f, FILE_FIELDS)]
            if files:
                session.pop(UPLOAD_REFUSED)
                for f in files:
                    f.errors = [str(refused.get("message", ""))]

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
        for field in self:
            if field.errors and isinstance(field.errors, list):
                field.errors = [named(field, str(e)) for e in field.errors]
        return ok


class LongSelect(Select):
    """WTForms' ``Select`` for a long list of plain options (a county's 200 villages in
    a filter): the same HTML, each option written directly instead of through
    ``html_params`` (an option with ``render_kw`` goes the stock way)."""

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        label = escape(choice.label or choice.value)
        selected = "selected " if choice.selected else ""
        # escape() writes '"' as &#34;: the quoting html_params adds never applies
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')
