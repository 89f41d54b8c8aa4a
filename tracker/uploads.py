"""Uploaded files: what they really are, how they are served, and none left behind.

**What a file is.** :func:`sniff` recognises JPEG, PNG and PDF by walking the
file's structure to its end, not by its first bytes: a JPEG header in front of
an HTML page, a PNG with a broken chunk or bytes after its end, a "PDF"
without its end-of-file marker are refused. (An image is not decoded pixel by
pixel; the structure is what decides how a browser treats the bytes.)

**How it is served.** :func:`serve_headers` sets ``X-Content-Type-Options:
nosniff`` (the browser keeps to the declared type) and a Content-Security-
Policy that allows nothing active; a PDF additionally gets ``sandbox`` and is
always a download (``Content-Disposition: attachment``), so a crafted PDF
never runs script in the tracker's origin.

**None left behind.** Files are stored by hash before the database row that
names them is committed. :func:`written` records a file that this transaction
created; if the transaction rolls back (a refused meeting, a failed flush),
the file is deleted again. Register the listener once with :func:`init_app`.
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from pathlib import Path
from typing import Any

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.orm import Session

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf"}
CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers without a length field (RSTn, SOI, EOI, TEM).
_STANDALONE = {0x01, *range(0xD0, 0xD8), 0xD8, 0xD9}


def _jpeg_ok(data: bytes) -> bool:
    """SOI, length-prefixed segments up to start-of-scan, entropy-coded data, EOI at the end."""
    if not data.startswith(b"\xff\xd8"):
        return False
    i, n = 2, len(data)
    while i < n:
        if data[i] != 0xFF:
            return False
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return False
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI: only padding may follow
            return not data[i:].strip(b"\x00")
        if marker in _STANDALONE:
            continue
        if i + 2 > n:
            return False
        (length,) = struct.unpack(">H", data[i : i + 2])
        if length < 2 or i + length > n:
            return False
        i += length
        if marker == 0xDA:  # SOS: scan data until the next marker that is not a stuffed byte
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return False
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    i = j + 1 if following == 0xFF else j + 2
                    continue
                i = j
                break
    return False


def _png_ok(data: bytes) -> bool:
    """Signature, then chunks with valid CRCs from IHDR to IEND, nothing after."""
    if not data.startswith(PNG_SIGNATURE):
        return False
    i, n, first = len(PNG_SIGNATURE), len(data), True
    while i + 12 <= n:
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > n or (first and kind != b"IHDR"):
            return False
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[i + 4 : end - 4]) != crc:
            return False
        first = False
        i = end
        if kind == b"IEND":
            return i == n
    return False


def _pdf_ok(data: bytes) -> bool:
    """``%PDF-1.x`` header and the ``%%EOF`` marker at the end (trailing whitespace allowed)."""
    return data[:8].startswith(b"%PDF-") and b"%%EOF" in data[-1024:]


_CHECKS = ((JPEG, _jpeg_ok), (PNG, _png_ok), (PDF, _pdf_ok))


def sniff(data: bytes, allowed: tuple[str, ...] = (JPEG, PNG, PDF)) -> str | None:
    """The content type of ``data`` when it is a whole, well-formed file of an allowed type."""
    for content_type, ok in _CHECKS:
        if content_type in allowed and ok(data):
            return content_type
    return None


def serve_headers(resp: Response, content_type: str, filename: str | None = None) -> Response:
    """Headers for serving an uploaded file: nosniff, no active content, PDFs as downloads."""
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if content_type == PDF:
        resp.headers["Content-Security-Policy"] = "sandbox; " + CSP
        if filename is not None:
            from tracker.xlsx import content_disposition

            resp.headers["Content-Disposition"] = content_disposition(filename)
    else:
        resp.headers["Content-Security-Policy"] = CSP
    return resp


def written(session: Session, path: Path) -> None:
    """Remember that this transaction created ``path`` (deleted again on rollback)."""
    session.info.setdefault("new_files", []).append(path)


def _forget(session: Session, *_: Any) -> None:
    session.info.pop("new_files", None)


def _remove(session: Session, *_: Any) -> None:
    for path in session.info.pop("new_files", []):
        with contextlib.suppress(OSError):
            path.unlink()


_installed = False


def init_app(app: Flask) -> None:
    """Delete files written by a transaction that rolls back (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_rollback", _remove)
    _installed = True
