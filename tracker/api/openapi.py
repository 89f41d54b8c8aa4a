"""The OpenAPI 3.1 document, generated from the declared endpoints."""

from __future__ import annotations

import re
import typing
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from tracker import validation
from tracker.api.core import MESSAGES, OPERATIONS, Operation, api_bp
from tracker.api.pagination import MAX_PER_PAGE
from tracker.version import __version__

REF = "#/components/schemas/{model}"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def _schema(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` to ``model`` (or an array of refs for ``list[Model]``), filling components."""
    if typing.get_origin(model) is list:
        (item,) = typing.get_args(model)
        return {"type": "array", "items": _schema(item, components)}
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _path_parameter(converter: str, name: str) -> dict[str, Any]:
    """``<int:x>`` is an integer within the database's range (larger ids are a 404)."""
    schema: dict[str, Any] = {"type": "string"}
    if converter == "int":
        schema = {"type": "integer", "minimum": 0, "maximum": validation.INT_MAX}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _error_codes(op: Operation) -> list[int]:
    """Every 4xx the boundary can answer for ``op`` (all with the Error body)."""
    codes = [400, 404, 422]  # a bad query string is 422 on every operation
    if op.auth != "none":
        codes += [401, 403]
    if op.body is not None:
        codes += [413, 415]
    if op.method != "GET":
        codes += [409]
    return sorted(set(codes))


def build_document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        path = "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.rule)
        params = [
            _path_parameter(converter, name)
            for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", op.rule)
        ]
        item: dict[str, Any] = {
            "summary": op.summary,
            "tags": op.tags,
            "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', op.rule.lower()).strip('_')}",
            "responses": {},
        }
        if op.query is not None:
            qschema = op.query.model_json_schema(ref_template=REF)
            for name, prop in qschema.get("properties", {}).items():
                params.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in qschema.get("required", []),
                        "schema": prop,
                    }
                )
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {op.content_type: {"schema": _schema(op.body, components)}},
            }
        ok: dict[str, Any] = {"description": "成功"}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": _schema(op.response, components)}}
        item["responses"][str(op.status)] = ok
        if op.status == 201:  # a resent create (same client key) answers 200 with the record
            item["responses"]["200"] = {**ok, "description": "已存在（重复提交，未重复创建）"}
        for code in _error_codes(op):
            item["responses"][str(code)] = {
                "description": MESSAGES[code][1],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        if op.auth != "none":
            item["security"] = [{"station": []}] if op.auth == "station" else [{"token": []}]
        paths.setdefault(path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "村级党建台账 API",
            "version": __version__,
            "description": "Village Party-building compliance tracker. Errors: "
            '{"error": {"code", "message", "fields"}} with a 4xx status. '
            "Lists are paginated: ?page=1&per_page=50 (at most "
            f"{MAX_PER_PAGE}) answers "
            '{"items", "total", "page", "per_page", "next"} (next: the URL of the '
            "following page, null on the last).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "个人 API 令牌"},
                "station": {"type": "http", "scheme": "bearer", "description": "监控站令牌"},
            },
        },
    }


@api_bp.route("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(build_document())
