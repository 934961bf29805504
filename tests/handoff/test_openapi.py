"""The OpenAPI document (/api/v1/openapi.json) is generated from the routes
and the models that validate them: every route is in it with its methods,
a route without a description stops it, and the service's real answers
match what it says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, empty

from handoff.api.spec import UndocumentedRoute, build_document, documented_routes
from handoff.app import create_app
from handoff.settings import REPO_ROOT
from tests.handoff.conftest import Running
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login, make_settings, status_headers

# Sanic keeps "/console/" as "/console"
FILE_ROUTES = {
    "/",
    "/console",
    "/console/{name}",
    "/console/editor",
    "/chat",
    "/chat/{name}",
    "/chat/vendor/socket.io.min.js",
    "/panel",
    "/panel/{name}",
    "/form",
    "/form/{name}",
}
DOC_URI = "urn:handoff:openapi"


def _served(app: Sanic) -> set[tuple[str, str]]:
    return {
        (re.sub(r"<([a-z_]+)(:[a-z]+)?>", r"{\1}", "/" + route.path), method.lower())
        for route in app.router.routes
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    }


async def test_every_route_but_the_file_routes_is_documented_with_its_methods(
    server: Running, client: httpx.AsyncClient
) -> None:
    res = await client.get("/api/v1/openapi.json")
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["openapi"] == "3.1.0"
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    served = _served(server.app)
    files = {(path, method) for path, method in served if path in FILE_ROUTES}
    assert {path for path, _ in files} == FILE_ROUTES
    assert documented == served - files
    assert ("/api/v1/live", "get") in documented
    assert ("/api/v1/conversations/{conversation_id}/events", "get") in documented


def test_a_route_without_a_description_stops_the_document(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path}/x.db"), name="handoff_undocumented")
    extra = Blueprint("extra", url_prefix="/api/v1")

    @extra.get("/forgotten")
    async def forgotten(request: Request) -> HTTPResponse:
        return empty()

    app.blueprint(extra)
    app.router.finalize()
    with pytest.raises(UndocumentedRoute, match="/api/v1/forgotten"):
        build_document(app)
    with pytest.raises(UndocumentedRoute):
        documented_routes(app)


async def test_bodies_and_the_summary_are_the_validating_definitions(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    shared = json.loads((REPO_ROOT / "schemas" / "handoff_summary.schema.json").read_text(encoding="utf-8"))
    assert schemas["HandoffSummary"] == shared
    handoff = doc["paths"]["/api/v1/handoffs"]["post"]
    summary_ref = {"$ref": "#/components/schemas/HandoffSummary"}
    assert handoff["requestBody"]["content"]["application/json"]["schema"] == summary_ref
    assert {p["name"] for p in handoff["parameters"]} == {"Idempotency-Key"}
    reply = schemas["Reply"]
    assert reply["additionalProperties"] is False and reply["required"] == ["text"]
    assert reply["properties"]["text"]["x-max-bytes"] == 16000  # the setting's limit
    assert schemas["Login"]["additionalProperties"] is False
    search = doc["paths"]["/api/v1/tickets"]["get"]
    assert {p["name"] for p in search["parameters"]} == {"username", "number", "from", "to"}
    # an answer the service gives for a bad body is in the document
    assert "413" in doc["paths"]["/api/v1/tickets/{number}/reply"]["post"]["responses"]


class Checker:
    """Asks the service and holds its real answer against the schema the
    document gives for that route and status."""

    def __init__(self, client: httpx.AsyncClient, doc: dict[str, Any]) -> None:
        self.client = client
        self.doc = doc
        # The shared summary schema has its own $id, so its "#/$defs/..." are
        # its own; jsonschema only knows that of a resource it was given.
        summary_schema = doc["components"]["schemas"]["HandoffSummary"]
        components = {**doc["components"]["schemas"], "HandoffSummary": {"$ref": summary_schema["$id"]}}
        rest = {**doc, "components": {**doc["components"], "schemas": components}}
        self.registry = Registry().with_resources(
            [
                (DOC_URI, Resource.from_contents(rest, default_specification=DRAFT202012)),
                (summary_schema["$id"], Resource.from_contents(summary_schema)),
            ]
        )
        self.statuses: set[int] = set()

    async def __call__(self, method: str, path: str, number: str = "", **request: Any) -> dict[str, Any]:
        res = await self.client.request(method, path.format(number=number, conversation_id="doc-1"), **request)
        responses = self.doc["paths"][path][method.lower()]["responses"]
        assert str(res.status_code) in responses, f"{method} {path} answered {res.status_code}, not in the document"
        schema = responses[str(res.status_code)]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({"$ref": DOC_URI + schema["$ref"]}, registry=self.registry)
        errors = [e.message for e in validator.iter_errors(res.json())]
        assert not errors, f"{method} {path}: {errors[:3]}"
        self.statuses.add(res.status_code)
        data: dict[str, Any] = res.json()
        return data


async def test_real_answers_match_the_document(client: httpx.AsyncClient) -> None:
    check = Checker(client, (await client.get("/api/v1/openapi.json")).json())
    handoff = json.dumps(summary(conversation_id="doc-1"))
    number = (await check("POST", "/api/v1/handoffs", content=handoff, headers=bot_headers("doc-1")))["ticket_number"]
    await check("POST", "/api/v1/handoffs", content=handoff, headers=bot_headers("doc-1"))  # 200: seen before
    await check("POST", "/api/v1/handoffs", content=b"{", headers=bot_headers("doc-2"))
    await check("GET", "/api/v1/tickets/{number}/status", number, headers=status_headers("doc-1"))
    await check("GET", "/api/v1/tickets/{number}/status", number, headers=status_headers("someone-else"))  # 404
    await check("GET", "/api/v1/tickets/{number}/status", number, headers=bot_headers())  # 400: who asks?
    await check("POST", "/api/v1/auth/login", json={"username": "fin", "password": "?"})
    fin, acc, boss = [await login(client, name) for name in ("fin", "acc", "boss")]
    for path in ("/api/v1/auth/me", "/api/v1/queue", "/api/v1/departments", "/api/v1/stats"):
        await check("GET", path, headers=fin)
    await check("GET", "/api/v1/stats", headers=boss)
    await check("POST", "/api/v1/tickets/{number}/claim", number, headers=fin)
    await check("POST", "/api/v1/queue/claim", headers=fin)  # 404: nothing else waits
    for text in ("Merhaba", "x" * 5000, "x" * 70_000):  # 201, 400 too long, 413 too large
        await check("POST", "/api/v1/tickets/{number}/reply", number, json={"text": text}, headers=fin)
    await check("POST", "/api/v1/tickets/{number}/reply", number, json={"text": "x", "html": 1}, headers=fin)
    await check("GET", "/api/v1/tickets/{number}", number, headers=fin)
    await check("GET", "/api/v1/tickets/{number}/export", number, headers=fin)
    await check("GET", "/api/v1/tickets", params={"number": number}, headers=fin)
    await check("POST", "/api/v1/tickets/{number}/transfer", number, json={"department": "account"}, headers=fin)
    await check("POST", "/api/v1/tickets/{number}/claim", number, headers=acc)
    await check("POST", "/api/v1/tickets/{number}/resolve", number, json={"note": "done"}, headers=acc)
    await check("POST", "/api/v1/tickets/{number}/hand-back", number, headers=acc)  # 409: closed already
    for params in ({}, {"limit": "0"}):
        await check("GET", "/api/v1/conversations/{conversation_id}/events", params=params, headers=boss)
    await check("GET", "/chat/config.json")
    await check("GET", "/healthz")
    await check("POST", "/api/v1/auth/logout", headers=fin)
    assert check.statuses >= {200, 201, 400, 401, 403, 404, 409, 413}


async def test_the_idempotency_key_is_documented_as_the_service_checks_it(client: httpx.AsyncClient) -> None:
    """Found by the generated requests: the document allowed any text, the
    service answered 400 to an empty, blank or over-long key."""
    doc = (await client.get("/api/v1/openapi.json")).json()
    header = next(p for p in doc["paths"]["/api/v1/handoffs"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    documented = Draft202012Validator(header["schema"])
    for i, key in enumerate(["", "a", "k" * 255, "k" * 256]):
        res = await client.post(
            "/api/v1/handoffs",
            content=json.dumps(summary(conversation_id=f"key-{i}")),
            headers={**bot_headers(), "Idempotency-Key": key},
        )
        assert documented.is_valid(key) == (res.status_code == 201), (key[:5], res.status_code)
        assert res.status_code in (201, 400)
