"""The endpoint decorator, error shape and authentication of the JSON API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

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


def parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, fields=validation_fields(exc)) from exc


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
    response: type[BaseModel] | None
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
    response: type[BaseModel] | None = None,
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
                    response,
                    status,
                    content_type=content_type,
                )
            )

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                AUTH_HANDLERS[auth]()
                if body is not None:
                    if not request.is_json:
                        raise ApiError(415, "请以 application/json 提交")
                    data = request.get_json(silent=True)
                    if data is None:
                        raise ApiError(400, "请求体不是有效的 JSON")
                    kwargs["body"] = parse(body, data)
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
