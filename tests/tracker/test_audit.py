"""Every write to an audited model leaves who/when/what/before/after in the audit log."""

from sqlalchemy import select

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
    assert all("password_hash" not in (r.after or {}) for r in rows)


def test_inserts_are_logged_with_their_new_id(world, db):
    from tracker.org.services import add_member

    member = add_member(world.branch(world.village_a1a), "新党员")
    row = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "member", AuditLog.action == "insert")
        .order_by(AuditLog.id.desc())
    ).first()
    assert row is not None and row.entity_id == str(member.id)
