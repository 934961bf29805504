"""Generated requests against the service's own OpenAPI document
(Schemathesis, issue 16): every operation, as anonymous, an agent, a
supervisor and the bot (service token), with valid and invalid data. No
answer may be a 5xx, every answer must be one the document gives for that
operation, with its content type and schema, and the service's log must
hold no unhandled error. A signed-in customer (the customer panel's
session cookie) is a role too; the seeded tickets are theirs.

The service runs as its own process (``python -m handoff serve``, as
``make run`` starts it) on SQLite and on the local PostgreSQL, with a few
queued tickets whose numbers the generated paths use half of the time, so
claims, replies and transfers reach real tickets. Sizes:
``HANDOFF_FUZZ_REQUESTS`` (default 1,000 per backend, spread over roles,
operations and valid/invalid data; ``make fuzz`` asks for more) and
``HANDOFF_TEST_BACKENDS``. The counts are printed (``-s`` shows them).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import HypothesisException
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stack.live import AGENT_PASSWORD, CUSTOMER_TOKEN_SECRET, SERVICE_TOKEN, LiveStack
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_VERIFIED
from tests.handoff.conftest import BACKENDS
from tests.handoff.factories import summary

REQUESTS = int(os.environ.get("HANDOFF_FUZZ_REQUESTS", "1000"))
# the anonymous log-ins (and their lock-outs) come last
ROLES = ("bot", "agent", "supervisor", "customer", "anonymous")
CUSTOMER = "musteri_42"
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LIVE = "/api/v1/live"
LOGOUT = "/api/v1/auth/logout"
SEEDED_TICKETS = 6
# finance and account topics, alternating like the seeded departments
SEEDED_TOPICS = ("deposit", "password", "withdrawal", "two_factor", "promotion", "contact_details")
# what a traceback or the service's own "unhandled error" line looks like in a log
UNHANDLED = re.compile(r"Traceback \(most recent call last\)|unhandled error|Exception in|ERROR")


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def report(self, backend: str) -> str:
        roles = ", ".join(f"{role} {self.requests[role]}" for role in ROLES)
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"generated API requests on {backend}: {sum(self.requests.values())} ({roles}); "
            f"operations covered {len(self.operations)}; statuses {statuses}; failures {len(self.failures)}"
        )


@pytest.fixture(params=BACKENDS)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "postgres":
        database_url = request.getfixturevalue("pg_url")
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}"
    stack = LiveStack(
        tmp_path,
        extra_env={
            "DATABASE_URL": database_url,
            "RASA_URL": "",  # replies and notices are recorded, not delivered
            "HANDOFF_EVENTS_SOURCE": "off",
        },
    )
    stack.start_service()
    try:
        yield request.param, stack
    finally:
        stack.stop()


def _login(base_url: str, username: str) -> str:
    res = requests.post(f"{base_url}/api/v1/auth/login", json={"username": username, "password": AGENT_PASSWORD})
    assert res.status_code == 200, res.text
    return str(res.json()["token"])


def _seed(base_url: str) -> list[str]:
    numbers = []
    for i in range(SEEDED_TICKETS):
        res = requests.post(
            f"{base_url}/api/v1/handoffs",
            data=json.dumps(
                summary(
                    ["finance", "account"][i % 2],
                    conversation_id=f"fuzz-{i}",
                    username=CUSTOMER,
                    username_source=USERNAME_VERIFIED,
                    # one request per problem: the same customer's requests are on different topics
                    topic={"id": SEEDED_TOPICS[i], "label": SEEDED_TOPICS[i]},
                )
            ),
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}", "Idempotency-Key": f"fuzz-{i}"},
        )
        assert res.status_code == 201, res.text
        numbers.append(res.json()["ticket_number"])
    return numbers


def _panel_session(base_url: str) -> str:
    """The customer's panel session, from a token the platform signed."""
    token = mint_customer_token(CUSTOMER, CUSTOMER_TOKEN_SECRET)
    res = requests.post(f"{base_url}/panel/api/session", json={"token": token}, timeout=30)
    assert res.status_code == 200, res.text
    return str(res.cookies.get("panel_session", path="/panel"))


def _live(case: Any, base_url: str, headers: dict[str, str]) -> str | None:
    """The live-update stream never ends for a logged-in agent: its status
    and content type are checked on the first line, then it is closed."""
    with requests.get(f"{base_url}{LIVE}", headers=headers, params=case.query, stream=True, timeout=10) as res:
        documented = case.operation.definition.raw["responses"]
        if res.status_code >= 500 or str(res.status_code) not in documented:
            return f"GET {LIVE} answered {res.status_code}"
        if res.status_code == 200:
            if not res.headers.get("content-type", "").startswith("text/event-stream"):
                return f"GET {LIVE} answered {res.headers.get('content-type')}"
            first = next(res.iter_lines())
            if not first.startswith(b"retry:"):
                return f"GET {LIVE} began with {first!r}"
    return None


@dataclass
class Sender:
    """Sends generated cases as one role and holds the answers against the document."""

    role: str
    headers: dict[str, str]
    base_url: str
    tickets: list[str]
    tally: Tally
    rng: random.Random

    def send(self, case: Any, mode: str) -> None:
        operation = case.operation
        label = f"{operation.method.upper()} {operation.path}"
        if "number" in (case.path_parameters or {}) and self.rng.random() < 0.5:
            case.path_parameters["number"] = self.rng.choice(self.tickets)
        if self.headers and case.cookies:
            for name in ("handoff_session", "panel_session"):
                case.cookies.pop(name, None)  # the role's own session speaks, not a generated one
        self.tally.requests[self.role] += 1
        self.tally.operations.add(label)
        if operation.path == LIVE and self.role in ("agent", "supervisor"):
            problem = _live(case, self.base_url, self.headers)
            self.tally.statuses[200] += 1
            if problem:
                self.tally.failures.append(f"{self.role} {mode}: {problem}")
            return
        try:
            response = case.call(base_url=self.base_url, headers=self.headers, timeout=30)
        except requests.RequestException as exc:
            self.tally.failures.append(f"{self.role} {mode} {label}: no answer ({exc})")
            return
        self.tally.statuses[response.status_code] += 1
        self.tally.answers[(self.role, label, response.status_code)] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers)
        except (Exception, FailureGroup) as exc:  # a failed check: kept, the run goes on
            first = str(exc).strip().splitlines()[:12]
            self.tally.failures.append(f"{self.role} {mode} {label}: " + " | ".join(first))

    def fuzz(self, operation: Any, mode: GenerationMode, *, examples: int, round_: int) -> None:
        """Hypothesis's generated cases (schemathesis' fuzzing phase)."""

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @seed(round_)
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            self.send(case, mode.value)

        # no (invalid) data can be generated for some operations, e.g. those without parameters
        with contextlib.suppress(HypothesisException):
            run()

    def cover(self, schema: Any, operation: Any, *, limit: int) -> None:
        """Schemathesis' coverage phase: boundary values (the largest number
        the document allows and one beyond, empty and over-long texts, missing
        and unknown fields, wrong types), valid and invalid."""
        config = schema.config.generation_for(operation=operation, phase="coverage")
        cases = schema.iter_coverage_cases(operation, generation_modes=list(MODES), generation_config=config)
        for case in itertools.islice(cases, limit):
            self.send(case, "coverage")


def _for_the_generator(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with the shared summary schema's own references
    ("#/$defs/..." under its "$id") written as references into the document:
    the same schema, in the form the generator resolves."""
    summary_schema = doc["components"]["schemas"]["HandoffSummary"]
    text = json.dumps(summary_schema).replace('"#/$defs/', '"#/components/schemas/HandoffSummary/$defs/')
    inlined = json.loads(text)
    inlined.pop("$id", None)
    inlined.pop("$schema", None)
    doc["components"]["schemas"]["HandoffSummary"] = inlined
    return doc


def test_generated_requests_get_documented_answers_and_no_5xx(
    service: tuple[str, LiveStack], capsys: pytest.CaptureFixture[str]
) -> None:
    backend, stack = service
    base_url = stack.handoff_url
    doc = requests.get(f"{base_url}/api/v1/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(_for_the_generator(doc))
    operations = [result.ok() for result in schema.get_all_operations()]
    tickets = _seed(base_url)
    tokens = {"agent": _login(base_url, "agent_finance"), "supervisor": _login(base_url, "supervisor")}
    role_headers = {
        "bot": {"Authorization": f"Bearer {SERVICE_TOKEN}"},
        "agent": {"Authorization": f"Bearer {tokens['agent']}"},
        "supervisor": {"Authorization": f"Bearer {tokens['supervisor']}"},
        "customer": {"Cookie": f"panel_session={_panel_session(base_url)}"},
        "anonymous": {},
    }
    examples = math.ceil(REQUESTS / (len(ROLES) * len(operations) * len(MODES)))
    tally = Tally()
    rng = random.Random(16)
    share = math.ceil(REQUESTS / len(ROLES))
    coverage_limit = max(4, share // (2 * len(operations)))
    for role in ROLES:
        sender = Sender(role, role_headers[role], base_url, tickets, tally, rng)
        for operation in operations:
            if operation.path != LOGOUT:
                sender.cover(schema, operation, limit=coverage_limit)
        # Operations without parameters give one request a round, so rounds
        # (each with its own seed) go on until the role's share is reached;
        # log-out, which ends the role's session, comes once, at the end.
        for round_ in range(1, 11):
            if tally.requests[role] >= share:
                break
            for operation in operations:
                for mode in MODES:
                    if operation.path != LOGOUT:
                        sender.fuzz(operation, mode, examples=examples, round_=round_)
        for operation in operations:
            if operation.path == LOGOUT:
                sender.cover(schema, operation, limit=coverage_limit)
                for mode in MODES:
                    sender.fuzz(operation, mode, examples=examples, round_=0)
    with capsys.disabled():  # the counts show in every run, `make test` too
        print("\n" + tally.report(backend))
    if os.environ.get("HANDOFF_FUZZ_VERBOSE"):
        for (role, label, status), n in sorted(tally.answers.items()):
            print(f"  {role:10} {label:50} {status} x{n}")
    for failure in tally.failures[:20]:
        print("  " + failure)
    log = (stack.tmp / "handoff.log").read_text(encoding="utf-8", errors="replace")
    unhandled = [line for line in log.splitlines() if UNHANDLED.search(line)]
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert not unhandled, "\n".join(unhandled[:20])
    assert len(tally.operations) == len(operations)
    assert sum(tally.requests.values()) >= REQUESTS
    assert all(tally.requests[role] > 0 for role in ROLES)
