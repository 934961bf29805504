"""Summary validation against the shared JSON Schema; request bodies."""

import pytest

from handoff.api.bodies import Empty, Login, Reply, TranscriptQuery, Transfer
from handoff.errors import BadRequest, PayloadTooLarge, Unprocessable
from handoff.schemas import BodyLimits, SummaryValidator, parse_json, validate_body
from handoff.settings import REPO_ROOT
from tests.handoff.factories import summary

VALIDATOR = SummaryValidator(REPO_ROOT / "schemas" / "handoff_summary.schema.json")


def test_valid_summary_passes() -> None:
    VALIDATOR.validate(summary())


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"language": "de"},
        {"created_at": "yesterday"},
        {"created_at": "2026-11-20T10:00:00"},  # no offset
        {"transaction_date": "2026-02-30"},
        {"priority": {"level": "urgent"}},
        {"schema_version": 2},
    ],
)
def test_invalid_summaries_are_rejected(change: dict) -> None:
    with pytest.raises(Unprocessable):
        VALIDATOR.validate(summary(**change))


def test_missing_field_rejected() -> None:
    data = summary()
    del data["age_check"]
    with pytest.raises(Unprocessable, match="age_check"):
        VALIDATOR.validate(data)


LIMITS = BodyLimits(message_bytes=4096)


def test_bodies_are_validated_by_their_models() -> None:
    assert validate_body(Reply, {"text": "hi"}, limits=LIMITS) == Reply(text="hi")
    assert validate_body(Reply, {"text": "hi", "client_id": None}, limits=LIMITS).client_id is None
    assert validate_body(Empty, {}) == Empty()


@pytest.mark.parametrize(
    ("model", "data", "code"),
    [
        (Reply, {"text": "hi", "admin": True}, "unknown_field"),
        (Empty, {"anything": 1}, "unknown_field"),
        (Reply, {"text": 5}, "wrong_type"),
        (Login, {"username": True, "password": "x"}, "wrong_type"),  # no conversion, bool is not str
        (Transfer, {"note": "x"}, "missing_field"),
        (Transfer, {"department": None}, "missing_field"),  # null counts as not sent
        (Reply, {"text": "   "}, "empty_field"),
        (Login, {"username": "u" * 65, "password": "x"}, "too_long"),
        (Reply, [1, 2], "invalid_body"),
    ],
)
def test_bad_bodies_answer_400_naming_the_rule(model: type, data: object, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_body(model, data, limits=LIMITS)
    assert caught.value.code == code and caught.value.status == 400


def test_a_text_over_its_byte_limit_is_413() -> None:
    validate_body(Reply, {"text": "ş" * 2048}, limits=LIMITS)  # 4096 bytes
    with pytest.raises(PayloadTooLarge):
        validate_body(Reply, {"text": "ş" * 2049}, limits=LIMITS)  # 4098 bytes
    with pytest.raises(PayloadTooLarge):
        validate_body(Reply, {"text": "abc"}, limits=BodyLimits(message_bytes=2))


def test_a_text_over_its_character_limit_is_400_too_long() -> None:
    limits = BodyLimits(message_bytes=16000, message_chars=10)
    validate_body(Reply, {"text": "ç" * 10}, limits=limits)
    with pytest.raises(BadRequest) as caught:
        validate_body(Reply, {"text": "ç" * 11}, limits=limits)
    assert (caught.value.code, caught.value.status) == ("too_long", 400)


def test_query_arguments_are_converted_and_checked() -> None:
    assert validate_body(TranscriptQuery, {"after": "5"}) == TranscriptQuery(after=5, limit=100)
    with pytest.raises(BadRequest, match="wrong type"):
        validate_body(TranscriptQuery, {"limit": "ten"})
    with pytest.raises(BadRequest, match="limit"):
        validate_body(TranscriptQuery, {"limit": "0"})


def test_parse_json_limits() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_json(b"x" * 11, max_bytes=10)
    with pytest.raises(BadRequest):
        parse_json(b"{not json", max_bytes=100)
