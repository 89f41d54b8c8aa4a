"""The pages anyone may open without an account — the applicant's page of a matter
(受理回执 QR code) and a seconded cadre's 周报公示 — share one flood limit; the public
complaint form counts its sender's complaints by the same :func:`sender_hash`.

A request counts under its page's name and a keyed hash of the sender's address
(:func:`sender_hash`: enough to count floods, never the address itself), in the
database, so every web process sees the same count. Each page has its own limit per
10 minutes in ``config.toml`` (``[matters] public_requests_per_10_minutes``,
``[rules] secondment_publication_per_10_minutes``). The address is the proxy-corrected
``request.remote_addr`` (``[tracker] trusted_proxies``).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError

from tracker.extensions import db
from tracker.models.base import utcnow
from tracker.models.public import PublicHit
from tracker.transactions import write_intent

WINDOW = timedelta(minutes=10)
KEEP = timedelta(days=1)


def sender_hash() -> str:
    """Keyed hash of the request's sender address."""
    key = current_app.config["SECRET_KEY"]
    addr = request.remote_addr or ""
    return hashlib.sha256(f"{key}|{addr}".encode()).hexdigest()


def over_limit(page: str, per_window: int) -> bool:
    """Count this request to ``page``; ``True`` when its sender is over ``per_window``
    requests in the last 10 minutes.

    Call it first thing in the view: it ends the request's read transaction and counts
    in a short transaction of its own (every request counts, refused ones and reads
    too, or the limit would never engage). Best effort: a lock held past the busy
    timeout lets this request through rather than fail it.
    """
    sender = sender_hash()
    now = utcnow()
    db.session.commit()  # nothing is pending this early in the request
    try:
        with write_intent():
            recent = db.session.scalar(
                select(func.count(PublicHit.id)).where(
                    PublicHit.page == page,
                    PublicHit.sender_hash == sender,
                    PublicHit.at > now - WINDOW,
                )
            )
            db.session.execute(delete(PublicHit).where(PublicHit.at < now - KEEP))
            db.session.add(PublicHit(page=page, sender_hash=sender, at=now))
            db.session.commit()
    except OperationalError:
        db.session.rollback()
        return False
    return int(recent or 0) >= per_window
