"""Timeline steps are typed commands, mirrored one to one by the API's discriminated union."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from tracker.matters import api, commands
from tracker.matters.models import EventKind


def _api_models() -> dict[str, type]:
    union = typing.get_args(api.StepIn)[0]
    return {m.model_fields["kind"].annotation.__args__[0]: m for m in typing.get_args(union)}


def test_every_step_kind_has_one_command_and_registration_has_none():
    assert set(commands.COMMANDS) == set(EventKind) - {EventKind.accepted}
    for kind, cls in commands.COMMANDS.items():
        assert cls.kind == kind
        assert dataclasses.is_dataclass(cls)


def test_the_api_union_mirrors_the_commands_one_to_one():
    models = _api_models()
    assert set(models) == {k.value for k in commands.COMMANDS}
    for kind, model in models.items():
        command = commands.COMMANDS[EventKind(kind)]
        assert model.command is command
        assert set(model.model_fields) - {"kind"} == set(commands.field_names(command)), kind


def test_a_command_refuses_a_detail_its_step_does_not_take():
    with pytest.raises(TypeError):
        commands.build(EventKind.completed, note="办好了", approver="张科长")
    step = commands.build(
        EventKind.extended, days=3, approver="张科长", note="需会商", notice="已电话告知"
    )
    assert isinstance(step, commands.Extend) and step.days == 3


def test_the_openapi_document_shows_one_schema_per_step_kind(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    body = doc["paths"]["/api/v1/matters/{matter_id}/events"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][ref]
    assert schema["discriminator"]["propertyName"] == "kind"
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == {k.value for k in commands.COMMANDS}
    extend = doc["components"]["schemas"][mapping["extended"].rsplit("/", 1)[1]]
    assert {"approver", "days", "note", "notice"} <= set(extend["required"])
    assert "to_user_id" not in extend["properties"]


def test_the_api_refuses_details_of_another_step_and_names_missing_ones(world, db, client):
    from tests.tracker.test_matter_services import register
    from tracker.auth.services import create_api_token

    matter = register(world)
    _, plain = create_api_token(world.users["village_a1a_editor"], "t")
    db.session.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    url = f"/api/v1/matters/{matter.id}/events"
    wrong = client.post(url, json={"kind": "completed", "note": "好了", "approver": "张科长"})
    assert wrong.status_code == 422
    assert "completed.approver" in wrong.get_json()["error"]["fields"]
    short = client.post(url, json={"kind": "extended", "days": 3, "note": "需会商"})
    assert short.status_code == 422
    fields = short.get_json()["error"]["fields"]
    assert "extended.approver" in fields and "extended.notice" in fields
    unknown = client.post(url, json={"kind": "accepted"})
    assert unknown.status_code == 422
    ok = client.post(
        url,
        json={
            "kind": "extended",
            "days": 3,
            "approver": "张科长",
            "note": "需会商",
            "notice": "已电话告知",
        },
    )
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["days"] == 3 and ok.get_json()["approver"] == "张科长"
