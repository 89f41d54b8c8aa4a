"""Flask extensions, created unbound here and bound in :func:`tracker.create_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tracker.models.base import Base
from tracker.transactions import Session

# Models derive from our own typed Base (SQLAlchemy 2.0 style); Flask-SQLAlchemy
# supplies the scoped session and engine over the same metadata; its session class
# runs read requests on PostgreSQL without a transaction until they write.
db = SQLAlchemy(metadata=Base.metadata, session_options={"class_": Session})
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
