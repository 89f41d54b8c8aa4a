"""JSON API under ``/api/v1``: conventions shared by every domain.

Domain packages declare endpoints with :func:`endpoint` on :data:`api_bp`; the
decorator authenticates, validates the body/query with pydantic, commits on
success (rolls back on error) and records the endpoint in the OpenAPI document
served at ``/api/v1/openapi.json``. Errors always have the shape::

    {"error": {"code": "validation_error", "message": "…", "fields": {"name": "…"}}}
"""

from tracker.api.core import ApiError, api_bp, endpoint, register_auth

__all__ = ["ApiError", "api_bp", "endpoint", "register_auth"]
