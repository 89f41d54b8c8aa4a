"""Language and time zone: Chinese by default, English on request.

How translation works here (see docs/conventions.md, "Translations"):

- The Chinese text *is* the message id: templates say ``{{ _('党员名册') }}``,
  Python says ``gettext("已保存。")`` / ``lazy_gettext("姓名")``. With the
  default locale ``zh_CN`` no catalog is consulted and the text shows as written,
  so a missing translation can never blank out the Chinese UI.
- English lives in ``tracker/translations/en/LC_MESSAGES/messages.po``. The
  ``.po`` file is read directly (parsed with Babel and cached per file
  modification time) instead of a compiled ``.mo``: there is no build step to
  forget, nothing binary in git, and an edited ``.po`` shows up on the next
  request. An English msgstr that is empty falls back to the Chinese msgid.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import current_app, has_request_context, request, session
from flask_babel import Domain, get_locale
from flask_login import current_user

from tracker.extensions import babel

LANGUAGES = {"zh_CN": "中文", "en": "English"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_cache: dict[str, tuple[float, Translations]] = {}


def po_path(locale: str, directory: Path = TRANSLATIONS_DIR) -> Path:
    return directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_po(path: Path) -> Translations:
    """A gettext catalog built in memory from a ``.po`` file (cached by mtime)."""
    key = str(path)
    mtime = os.path.getmtime(path)
    hit = _cache.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    with path.open("rb") as fh:
        catalog = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    translations = Translations(fp=buf, domain=DOMAIN)
    _cache[key] = (mtime, translations)
    return translations


def translations_for(locale: str) -> Translations | NullTranslations:
    """The catalog of ``locale`` (language fallback ``en_US`` → ``en``), or none."""
    for candidate in (locale, locale.split("_")[0]):
        path = po_path(candidate)
        if path.exists():
            return load_po(path)
    return NullTranslations()


class PoDomain(Domain):
    """Flask-Babel's domain, reading ``.po`` files instead of compiled ``.mo``."""

    def get_translations(self) -> Any:
        locale = get_locale()
        if locale is None or locale.language == "zh":
            return NullTranslations()  # Chinese is the source text
        return translations_for(str(locale))


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
        if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
            return str(current_user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])
