"""The OpenAPI 3.1 description of the v1 contract, served at `/v1/openapi.json`.

Event and definition schemas come from the pydantic models that validate requests, so the
two cannot drift; response schemas are written here and pinned by tests that check live
responses against them."""

from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from ingest.schemas import MAX_EVENTS, AnyEvent, JobDefinition

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


TIME = {"type": "string", "format": "date-time"}
NUMBER = {"type": "number"}
STRING = {"type": "string"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}


def response_schemas() -> dict[str, Any]:
    run_summary = _object({
        "job": STRING, "run": STRING,
        "status": {"enum": ["running", "succeeded", "failed", "partial", "cancelled"]},
        "started_at": TIME, "finished_at": _nullable(TIME),
        "duration_seconds": _nullable(NUMBER), "last_event_at": TIME,
        "attributes": {"type": "object"}, "summary": _nullable(STRING),
    })
    at = {"at": TIME}
    return {
        "Error": _object({
            "error": STRING,
            "details": {"type": "array", "items": _object(
                {"index": {"type": "integer"}, "field": STRING, "message": STRING})},
        }, required=["error"]),
        "Accepted": _object({
            "accepted": {"type": "integer"}, "duplicates": {"type": "integer"},
            "runs": {"type": "array", "items": _object({"job": STRING, "run": STRING})},
        }),
        "Job": _object({
            "job": STRING, "title": STRING, "description": STRING,
            "aliases": {"type": "array", "items": STRING}, "owner": STRING,
            "timezone": _nullable(STRING), "schedule": _nullable(STRING),
            "expect": {"type": "object"}, "alert": {"type": "array", "items": STRING},
            "audience": {"type": "array", "items": STRING},
            "created_at": TIME, "updated_at": TIME,
        }),
        "JobDefined": {"allOf": [_ref("Job"), _object({"warnings": {
            "type": "array", "items": STRING,
            "description": "What will not work as defined, e.g. an alert target nobody reads"}})]},
        "AuditList": _object({
            "entries": {"type": "array", "items": _object({
                "id": {"type": "integer"}, "at": TIME, "actor": STRING, "action": STRING,
                "target": STRING, "origin": STRING, "details": {"type": "object"}})},
            "next": _nullable(STRING),
        }),
        "JobList": _object({"jobs": {"type": "array", "items": {"allOf": [_ref("Job"), _object({
            "state": {"enum": ["running", "succeeded", "failed", "partial", "cancelled",
                               "unknown"]},
            "last_run": _nullable(_ref("RunSummary")),
        })]}}}),
        "RunSummary": run_summary,
        "RunList": _object({"job": STRING, "runs": {"type": "array", "items": _ref("RunSummary")}}),
        "RunReport": {"allOf": [_ref("RunSummary"), _object({
            "milestones": {"type": "array", "items": _object({
                "name": STRING, "status": {"enum": ["reached", "failed", "skipped"]},
                "text": _nullable(STRING), **at})},
            "metrics": {"type": "object", "additionalProperties": _object(
                {"value": NUMBER, "unit": _nullable(STRING), **at})},
            "progress": _nullable(_object({
                "done": NUMBER, "total": _nullable(NUMBER), "unit": _nullable(STRING),
                "stage": _nullable(STRING), **at})),
            "notes": {"type": "array", "items": _object(
                {"level": {"enum": ["info", "warning", "error"]}, "text": STRING, **at})},
            "payloads": {"type": "array", "items": _object({"name": STRING, "data": {}, **at})},
            "durations": {"type": "array", "items": _object(
                {"name": STRING, "seconds": NUMBER, **at})},
            "events": {"type": "array", "items": _object({
                "kind": STRING, "at": TIME, "id": _nullable(STRING), "received_at": TIME,
            })},
        })]},
        "Health": _object({"status": {"const": "ok"}}),
        "AlertList": _object({"alerts": {"type": "array", "items": _object({
            "id": {"type": "integer"}, "job": STRING,
            "kind": {"enum": ["did_not_start", "milestone_missed", "failed", "ended_early",
                              "metric_out_of_range", "overran", "stalled"]},
            "state": {"enum": ["open", "acknowledged", "resolved"]}, "reason": STRING,
            "opened_at": TIME, "occurrence_at": _nullable(TIME), "resolved_at": _nullable(TIME),
            "resolution": _nullable(STRING), "acknowledged_by": _nullable(STRING),
            "acknowledged_at": _nullable(TIME), "snoozed_until": _nullable(TIME),
            "deliveries": {"type": "array", "items": _object({
                "event": {"enum": ["opened", "resolved", "updated"]}, "channel": STRING,
                "target": STRING, "state": {"enum": ["pending", "sent", "failed"]},
                "attempts": {"type": "integer"}, "last_error": _nullable(STRING),
                "sent_at": _nullable(TIME)})},
        })}}),
    }


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {400: "Unparseable body", 401: "Missing or unknown token", 403: "Wrong scope",
               404: "Unknown job or run", 413: "Over the size limits",
               422: "Invalid input; nothing stored", 503: "Storage unavailable; retry later"}
    return {str(code): {"description": reasons[code], "content": {
        "application/json": {"schema": _ref("Error")}}} for code in codes}


def _ok(code: int, schema: str, description: str) -> dict[str, Any]:
    return {str(code): {"description": description,
                        "content": {"application/json": {"schema": _ref(schema)}}}}


JOB = {"name": "job", "in": "path", "required": True, "schema": {"type": "string"}}
RUN = {"name": "run", "in": "path", "required": True, "schema": {"type": "string"}}


def ping_paths() -> dict[str, Any]:
    """Healthchecks-compatible pings: the key is an ingest token, the answer plain `OK`."""
    key = {"name": "ping_key", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "an ingest token"}
    rid = {"name": "rid", "in": "query", "schema": {"type": "string", "format": "uuid"},
           "description": "run key, for jobs whose runs overlap"}
    create = {"name": "create", "in": "query", "schema": {"type": "string"},
              "description": "accepted for compatibility; jobs are always created"}
    ok = {"200": {"description": "OK (see the Ping-Body-Limit header)",
                  "content": {"text/plain": {"schema": {"type": "string"}}}},
          "400": {"description": "Malformed URL", "content": {"text/plain": {"schema": STRING}}},
          "404": {"description": "Unknown key", "content": {"text/plain": {"schema": STRING}}}}
    body = {"required": False, "content": {"text/plain": {"schema": STRING}}}
    exit_status = {"name": "exit_status", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0, "maximum": 255}}
    paths: dict[str, Any] = {}
    for suffix, summary, extra in [
        ("", "The run succeeded", []),
        ("/start", "A run started", []),
        ("/fail", "The run failed", []),
        ("/log", "A note; the run's state is unchanged", []),
        ("/{exit_status}", "0 succeeded, 1-255 failed", [exit_status]),
    ]:
        operation = {"summary": summary, "security": [], "parameters": [rid, create],
                     "responses": ok}
        paths[f"/ping/{{ping_key}}/{{job}}{suffix}"] = {
            "parameters": [key, JOB, *extra],
            "get": operation,
            "post": {**operation, "requestBody": body},
        }
    return paths


def openapi_document() -> dict[str, Any]:
    event_schema = TypeAdapter(AnyEvent).json_schema(ref_template=REF)
    schemas: dict[str, Any] = dict(event_schema.pop("$defs"))
    schemas["Event"] = event_schema
    definition = JobDefinition.model_json_schema(ref_template=REF)
    schemas.update(definition.pop("$defs", {}))
    schemas["JobDefinition"] = definition
    schemas.update(response_schemas())
    read: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "OpenTrace", "version": "1",
                 "description": "Business telemetry for batch jobs."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "security": read,
        "paths": {
            "/v1/events": {"post": {
                "summary": "Report events of runs: one object or an array",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "oneOf": [_ref("Event"), {"type": "array", "items": _ref("Event"),
                                              "minItems": 1, "maxItems": MAX_EVENTS}]}}}},
                "responses": {**_ok(202, "Accepted", "Committed"),
                              **_errors(400, 401, 403, 413, 422, 503)},
            }},
            "/v1/jobs": {"get": {
                "summary": "Every job with its state and last run",
                "responses": {**_ok(200, "JobList", "Jobs"), **_errors(401, 403, 503)},
            }},
            "/v1/jobs/{job}": {
                "parameters": [JOB],
                "get": {"summary": "A job's definition",
                        "responses": {**_ok(200, "Job", "The job"), **_errors(401, 403, 404)}},
                "put": {
                    "summary": "Create or replace a job's definition (admin)",
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": _ref("JobDefinition")}}},
                    "responses": {**_ok(200, "JobDefined", "Replaced"),
                                  **_ok(201, "JobDefined", "Created"),
                                  **_errors(400, 401, 403, 413, 422, 503)},
                },
            },
            "/v1/jobs/{job}/runs": {"get": {
                "summary": "Runs, newest first",
                "parameters": [JOB,
                    {"name": "since", "in": "query", "schema": TIME,
                     "description": "Runs started at or after"},
                    {"name": "until", "in": "query", "schema": TIME,
                     "description": "Runs started before"},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}}],
                "responses": {**_ok(200, "RunList", "Runs"), **_errors(401, 403, 404, 422)},
            }},
            "/v1/jobs/{job}/runs/{run}": {"get": {
                "summary": "One run with its whole timeline",
                "parameters": [JOB, RUN],
                "responses": {**_ok(200, "RunReport", "The run"), **_errors(401, 403, 404)},
            }},
            "/v1/alerts": {"get": {
                "summary": "Alerts, newest first, with their deliveries (failed ones too)",
                "parameters": [
                    {"name": "state", "in": "query",
                     "schema": {"enum": ["open", "acknowledged", "resolved"]}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
                "responses": {**_ok(200, "AlertList", "Alerts"), **_errors(401, 403, 422)},
            }},
            "/v1/audit": {"get": {
                "summary": "The audit log (admin), newest first: who changed what, when and "
                           "from where. Read-only; entries are never changed or deleted",
                "parameters": [
                    {"name": "since", "in": "query", "schema": TIME},
                    {"name": "until", "in": "query", "schema": TIME},
                    {"name": "action", "in": "query", "schema": {"type": "string", "maxLength": 200},
                     "description": "An action (alert.snoozed) or its family (alert)"},
                    {"name": "actor", "in": "query", "schema": {"type": "string", "maxLength": 200},
                     "description": "Part of who made the change"},
                    {"name": "target", "in": "query", "schema": {"type": "string", "maxLength": 200},
                     "description": "Part of what was changed"},
                    {"name": "before", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 2**62},
                     "description": "Entries older than this id (the `next` link carries it)"},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
                "responses": {**_ok(200, "AuditList", "Entries"), **_errors(401, 403, 422)},
            }},
            "/v1/openapi.json": {"get": {
                "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1",
                                      "content": {"application/json": {"schema": {}}}}},
            }},
            "/metrics": {"get": {
                "summary": "OpenTrace's own health in Prometheus text format", "security": [],
                "responses": {"200": {"description": "Prometheus exposition format",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }},
            "/api/v1/lineage": {"post": {
                "summary": "An OpenLineage RunEvent (spec 2-0-x), as the OpenLineage HTTP transport "
                           "sends it; mapped to ordinary runs and events",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["eventTime", "run", "job"],
                    "externalDocs": {"url": "https://openlineage.io/spec/2-0-2/OpenLineage.json"},
                }}}},
                "responses": {**_ok(202, "Accepted", "Committed"),
                              **_errors(400, 401, 403, 413, 422, 503)},
            }},
            "/api/messages": {"post": {
                "summary": "The Teams bot: a Bot Framework activity from the Bot Connector; needs "
                           "a Bot Framework token (not an OpenTrace one) when MicrosoftAppId is set",
                "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["type", "serviceUrl"],
                    "externalDocs": {"url": "https://learn.microsoft.com/azure/bot-service/rest-api/"
                                            "bot-framework-rest-connector-api-reference#activity-object"},
                }}}},
                "responses": {
                    "200": {"description": "An invoke activity's answer",
                            "content": {"application/json": {"schema": {}}}},
                    "201": {"description": "Handled; replies went to the activity's serviceUrl"},
                    **_errors(400, 401, 503),
                },
            }},
            **ping_paths(),
            "/privacy": {"get": {
                "summary": "The privacy statement the Teams app package links to by default",
                "security": [], "responses": {"200": {"description": "An HTML page", "content": {
                    "text/html": {"schema": {"type": "string"}}}}},
            }},
            "/terms": {"get": {
                "summary": "The terms of use the Teams app package links to by default",
                "security": [], "responses": {"200": {"description": "An HTML page", "content": {
                    "text/html": {"schema": {"type": "string"}}}}},
            }},
            "/healthz": {"get": {
                "summary": "200 when the database answers", "security": [],
                "responses": {**_ok(200, "Health", "Healthy"), **_errors(503)},
            }},
        },
    }


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
