"""How agent replies, notices and hand-backs reach the customer.

``CustomerChannel`` is the interface. ``RasaChannel`` (handoff/services/
rasa_channel.py) speaks to Rasa's HTTP API, so a message reaches the
customer on whatever channel they use; ``RecordingChannel`` keeps what it
was asked to send (tests, and a run without Rasa).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from support_rules.conversations import conversation_ref
from support_rules.tickets import CANCELLED_INTENT, HANDBACK_INTENT, RESOLVED_INTENT

__all__ = ["CustomerChannel", "RecordingChannel", "SentMessage", "ChannelError", "CUSTOMER_SENDER"]

log = logging.getLogger("handoff.channel")

# the ``sender`` in a bot event's metadata for a customer's own line shown
# back in the chat (``echo_customer_line``); the web chat reads it too
CUSTOMER_SENDER = "customer"


class ChannelError(RuntimeError):
    """The customer could not be reached (Rasa down, refused, timed out)."""


class CustomerChannel(ABC):
    @abstractmethod
    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        """Deliver an agent's reply to the customer's conversation."""

    @abstractmethod
    async def notify(self, conversation_id: str, text: str) -> None:
        """Show the customer a short system notice (queue position, agent joined)."""

    @abstractmethod
    async def hand_back(self, conversation_id: str, *, intent: str = HANDBACK_INTENT) -> None:
        """Give the conversation back to the bot, which then says why: one of
        ``support_rules.tickets.HANDBACK_INTENTS`` (handed back, resolved,
        cancelled by the customer)."""

    async def request_documents(self, conversation_id: str, text: str) -> None:
        """Ask the customer for documents: a notice that also tells the
        customer's client to offer an upload (``metadata.request_documents``
        on the web chat's message). A channel that cannot carry the flag
        shows the text as a notice."""
        await self.notify(conversation_id, text)

    @abstractmethod
    async def echo_customer_line(self, conversation_id: str, text: str) -> None:
        """Show the customer, in their open chat, a line they added elsewhere
        (a message or a document's line written in the customer panel), so
        the chat tells the same conversation as the panel and the console."""

    async def close(self) -> None:  # noqa: B027 - optional hook: most channels hold no connection
        """Release connections; nothing by default."""


@dataclass(frozen=True)
class SentMessage:
    conversation_id: str
    text: str
    agent_display_name: str


@dataclass
class RecordingChannel(CustomerChannel):
    """Records calls in memory and logs them (no customer is reached)."""

    sent: list[SentMessage] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    given_back: list[tuple[str, str]] = field(default_factory=list)
    document_requests: list[tuple[str, str]] = field(default_factory=list)
    echoed: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        self.sent.append(SentMessage(conversation_id, text, agent_display_name))
        log.info(
            "reply to conversation %s by %s (%d chars)",
            conversation_ref(conversation_id),
            agent_display_name,
            len(text),
        )

    async def notify(self, conversation_id: str, text: str) -> None:
        self.notices.append((conversation_id, text))
        log.info("notice to conversation %s (%d chars)", conversation_ref(conversation_id), len(text))

    async def request_documents(self, conversation_id: str, text: str) -> None:
        self.document_requests.append((conversation_id, text))
        log.info("documents asked of conversation %s", conversation_ref(conversation_id))

    async def echo_customer_line(self, conversation_id: str, text: str) -> None:
        self.echoed.append((conversation_id, text))
        log.info("customer line echoed to conversation %s (%d chars)", conversation_ref(conversation_id), len(text))

    async def hand_back(self, conversation_id: str, *, intent: str = HANDBACK_INTENT) -> None:
        self.given_back.append((conversation_id, intent))
        log.info("conversation %s given back to the bot (%s)", conversation_ref(conversation_id), intent)

    def _given_back_as(self, intent: str) -> list[str]:
        return [conversation for conversation, why in self.given_back if why == intent]

    @property
    def handed_back(self) -> list[str]:
        return self._given_back_as(HANDBACK_INTENT)

    @property
    def resolved(self) -> list[str]:
        return self._given_back_as(RESOLVED_INTENT)

    @property
    def cancelled(self) -> list[str]:
        return self._given_back_as(CANCELLED_INTENT)
