"""Flask extensions, created unbound here and bound in :func:`tracker.create_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tracker.models.base import Base

# Models derive from our own typed Base (SQLAlchemy 2.0 style); Flask-SQLAlchemy
# supplies the scoped session and engine over the same metadata.
db = SQLAlchemy(metadata=Base.metadata)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
