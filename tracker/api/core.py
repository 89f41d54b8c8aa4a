"""The endpoint decorator, error shape and authentication of the JSON API."""

from __future__ import annotations

import functools
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from tracker import validation
from tracker.errors import DomainError
from tracker.extensions import csrf, db

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # CSRF is checked below for cookie sessions; tokens need none.

MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "需要登录或有效的令牌"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "没有找到该对象"),
    405: ("method_not_allowed", "不支持此请求方法"),
    409: ("conflict", "与现有数据冲突"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请求内容类型不受支持"),
    422: ("validation_error", "提交的数据有误"),
    429: ("too_many_requests", "请求过于频繁"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}

CONFLICT_MESSAGE = "与现有数据冲突（可能是重复提交），请刷新后重试"


class ApiError(Exception):
    """An error answered as JSON with a 4xx code."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        code: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        default_code, default_message = MESSAGES.get(status, ("error", "请求失败"))
        super().__init__(message or default_message)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.fields = fields or {}

    @classmethod
    def of(cls, exc: DomainError) -> ApiError:
        """A domain error as the JSON error shape, with the domain's status and field."""
        return cls(exc.status, exc.message, code=exc.code, fields=exc.fields())

    def response(self) -> Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        resp = jsonify({"error": body})
        resp.status_code = self.status
        return resp


# Chinese messages for pydantic's error types (the user reads these next to the field).
PYDANTIC_MESSAGES = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "string_too_long": "太长（最多 {max_length} 个字符）",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "小数位数过多",
    "decimal_whole_digits": "整数位数过多",
    "int_from_float": "应为整数",
    "json_invalid": "不是有效的 JSON",
    "string_unicode": "应为文本",
    "url_parsing": "网址格式不正确",
    "union_tag_invalid": "类型不正确",
    "union_tag_not_found": "缺少类型字段",
    "datetime_from_date_parsing_error": "时间格式应为 ISO 8601",
    "date_future": "不能晚于今天",
    "date_past": "不能早于今天",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 ISO 8601，如 2026-03-05T09:00:00+08:00",
    "datetime_from_date_parsing": "时间格式应为 ISO 8601，如 2026-03-05T09:00:00+08:00",
    "datetime_type": "时间格式应为 ISO 8601",
    "timezone_aware": "时间须带时区，如 +08:00",
    "enum": "取值应为：{expected}",
    "literal_error": "取值应为：{expected}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "greater_than": "应大于 {gt}",
    "less_than": "应小于 {lt}",
    "too_long": "太多（最多 {max_length} 项）",
    "too_short": "太少（至少 {min_length} 项）",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "extra_forbidden": "不认识的字段",
    "string_pattern_mismatch": "格式不正确",
    "uuid_parsing": "应为 UUID",
    "uuid_type": "应为 UUID",
    "value_error": "{msg}",
}


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """pydantic errors as ``{"field.path": "中文说明"}``."""
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"])
        loc = loc.replace(".[", "[") or "body"
        template = PYDANTIC_MESSAGES.get(err["type"])
        ctx = dict(err.get("ctx") or {})
        if err["type"] == "value_error":
            ctx["msg"] = str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
        try:
            message = template.format(**ctx) if template else err["msg"]
        except (KeyError, IndexError):
            message = err["msg"]
        fields.setdefault(loc, message)
    return fields


def _raw_fields(model: type[BaseModel]) -> frozenset[str]:
    """Fields typed ``Any`` (or a list/dict of it): the view checks them item by item."""
    raw = (Any, list[Any], dict[str, Any])
    return frozenset(n for n, f in model.model_fields.items() if f.annotation in raw)


def _date_fields(model: type[BaseModel]) -> set[str]:
    dated = (date, datetime, date | None, datetime | None)
    return {n for n, f in model.model_fields.items() if f.annotation in dated}


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse(model: type[BaseModel], data: Any, *, strict: bool = False) -> Any:
    """``data`` validated as ``model``, or :class:`ApiError` (400 too deep, 422 with fields).

    Besides the model's own rules, every value passes :mod:`tracker.validation`
    (no control characters, integers in the database's range, sane dates) —
    checked on the raw data and again after coercion (query strings are text).
    ``strict`` (JSON bodies) takes JSON's types at their word: ``false`` is no
    integer and ``0`` no time, as the OpenAPI document says. Query strings are
    text: a date there must at least look like one (``0`` is not 1970-01-01).
    """
    raw = _raw_fields(model)
    try:
        validation.check_depth(data)
    except validation.TooDeep as exc:
        raise ApiError(400, str(exc), code="too_deep") from exc
    errors = validation.field_errors(data, skip=raw)
    if not strict and isinstance(data, dict):
        for name in _date_fields(model):
            value = data.get(name)
            if isinstance(value, str) and value and not _ISO_DATE.match(value):
                errors.setdefault(name, PYDANTIC_MESSAGES["date_parsing"])
    if errors:
        raise ApiError(422, fields=errors)
    try:
        if strict:
            obj = model.model_validate_json(json.dumps(data), strict=True)
        else:
            obj = model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, fields=validation_fields(exc)) from exc
    errors = validation.field_errors(obj.model_dump(exclude=set(raw)))
    if errors:
        raise ApiError(422, fields=errors)
    return obj


def request_json() -> Any:
    """The request's JSON body: 415 when not JSON, 400 when broken or nested too deep."""
    if not request.is_json:
        raise ApiError(415, "请以 application/json 提交")
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:
        raise ApiError(400, validation.DEPTH_MESSAGE, code="too_deep") from exc
    if data is None:
        raise ApiError(400, "请求体不是有效的 JSON")
    return data


# Authentication schemes: name → function that raises ApiError or returns None.
AUTH_HANDLERS: dict[str, Callable[[], None]] = {}


def register_auth(name: str, handler: Callable[[], None]) -> None:
    """Add an authentication scheme (the station API registers ``station``)."""
    AUTH_HANDLERS[name] = handler


def _user_auth() -> None:
    if not current_user.is_authenticated:
        raise ApiError(401)
    from flask import g

    csrf_on = current_app.config.get("WTF_CSRF_ENABLED", True)
    if csrf_on and not g.get("token_auth") and request.method not in ("GET", "HEAD", "OPTIONS"):
        # A cookie session must prove the request came from our own pages.
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except (CSRFError, Exception) as exc:
            raise ApiError(403, "缺少或无效的 CSRF 令牌", code="csrf") from exc
    from tracker.audit import set_actor

    set_actor(current_user.id, "api")


AUTH_HANDLERS["user"] = _user_auth
AUTH_HANDLERS["none"] = lambda: None


@dataclass
class Operation:
    """One documented API operation (for the OpenAPI document)."""

    rule: str
    method: str
    summary: str
    tags: list[str]
    auth: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    # A pydantic model or ``list[Model]`` (the view's return annotation, else ``response=``).
    response: Any
    status: int
    extra_responses: dict[int, str] = field(default_factory=dict)
    content_type: str = "application/json"


OPERATIONS: list[Operation] = []


def endpoint(
    rule: str,
    methods: list[str] | None = None,
    *,
    summary: str,
    tags: list[str],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    auth: str = "user",
    content_type: str = "application/json",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a JSON API endpoint on :data:`api_bp`.

    The view receives ``body=`` / ``query=`` (validated pydantic objects) when
    declared, and returns a pydantic model, a dict/list, a ``(value, status)``
    pair or a Response. Writes are committed here, once, after the view
    succeeded; any error rolls the whole request back — no half-saved record.
    A :class:`~tracker.errors.DomainError` answers with its status and field,
    an :class:`IntegrityError` (a concurrent request won a unique name) 409.
    """
    methods = methods or ["GET"]

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        documented = _returned_model(view) or response
        for method in methods:
            OPERATIONS.append(
                Operation(
                    rule,
                    method,
                    summary,
                    tags,
                    auth,
                    body,
                    query,
                    documented,
                    status,
                    content_type=content_type,
                )
            )

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                AUTH_HANDLERS[auth]()
                if body is not None:
                    kwargs["body"] = parse(body, request_json(), strict=True)
                if query is not None:
                    kwargs["query"] = parse(query, request.args.to_dict())
                result = view(*args, **kwargs)
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    db.session.commit()
                return _to_response(result, status)
            except ApiError as exc:
                db.session.rollback()
                return exc.response()
            except DomainError as exc:
                db.session.rollback()
                return ApiError.of(exc).response()
            except IntegrityError:
                db.session.rollback()
                return ApiError(409, CONFLICT_MESSAGE).response()
            except HTTPException as exc:
                db.session.rollback()
                return ApiError(exc.code or 400).response()

        return api_bp.route(rule, methods=methods, endpoint=view.__name__)(wrapper)

    return decorator


def _returned_model(view: Callable[..., Any]) -> Any:
    """The model (or ``list[Model]``) a view's return annotation names, else ``None``.

    ``-> list[MemberOut]`` documents an array, ``-> tuple[MeetingOut, int]`` a
    MeetingOut; ``-> Any`` leaves it to ``endpoint(response=...)``.
    """
    try:
        hint = typing.get_type_hints(view).get("return")
    except Exception:  # an annotation that does not resolve documents nothing
        return None
    if typing.get_origin(hint) is tuple:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        return hint if isinstance(item, type) and issubclass(item, BaseModel) else None
    return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None


def _to_response(result: Any, default_status: int) -> Any:
    status = default_status
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    elif isinstance(result, list):
        result = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result]
    resp = jsonify(result)
    resp.status_code = status
    return resp


@api_bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return exc.response()
