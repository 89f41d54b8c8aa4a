"""Password and token hashing; the security headers of every response.

Passwords: argon2id (argon2-cffi). Tokens (personal API tokens and station
tokens) are random 32-byte secrets; only their SHA-256 is stored — a token has
enough entropy that a slow hash adds nothing, and a fast lookup by hash lets
every API request authenticate with one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tracker.pagecache import LRU, Entry

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so a login for an
# unknown name costs the same time as one for a known name.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A new random token, e.g. ``vt_3kF…`` (prefix says what kind it is)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- response headers

# No inline script anywhere (page behaviour lives in static/js, wired by data
# attributes); inline styles stay allowed for the SVG charts and print layouts.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
_DEFAULT_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed session cookie, verified once per process for each cookie value.

    Every request of a signed-in user sends the same cookie until its session changes;
    verifying its signature and decoding it again cost about a tenth of a cached page.
    A cookie value verified before (the same bytes, under the same keys) is taken from a
    small :class:`tracker.pagecache.LRU` — still refused once older than the session
    lifetime, by itsdangerous's own rule. Only sessions of plain values are kept (each
    request gets its own copy of them), and the signing serializer is built once per set
    of keys.
    """

    KEPT_BYTES = 1 << 20  # of cookie values: a few thousand signed-in browsers

    def __init__(self) -> None:
        self._serializer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None
        self._verified = LRU(self.KEPT_BYTES)

    @staticmethod
    def _keys(app: Flask) -> tuple[Any, ...]:
        return (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = self._keys(app)
        kept = self._serializer
        if kept is None or kept[0] != keys:
            kept = self._serializer = (keys, super().get_signing_serializer(app))
        return kept[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (self._keys(app), value)
        found = self._verified.get(key)
        if found is not None:
            data, signed_at = found.value
            if 0 <= int(time.time()) - signed_at <= max_age:  # itsdangerous's age check
                return self.session_class(data)  # a copy: a request may change it
            self._verified.discard(key)
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(isinstance(v, str | int | float | bool | None) for v in data.values()):
            kept = (data, int(signed.timestamp()))
            self._verified.put(key, Entry(kept, versions=(), size=len(value)))
        return self.session_class(data)


CSRF_TOKENS = "tracker_csrf_tokens"  # app.extensions: the signed tokens kept


def csrf_token() -> str:
    """Flask-WTF's CSRF token of this request (``generate_csrf``), signed once per process
    for each session's CSRF secret: the ``csrf_token()`` of every template (a form built
    in a view signs its own through Flask-WTF, and templates then reuse that one).

    The token is the session's random secret signed with a timestamp; signing it again
    on every page costs about a seventh of a cached page. Tokens here never expire by
    age (``WTF_CSRF_TIME_LIMIT = None``: the session's lifetime bounds them), so a token
    signed earlier for the same secret under the same key validates exactly as a fresh
    one; with a time limit configured, every request signs its own.
    """
    field = current_app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    if field in g:
        return str(g.get(field))
    secret = session.get(field)
    if not isinstance(secret, str) or current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return str(generate_csrf())  # a new session's first secret, or tokens that age
    kept: LRU = current_app.extensions[CSRF_TOKENS]
    key = (current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, secret)
    found = kept.get(key)
    if found is not None:
        setattr(g, field, found.value)  # where generate_csrf looks first
        return str(found.value)
    token = str(generate_csrf())
    if session.get(field) == secret:  # not a secret generate_csrf had to replace
        kept.put(key, Entry(token, versions=(), size=len(token) + len(secret)))
    return token


_CSRF_CONTEXT = {"csrf_token": csrf_token}


def init_app(app: Flask) -> None:
    """The session cookie (:class:`CookieSessions`); the CSRF token (:func:`csrf_token`,
    after Flask-WTF's ``init_app``); security headers on every response (one
    after-request hook).

    - CSP as above, unless the view set its own (a PDF download's sandbox);
    - ``nosniff``, ``Referrer-Policy: same-origin``, no framing;
    - ``Cache-Control: no-store`` on everything but static files: pages, API
      answers and exports show ID numbers and phones, and must not stay in a
      shared office PC's cache or a proxy;
    - HSTS when cookies are HTTPS-only (``session_cookie_secure``/production).
    """
    app.session_interface = CookieSessions()
    app.extensions[CSRF_TOKENS] = LRU(256 * 1024)
    # Flask-WTF gives templates its generate_csrf both as a global and by a context
    # processor; this one runs after it, and so wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: _CSRF_CONTEXT)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # Each header unless the view set its own; the names present read once (a
        # werkzeug setdefault of an absent header raises and catches a KeyError).
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        for name, value in _DEFAULT_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if request.endpoint != "static" and "cache-control" not in present:
            headers.add("Cache-Control", "no-store")
        if app.config.get("SESSION_COOKIE_SECURE") and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", HSTS)
        return response
