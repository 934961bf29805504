"""Identity verification as a kind of request (data/verification.yml).

A ticket is either an ordinary support request or a verification request
(``REQUEST_KINDS``). Triage decides the kind from the topic (``kind_for_topic``:
the topics listed in the editors' file); an agent may turn any ticket into a
verification request by asking for documents. The editors' file also lists
the documents the desk asks for and the reasons an agent may give for a
rejection, each worded in every supported language. Both processes (the
bot's actions, the handoff service) read it through this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import yaml

from support_rules.language import SUPPORTED_LANGUAGES, fallback_language

__all__ = [
    "KIND_SUPPORT",
    "KIND_VERIFICATION",
    "REQUEST_KINDS",
    "STATUS_NONE",
    "STATUS_PENDING",
    "STATUS_APPROVED",
    "STATUS_REJECTED",
    "VERIFICATION_STATUSES",
    "REQUEST_REQUESTED",
    "REQUEST_DOCUMENTS_RECEIVED",
    "REQUEST_STEPS",
    "DECISIONS",
    "REQUEST_DOCUMENTS_KEY",
    "VerificationTexts",
    "VerificationError",
    "load_verification",
    "kind_for_topic",
    "status_after_decision",
    "status_after_request",
    "request_step",
]

KIND_SUPPORT: Final = "support"
KIND_VERIFICATION: Final = "verification"
REQUEST_KINDS: Final = (KIND_SUPPORT, KIND_VERIFICATION)

STATUS_NONE: Final = "none"
STATUS_PENDING: Final = "pending"
STATUS_APPROVED: Final = "approved"
STATUS_REJECTED: Final = "rejected"
VERIFICATION_STATUSES: Final = (STATUS_NONE, STATUS_PENDING, STATUS_APPROVED, STATUS_REJECTED)

# Where one verification request stands, as its customer sees it (the
# customer panel): asked for documents, documents received (under review),
# or decided on this request.
REQUEST_REQUESTED: Final = "requested"
REQUEST_DOCUMENTS_RECEIVED: Final = "documents_received"
REQUEST_STEPS: Final = (REQUEST_REQUESTED, REQUEST_DOCUMENTS_RECEIVED, STATUS_APPROVED, STATUS_REJECTED)

# The contract with the customer's client: a bot message whose metadata
# carries this key set to true asks for documents, and the web chat offers
# the upload (POST /chat/documents) on it. Sent by the bot on a verification
# topic (actions) and by the handoff service when an agent asks.
REQUEST_DOCUMENTS_KEY: Final = "request_documents"

# what an agent decides, and the status it leaves on the customer's record
DECISIONS: Final = {"approve": STATUS_APPROVED, "reject": STATUS_REJECTED}


class VerificationError(ValueError):
    """The editors' verification file is malformed."""


@dataclass(frozen=True)
class VerificationTexts:
    topics: frozenset[str]
    documents: dict[str, dict[str, str]]  # id -> language -> name, in the file's order
    reasons: dict[str, dict[str, str]]  # id -> language -> text, in the file's order

    def documents_list(self, language: str) -> str:
        """The documents as one line in ``language`` ("a; b")."""
        lang = fallback_language(language)
        return "; ".join(names[lang] for names in self.documents.values())

    def reason(self, reason_id: str) -> dict[str, str] | None:
        return self.reasons.get(reason_id)


def _named(path: Path, section: str, items: Any) -> dict[str, dict[str, str]]:
    if not isinstance(items, list) or not items:
        raise VerificationError(f"{path}: '{section}' must be a non-empty list")
    out: dict[str, dict[str, str]] = {}
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not item_id or item_id in out:
            raise VerificationError(f"{path}: every entry of '{section}' needs a unique id")
        if not isinstance(name, dict) or any(not isinstance(name.get(lang), str) for lang in SUPPORTED_LANGUAGES):
            raise VerificationError(f"{path}: {section} {item_id!r} needs a name in {', '.join(SUPPORTED_LANGUAGES)}")
        out[item_id] = {lang: str(name[lang]).strip() for lang in SUPPORTED_LANGUAGES}
    return out


def load_verification(path: Path) -> VerificationTexts:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise VerificationError(f"{path}: a mapping is required")
    topics = data.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise VerificationError(f"{path}: 'topics' must be a list of catalogue topic ids")
    return VerificationTexts(
        topics=frozenset(topics),
        documents=_named(path, "documents", data.get("documents")),
        reasons=_named(path, "rejection_reasons", data.get("rejection_reasons")),
    )


def kind_for_topic(topic_id: str | None, verification_topics: Iterable[str]) -> str:
    """The kind of request a handoff on ``topic_id`` is."""
    return KIND_VERIFICATION if topic_id is not None and topic_id in set(verification_topics) else KIND_SUPPORT


def status_after_request(current: str) -> str:
    """A new verification request leaves an approval standing (until an agent
    decides again) and otherwise makes the record pending."""
    return current if current == STATUS_APPROVED else STATUS_PENDING


def status_after_decision(decision: str) -> str:
    try:
        return DECISIONS[decision]
    except KeyError:
        raise ValueError(f"unknown decision: {decision}") from None


def request_step(*, decided: str | None, decided_at: datetime | None, last_document_at: datetime | None) -> str:
    """Where a verification request stands for its customer: the decision
    made on it (``decided``: approved or rejected), unless documents came
    after that decision (sent again after a rejection: under review again);
    else whether the customer has sent documents yet."""
    if decided in (STATUS_APPROVED, STATUS_REJECTED):
        sent_again = last_document_at is not None and decided_at is not None and last_document_at > decided_at
        if not sent_again:
            return decided
    return REQUEST_DOCUMENTS_RECEIVED if last_document_at is not None else REQUEST_REQUESTED
