"""docs/contract.schema.json is current, and the real station API answers conform to it."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from tests import files
from tracker.halls.cli import contract_schema_cmd
from tracker.halls.station_api import CONTRACT_SCHEMA_PATH, contract_schema_text

from .test_station_api import (
    Setup,
    auth,
    bj,
    check,
    heartbeats,
    make_setup,
    post_reports,
    state,
    uid,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stations(world: Any, db: Any) -> Setup:
    s = make_setup(world)
    db.session.commit()  # to the test's outer transaction: an API error rolls the session back
    return s


def conforms(name: str, doc: Any) -> list[str]:
    defs = json.loads((ROOT / CONTRACT_SCHEMA_PATH).read_text(encoding="utf-8"))["$defs"]
    v = Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{name}"})
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def test_the_schema_file_is_current() -> None:
    """Regenerate with `tracker contract-schema` after changing the station API's models."""
    assert (ROOT / CONTRACT_SCHEMA_PATH).read_text(encoding="utf-8") == contract_schema_text()
    Draft202012Validator.check_schema(json.loads(contract_schema_text()))


def test_the_command_writes_and_checks_the_file(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    runner = CliRunner()
    assert runner.invoke(contract_schema_cmd, ["--check", "-o", str(out)]).exit_code == 1
    assert runner.invoke(contract_schema_cmd, ["-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == contract_schema_text()
    assert runner.invoke(contract_schema_cmd, ["--check", "-o", str(out)]).exit_code == 0
    out.write_text(out.read_text().replace('"ReportItem"', '"Old"'), encoding="utf-8")
    assert runner.invoke(contract_schema_cmd, ["--check", "-o", str(out)]).exit_code == 1


def test_real_station_answers_conform(client: Any, stations: Setup) -> None:
    s = stations
    cams = client.get("/api/v1/station/cameras", headers=auth(s.token))
    assert cams.status_code == 200 and conforms("StationCameras", cams.json) == []

    items = [state(s.cam1, "08:00", "down", "black"), check(s.cam1, "08:01")]
    assert conforms("ReportBatch", {"sent_at": bj("08:02"), "items": items}) == []
    answer = post_reports(client, s.token, [*items, check(s.other_cam, "08:01")])
    assert answer.json["rejected"] and conforms("ReportAnswer", answer.json) == []

    hb = heartbeats("08:00", "08:01")[0]
    assert conforms("Heartbeat", hb) == []
    resp = client.post("/api/v1/station/heartbeat", json=hb, headers=auth(s.token))
    assert conforms("HeartbeatAnswer", resp.json) == []

    jpeg = files.jpeg(b"2" * 64)
    fields = {"uuid": uid(), "camera_id": s.cam1.id, "taken_at": bj("08:30"),
              "reason": "opening", "sha256": hashlib.sha256(jpeg).hexdigest()}  # fmt: skip
    assert conforms("SnapshotForm", fields) == []
    resp = client.post(
        "/api/v1/station/snapshots",
        data={
            **{k: str(v) for k, v in fields.items()},
            "image": (io.BytesIO(jpeg), "s.jpg", "image/jpeg"),
        },  # fmt: skip
        headers=auth(s.token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201 and conforms("SnapshotAnswer", resp.json) == []

    refused = client.post("/api/v1/station/heartbeat", json={"uuid": "x"}, headers=auth(s.token))
    assert refused.status_code == 422 and conforms("ErrorBody", refused.json) == []
