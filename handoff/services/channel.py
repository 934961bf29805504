"""How agent replies reach the customer.

``CustomerChannel`` is the interface; the Rasa implementation (bot event with
``output_channel=latest`` over Rasa's HTTP API) comes in a later issue.
``RecordingChannel`` keeps what it was asked to send; the default run uses it
with logging.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

__all__ = ["CustomerChannel", "RecordingChannel", "SentMessage"]

log = logging.getLogger("handoff.channel")


class CustomerChannel(ABC):
    @abstractmethod
    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        """Deliver an agent's reply to the customer's conversation."""

    @abstractmethod
    async def hand_back(self, conversation_id: str) -> None:
        """Give the conversation back to the bot."""


@dataclass(frozen=True)
class SentMessage:
    conversation_id: str
    text: str
    agent_display_name: str


@dataclass
class RecordingChannel(CustomerChannel):
    """Records calls in memory and logs them (no customer is reached)."""

    sent: list[SentMessage] = field(default_factory=list)
    handed_back: list[str] = field(default_factory=list)

    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        self.sent.append(SentMessage(conversation_id, text, agent_display_name))
        log.info("reply to conversation %s by %s (%d chars)", conversation_id, agent_display_name, len(text))

    async def hand_back(self, conversation_id: str) -> None:
        self.handed_back.append(conversation_id)
        log.info("conversation %s handed back to the bot", conversation_id)
