"""`tracker verify-ledger` catches rows altered with raw SQL."""

from sqlalchemy import text

from tests.tracker.test_meeting_helpers import meeting_input, recent
from tracker.meetings import services
from tracker.meetings.services import verify_ledger
from tracker.workdays import WorkCalendar


def _two_records(world):
    branch = world.branch(world.village_a1a)
    a = services.record_meeting(
        branch, meeting_input(world, world.village_a1a, recent(3)), None, WorkCalendar()
    )
    b = services.record_meeting(
        branch,
        meeting_input(world, world.village_a1a, recent(2), kind="theme_party_day"),
        None,
        WorkCalendar(),
    )
    services.update_meeting(
        b,
        meeting_input(world, world.village_a1a, recent(2), kind="theme_party_day", place="别处"),
        None,
        WorkCalendar(),
        expected_version=1,
    )
    return branch, a, b


def test_untouched_ledger_verifies(world, db):
    branch, _, _ = _two_records(world)
    checked, problems = verify_ledger([branch.id])
    assert checked == 3 and problems == []


def test_raw_update_of_a_meeting_is_reported(world, db):
    branch, a, _ = _two_records(world)
    db.session.execute(text("UPDATE meeting SET place = '篡改' WHERE id = :id"), {"id": a.id})
    db.session.expire_all()
    _, problems = verify_ledger([branch.id])
    assert len(problems) == 1 and problems[0].meeting_id == a.id and "place" in problems[0].message


def test_raw_update_of_attendance_is_reported(world, db):
    branch, a, _ = _two_records(world)
    db.session.execute(
        text("UPDATE meeting_attendance SET present = :f WHERE meeting_id = :id"),
        {"id": a.id, "f": False},
    )
    db.session.expire_all()
    _, problems = verify_ledger([branch.id])
    assert any("attendance" in p.message for p in problems)


def test_rewriting_a_version_breaks_its_hash(world, db):
    branch, a, _ = _two_records(world)
    db.session.execute(
        text("UPDATE meeting_version SET reason = '改' WHERE meeting_id = :id"), {"id": a.id}
    )
    db.session.expire_all()
    _, problems = verify_ledger([branch.id])
    assert any("哈希" in p.message for p in problems)


def test_deleting_a_version_breaks_the_chain(world, db):
    branch, _, b = _two_records(world)
    db.session.execute(
        text("DELETE FROM meeting_version WHERE meeting_id = :id AND version = 1"), {"id": b.id}
    )
    db.session.expire_all()
    _, problems = verify_ledger([branch.id])
    assert any("链条" in p.message or "前一哈希" in p.message for p in problems)


def test_cli_exits_non_zero_on_tampering(world, db, app, monkeypatch):
    from click.testing import CliRunner

    from tracker.meetings import cli as meeting_cli

    branch, a, _ = _two_records(world)
    # The CLI builds its own app; run the command body in this test's session instead.
    monkeypatch.setattr(meeting_cli, "with_app", lambda f: f)
    import importlib

    mod = importlib.reload(meeting_cli)
    runner = CliRunner()
    ok = runner.invoke(mod.verify_ledger_cmd, [])
    assert ok.exit_code == 0, ok.output
    db.session.execute(text("UPDATE meeting SET topics = 'x' WHERE id = :id"), {"id": a.id})
    db.session.expire_all()
    bad = runner.invoke(mod.verify_ledger_cmd, [])
    assert bad.exit_code == 1
    assert "被直接改动的字段" in bad.output
    importlib.reload(meeting_cli)


def test_nightly_job_logs_tampering(world, db, caplog):
    from tracker.jobs import load_jobs

    branch, a, _ = _two_records(world)
    db.session.execute(text("UPDATE meeting SET place = '篡改' WHERE id = :id"), {"id": a.id})
    db.session.expire_all()
    job = load_jobs()["meetings_verify_ledger"]
    with caplog.at_level("INFO", logger="tracker.meetings"):
        job.func()
    assert "ledger tampering" in caplog.text
