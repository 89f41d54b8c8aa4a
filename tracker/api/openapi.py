"""The OpenAPI 3.1 document, generated from the declared endpoints."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from tracker.api.core import MESSAGES, OPERATIONS, api_bp
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


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def build_document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        path = "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.rule)
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"<(?:\w+:)?(\w+)>", op.rule)
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
        codes = [401, 403, 404] if op.auth != "none" else [404]
        if op.body is not None or op.query is not None:
            codes += [400, 413, 422]
        for code in codes:
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
