"""Every write to an audited model leaves who/when/what/before/after in the audit log."""

from sqlalchemy import func, select

from tracker.audit import AUDITED, set_actor
from tracker.models import AuditLog, Member


def test_organisation_models_are_audited():
    from tracker.models import Branch, Region, User

    assert {Member, Branch, Region, User} <= AUDITED


def test_insert_update_delete_are_logged_with_before_and_after(world, db):
    set_actor(world.users["town_a1_editor"].id, "web")
    member = world.members[world.village_a1a.id][0]
    member.phone = "13900009999"
    db.session.flush()
    row = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "member", AuditLog.entity_id == str(member.id))
        .order_by(AuditLog.id.desc())
    ).first()
    assert row is not None
    assert row.action == "update"
    assert row.before == {"phone": "13800001234"}
    assert row.after == {"phone": "13900009999"}
    assert row.actor_id == world.users["town_a1_editor"].id
    assert row.channel == "web"
    assert row.region_id == world.village_a1a.id


def test_secret_columns_never_reach_the_log(world, db):

    user = world.users["town_a1_editor"]
    user.password_hash = "$argon2id$changed"
    db.session.flush()
    rows = db.session.scalars(select(AuditLog).where(AuditLog.entity == "user_account")).all()
    assert all("argon2" not in str(r.after) + str(r.before) for r in rows)
    # The change itself is logged (a password was changed), never the value.
    updates = [r for r in rows if r.action == "update" and r.entity_id == str(user.id)]
    assert updates[-1].after == {"password_hash": "（已更改，不显示）"}


def test_no_op_saves_and_login_times_are_not_logged(world, db):
    from tracker.models import utcnow

    user = world.users["town_a1_editor"]
    member = world.members[world.village_a1a.id][0]
    before = db.session.scalar(select(func.count(AuditLog.id)))
    user.last_login_at = utcnow()  # a login
    member.phone = member.phone  # a save that changes nothing
    member.note = (member.note or "") + ""
    db.session.flush()
    assert db.session.scalar(select(func.count(AuditLog.id))) == before


def test_saving_a_camera_without_changing_its_url_logs_nothing(world, db):
    from tracker.halls import services

    hall = services.create_hall(world.village_a1a, services.HallData(name="审计大厅"))
    cam = services.create_camera(
        hall, services.CameraData(name="全景", stream_url="rtsp://u:p@10.0.0.1/1")
    )
    db.session.flush()
    before = db.session.scalar(select(func.count(AuditLog.id)))
    services.update_camera(
        cam, services.CameraData(name="全景", stream_url="rtsp://u:p@10.0.0.1/1")
    )
    assert db.session.scalar(select(func.count(AuditLog.id))) == before
    services.update_camera(
        cam, services.CameraData(name="全景", stream_url="rtsp://u:new@10.0.0.1/1")
    )
    row = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert row is not None and row.entity == "camera"
    assert row.after == {"stream_url_encrypted": "（已更改，不显示）"}


def test_the_audit_page_names_fields_values_and_objects_in_chinese(world, db, login):
    from tracker.audit import set_actor
    from tracker.halls import services

    set_actor(world.users["county_a_admin"].id, "web")
    hall = services.create_hall(world.village_a1a, services.HallData(name="审计大厅"))
    services.create_camera(hall, services.CameraData(name="大厅全景", stream_url="rtsp://h/1"))
    member = world.members[world.village_a1a.id][0]
    member.phone = "13900009999"
    db.session.flush()
    html = login(world.users["county_a_admin"]).get("/org/audit").get_data(as_text=True)
    assert "摄像头「大厅全景」" in html and "服务大厅「审计大厅」" in html
    assert "电话" in html and "13900009999" in html
    assert "网页" in html
    for raw in ("camera #", "<code>phone</code>", "last_login_at", "check_interval_s"):
        assert raw not in html


def test_inserts_are_logged_with_their_new_id(world, db):
    from tracker.org.services import add_member

    member = add_member(world.branch(world.village_a1a), "新党员")
    row = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "member", AuditLog.action == "insert")
        .order_by(AuditLog.id.desc())
    ).first()
    assert row is not None and row.entity_id == str(member.id)
