"""The new lists of the training, hall-service and post registers are documented as pages."""

from __future__ import annotations

from tests.tracker.test_openapi_conformance import _ok_schema

PAGED = (
    "/api/v1/farmer-trainings",
    "/api/v1/concentrated-trainings",
    "/api/v1/training-hours",
    "/api/v1/hall-services",
    "/api/v1/post-vacancies",
    "/api/v1/recall-cases",
)


def test_the_new_lists_are_documented_as_pages_of_an_array():
    for path in PAGED:
        schema = _ok_schema(path)
        assert schema["properties"]["items"]["type"] == "array", path
        assert {"items", "total", "page", "per_page", "next"} <= set(schema["required"]), path
