"""Stream URLs as cameras print them, and credential redaction.

Camera web pages show a stream URL with the password as typed:
``rtsp://admin:p@ss/w#rd@10.0.0.8:554/ch1`` — raw ``@``, ``/``, ``#`` and ``%``
included. :func:`parse_stream_url` reads such a URL the way a person does (the
host is what follows the *last* ``@`` that is followed by a host), and
:func:`canonical_url` writes it back percent-encoded for FFmpeg. A URL that
cannot be read unambiguously raises :class:`StreamUrlError` with a message
saying how to write it.

Every log line, error message and metric label goes through :func:`redact`,
which masks any userinfo whatever it contains (the same rule finds it), secret
query parameters (``?user=..&password=..``, as several NVR brands use) and
bearer tokens; a caller that knows the password passes it too, so even a
library's message that quotes the bare password is masked.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "***"

_SCHEME = re.compile(r"\b(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://")
# what may follow the userinfo's final "@": host (name, IPv4, [IPv6]), optional port,
# then the path, query or the end of the URL
_HOST_AFTER_AT = re.compile(r"@(?=(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?(?:[/?]|$))")
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&;](?:user(?:name)?|pass(?:word)?|pwd|token|auth|key|secret)=)(?P<value>[^&\s#'\"]*)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<key>Bearer\s+)(?P<value>[A-Za-z0-9._~+/=-]+)")
_TOKEN_END = re.compile(r"[\s'\"<>]")
# characters people percent-encode in a password; any other "%" is taken literally
_ENCODED_SPECIAL = re.compile(r"%(2[0-9A-Fa-f]|3[A-Fa-f]|40|5[BbDd]|7[BbDd])")


class StreamUrlError(ValueError):
    """A stream URL that cannot be used; the message says what is wrong and how to write it."""


@dataclass(frozen=True)
class StreamUrl:
    """A stream URL split the way a camera's web page means it."""

    scheme: str
    username: str | None
    password: str | None
    hostport: str
    rest: str
    """Path and query (everything after the host), as given."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in any output: the password in every spelling."""
        if not self.password:
            return ()
        p = self.password
        forms = {p, urllib.parse.quote(p, safe=""), urllib.parse.quote(p)}
        return tuple(sorted((f for f in forms if len(f) >= 3), key=len, reverse=True))

    def without_userinfo(self) -> str:
        """The URL with no credentials (for HTTP clients that take them separately)."""
        return f"{self.scheme}://{self.hostport}{self.rest}"

    def canonical(self) -> str:
        """The URL with the credentials percent-encoded (what FFmpeg needs)."""
        if self.username is None:
            return self.without_userinfo()
        user = urllib.parse.quote(self.username, safe="")
        cred = (
            user
            if self.password is None
            else f"{user}:{urllib.parse.quote(self.password, safe='')}"
        )
        return f"{self.scheme}://{cred}@{self.hostport}{self.rest}"


def _decode(part: str) -> str:
    """Undo only the percent-encoding people use for special characters (``%40`` → ``@``)."""
    return _ENCODED_SPECIAL.sub(lambda m: chr(int(m.group(1), 16)), part)


def _userinfo_end(url: str, start: int) -> int:
    """Index of the ``@`` that ends the userinfo of the authority starting at ``start``, or -1."""
    end = -1
    for m in _HOST_AFTER_AT.finditer(url, start):
        end = m.start()
    return end


def parse_stream_url(url: str) -> StreamUrl:
    """Split ``url`` into scheme, credentials, host and the rest (raises :class:`StreamUrlError`).

    Files and device paths (no ``scheme://``) are returned with ``scheme=""``.
    """
    url = url.strip()
    m = _SCHEME.match(url)
    if m is None:
        return StreamUrl("", None, None, "", url)
    scheme = m.group("scheme").lower()
    start = m.end()
    at = _userinfo_end(url, start)
    userinfo = url[start:at] if at >= 0 else None
    after = url[at + 1 :] if at >= 0 else url[start:]
    if userinfo is None and "@" in after.split("/", 1)[0]:
        raise StreamUrlError(
            "地址中的“@”后面不是主机名（Cannot find the camera's host after the last '@'）；"
            "请写成 rtsp://用户名:密码@主机:端口/路径"
        )
    host_end = len(after)
    for sep in "/?":
        i = after.find(sep)
        if i >= 0:
            host_end = min(host_end, i)
    hostport, rest = after[:host_end], after[host_end:]
    if "#" in hostport or "#" in rest:
        raise StreamUrlError(
            "地址的主机或路径中有“#”（a '#' outside the password）；摄像机地址没有“#”片段，"
            "密码里的“#”可以原样写，或写成 %23"
        )
    if not hostport:
        raise StreamUrlError("地址缺少主机名（no host）；请写成 rtsp://用户名:密码@主机:端口/路径")
    port = hostport.rpartition(":")[2] if ":" in hostport.rpartition("]")[2] else ""
    if port and not port.isdigit():
        raise StreamUrlError(
            "主机后的端口不是数字（the port must be a number）；"
            "密码中的“:”“@”“/”可以原样写，主机后只能是“:端口”"
        )
    if port and not 0 < int(port) < 65536:
        raise StreamUrlError(f"端口 {port} 超出范围（port out of range）")
    username = password = None
    if userinfo is not None:
        user, colon, pw = userinfo.partition(":")
        username = _decode(user)
        password = _decode(pw) if colon else None
    return StreamUrl(scheme, username, password, hostport, rest)


def canonical_url(url: str) -> str:
    """``url`` with its credentials percent-encoded, as FFmpeg and HTTP clients need it."""
    parsed = parse_stream_url(url)
    return parsed.canonical() if parsed.scheme else parsed.rest


def _mask_userinfo(s: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _SCHEME.finditer(s):
        if m.start() < pos:
            continue
        start = m.end()
        token_end = _TOKEN_END.search(s, start)
        stop = token_end.start() if token_end else len(s)
        at = _userinfo_end(s[:stop], start)
        if at < 0:
            # no host after an "@": still mask an authority-looking "x@" up to the first "/"
            first = s.find("@", start, stop)
            slash = s.find("/", start, stop)
            if first < 0 or (0 <= slash < first):
                continue
            at = first
        out.append(s[pos:start] + MASK)
        pos = at
    out.append(s[pos:])
    return "".join(out)


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """``text`` as a string with URL credentials, secret query values, bearer tokens and ``secrets`` masked."""
    s = str(text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            s = s.replace(secret, MASK)
    s = _mask_userinfo(s)
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
