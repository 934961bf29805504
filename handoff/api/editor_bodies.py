"""What the editors' API takes and answers (``/api/v1/editor``), in the style
of handoff/api/bodies.py: requests refuse unknown fields; answers name their
fields, the inbox's and the models' nested parts are described loosely."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from handoff.api.bodies import Answer, Query, RequestBody
from support_rules.limits import MAX_MESSAGE_CHARS

__all__ = [
    "InboxQuery",
    "Inbox",
    "Targets",
    "DecisionBody",
    "NewFaq",
    "DecisionAnswer",
    "ModelAnswer",
    "ModelList",
    "Published",
]

EventKey = Annotated[str, Field(min_length=1, max_length=64)]


class InboxQuery(Query):
    language: Literal["tr", "en"] | None = None
    reason: Literal["fallback", "low_confidence", "faq_not_solved", "person_after_answer", "out_of_scope"] | None = None


class NewFaq(RequestBody):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
    answer_tr: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    answer_en: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    topic: Annotated[str | None, Field(max_length=64)] = None


class DecisionBody(RequestBody):
    keys: Annotated[list[EventKey], Field(min_length=1, max_length=500, description="the customer lines' keys")]
    decision: Literal["intent", "faq", "new_faq", "right", "noise"]
    target: Annotated[
        str | None, Field(max_length=255, description="the intent, or the FAQ id without faq/ (intent, faq)")
    ] = None
    new_faq: NewFaq | None = None
    language: Literal["tr", "en"] | None = None


class Inbox(Answer):
    generated_at: str
    total_items: int
    groups: list[dict[str, Any]]


class Targets(Answer):
    intents: list[str]
    faqs: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    mode: Literal["files", "branch", "patch"]
    writes: bool
    trains: bool


class DecisionAnswer(Answer):
    decided: int
    change: dict[str, Any] | None


class ModelAnswer(Answer):
    model: dict[str, Any]


class ModelList(Answer):
    live: dict[str, Any] | None
    training: dict[str, Any] | None
    models: list[dict[str, Any]]
    trains: bool
    publishes: bool


class Published(Answer):
    model: dict[str, Any]
    replicas: list[dict[str, Any]]
