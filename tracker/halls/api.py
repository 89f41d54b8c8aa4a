"""User JSON API of halls, cameras and uptime (scoped; stream URLs always masked)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from flask import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from tracker import pagecache
from tracker.api.core import ApiError, endpoint
from tracker.api.pagination import Page, PageQuery, paginate_rows
from tracker.halls import services
from tracker.halls.models import Camera, CameraStatus, ServiceHall
from tracker.models import Region
from tracker.models.regions import subtree_ids
from tracker.periods import Period
from tracker.rows import AnyRow, fetch, rows_by
from tracker.scope import current_scope

TAGS = ["服务大厅与摄像头 halls"]


class CameraOut(BaseModel):
    id: int
    hall_id: int
    name: str
    position: str
    stream_url: str = Field(description="脱敏后的地址（rtsp://***:***@host/…）")
    station_id: int | None
    check_interval_s: int
    active: bool
    state: str
    cause: str | None
    since: datetime | None
    last_check_at: datetime | None


class HallOut(BaseModel):
    id: int
    region_id: int
    village: str
    name: str
    address: str
    contact_name: str
    weekly_hours: dict[str, list[list[str]]]
    cameras: list[CameraOut]


class HallList(Page[HallOut]):
    """One page of the halls in scope, by village."""


class HallsQuery(PageQuery):
    region_id: int | None = None


class UptimeQuery(BaseModel):
    """Exactly one of camera_id / hall_id / region_id; a period or a day range."""

    camera_id: int | None = None
    hall_id: int | None = None
    region_id: int | None = None
    period: str | None = Field(default=None, description="2026-11、2026-Q4 或 2026")
    day: date | None = None
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _one_target(self) -> UptimeQuery:
        given = [x for x in (self.camera_id, self.hall_id, self.region_id) if x is not None]
        if len(given) != 1:
            raise ValueError("请给出 camera_id、hall_id、region_id 之一")
        return self


class UptimeOut(BaseModel):
    target: str
    id: int
    start: date
    end: date
    cameras: int
    open_s: int
    up_s: int
    down_s: int
    down_online_s: int
    down_picture_s: int
    unknown_s: int
    excused_s: int
    online_rate: float | None = Field(description="在线率：视频流在线 / 已知营业时间")
    intact_rate: float | None = Field(description="完好率：在线且画面正常 / 已知营业时间")
    compliance_online_rate: float | None = Field(description="扣除已批准说明后的在线率")
    compliance_intact_rate: float | None = Field(description="扣除已批准说明后的完好率")


# Halls and cameras as the API shows them, as plain rows (labelled as in HallOut and
# CameraOut); a camera without a status row yet is "unknown".
HALL_ROWS = select(
    ServiceHall.id,
    ServiceHall.region_id,
    Region.name.label("village"),
    ServiceHall.name,
    ServiceHall.address,
    ServiceHall.contact_name,
    ServiceHall.weekly_hours,
).join(Region, Region.id == ServiceHall.region_id)
CAMERA_ROWS = (
    select(
        Camera.hall_id,
        Camera.id,
        Camera.name,
        Camera.position,
        Camera.stream_url_masked.label("stream_url"),
        Camera.station_id,
        Camera.check_interval_s,
        Camera.active,
        CameraStatus.state,
        CameraStatus.cause,
        CameraStatus.since,
        CameraStatus.last_check_at,
    )
    .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
    .order_by(Camera.hall_id, Camera.id)
)
_HALL_FIELDS = tuple(HALL_ROWS.selected_columns.keys())
_CAMERA_FIELDS = tuple(CAMERA_ROWS.selected_columns.keys())


def camera_item(row: AnyRow) -> dict[str, Any]:
    """:class:`CameraOut` of a row of :data:`CAMERA_ROWS`, as a plain dict."""
    item = dict(zip(_CAMERA_FIELDS, row, strict=True))
    item["state"] = item["state"] or "unknown"
    return item


def hall_items(halls: Sequence[AnyRow]) -> list[dict[str, Any]]:
    """:class:`HallOut` of rows of :data:`HALL_ROWS`, as plain dicts: their cameras in
    one statement."""
    cameras = rows_by(CAMERA_ROWS, [h.id for h in halls])
    items = []
    for row in halls:
        item = dict(zip(_HALL_FIELDS, row, strict=True))
        item["cameras"] = [camera_item(c) for c in cameras[item["id"]]]
        items.append(item)
    return items


@endpoint(
    "/halls", summary="服务大厅列表（本辖区）", tags=TAGS, query=HallsQuery, response=HallList
)
@pagecache.cached()
def list_halls(query: HallsQuery) -> Response:
    scope = current_scope()
    stmt = scope.filter(HALL_ROWS, ServiceHall).order_by(ServiceHall.region_id, ServiceHall.name)
    if query.region_id is not None:
        region = scope.get_or_404(Region, query.region_id)
        stmt = stmt.where(ServiceHall.region_id.in_(subtree_ids(region.path)))
    return paginate_rows(HallList, stmt, query, hall_items)


@endpoint("/halls/<int:hall_id>", summary="一个服务大厅及其摄像头", tags=TAGS, response=HallOut)
def get_hall(hall_id: int) -> HallOut:
    hall = current_scope().get_or_404(ServiceHall, hall_id)
    (item,) = hall_items(rows_by(HALL_ROWS, [hall.id])[hall.id])
    return HallOut.model_validate(item)


@endpoint(
    "/cameras/<int:camera_id>", summary="一个摄像头（地址已脱敏）", tags=TAGS, response=CameraOut
)
def get_camera(camera_id: int) -> CameraOut:
    cam = current_scope().get_or_404(Camera, camera_id)
    (row,) = fetch(CAMERA_ROWS.where(Camera.id == cam.id))
    return CameraOut.model_validate(camera_item(row))


def _days(q: UptimeQuery) -> tuple[date, date]:
    if q.period:
        p = Period.parse(q.period)
        return p.start, p.end
    if q.day:
        return q.day, q.day
    if q.start and q.end:
        if q.end < q.start:
            raise ApiError(422, fields={"end": "结束日期应不早于开始日期"})
        if (q.end - q.start).days > 366:
            raise ApiError(422, fields={"end": "最长一年"})
        return q.start, q.end
    raise ApiError(422, fields={"period": "请给出 period、day 或 start+end"})


@endpoint(
    "/uptime",
    summary="摄像头/大厅/区域在某时段营业时间内的在线率与完好率（秒）",
    tags=TAGS,
    query=UptimeQuery,
    response=UptimeOut,
)
def get_uptime(query: UptimeQuery) -> Any:
    scope = current_scope()
    first, last = _days(query)
    if query.camera_id is not None:
        cam = scope.get_or_404(Camera, query.camera_id)
        ids, target, ident = [cam.id], "camera", cam.id
    elif query.hall_id is not None:
        hall = scope.get_or_404(ServiceHall, query.hall_id)
        ids, target, ident = [c.id for c in hall.cameras if c.active], "hall", hall.id
    else:
        region = scope.get_or_404(Region, query.region_id)
        ids, target, ident = [c.id for c in services.cameras_under(region)], "region", region.id
    total = services.UptimeTotals()
    for t in services.uptime_bulk(ids, first, last).values():
        total += t
    return UptimeOut(
        target=target, id=ident, start=first, end=last, cameras=len(ids), **total.as_dict()
    )
