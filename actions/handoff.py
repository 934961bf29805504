"""action_handoff: the structured summary goes to the agents' queue.

The summary is kept in the durable outbox before it is posted, so a service
that is down loses nothing: the outbox worker retries it. Either way the
conversation is paused, and from then on Rasa keeps the bot silent. A
verification request also tells the customer which documents to upload. If the
outbox cannot be written either (its database down too), the customer is
told the request did not go through and may ask again; nothing is promised
that nobody keeps.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from support_rules.conversations import conversation_ref
from support_rules.language import fallback_language
from support_rules.limits import wait_minutes
from support_rules.summary import SummaryInvalid, TriageCase, build_summary, validate_summary
from support_rules.verification import KIND_VERIFICATION, REQUEST_DOCUMENTS_KEY, kind_for_topic

from .base import ServiceAction
from .conversation import customer_messages, transcript, verified_customer
from .core.handoff_client import HandoffError, HandoffUnavailable
from .core.outbox import Outbox
from .core.prechat import EMAIL_SLOT
from .core.replies import known
from .route_request import DESCRIBING_INTENTS

logger = logging.getLogger(__name__)


class ActionHandoff(ServiceAction):
    def name(self) -> str:
        return "action_handoff"

    def _summary(self, tracker: Tracker) -> dict[str, Any]:
        catalogue = self.services.catalogue
        messages = customer_messages(tracker)
        own_words = [m.text for m in messages if m.answered_slot is None and m.intent in DESCRIBING_INTENTS]
        topic = catalogue.topic(tracker.get_slot("topic") or "") or catalogue.fallback_topic
        if topic is None:  # tests/rules/test_catalogue.py keeps one in data/catalogue.yml
            raise ValueError("the catalogue has no fallback topic")
        iso_date = known(tracker.get_slot("transaction_date"))
        username = known(tracker.get_slot("username"))
        customer = verified_customer(tracker, self.services.settings.customer_token_secret)
        case = TriageCase(
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "unknown",
            language=fallback_language(tracker.get_slot("language")),
            username=username,
            username_verified=customer is not None and username is not None and customer.username == username,
            topic=topic,
            transaction_type=catalogue.transaction_type(tracker.get_slot("transaction_type") or ""),
            transaction_date=date.fromisoformat(iso_date) if iso_date else None,
            age_method=tracker.get_slot("age_method") or "birth_date",
            description="\n".join(own_words),
            today=self.services.today(),
            faq_tried=tracker.get_slot("faq_tried") or [],
            intents=[(m.intent, m.confidence) for m in messages if m.intent],
            transcript=transcript(tracker),
            asked_for_human=any(m.intent == "request_human" for m in messages),
            contact_email=tracker.get_slot(EMAIL_SLOT) or None,
        )
        return build_summary(case, priority_rules=self.services.priority_rules)

    @staticmethod
    def _idempotency_key(tracker: Tracker) -> str:
        """One key per customer message that hands off: the message's own id
        from the customer's channel when it has one (the web chat's), which
        stays the same when the message is sent again after its Rasa server
        died mid-turn, where Rasa's id for it is new; else Rasa's id."""
        latest = tracker.latest_message or {}
        metadata = latest.get("metadata")
        sent_as = metadata.get("message_id") if isinstance(metadata, dict) else None
        if isinstance(sent_as, str) and sent_as:
            marker = f"sent:{sent_as}"
        else:
            marker = latest.get("message_id") or str(len(tracker.events or []))
        # the conversation's reference, not its id: the key is logged by the
        # outbox worker (support_rules.conversations)
        return f"{conversation_ref(tracker.sender_id)}:{marker}"

    def _keep(self, key: str, conversation_id: str, summary: dict[str, Any]) -> Outbox | None:
        """The outbox holding the handoff, or None if it cannot be written
        (its database down): the handoff is then posted without it."""
        try:
            outbox = self.services.outbox
            outbox.add(key, conversation_id, summary)
        except Exception:
            logger.exception("outbox unavailable; handoff of %s posted without it", conversation_ref(conversation_id))
            return None
        return outbox

    @staticmethod
    def _mark(mark: Any, key: str, detail: Any) -> None:
        try:
            mark(key, detail)
        except Exception:  # the post's outcome stands; the worker posts again at worst (same key)
            logger.exception("outbox could not record the outcome of %s", key)

    def _ask_for_documents(self, dispatcher: CollectingDispatcher, summary: dict[str, Any]) -> None:
        """A verification request: the documents the agents will need, with
        the flag on which the web chat offers the upload
        (support_rules.verification.REQUEST_DOCUMENTS_KEY)."""
        texts = self.services.verification
        if kind_for_topic(summary["topic"]["id"], texts.topics) != KIND_VERIFICATION:
            return
        dispatcher.utter_message(
            response="utter_verification_documents",
            documents=texts.documents_list(summary["language"]),
            **{REQUEST_DOCUMENTS_KEY: True},
        )

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        summary = self._summary(tracker)
        try:
            validate_summary(summary, self.services.settings.summary_schema_path)
        except SummaryInvalid:
            logger.exception("handoff summary of %s does not match the schema", conversation_ref(tracker.sender_id))
        key = self._idempotency_key(tracker)
        outbox = self._keep(key, tracker.sender_id, summary)
        try:
            receipt = await self.services.handoff_client.create_handoff(summary, key)
        except HandoffError as exc:
            level = logging.WARNING if isinstance(exc, HandoffUnavailable) else logging.ERROR
            if outbox is None:  # neither delivered nor kept: say so, and let the customer ask again
                ref = conversation_ref(tracker.sender_id)
                logger.log(level, "handoff of %s neither delivered nor kept: %s", ref, exc)
                dispatcher.utter_message(response="utter_handoff_failed")
                return []
            # refused (4xx): a dead letter for a supervisor, never retried on its own
            self._mark(outbox.mark_failed if isinstance(exc, HandoffUnavailable) else outbox.mark_dead, key, str(exc))
            logger.log(level, "handoff of %s kept in the outbox: %s", conversation_ref(tracker.sender_id), exc)
            dispatcher.utter_message(response="utter_handoff_delayed")
            self._ask_for_documents(dispatcher, summary)
            return [ConversationPaused()]
        if outbox is not None:
            self._mark(outbox.mark_delivered, key, receipt.__dict__)
        dispatcher.utter_message(
            response="utter_handoff_joined" if receipt.joined else "utter_handoff_created",
            ticket_number=receipt.ticket_number,
            queue_position=receipt.queue_position or 1,
            wait_minutes=wait_minutes(receipt.expected_wait_seconds),
        )
        self._ask_for_documents(dispatcher, summary)
        return [SlotSet("ticket_number", receipt.ticket_number), ConversationPaused()]
