"""Language and time zone: Chinese by default, English on request.

How translation works here (see docs/conventions.md, "Translations"):

- The Chinese text *is* the message id: templates say ``{{ _('党员名册') }}``,
  Python says ``gettext("已保存。")`` / ``lazy_gettext("姓名")``. With the
  default locale ``zh_CN`` no catalog is consulted and the text shows as written,
  so a missing translation can never blank out the Chinese UI.
- English lives in ``tracker/translations/en/LC_MESSAGES/``: ``messages.po``
  for the shared pages and one ``<package>.po`` per domain package (so two
  packages never edit one file). The files are read directly (parsed with
  Babel, merged into one catalog, cached by the files' modification times)
  instead of a compiled ``.mo``: there is no build step to forget, nothing
  binary in git, and an edited ``.po`` shows up on the next request. An English
  msgstr that is empty falls back to the Chinese msgid. A message id may appear
  in more than one file only with the same translation (a test checks it).
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Domain, get_locale
from flask_babel import get_translations as babel_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from tracker.extensions import babel

LANGUAGES = {"zh_CN": "中文", "en": "English"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_cache: dict[tuple[tuple[str, float], ...], Translations] = {}
_NULL = NullTranslations()


def po_path(locale: str, directory: Path = TRANSLATIONS_DIR) -> Path:
    """The shared catalog file of ``locale`` (``messages.po``)."""
    return directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def po_files(locale: str, directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Every catalog file of ``locale``: ``messages.po`` first, then the packages' by name."""
    folder = directory / locale / "LC_MESSAGES"
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.po"), key=lambda p: (p.stem != DOMAIN, p.name))


def read_catalogs(paths: list[Path]) -> list[Catalog]:
    catalogs = []
    for path in paths:
        with path.open("rb") as fh:
            catalogs.append(read_po(fh))
    return catalogs


def load_po(paths: Path | list[Path]) -> Translations:
    """One gettext catalog built in memory from ``.po`` files (cached by their mtimes)."""
    files = [paths] if isinstance(paths, Path) else list(paths)
    key = tuple((str(p), os.path.getmtime(p)) for p in files)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    merged = Catalog(locale=None)
    for catalog in read_catalogs(files):
        for message in catalog:
            if message.id and message.id not in merged:
                merged[message.id] = message
    buf = io.BytesIO()
    write_mo(buf, merged, use_fuzzy=False)
    buf.seek(0)
    translations = Translations(fp=buf, domain=DOMAIN)
    _cache[key] = translations
    return translations


def translations_for(locale: str) -> Translations | NullTranslations:
    """The catalog of ``locale`` (language fallback ``en_US`` → ``en``), or none."""
    for candidate in (locale, locale.split("_")[0]):
        files = po_files(candidate)
        if files:
            return load_po(files)
    return NullTranslations()


def _babel_context() -> SimpleNamespace | None:
    """Flask-Babel's per-request namespace (``g._flask_babel``: locale, catalog), or None
    outside an app context — what ``flask_babel._get_current_context`` answers, with one
    proxy lookup instead of three (it runs on every translated string)."""
    try:
        app_g = g._get_current_object()
    except RuntimeError:
        return None
    ctx: SimpleNamespace | None = getattr(app_g, "_flask_babel", None)
    if ctx is None:
        ctx = app_g._flask_babel = SimpleNamespace()
    return ctx


class PoDomain(Domain):
    """Flask-Babel's domain, reading ``.po`` files instead of compiled ``.mo``."""

    def get_translations(self) -> Any:
        # Once per request: a page asks for its catalog on every ``_()`` (a list page
        # makes hundreds of calls). Kept where Flask-Babel keeps the request's locale,
        # so ``flask_babel.refresh()`` / ``force_locale`` drop it with the locale.
        ctx = _babel_context()
        cached = getattr(ctx, "babel_translations", None) if ctx is not None else None
        if cached is not None:
            return cached
        locale = get_locale()
        if locale is None or locale.language == "zh":
            found: Any = _NULL  # Chinese is the source text
        else:
            found = translations_for(str(locale))
        if ctx is not None:
            ctx.babel_translations = found
        return found


def _request_translations() -> Any:
    """The request's catalog: the cached one, else through Flask-Babel's domain."""
    ctx = _babel_context()
    cached = getattr(ctx, "babel_translations", None) if ctx is not None else None
    return cached if cached is not None else babel_translations()


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    """``_()`` / ``gettext()`` in templates: Jinja's new-style gettext (autoescaped
    result, always ``%``-formatted) in one call instead of three nested ones. It takes
    the evaluation context, not the context: Jinja copies the whole context for each
    call of a context function inside a loop or a block that sets variables."""
    rv = _request_translations().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


@pass_eval_context
def template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
) -> str:
    """``ngettext()`` in templates, as Jinja's new-style one (``num`` is a variable)."""
    variables.setdefault("num", num)
    rv = _request_translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


def init_app(app: Flask) -> None:
    """After ``babel.init_app``: the templates' gettext callables, same output, cheaper."""
    app.jinja_env.globals.update(
        _=template_gettext, gettext=template_gettext, ngettext=template_ngettext
    )


# The extension object is created unbound in tracker.extensions; give it our
# domain before any app uses it (Flask-Babel caches the default domain there).
babel.__dict__["domain_instance"] = PoDomain(domain=DOMAIN)


def select_locale() -> str:
    """``?lang=`` on the page, then the session's choice, the user's, the default."""
    if has_request_context():
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            session["lang"] = asked  # the choice sticks for the rest of the visit
            return str(asked)
        lang = session.get("lang")
        if lang in LANGUAGES:
            return str(lang)
        try:  # loading the user needs the database: when it is down, the default it is
            if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
                return str(current_user.locale)
        except SQLAlchemyError:
            pass
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


@functools.cache
def _parsed(code: str) -> Locale:
    return Locale.parse(code)


def request_locale() -> Locale:
    """Flask-Babel's locale selector: :func:`select_locale`, parsed once per language
    (Flask-Babel would parse the code again on every request)."""
    return _parsed(select_locale())


def select_timezone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])
