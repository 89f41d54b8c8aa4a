"""``tracker jobs``: the one process that runs scheduled work.

APScheduler runs here and only here — never inside the web app, where every
gunicorn worker would run each job again. A second ``tracker jobs`` (another
machine, a restart overlap) waits on a database lock and idles until the first
one stops: PostgreSQL advisory lock, or an exclusive lock file next to the
SQLite database.

Domain packages register jobs with :func:`scheduled_job`. Each run happens in
its own app context, with the audit actor set to ``jobs``, and commits once;
an exception is logged and rolled back, and the next run comes as scheduled.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger("tracker.jobs")

ADVISORY_LOCK_KEY = 7_220_800  # arbitrary, fixed: "the tracker jobs process"


@dataclass(frozen=True)
class Job:
    """A registered job: an id, an APScheduler trigger and the function."""

    id: str
    func: Callable[[], Any]
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    description: str = ""


JOBS: dict[str, Job] = {}


def scheduled_job(
    job_id: str, trigger: str = "interval", description: str = "", **trigger_args: Any
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register ``func`` to run on ``trigger`` (``interval`` / ``cron`` kwargs as APScheduler)."""

    def deco(func: Callable[[], Any]) -> Callable[[], Any]:
        JOBS[job_id] = Job(job_id, func, trigger, trigger_args, description or (func.__doc__ or ""))
        return func

    return deco


def load_jobs() -> dict[str, Job]:
    """Import every domain's jobs module (see :class:`tracker.domain.Domain`) so they register."""
    from tracker.domain import load_jobs as import_jobs

    import_jobs()

    return JOBS


def run_job(app: Flask, job: Job) -> bool:
    """Run one job in an app context; commit on success, roll back on error.

    A job writes, so its transactions take the SQLite write lock at ``BEGIN``
    (:func:`tracker.transactions.write_intent`), retried a bounded number of times.
    """
    from tracker.audit import set_actor
    from tracker.extensions import db
    from tracker.transactions import retry_locked, write_intent

    def attempt() -> None:
        job.func()
        db.session.commit()

    with app.app_context(), write_intent():
        set_actor(None, "jobs")
        started = time.monotonic()
        try:
            retry_locked(attempt, db.session.rollback)
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.id)
            return False
        finally:
            db.session.remove()
        log.info("job %s done in %.2fs", job.id, time.monotonic() - started)
        return True


@contextlib.contextmanager
def single_instance(app: Flask, poll_s: float = 10.0) -> Iterator[None]:
    """Hold the jobs lock for the life of this process (wait for it if taken)."""
    from sqlalchemy import create_engine, text

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        engine = create_engine(url, pool_size=1)
        conn = engine.connect()
        warned = False
        while not conn.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
        ).scalar():
            if not warned:
                log.warning("another `tracker jobs` holds the lock; waiting (idle)")
                warned = True
            conn.rollback()
            time.sleep(poll_s)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.close()
            engine.dispose()
        return
    lock_path = Path(app.config["INSTANCE_DIR"]) / "jobs.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as fh:
        warned = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not warned:
                    log.warning("another `tracker jobs` holds %s; waiting (idle)", lock_path)
                    warned = True
                time.sleep(poll_s)
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_scheduler(app: Flask, run_now: bool = False) -> None:
    """Block running every registered job on its schedule until SIGTERM/SIGINT."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    jobs = load_jobs()
    scheduler = BlockingScheduler(
        timezone=app.config["BABEL_DEFAULT_TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job in jobs.values():
        scheduler.add_job(
            run_job,
            job.trigger,
            args=[app, job],
            id=job.id,
            name=job.description,
            **job.trigger_args,
        )

    def _stop(*_: Any) -> None:
        log.info("stopping jobs scheduler")
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with single_instance(app):
        log.info("jobs: %s", ", ".join(sorted(jobs)) or "(none registered)")
        if run_now:
            for job in jobs.values():
                run_job(app, job)
        scheduler.start()
