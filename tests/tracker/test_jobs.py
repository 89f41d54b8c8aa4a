"""The jobs process: one instance at a time, each run commits or rolls back whole."""

import threading
import time

from tracker.jobs import Job, run_job, single_instance


def test_a_failing_job_is_rolled_back_and_reported(app):
    calls = []

    def boom() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    assert run_job(app, Job("boom", boom, "interval", {"minutes": 1})) is False
    assert calls == [1]


def test_a_second_jobs_process_waits_for_the_lock(app_factory, tmp_path):
    app = app_factory(INSTANCE_DIR=str(tmp_path))
    poll = 0.05
    order: list[str] = []
    release = threading.Event()

    def first() -> None:
        with single_instance(app, poll_s=poll):
            order.append("first-in")
            release.wait(5)
            order.append("first-out")

    def second() -> None:
        with single_instance(app, poll_s=poll):
            order.append("second-in")

    t1 = threading.Thread(target=first)
    t1.start()
    while "first-in" not in order:
        time.sleep(0.01)
    t2 = threading.Thread(target=second)
    t2.start()
    time.sleep(0.3)
    assert order == ["first-in"]  # the second copy idles while the first holds the lock
    release.set()
    t1.join(5)
    t2.join(5)
    assert order == ["first-in", "first-out", "second-in"]
