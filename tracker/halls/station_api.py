"""The station API ``/api/v1/station/...`` — exactly as ``docs/contract.md`` says.

Auth scheme ``station``: ``Authorization: Bearer <station token>``, looked up by
SHA-256. A token sees only its own cameras; any other camera id is answered as
if it did not exist. Bodies are size-limited (413) before they are read.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from flask import g, request
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from sqlalchemy import select

from tracker import uploads, validation
from tracker.api.core import (
    OPERATIONS,
    ApiError,
    endpoint,
    parse,
    register_auth,
    validation_fields,
)
from tracker.audit import set_actor
from tracker.extensions import db
from tracker.halls import services
from tracker.halls.models import Camera, Station
from tracker.models import utcnow

TAGS = ["监控站 station"]
REPORTS_LIMIT = 1024 * 1024
HEARTBEAT_LIMIT = 64 * 1024
MAX_ITEMS = 500
# Items stamped further in the future than this are refused (a station clock gone wrong).
FUTURE_SLACK = timedelta(minutes=10)
VERDICTS = ("online", "unreachable", "auth_failed", "no_video", "frozen", "black", "blurred")
DOWN_CAUSES = VERDICTS[1:]
UUID_PATTERN = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


def _station_auth() -> None:
    """The ``station`` auth scheme: a station's bearer token; size limits per path."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    station = services.station_for_token(token)
    if station is None:
        raise ApiError(401, "监控站令牌无效或已停用", code="unauthorized")
    g.station = station
    set_actor(None, "station")
    if request.method == "POST":
        limit = _limit_for(request.path)
        if request.content_length is not None and request.content_length > limit:
            raise ApiError(413, f"请求内容过大（最多 {limit // 1024} KiB）", code="too_large")
        request.max_content_length = limit


def _limit_for(path: str) -> int:
    if path.endswith("/snapshots"):
        return int(services.settings().max_snapshot_kb) * 1024 + 64 * 1024
    if path.endswith("/heartbeat"):
        return HEARTBEAT_LIMIT
    return REPORTS_LIMIT


register_auth("station", _station_auth)


def current_station() -> Station:
    station: Station = g.station
    return station


# ---------------------------------------------------------------- schemas


class StationRef(BaseModel):
    id: int
    name: str


class HallRef(BaseModel):
    id: int
    name: str
    village: str


class OpeningDay(BaseModel):
    date: str
    open: list[list[str]]


class OpeningHours(BaseModel):
    timezone: str
    days: list[OpeningDay]


class StationCamera(BaseModel):
    id: int
    name: str
    hall: HallRef
    stream_url: str
    rtsp_transport: str
    check_interval_s: int
    snapshot_every_min: int
    thresholds: dict[str, float]
    opening_hours: OpeningHours


class StationCameras(BaseModel):
    """``GET /station/cameras``."""

    station: StationRef
    generated_at: str
    heartbeat_interval_s: int
    cameras: list[StationCamera]


Measurement = Annotated[str, Field(max_length=200)] | bool | int | float


class CheckItem(BaseModel):
    """``type: check`` — one probe result."""

    model_config = ConfigDict(extra="ignore")
    uuid: str = Field(pattern=UUID_PATTERN)
    type: Literal["check"]
    camera_id: int = Field(ge=1)
    at: AwareDatetime
    verdict: Literal[VERDICTS]  # type: ignore[valid-type]
    elapsed_ms: int | None = Field(default=None, ge=0)
    measurements: dict[str, Measurement | None] | None = Field(default=None, max_length=40)


class StateItem(BaseModel):
    """``type: state`` — a confirmed state change; ``cause`` required for ``down``."""

    # The validator below, as JSON Schema (for docs/contract.schema.json and OpenAPI).
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "if": {"properties": {"state": {"const": "down"}}, "required": ["state"]},
            "then": {"properties": {"cause": {"type": "string"}}, "required": ["cause"]},
        },
    )
    uuid: str = Field(pattern=UUID_PATTERN)
    type: Literal["state"]
    camera_id: int = Field(ge=1)
    at: AwareDatetime
    state: Literal["up", "down", "unknown"]
    cause: Literal[DOWN_CAUSES] | None = None  # type: ignore[valid-type]

    @field_validator("cause")
    @classmethod
    def _cause_for_down(cls, v: str | None, info: Any) -> str | None:
        if info.data.get("state") == "down" and v is None:
            raise ValueError("离线状态须注明原因（cause）")
        return v


ReportItem = Annotated[CheckItem | StateItem, Field(discriminator="type")]
ITEM: TypeAdapter[CheckItem | StateItem] = TypeAdapter(ReportItem)


class ReportBatch(BaseModel):
    """``POST /station/reports``: at most 500 items; each validated on its own."""

    sent_at: AwareDatetime | None = None
    items: list[Any] = Field(max_length=MAX_ITEMS)


class ItemError(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class RejectedItem(BaseModel):
    uuid: str
    error: ItemError


class ReportAnswer(BaseModel):
    acknowledged: list[str]
    duplicates: list[str]
    rejected: list[RejectedItem]


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    uuid: str = Field(pattern=UUID_PATTERN)
    at: AwareDatetime
    version: str | None = Field(default=None, max_length=32)
    started_at: AwareDatetime | None = None
    outbox_depth: int | None = Field(default=None, ge=0)
    cameras: int | None = Field(default=None, ge=0)


class HeartbeatAnswer(BaseModel):
    acknowledged: str
    duplicate: bool


class SnapshotForm(BaseModel):
    """The multipart fields of ``POST /station/snapshots`` (plus the file part ``image``)."""

    uuid: str = Field(pattern=UUID_PATTERN)
    camera_id: int = Field(ge=1)
    taken_at: AwareDatetime
    reason: Literal["opening", "state_change", "periodic", "manual"]
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")


class SnapshotUpload(SnapshotForm):
    """The documented multipart body (the decorator does not parse multipart itself)."""

    image: bytes = Field(json_schema_extra={"format": "binary", "contentMediaType": "image/jpeg"})


class SnapshotAnswer(BaseModel):
    id: int
    duplicate: bool


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorBody(BaseModel):
    """Every 4xx answer: ``{"error": {"code", "message", "fields"}}``."""

    error: ErrorDetail


# ---------------------------------------------------------------- the contract as data

CONTRACT_SCHEMA_PATH = "docs/contract.schema.json"
_CONTRACT_MODELS: list[type[BaseModel]] = [
    StationCameras,
    CheckItem,
    StateItem,
    ReportBatch,
    ReportAnswer,
    Heartbeat,
    HeartbeatAnswer,
    SnapshotForm,
    SnapshotAnswer,
    ErrorBody,
]


def contract_schema() -> dict[str, Any]:
    """docs/contract.md as JSON Schema (2020-12), generated from the models above.

    Every message of the station API is a ``$defs`` entry (``ReportItem`` is
    one item of a batch: a check or a state). The monitor shares no code with
    the tracker; its tests validate what it sends against this document, and
    ``tracker contract-schema --check`` fails when the file is not current.
    """
    ref = "#/$defs/{model}"
    defs: dict[str, Any] = {}
    for model in _CONTRACT_MODELS:
        schema = model.model_json_schema(ref_template=ref)
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    defs["ReportItem"] = {  # told apart by "type" (a const in each)
        "oneOf": [{"$ref": ref.format(model="CheckItem")}, {"$ref": ref.format(model="StateItem")}]
    }
    # Items are validated one by one (a bad item is rejected, not the batch); on the wire
    # each one is a ReportItem.
    defs["ReportBatch"]["properties"]["items"]["items"] = {"$ref": ref.format(model="ReportItem")}
    limits = {"reports_bytes": REPORTS_LIMIT, "heartbeat_bytes": HEARTBEAT_LIMIT,
              "items_per_batch": MAX_ITEMS}  # fmt: skip
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Tracker ↔ monitor station contract (/api/v1/station)",
        "description": (
            "Generated from tracker/halls/station_api.py by `tracker contract-schema`; do not "
            "edit. The prose is docs/contract.md."
        ),
        "x-limits": limits,
        "x-endpoints": {
            "GET /api/v1/station/cameras": {"response": "StationCameras"},
            "POST /api/v1/station/reports": {"body": "ReportBatch", "response": "ReportAnswer"},
            "POST /api/v1/station/heartbeat": {"body": "Heartbeat", "response": "HeartbeatAnswer"},
            "POST /api/v1/station/snapshots": {
                "body": "SnapshotForm (multipart fields, plus the JPEG file part `image`)",
                "response": "SnapshotAnswer",
            },
            "4xx": {"response": "ErrorBody"},
        },
        "$defs": dict(sorted(defs.items())),
    }


def contract_schema_text() -> str:
    """The file content of docs/contract.schema.json (stable: sorted, indented, newline-ended)."""
    return json.dumps(contract_schema(), ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------- endpoints


@endpoint(
    "/station/cameras",
    summary="本站的摄像头（含视频流地址、阈值、未来 8 天营业时间）",
    tags=TAGS,
    response=StationCameras,
    auth="station",
)
def station_cameras() -> Any:
    return services.station_camera_document(current_station())


def _future(at: datetime) -> bool:
    return at > utcnow() + FUTURE_SLACK


@endpoint(
    "/station/reports",
    ["POST"],
    summary="上报检测结果与状态变化（按 uuid 去重，重发只生效一次）",
    tags=TAGS,
    body=ReportBatch,
    response=ReportAnswer,
    auth="station",
)
def station_reports(body: ReportBatch) -> Any:
    station = current_station()
    valid: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for i, raw in enumerate(body.items):
        uid = str(raw.get("uuid", "")) if isinstance(raw, dict) else ""
        refused = validation.field_errors(raw)  # control characters, ints past the range
        if not refused:
            try:
                item = ITEM.validate_python(raw)
            except ValidationError as exc:
                refused = validation_fields(exc)
        if refused:
            fields = {f"items[{i}].{k}": v for k, v in refused.items()}
            rejected.append(
                {
                    "uuid": uid,
                    "error": {
                        "code": "validation_error",
                        "message": "该条数据有误",
                        "fields": fields,
                    },
                }
            )
            continue
        if _future(item.at):
            rejected.append(
                {
                    "uuid": uid,
                    "error": {
                        "code": "future_time",
                        "message": "时间晚于服务器当前时间（监控站时钟有误？）",
                    },
                }
            )
            continue
        valid.append(item.model_dump())
    result = services.ingest_reports(station, valid)
    if result.new_state_cameras:
        from tracker.halls.alerts import on_state_changes

        on_state_changes(sorted(result.new_state_cameras))
    return ReportAnswer(
        acknowledged=result.acknowledged,
        duplicates=result.duplicates,
        rejected=[RejectedItem.model_validate(r) for r in rejected + result.rejected],
    )


@endpoint(
    "/station/heartbeat",
    ["POST"],
    summary="心跳：证明监控站在线（无心跳的时段计为“未知”）",
    tags=TAGS,
    body=Heartbeat,
    response=HeartbeatAnswer,
    auth="station",
)
def station_heartbeat(body: Heartbeat) -> Any:
    if _future(body.at):
        raise ApiError(422, fields={"at": "时间晚于服务器当前时间"})
    duplicate = services.record_heartbeat(current_station(), body.model_dump())
    return HeartbeatAnswer(acknowledged=body.uuid, duplicate=duplicate)


@endpoint(
    "/station/snapshots",
    ["POST"],
    summary="上传证据截图（JPEG，≤1 MiB，SHA-256 校验）",
    tags=TAGS,
    response=SnapshotAnswer,
    status=201,
    auth="station",
    content_type="multipart/form-data",
)
def station_snapshot() -> Any:
    station = current_station()
    if not request.mimetype.startswith("multipart/form-data"):
        raise ApiError(415, "请以 multipart/form-data 上传")
    meta = parse(SnapshotForm, request.form.to_dict())
    upload = request.files.get("image")
    if upload is None:
        raise ApiError(422, fields={"image": "缺少图片文件"})
    limit = int(services.settings().max_snapshot_kb) * 1024
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"截图过大（最多 {limit // 1024} KiB）", code="too_large")
    if uploads.sniff(data, allowed=(uploads.JPEG,)) is None:  # the whole file, to its EOI
        raise ApiError(
            422, "不是完整的 JPEG 图片", code="not_jpeg", fields={"image": "应为完整的 JPEG 图片"}
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta.sha256.lower():
        raise ApiError(
            422, "SHA-256 与文件内容不符", code="sha256_mismatch", fields={"sha256": "与文件不符"}
        )
    camera = db.session.scalar(
        select(Camera).where(Camera.id == meta.camera_id, Camera.station_id == station.id)
    )
    if camera is None:
        # The contract's item refusal code: the monitor dead-letters this snapshot,
        # where a plain 404 (a proxy, a wrong path) is retried.
        raise ApiError(
            404, "没有这个摄像头", code="unknown_camera", fields={"camera_id": "没有这个摄像头"}
        )
    if _future(meta.taken_at):
        raise ApiError(422, fields={"taken_at": "时间晚于服务器当前时间"})
    station = current_station()
    camera = db.session.get(Camera, camera.id)
    assert camera is not None
    snap, duplicate = services.store_snapshot(
        station, camera, meta.uuid, meta.taken_at, meta.reason, digest, data
    )
    return SnapshotAnswer(id=snap.id, duplicate=duplicate), (200 if duplicate else 201)


# The multipart body is parsed above; document it in the OpenAPI document all the same.
for _op in OPERATIONS:
    if _op.rule == "/station/snapshots":
        _op.body = SnapshotUpload
