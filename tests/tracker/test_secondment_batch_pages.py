"""Batches and selection on the organization department's pages."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db as sqla
from tracker.secondment.models import Batch, Candidate, CandidateStatus, GroupMember, Secondment


def test_the_department_runs_a_selection_on_its_pages(world, login):
    client = login(world.users["county_a_admin"])
    r = client.post(
        f"/secondment/batches/new/{world.county_a.id}", data={"year": "2026", "name": "2026年挂职"}
    )
    assert r.status_code == 302
    batch = sqla.session.scalar(select(Batch).where(Batch.region_id == world.county_a.id))
    assert batch is not None
    office = world.users["county_a_admin"].username
    r = client.post(
        f"/secondment/batches/{batch.id}/groups",
        data={"kind": "assessment_office", "name": "考核办", "members": f"周主任 主任 @{office}"},
    )
    assert r.status_code == 302
    member = sqla.session.scalar(select(GroupMember))
    assert member is not None and member.user_id == world.users["county_a_admin"].id
    for name in ("王某", "李某"):
        client.post(
            f"/secondment/batches/{batch.id}/candidates",
            data={"name": name, "sending_unit": "县财政局", "post_type": "petition"},
        )
    wang, li = sqla.session.scalars(select(Candidate).order_by(Candidate.id)).all()
    client.post(
        f"/secondment/candidates/{wang.id}/veto",
        data={"veto_reason": "受过党内警告处分", "veto_source": "县纪委", "veto_on": "2024-01-05"},
    )
    refused = client.post(f"/secondment/candidates/{li.id}/select")
    assert refused.status_code == 302 and li.status == CandidateStatus.proposed
    client.post(
        f"/secondment/candidates/{li.id}/checks",
        data={"discipline_checked_on": "2026-02-01", "legal_checked_on": "2026-02-01"},
    )
    client.post(f"/secondment/candidates/{li.id}/select")
    client.post(
        f"/secondment/batches/{batch.id}/complete", data={"selection_completed_on": "2026-03-01"}
    )
    early = client.post(
        f"/secondment/candidates/{li.id}/second",
        data={
            "region_id": world.town_a1.id,
            "receiving_unit": "镇甲一党委",
            "post": "副书记",
            "post_type": "petition",
            "start_on": "2026-02-20",
            "planned_end_on": "2027-02-20",
        },
    )
    assert early.status_code == 422 and "选拔完成日期" in early.get_data(as_text=True)
    ok = client.post(
        f"/secondment/candidates/{li.id}/second",
        data={
            "region_id": world.town_a1.id,
            "receiving_unit": "镇甲一党委",
            "post": "副书记",
            "post_type": "petition",
            "start_on": "2026-03-02",
            "planned_end_on": "2027-03-01",
            "guarantee_given": "y",
            "guarantee_on": "2026-03-01",
        },
    )
    assert ok.status_code == 302
    s = sqla.session.scalar(select(Secondment))
    assert s is not None and s.guarantee_given and s.cadre_name == "李某"
    page = client.get(f"/secondment/batches/{batch.id}").get_data(as_text=True)
    assert "一票否决" in page and "受过党内警告处分" in page and "已派出" in page


def test_a_township_editor_cannot_create_a_batch(world, login):
    client = login(world.users["town_a1_editor"])
    r = client.post(
        f"/secondment/batches/new/{world.county_a.id}", data={"year": "2026", "name": "x"}
    )
    assert r.status_code in (403, 404)
    assert sqla.session.scalar(select(Batch)) is None
