"""The OpenAPI document, generated from the app's routes and their models.

Each handler says what it is with ``@operation(...)`` (its summary, who may
call it, the model of its body and of its answers, the errors it gives) or
``@file_route`` for the console's and the web chat's static files.
``build_document(app)`` walks every route of the app: a route with neither
mark is an error, so a new route cannot be left out of the document. The
models' JSON Schemas come from pydantic; the handoff summary is the shared
``schemas/handoff_summary.schema.json``, included as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from sanic import Sanic

from handoff import __version__
from handoff.api.bodies import MAX_BYTES_KEY, SUMMARY_KEY, SUMMARY_REF, ErrorAnswer
from handoff.cross_origin import SAFE_METHODS
from handoff.panel_session import PANEL_COOKIE
from handoff.schemas import load_summary_schema

__all__ = ["operation", "file_route", "Operation", "Header", "build_document", "UndocumentedRoute", "SUMMARY"]

Handler = TypeVar("Handler", bound=Callable[..., Any])
Auth = Literal["service", "agent", "supervisor", "editor", "customer", "metrics"]

# the body of POST /handoffs: the shared JSON Schema, not a pydantic model
SUMMARY = "HandoffSummary"
_MARK = "__api_operation__"
_FILE = "file"
_SECURITY = {
    "service": "serviceToken",
    "agent": "agentSession",
    "supervisor": "agentSession",
    "editor": "agentSession",
    "customer": "customerSession",
    "metrics": "metricsToken",
}
_PARAM = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?>")
_REF = "#/components/schemas/{model}"
_JSON = "application/json"
_TEXT = {"type": "string"}


class UndocumentedRoute(LookupError):
    """A route has neither ``@operation`` nor ``@file_route``."""


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    required: bool = True
    # the header value's JSON Schema; any text when None
    schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    summary: str
    auth: Auth | None
    body: type[BaseModel] | str | None = None
    body_optional: bool = False
    answers: dict[int, type[BaseModel] | None] = field(default_factory=lambda: {200: None})
    errors: tuple[int, ...] = ()
    query: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    content_type: str = "application/json"
    # the body's media type (a file upload: multipart/form-data)
    body_type: str = "application/json"
    # the success answers' media types when there are several (a download)
    answer_types: tuple[str, ...] = ()


def operation(
    summary: str,
    *,
    auth: Auth | None,
    body: type[BaseModel] | str | None = None,
    body_optional: bool = False,
    answers: dict[int, type[BaseModel] | None] | None = None,
    errors: Iterable[int] = (),
    query: type[BaseModel] | None = None,
    headers: Iterable[Header] = (),
    content_type: str = "application/json",
    body_type: str = "application/json",
    answer_types: Iterable[str] = (),
) -> Callable[[Handler], Handler]:
    op = Operation(
        summary=summary,
        auth=auth,
        body=body,
        body_optional=body_optional,
        answers=answers or {200: None},
        errors=tuple(errors),
        query=query,
        headers=tuple(headers),
        content_type=content_type,
        body_type=body_type,
        answer_types=tuple(answer_types),
    )

    def mark(handler: Handler) -> Handler:
        setattr(handler, _MARK, op)
        return handler

    return mark


def file_route(handler: Handler) -> Handler:
    """A static file of the console or the web chat: not part of the API."""
    setattr(handler, _MARK, _FILE)
    return handler


def documented_routes(app: Sanic) -> list[tuple[str, frozenset[str], Operation]]:
    """(OpenAPI path, methods, operation) of every route but the file routes."""
    found = []
    for route in app.router.routes:
        mark = getattr(route.handler, _MARK, None)
        path = "/" + route.path
        if mark is None:
            raise UndocumentedRoute(f"{path} ({', '.join(sorted(route.methods))}) has no @operation")
        if mark == _FILE:
            continue
        methods = frozenset(m for m in route.methods if m not in ("HEAD", "OPTIONS"))
        found.append((_PARAM.sub(r"{\1}", path), methods, mark))
    return sorted(found, key=lambda item: item[0])


def build_document(app: Sanic) -> dict[str, Any]:
    settings = app.ctx.settings
    routes = documented_routes(app)
    components = _model_schemas(op for _, _, op in routes)
    _complete(components, settings.max_message_bytes)
    components[SUMMARY] = load_summary_schema(settings.summary_schema_path)
    paths: dict[str, dict[str, Any]] = {}
    for path, methods, op in routes:
        for method in sorted(methods):
            paths.setdefault(path, {})[method.lower()] = _operation(path, op)
    _cross_origin_refusals(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Handoff service", "version": __version__},
        "components": {
            "securitySchemes": {
                "serviceToken": {"type": "http", "scheme": "bearer", "description": "HANDOFF_SERVICE_TOKEN (the bot)"},
                "metricsToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "HANDOFF_METRICS_TOKEN (Prometheus)",
                },
                "agentSession": {"type": "apiKey", "in": "cookie", "name": "handoff_session"},
                "customerSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": PANEL_COOKIE,
                    "description": "the customer panel's session (POST /panel/api/session with the platform's token)",
                },
            },
            "schemas": components,
        },
        "paths": paths,
    }


def _cross_origin_refusals(paths: dict[str, dict[str, Any]]) -> None:
    """A change without the bot's token may be refused as cross-origin
    (``403 cross_origin``, handoff.cross_origin)."""
    for item in paths.values():
        for method, doc in item.items():
            if method.upper() not in SAFE_METHODS and doc["security"] != [{_SECURITY["service"]: []}]:
                doc["responses"].setdefault(
                    "403", {"description": "Error", "content": {_JSON: {"schema": _ref(ErrorAnswer)}}}
                )


def _model_schemas(ops: Iterable[Operation]) -> dict[str, Any]:
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorAnswer, "serialization"): None}
    for op in ops:
        if isinstance(op.body, type):
            models[(op.body, "validation")] = None
        for model in op.answers.values():
            if model is not None:
                models[(model, "serialization")] = None
    _, top = models_json_schema(list(models), ref_template=_REF)
    schemas: dict[str, Any] = top.get("$defs", {})
    return schemas


def _complete(node: Any, limit: int) -> None:
    """A text marked with a byte limit gets the setting's number (and, since
    a character takes at least one byte, that as its maxLength too); a
    summary mark becomes a reference to the shared schema."""
    if isinstance(node, dict):
        if node.pop(SUMMARY_KEY, None):
            node["$ref"] = SUMMARY_REF
        if node.pop(MAX_BYTES_KEY, None):
            node[MAX_BYTES_KEY] = limit
            node["maxLength"] = limit
            node["description"] = f"at most {limit} bytes of UTF-8 (413 beyond)"
        for value in node.values():
            _complete(value, limit)
    elif isinstance(node, list):
        for value in node:
            _complete(value, limit)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _operation(path: str, op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary, "security": [{_SECURITY[op.auth]: []}] if op.auth else []}
    headers = [
        {
            "name": h.name,
            "in": "header",
            "required": h.required,
            "description": h.description,
            "schema": h.schema or _TEXT,
        }
        for h in op.headers
    ]
    parameters = _path_parameters(path) + _query_parameters(op.query) + headers
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        schema = {"$ref": SUMMARY_REF} if op.body == SUMMARY else _ref(op.body) if isinstance(op.body, type) else {}
        out["requestBody"] = {"required": not op.body_optional, "content": {op.body_type: {"schema": schema}}}
    responses: dict[str, Any] = {}
    for status, model in sorted(op.answers.items()):
        content: dict[str, Any] = {op.content_type: {"schema": _ref(model)} if model else {}}
        if op.answer_types and status < 300:
            content = {media: {"schema": {"type": "string", "format": "binary"}} for media in op.answer_types}
        responses[str(status)] = {"description": "OK" if status < 300 else "", "content": content}
    errors = set(op.errors)
    if op.auth:
        errors.add(401)
    if op.auth in ("agent", "supervisor", "editor"):
        errors.add(403)  # an editor on an agent's page; an agent on a supervisor's or an editor's
    if op.body is not None:
        errors.update((400, 413))
    for status in sorted(errors):
        responses[str(status)] = {"description": "Error", "content": {_JSON: {"schema": _ref(ErrorAnswer)}}}
    out["responses"] = responses
    return out


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([A-Za-z_][A-Za-z0-9_]*)}", path)
    ]


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop.pop("description")
        params.append(param)
    return params
