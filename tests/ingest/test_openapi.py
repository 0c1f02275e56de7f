"""The OpenAPI document tells the truth: every route is in it, and live answers match it."""

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource

from tests.conftest import Api

JOB = "nightly-product-import"


@pytest.fixture
async def document(api: Api) -> dict[str, Any]:
    response = await api.client.get("/v1/openapi.json")
    assert response.status == 200
    return await response.json()  # type: ignore[no-any-return]


def check(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    operation = document["paths"][path][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema", **_rebase(schema)}
    Draft202012Validator(wrapped, registry=registry).validate(body)


def _rebase(schema: Any) -> Any:
    """Point local `#/components/...` references at the registered document."""
    if isinstance(schema, dict):
        return {k: ("urn:openapi" + v if k == "$ref" and v.startswith("#/") else _rebase(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


async def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)

    assert document["openapi"].startswith("3.1")


async def test_every_route_of_the_app_is_documented_and_nothing_else(
    api: Api, document: dict[str, Any]
) -> None:
    app = api.client.server.app
    assert app is not None
    served = {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}

    assert served == documented


async def test_live_answers_match_the_documented_schemas(api: Api, document: dict[str, Any]) -> None:
    accepted = await api.send_ok([
        {"job": JOB, "run": "r1", "kind": "start", "attributes": {"host": "a"}},
        {"job": JOB, "run": "r1", "kind": "progress", "done": 5, "total": 10},
        {"job": JOB, "run": "r1", "kind": "metric", "name": "rows", "value": 5, "unit": "rows"},
        {"job": JOB, "run": "r1", "kind": "note", "text": "hi", "level": "warning"},
        {"job": JOB, "run": "r1", "kind": "payload", "name": "file", "data": {"path": "/x"}},
        {"job": JOB, "run": "r1", "kind": "duration", "name": "read", "seconds": 1.5},
        {"job": JOB, "run": "r1", "kind": "milestone", "name": "file-read"},
        {"job": JOB, "run": "r1", "kind": "finish", "status": "succeeded"},
    ])
    check(document, "/v1/events", "post", 202, accepted)
    put = await api.put(f"/v1/jobs/{JOB}", {"title": "Import", "aliases": ["the import"]})
    check(document, "/v1/jobs/{job}", "put", put.status, await put.json())
    check(document, "/v1/jobs", "get", 200, await api.get_ok("/v1/jobs"))
    check(document, "/v1/jobs/{job}", "get", 200, await api.get_ok(f"/v1/jobs/{JOB}"))
    check(document, "/v1/jobs/{job}/runs", "get", 200, await api.get_ok(f"/v1/jobs/{JOB}/runs"))
    check(document, "/v1/jobs/{job}/runs/{run}", "get", 200,
          await api.get_ok(f"/v1/jobs/{JOB}/runs/r1"))
    check(document, "/healthz", "get", 200, await (await api.client.get("/healthz")).json())


async def test_error_answers_match_the_documented_error_shape(
    api: Api, document: dict[str, Any]
) -> None:
    cases = [
        ("/v1/events", "post", await api.client.post("/v1/events", data=b"{", headers=api.auth("ingest"))),
        ("/v1/events", "post", await api.send({"job": JOB}, scope=None)),
        ("/v1/events", "post", await api.send({"job": JOB}, scope="read")),
        ("/v1/events", "post", await api.send({"job": JOB, "kind": "x"})),
        ("/v1/jobs/{job}", "get", await api.get("/v1/jobs/nobody")),
    ]
    for path, method, response in cases:
        check(document, path, method, response.status, await response.json())


async def test_the_documented_event_schema_accepts_what_the_server_accepts(
    document: dict[str, Any],
) -> None:
    example = {"job": JOB, "kind": "metric", "name": "rows", "value": 3,
               "at": "2026-11-25T06:00:00+01:00", "id": "e1"}
    check_request = document["paths"]["/v1/events"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    validator = Draft202012Validator(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **_rebase(check_request)},
        registry=registry)

    validator.validate(example)
    validator.validate([example, {"job": JOB, "kind": "finish", "status": "failed"}])
    assert not validator.is_valid({**example, "kind": "nope"})
    assert not validator.is_valid({**example, "vaule": 3})  # unknown fields, as the server says
