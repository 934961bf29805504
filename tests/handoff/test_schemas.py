"""Summary validation against the shared JSON Schema; request bodies."""

import pytest

from handoff.errors import BadRequest, PayloadTooLarge, Unprocessable
from handoff.schemas import REPLY, TRANSFER, SummaryValidator, parse_body, parse_json
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


def test_parse_body_rules() -> None:
    assert parse_body({"text": "hi"}, REPLY) == {"text": "hi"}
    with pytest.raises(BadRequest, match="unknown"):
        parse_body({"text": "hi", "admin": True}, REPLY)
    with pytest.raises(BadRequest, match="wrong type"):
        parse_body({"text": 5}, REPLY)
    with pytest.raises(BadRequest, match="missing"):
        parse_body({"note": "x"}, TRANSFER)
    with pytest.raises(PayloadTooLarge):
        parse_body({"text": "ş" * 2049}, REPLY)  # 4098 bytes
    with pytest.raises(BadRequest):
        parse_body([1, 2], REPLY)


def test_parse_json_limits() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_json(b"x" * 11, max_bytes=10)
    with pytest.raises(BadRequest):
        parse_json(b"{not json", max_bytes=100)
