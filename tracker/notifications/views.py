"""The inbox page (站内通知); the navbar's unread badge is ``services.unread_badge``."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.notifications import services
from tracker.notifications.models import Notification
from tracker.web import own_account

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("/")
@login_required
def inbox() -> ResponseReturnValue:
    """The user's messages, newest first (``?unread=1`` for unread only)."""
    unread_only = request.args.get("unread") == "1"
    notes = services.inbox(current_user.id, unread_only=unread_only)
    return render_template("notifications/inbox.html", notes=notes, unread_only=unread_only)


@bp.route("/<int:note_id>/open", methods=["POST"])
@own_account
@login_required
def open_note(note_id: int) -> ResponseReturnValue:
    """Mark a message read and follow its link (only to our own pages)."""
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    services.mark_read(current_user.id, note.id)
    target = note.url if note.url.startswith("/") and not note.url.startswith("//") else ""
    return redirect(target or url_for("notifications.inbox"))


@bp.route("/read-all", methods=["POST"])
@own_account
@login_required
def read_all() -> ResponseReturnValue:
    services.mark_read(current_user.id)
    return redirect(url_for("notifications.inbox"))
