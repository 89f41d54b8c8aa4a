"""Password and token hashing; the security headers of every response.

Passwords: argon2id (argon2-cffi). Tokens (personal API tokens and station
tokens) are random 32-byte secrets; only their SHA-256 is stored — a token has
enough entropy that a slow hash adds nothing, and a fast lookup by hash lets
every API request authenticate with one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, request

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


def init_app(app: Flask) -> None:
    """Security headers on every response (one after-request hook).

    - CSP as above, unless the view set its own (a PDF download's sandbox);
    - ``nosniff``, ``Referrer-Policy: same-origin``, no framing;
    - ``Cache-Control: no-store`` on everything but static files: pages, API
      answers and exports show ID numbers and phones, and must not stay in a
      shared office PC's cache or a proxy;
    - HSTS when cookies are HTTPS-only (``session_cookie_secure``/production).
    """

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static" and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
