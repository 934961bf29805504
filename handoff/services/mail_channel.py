"""``MailAwareChannel``: the customer channel in front of the chat's.

A request that came by e-mail or the request form (conversation ids
``email:<key>`` and ``form:<key>``, handoff.services.intake) has no chat
behind it: Rasa must never hear of it, or it would open a tracker for a
conversation nobody reads. Its notices (queue position, agent joined),
hand-back and echoed lines are dropped here, logged at debug: the mail
customer had the desk's acknowledgement with their request number and
expected wait, and hears from an agent by e-mail (the reply is queued as
mail, handoff.services.mail_replies). Every other conversation goes to the
channel this one wraps.
"""

from __future__ import annotations

import logging

from handoff.services.channel import ChannelError, CustomerChannel
from handoff.services.intake import CHANNEL_EMAIL, CHANNEL_FORM
from support_rules.conversations import conversation_ref
from support_rules.tickets import HANDBACK_INTENT

__all__ = ["MailAwareChannel", "is_mail_conversation", "MAIL_PREFIXES"]

log = logging.getLogger("handoff.channel")

MAIL_PREFIXES = (f"{CHANNEL_EMAIL}:", f"{CHANNEL_FORM}:")


def is_mail_conversation(conversation_id: str) -> bool:
    return conversation_id.startswith(MAIL_PREFIXES)


class MailAwareChannel(CustomerChannel):
    def __init__(self, chat: CustomerChannel) -> None:
        self.chat = chat

    def _skipped(self, what: str, conversation_id: str) -> bool:
        if not is_mail_conversation(conversation_id):
            return False
        log.debug("%s for mail conversation %s not sent to the chat", what, conversation_ref(conversation_id))
        return True

    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        if is_mail_conversation(conversation_id):
            # replies on mail requests are queued as mail before they get here
            raise ChannelError("a mail request's replies go by e-mail, and this one has no address to go to")
        await self.chat.send(conversation_id, text, agent_display_name)

    async def notify(self, conversation_id: str, text: str) -> None:
        if not self._skipped("notice", conversation_id):
            await self.chat.notify(conversation_id, text)

    async def request_documents(self, conversation_id: str, text: str) -> None:
        if not self._skipped("document request", conversation_id):
            await self.chat.request_documents(conversation_id, text)

    async def echo_customer_line(self, conversation_id: str, text: str) -> None:
        if not self._skipped("echoed line", conversation_id):
            await self.chat.echo_customer_line(conversation_id, text)

    async def hand_back(self, conversation_id: str, *, intent: str = HANDBACK_INTENT) -> None:
        if not self._skipped("hand-back", conversation_id):
            await self.chat.hand_back(conversation_id, intent=intent)

    async def close(self) -> None:
        await self.chat.close()
