from datetime import date, datetime, timezone

import pytest

from actions.core.settings import ROOT
from support_rules.priority import decide_priority, load_priority_rules
from support_rules.summary import SummaryInvalid, TranscriptLine, TriageCase, build_summary, validate_summary

SCHEMA = ROOT / "schemas" / "handoff_summary.schema.json"
RULES = load_priority_rules(ROOT / "data" / "catalogue.yml")
TODAY = date(2026, 11, 22)
MOMENT = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def _case(catalogue, **overrides) -> TriageCase:
    values = dict(
        conversation_id="c-1",
        channel="socketio",
        language="tr",
        username="ayse_k",
        topic=catalogue.topic("withdrawal"),
        transaction_type=catalogue.transaction_type("withdrawal"),
        transaction_date=date(2026, 11, 21),
        age_method="birth_date",
        description="dün 4111 1111 1111 1111 kartımla çektiğim para gelmedi",
        today=TODAY,
        faq_tried=["withdrawal_pending"],
        intents=[("faq", 0.93), ("deny", 0.99)],
        transcript=[
            TranscriptLine("customer", "şifrem Abc12345", MOMENT),
            TranscriptLine("bot", "Talep numaranız...", MOMENT),
        ],
        created_at=MOMENT,
    )
    values.update(overrides)
    return TriageCase(**values)


def test_a_summary_matches_the_shared_schema(services) -> None:
    summary = build_summary(_case(services.catalogue), priority_rules=RULES)
    validate_summary(summary, SCHEMA)
    assert summary["department"] == "finance"
    assert summary["topic"] == {"id": "withdrawal", "label": "Para çekme"}
    assert summary["transaction_date"] == "2026-11-21"
    assert summary["age_check"] == {"result": "over_18", "method": "birth_date"}
    assert summary["faq_tried"] == [{"id": "withdrawal_pending", "solved": False}]
    assert summary["priority"]["level"] == "high"


def test_secrets_are_masked_in_description_and_transcript(services) -> None:
    summary = build_summary(_case(services.catalogue), priority_rules=RULES)
    assert "4111 1111 1111 1111" not in summary["description"]
    assert "**** **** **** 1111" in summary["description"]
    assert "Abc12345" not in summary["transcript"][0]["text"]


def test_an_english_summary_without_transaction(services) -> None:
    summary = build_summary(
        _case(
            services.catalogue,
            language="en",
            topic=services.catalogue.topic("other"),
            transaction_type=None,
            transaction_date=None,
            faq_tried=[],
            description="question",
        ),
        priority_rules=RULES,
    )
    validate_summary(summary, SCHEMA)
    assert summary["topic"]["label"] == "Other"
    assert summary["priority"]["level"] == "low"


def test_the_schema_refuses_what_it_should(services) -> None:
    summary = build_summary(_case(services.catalogue), priority_rules=RULES)
    for broken in (
        {**summary, "birth_date": "1990-05-04"},
        {**summary, "language": "de"},
        {**summary, "transaction_date": "21.11.2026"},
        {k: v for k, v in summary.items() if k != "username"},
    ):
        with pytest.raises(SummaryInvalid):
            validate_summary(broken, SCHEMA)


@pytest.mark.parametrize(
    "description,department,topic,tx_date,level",
    [
        ("hesabım hacklendi acil", "account", "password", None, "urgent"),
        ("someone made an unauthorized withdrawal", "finance", "withdrawal", None, "urgent"),
        ("para gelmedi", "finance", "withdrawal", date(2026, 11, 20), "high"),
        ("para gelmedi", "finance", "withdrawal", date(2026, 11, 1), "normal"),
        ("giremiyorum", "technical", "login", None, "high"),
        ("bir sorum var", "other", "other", None, "low"),
    ],
)
def test_priority_rules(description, department, topic, tx_date, level) -> None:
    priority = decide_priority(
        description=description,
        department=department,
        topic_id=topic,
        transaction_date=tx_date,
        today=TODAY,
        rules=RULES,
    )
    assert priority.level == level
    assert priority.reason


def test_the_summary_says_whether_the_username_was_verified(services) -> None:
    verified = build_summary(_case(services.catalogue, username_verified=True), priority_rules=RULES)
    typed = build_summary(_case(services.catalogue), priority_rules=RULES)
    nameless = build_summary(_case(services.catalogue, username=None, username_verified=True), priority_rules=RULES)
    for summary in (verified, typed, nameless):
        validate_summary(summary, SCHEMA)
    assert (verified["username_source"], typed["username_source"], nameless["username_source"]) == (
        "verified_token",
        "typed",
        None,
    )
    with pytest.raises(SummaryInvalid, match="username_source"):
        validate_summary({**typed, "username_source": "trust_me"}, SCHEMA)


def test_an_email_address_from_the_pre_chat_form_is_kept_and_valid(services) -> None:
    summary = build_summary(_case(services.catalogue, contact_email="ayse@example.com"), priority_rules=RULES)
    assert summary["contact_email"] == "ayse@example.com"
    validate_summary(summary, SCHEMA)
    assert "contact_email" not in build_summary(_case(services.catalogue), priority_rules=RULES)  # as before the form
    with pytest.raises(SummaryInvalid):
        validate_summary({**summary, "contact_email": "a" * 255}, SCHEMA)
