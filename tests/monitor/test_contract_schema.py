"""The monitor's messages against docs/contract.schema.json (the tracker's models, as data).

The real daemon's traffic is checked in ``test_daemon.py`` (the contract stub
validates everything it receives); here the item builders, and the schema's
own teeth: what the contract forbids must fail.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.outbox import utc_iso
from monitor.scheduler import state_item
from monitor.states import StateChange

from .contract_schema import violations
from .test_delivery import CAMERA, check

AT = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def test_the_monitors_state_items_conform() -> None:
    for state, cause in (("down", "frozen"), ("up", None), ("unknown", None)):
        item = state_item(StateChange(camera_id=17, state=state, cause=cause, at=AT))
        assert violations("ReportItem", item) == []
    batch = {"sent_at": utc_iso(), "items": [state_item(StateChange(17, "up", None, AT))]}
    assert violations("ReportBatch", batch) == []


def test_the_schema_refuses_what_the_contract_forbids() -> None:
    down = state_item(StateChange(camera_id=17, state="down", cause="black", at=AT))
    assert violations("ReportItem", dict(down, cause=None))  # a down needs its cause
    assert violations("ReportItem", dict(down, at="2026-11-26T01:00:00"))  # no offset
    assert violations("ReportItem", dict(down, type="guess"))
    too_many = dict(check(), measurements={f"k{i}": 1 for i in range(41)})
    assert violations("ReportItem", too_many)
    assert violations("ReportItem", dict(check(), verdict="sleepy"))
    assert violations("Heartbeat", {"uuid": "not-a-uuid", "at": utc_iso()})
    assert violations("ReportBatch", {"items": [{}] * 501})


def test_the_stubs_camera_document_is_the_contracts() -> None:
    doc = {"station": {"id": 3, "name": "测试机房"}, "generated_at": "2026-11-26T01:00:00Z",
           "heartbeat_interval_s": 60, "cameras": [CAMERA]}  # fmt: skip
    assert violations("StationCameras", doc) == []
