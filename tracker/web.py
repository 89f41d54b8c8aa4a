"""The request boundary of the HTML pages (Indico's ``RH.process``, in Flask).

Views do the work; the boundary owns the transaction and the first refusal:

- **Permission before the form.** A writing request (POST, PUT, PATCH,
  DELETE) from a signed-in user who may not write (a viewer) is refused with
  403 before the view runs — before any form is validated — unless the view
  is marked :func:`own_account` (it changes only the user's own session,
  password, tokens or inbox). Scope (404 outside the subtree) and admin rights
  stay with the view (``scope.get_for_write`` / ``require_admin``), which
  calls them before :func:`submit`.
- **One commit.** A writing request whose response is a success or a redirect
  (< 400) is committed once, after the view; any other answer, and any
  exception, rolls back. Views, like services, never call ``commit()``.
- **Domain errors beside the field.** :func:`submit` validates a form, runs
  the operation and puts a :class:`~tracker.errors.DomainError` beside the
  field it names (422 when the page is rendered again, see
  :func:`form_status`). A domain error no view caught is flashed and the
  user is sent back: never a 500, never a half-saved record.

The JSON API has its own boundary with the same rules
(:func:`tracker.api.core.endpoint`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import (
    Flask,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from tracker.config import current_settings
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import named
from tracker.scope import current_scope

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
WRITING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def own_account(view: F) -> F:
    """Mark a view whose writes concern only the signed-in user (viewers may use it)."""
    view.own_account = True  # type: ignore[attr-defined]
    return view


class TrackerApp(Flask):
    """Flask with the request boundary around every view (see the module docstring)."""

    # URLs that depend on nothing but the rules and the request's root path: every page's
    # navigation bar and static files (~20 url_for per page). See :meth:`url_for`.
    _fixed_urls: dict[tuple[str, str, str, str, str], str]
    FIXED_URLS_MAX = 512

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Flask's ``url_for``; an endpoint without arguments (or a static file) is built
        once per root path, host and scheme and remembered — only once the app serves
        requests (no rule can be added then), for relative URLs, and with no
        ``url_defaults`` function that could change them per request."""
        if (
            values.keys() <= {"filename"}
            and (not values or endpoint == "static")
            and _anchor is None
            and _method is None
            and _scheme is None
            and not _external
            and self._got_first_request
            and not self.url_default_functions
            and not self.url_map.host_matching
            and not self.subdomain_matching
            and endpoint[:1] != "."
            and has_request_context()
        ):
            environ = request.environ  # what the request's URL adapter was bound to
            key = (
                endpoint,
                str(values.get("filename", "")),
                environ.get("SCRIPT_NAME", ""),
                environ.get("HTTP_HOST", ""),
                environ.get("wsgi.url_scheme", ""),
            )
            cache = self.__dict__.setdefault("_fixed_urls", {})
            url = cache.get(key)
            if url is None:
                url = super().url_for(endpoint, **values)
                if len(cache) < self.FIXED_URLS_MAX:
                    cache[key] = url
            return url
        return super().url_for(
            endpoint,
            _anchor=_anchor,
            _method=_method,
            _scheme=_scheme,
            _external=_external,
            **values,
        )

    def dispatch_request(self) -> ResponseReturnValue:
        if request.method not in WRITING or request.routing_exception is not None:
            return super().dispatch_request()
        rule = request.url_rule
        view = self.view_functions.get(rule.endpoint) if rule is not None else None
        api = request.blueprint == "api"
        if (
            not api
            and view is not None
            and not getattr(view, "own_account", False)
            and current_user.is_authenticated
            and not current_scope().can_write
        ):
            abort(403)
        response = self.make_response(super().dispatch_request())
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response


@dataclass(frozen=True)
class Done(Generic[T]):
    """A form that was submitted, valid, and whose operation succeeded (``value``: its result)."""

    value: T


def form_error(
    form: FlaskForm,
    exc: DomainError,
    default: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> None:
    """Put a domain error beside the field it names (and naming it: :func:`tracker.forms.named`).

    ``exc.field`` may be dotted (``thresholds.frozen_s`` → ``frozen_s``) or
    renamed by ``aliases`` (``weekly_hours`` → ``hours_0``); without such a
    field the message goes beside ``default``, else to the form's own errors.
    """
    name = (aliases or {}).get(exc.field or "", exc.field or "")
    target = getattr(form, name.split(".")[-1], None) if name else None
    if target is None or not hasattr(target, "errors"):
        target = getattr(form, default, None) if default else None
    if target is None or not hasattr(target, "errors"):
        form.form_errors.append(exc.message)
        return
    target.errors = [*target.errors, named(target, exc.message)]


def submit(
    form: FlaskForm,
    action: Callable[[], T],
    *,
    default: str | None = None,
    aliases: Mapping[str, str] | None = None,
    on_error: Callable[[DomainError], None] | None = None,
) -> Done[T] | None:
    """Validate ``form`` and, if it is valid, run ``action``.

    Returns :class:`Done` on success (the boundary commits when the view
    answers with a redirect); ``None`` when the form was not submitted, was
    invalid, or the operation raised a :class:`DomainError` — then the session
    is rolled back and the message sits beside its field (:func:`form_error`, or
    ``on_error(exc)`` for a page that shows some errors outside the form's fields).
    """
    if not form.validate_on_submit():
        return None
    try:
        return Done(action())
    except DomainError as exc:
        db.session.rollback()
        if on_error is not None:
            on_error(exc)
        else:
            form_error(form, exc, default, aliases)
        return None


def submit_or_show(
    form: FlaskForm,
    action: Callable[[], Any],
    *,
    message: str,
    to: str,
    again: Callable[[], ResponseReturnValue],
    category: str = "success",
    default: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> ResponseReturnValue:
    """The whole answer to a form posted from a record's page (a log entry, a visit, an
    end date): :func:`submit`; on success ``message`` is flashed (as ``category``) and the user sent to
    ``to``, else ``again()`` shows the page with the form and its errors. A view that
    needs the operation's result, or flashes more than one message, uses :func:`submit`.
    """
    if submit(form, action, default=default, aliases=aliases) is None:
        return again()
    flash(message, category)
    return redirect(to)


def perform(
    action: Callable[[], T], message: str | None = None, category: str = "success"
) -> Done[T] | None:
    """Run an operation that has no form to show again (delete, upload, decide, import).

    On success ``message`` is flashed and :class:`Done` returned; a
    :class:`DomainError` is rolled back, flashed as an error and ``None`` returned.
    The view redirects either way.
    """
    try:
        value = action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return None
    if message:
        flash(message, category)
    return Done(value)


def form_status(form: FlaskForm) -> int:
    """422 when the form carries errors (the page is shown again to fix them), else 200."""
    return 422 if form.errors else 200


def render_form(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """The page of ``form`` (``template`` with ``form=form`` and ``context``), with
    :func:`form_status`: 422 when it is shown again to fix its errors."""
    return render_template(template, form=form, **context), form_status(form)


def paginate(stmt: Any) -> Any:
    """One page of ``stmt`` (Flask-SQLAlchemy's ``db.paginate``): ``?page=`` of the request,
    ``[tracker] per_page`` rows, page 1 for a bad page number. Render it with the
    ``pager`` macro of ``_macros.html``, which keeps the request's filters in its links.
    ``stmt`` selects one entity (the pagination yields scalars)."""
    per_page = current_settings().tracker.per_page
    return db.paginate(stmt, per_page=per_page, error_out=False)


# An id no table reaches (past the 32-bit range the ids are guarded to, tracker.validation).
_PROBE = 918273645546372819


class UrlPattern:
    """``url_for(endpoint, **{arg: id}, **values)`` for the many ids of a list, built once.

    A list page links every row (``url_for('trainings.register', region_id=r.id,
    year=year)`` 200 times); the links differ only in one integer path argument, so
    the URL is built once with a probe id and the row's id put in its place — the same
    text ``url_for`` gives (Werkzeug writes an ``<int:>`` argument as its decimal
    digits). Anything else (not a plain non-negative int, a probe that does not appear
    exactly once) is built by ``url_for``. In templates: ``url_pattern(endpoint, arg,
    **values)``, then ``{{ link(row.id) }}``.
    """

    def __init__(self, endpoint: str, arg: str, **values: Any) -> None:
        self.endpoint, self.arg, self.values = endpoint, arg, values
        probe_values: dict[str, Any] = {**values, arg: _PROBE}
        probe = url_for(endpoint, **probe_values)
        digits = str(_PROBE)
        head, _sep, tail = probe.partition(digits)
        self.parts = (head, tail) if probe.count(digits) == 1 else None

    def __call__(self, value: Any) -> str:
        if self.parts is None or type(value) is not int or value < 0:
            row_values: dict[str, Any] = {**self.values, self.arg: value}
            return url_for(self.endpoint, **row_values)
        return f"{self.parts[0]}{value}{self.parts[1]}"


def back(default: str = "main.home") -> ResponseReturnValue:
    """Redirect to the page the user came from (same host only)."""
    target = request.referrer or ""
    if not target.startswith(request.host_url):
        target = url_for(default)
    return redirect(target)


def init_app(app: Flask) -> None:
    """Error handlers of the boundary: a domain error no view caught, or a unique rule that
    lost a race, goes back to the form's page with a message (the API answers JSON)."""
    app.jinja_env.globals["url_pattern"] = UrlPattern

    @app.errorhandler(IntegrityError)
    def _conflict(exc: IntegrityError) -> ResponseReturnValue:
        """A unique rule lost a race with a concurrent request (double submit): save nothing."""
        db.session.rollback()
        if request.blueprint == "api":
            from tracker.api.core import CONFLICT_MESSAGE, ApiError

            return ApiError(409, CONFLICT_MESSAGE).response()
        flash(_("数据已被同时修改或重复提交，未保存。请检查后重试。"), "warning")
        return back()

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> ResponseReturnValue:
        db.session.rollback()
        if request.blueprint == "api":
            from tracker.api.core import ApiError

            return ApiError.of(exc).response()
        flash(exc.message, "danger")
        return back()
