"""The embedded database under an ordinary office's load: no request ever answers 5xx.

Real processes on a real SQLite file: gunicorn with 2 workers, ``tracker jobs``
(every job, again and again), a ``monitor run`` posting reports and
heartbeats, and 8 concurrent clients logging in, reading and writing through
the API and posting forms for 20 seconds.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.factories import PASSWORD
from tests.loadmix import drive, stack, summary

pytestmark = pytest.mark.slow


def test_gunicorn_on_sqlite_answers_no_5xx_under_concurrent_logins_reads_and_writes(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'load.db'}"
    with stack(url, tmp_path) as st:
        results = drive(st, clients=8, seconds=20, password=PASSWORD)
        figures = summary(results, 20)
        print(figures)
        engine = create_engine(url)
        with engine.connect() as conn:
            heartbeats = conn.execute(text("SELECT count(*) FROM station_heartbeat")).scalar()
            last_used = conn.execute(text("SELECT last_used_at FROM api_token")).scalar()
        engine.dispose()
    bad = [(r.kind, r.status) for r in results if r.status >= 500]
    assert not bad, f"{len(bad)} responses 5xx: {bad[:10]} (logs: {st.log_dir}) {figures}"
    by_kind = {k: [r.status for r in results if r.kind == k] for k in figures if k != "all"}
    assert set(by_kind) == {"login", "api_read", "api_write", "form_post", "page_read"}
    assert by_kind["login"].count(302) == len(by_kind["login"])  # every login succeeded
    assert by_kind["api_write"].count(201) == len(by_kind["api_write"])
    assert by_kind["form_post"].count(302) == len(by_kind["form_post"])
    assert heartbeats and heartbeats > 0  # the monitor was delivering all along
    assert last_used is not None  # a read-only client's token is seen as used


def test_a_writing_transaction_waits_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    """Connections that read, then write: under a deferred BEGIN some fail at once."""
    from tracker.transactions import write_intent

    url = f"sqlite:///{tmp_path / 'two.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE n (v INTEGER)"))
        conn.execute(text("INSERT INTO n VALUES (0)"))
    errors: list[Exception] = []

    def bump() -> None:
        try:
            with write_intent(), engine.begin() as conn:
                value = conn.execute(text("SELECT v FROM n")).scalar()
                time.sleep(0.01)  # others read meanwhile
                conn.execute(text("UPDATE n SET v = :v"), {"v": int(value or 0) + 1})
        except Exception as exc:  # noqa: BLE001  (collected and asserted on)
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        total = conn.execute(text("SELECT v FROM n")).scalar()
    engine.dispose()
    assert errors == []
    assert total == 20  # serialised: no lost update either
