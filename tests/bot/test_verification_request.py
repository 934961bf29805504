"""The documents request of a verification topic as Rasa renders and sends
it: the domain's text in the customer's language with the documents of
data/verification.yml, and the flag the web chat opens the upload on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.formatting import with_metadata
from support_rules.verification import REQUEST_DOCUMENTS_KEY, load_verification

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("language", "opening", "document"),
    [
        ("tr", "Kimliğinizi doğrulayabilmemiz için", "son 3 ay içinde adınıza düzenlenmiş bir fatura"),
        ("en", "To verify your identity", "a utility bill or bank statement in your name"),
    ],
)
def test_the_documents_request_in_each_language(language: str, opening: str, document: str) -> None:
    domain = Domain.load(str(ROOT / "domain"))
    texts = load_verification(ROOT / "data" / "verification.yml")
    tracker = DialogueStateTracker.from_events("c-1", [SlotSet("language", language)], domain.slots)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    message = asyncio.run(
        nlg.generate("utter_verification_documents", tracker, "socketio", documents=texts.documents_list(language))
    )
    assert message is not None
    assert message["text"].startswith(opening) and document in message["text"]
    assert "{" not in message["text"]


def test_the_flag_reaches_the_web_chat_with_the_message() -> None:
    sent = with_metadata({"text": "..."}, {REQUEST_DOCUMENTS_KEY: True, "documents": "a; b", "utter_action": "x"})
    assert sent == {"text": "...", "metadata": {REQUEST_DOCUMENTS_KEY: True}}
    assert with_metadata({"text": "..."}, {REQUEST_DOCUMENTS_KEY: False}) == {"text": "..."}
