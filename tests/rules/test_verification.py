"""Identity verification as plain rules: the kind of a request from its
topic, the editors' file, the record's status after a request or decision,
where one request stands for its customer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from support_rules.catalogue import load_catalogue
from support_rules.verification import (
    KIND_SUPPORT,
    KIND_VERIFICATION,
    REQUEST_DOCUMENTS_RECEIVED,
    REQUEST_REQUESTED,
    STATUS_APPROVED,
    STATUS_NONE,
    STATUS_PENDING,
    STATUS_REJECTED,
    VerificationError,
    kind_for_topic,
    load_verification,
    request_step,
    status_after_decision,
    status_after_request,
)

ROOT = Path(__file__).resolve().parents[2]
TEXTS = load_verification(ROOT / "data" / "verification.yml")


def test_the_verification_topic_is_a_verification_request_and_others_are_support() -> None:
    assert kind_for_topic("verification", TEXTS.topics) == KIND_VERIFICATION
    for topic in ("login", "deposit", "password", "other", None):
        assert kind_for_topic(topic, TEXTS.topics) == KIND_SUPPORT


def test_the_editors_topics_are_catalogue_topics() -> None:
    catalogue = load_catalogue(ROOT / "data" / "catalogue.yml")
    assert TEXTS.topics and all(catalogue.topic(topic) is not None for topic in TEXTS.topics)


def test_documents_and_reasons_exist_in_both_languages() -> None:
    assert TEXTS.documents and TEXTS.reasons
    for names in [*TEXTS.documents.values(), *TEXTS.reasons.values()]:
        assert set(names) == {"tr", "en"} and all(names.values())
    assert TEXTS.documents_list("en").count("; ") == len(TEXTS.documents) - 1
    assert "pasaport" in TEXTS.documents_list("tr") and "passport" in TEXTS.documents_list("en")
    assert TEXTS.documents_list("de") == TEXTS.documents_list("tr")  # the desk's default language
    assert TEXTS.reason("expired") == {
        "tr": "Kimlik belgesinin süresi dolmuş",
        "en": "The identity document has expired",
    }
    assert TEXTS.reason("no_such_reason") is None


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("documents: []\nrejection_reasons: []\n", "topics"),
        ("topics: [verification]\ndocuments: []\nrejection_reasons: []\n", "documents"),
        (
            "topics: [verification]\ndocuments: [{id: a, name: {tr: x, en: y}}]\n"
            "rejection_reasons: [{id: r, name: {tr: x}}]\n",
            "rejection_reasons 'r' needs a name",
        ),
        (
            "topics: [verification]\ndocuments: [{id: a, name: {tr: x, en: y}}, {id: a, name: {tr: x, en: y}}]\n"
            "rejection_reasons: [{id: r, name: {tr: x, en: y}}]\n",
            "unique id",
        ),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "verification.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VerificationError, match=complaint):
        load_verification(path)


def test_a_new_request_makes_the_record_pending_but_leaves_an_approval() -> None:
    assert status_after_request(STATUS_NONE) == STATUS_PENDING
    assert status_after_request(STATUS_REJECTED) == STATUS_PENDING
    assert status_after_request(STATUS_PENDING) == STATUS_PENDING
    assert status_after_request(STATUS_APPROVED) == STATUS_APPROVED


def test_decisions() -> None:
    assert status_after_decision("approve") == STATUS_APPROVED
    assert status_after_decision("reject") == STATUS_REJECTED
    with pytest.raises(ValueError):
        status_after_decision("maybe")


def test_a_request_stands_where_its_own_decision_and_documents_leave_it() -> None:
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    later = t0 + timedelta(minutes=5)
    assert request_step(decided=None, decided_at=None, last_document_at=None) == REQUEST_REQUESTED
    assert request_step(decided=None, decided_at=None, last_document_at=t0) == REQUEST_DOCUMENTS_RECEIVED
    assert request_step(decided=STATUS_REJECTED, decided_at=later, last_document_at=t0) == STATUS_REJECTED
    assert request_step(decided=STATUS_APPROVED, decided_at=later, last_document_at=t0) == STATUS_APPROVED
    # decided without a document on this request (checked another way): the decision stands
    assert request_step(decided=STATUS_APPROVED, decided_at=t0, last_document_at=None) == STATUS_APPROVED
    # new documents after a rejection: under review again
    assert request_step(decided=STATUS_REJECTED, decided_at=t0, last_document_at=later) == REQUEST_DOCUMENTS_RECEIVED
    # a record status that is no decision on the request says nothing about it
    assert request_step(decided=STATUS_PENDING, decided_at=t0, last_document_at=None) == REQUEST_REQUESTED
    assert request_step(decided=STATUS_NONE, decided_at=None, last_document_at=t0) == REQUEST_DOCUMENTS_RECEIVED
