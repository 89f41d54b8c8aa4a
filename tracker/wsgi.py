"""WSGI entry point for gunicorn: ``gunicorn tracker.wsgi:app``.

Refuses to start on a missing or demo ``secret_key``/``camera_key`` (the
error names the key and ``tracker generate-secrets``); files it creates are
owner-only.
"""

import os

from tracker import create_app
from tracker.config import require_deployment_keys

os.umask(0o077)
app = create_app()
require_deployment_keys(app.config["SETTINGS"])
