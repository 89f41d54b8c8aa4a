"""The reference of ``web_bench.py``: a bare Flask app on the same gunicorn settings.

One route that renders a small template-free response, so its req/s is what the
server, the WSGI stack and the load generator can do at all on this machine.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "ok"
