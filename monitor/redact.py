"""Credential redaction for stream URLs.

Camera stream URLs carry ``user:password@`` (and sometimes ``?user=..&password=..``
query parameters, as several NVR brands use). Every log line, error message and
metric label goes through :func:`redact` so a credential never leaves the process
except towards the camera itself.
"""

from __future__ import annotations

import logging
import re

# scheme://user:pass@host  or  scheme://user@host
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
# ?password=secret / &pwd=secret / token=...
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&;](?:user(?:name)?|pass(?:word)?|pwd|token|auth|key|secret)=)(?P<value>[^&\s#'\"]*)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<key>Bearer\s+)(?P<value>[A-Za-z0-9._~+/=-]+)")

MASK = "***"


def redact(text: object) -> str:
    """Return ``text`` as a string with URL credentials, secret query values and bearer tokens masked."""
    s = str(text)
    s = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", s)
    s = _QUERY_SECRET.sub(lambda m: f"{m.group('key')}{MASK}", s)
    s = _BEARER.sub(lambda m: f"{m.group('key')}{MASK}", s)
    return s


class RedactingFilter(logging.Filter):
    """Logging filter that renders each record's message and masks credentials in it.

    Installed on the root handler by the CLI, so even a third-party library that
    logs a URL (requests, urllib3, APScheduler job reprs) cannot leak one.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its redacted rendering; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_redaction(handler: logging.Handler) -> None:
    """Attach a :class:`RedactingFilter` to ``handler``."""
    handler.addFilter(RedactingFilter())
