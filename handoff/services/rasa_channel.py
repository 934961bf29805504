"""``CustomerChannel`` over Rasa's HTTP API (``rasa run --enable-api``).

- A reply or notice is a ``bot`` event appended with
  ``output_channel=latest&execute_side_effects=true``: Rasa sends it on the
  channel the customer last wrote from. The metadata (``sender: agent`` and
  the display name, or ``kind: notice``) travels with it; the web chat shows
  it and the transcript keeps it. A request for documents is a notice
  whose metadata also carries ``request_documents: true``: the web chat
  offers the upload on it.
- A customer's line added in the panel is a ``bot`` event too, with
  ``sender: customer`` in its metadata: the web chat shows it on the
  customer's side (marked as written in the panel), and the event consumer
  (handoff.services.consumer) keeps it out of the bot's lines: the ticket
  holds it already.
- A hand-back appends ``resume`` and ``action_listen``, then triggers
  the intent the caller names (``support_rules.tickets.HANDBACK_INTENTS``: handed
  back, resolved, cancelled by the customer): a paused conversation
  ignores triggered intents, so the order matters. The bot then greets the customer again (actions/session.py).

The API is protected by Rasa's JWT auth (``--jwt-secret``): each request
carries ``Authorization: Bearer`` a short-lived token for that one
conversation (``support_rules.rasa_auth``), never a secret in the address,
which access logs keep. Conversation ids are quoted into the path; failures become ``ChannelError``
so callers never see a transport exception.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from handoff.services.channel import CUSTOMER_SENDER, ChannelError, CustomerChannel
from support_rules.rasa_auth import rasa_api_headers
from support_rules.tickets import HANDBACK_INTENT
from support_rules.verification import REQUEST_DOCUMENTS_KEY

__all__ = ["RasaChannel"]

log = logging.getLogger("handoff.rasa")


class RasaChannel(CustomerChannel):
    def __init__(
        self, base_url: str, jwt_secret: str, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._base = base_url.rstrip("/")
        self._jwt_secret = jwt_secret
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def _post(self, conversation_id: str, tail: str, payload: Any) -> None:
        # include_events=NONE: the answer's tracker without its events, which
        # Rasa would otherwise serialise (the whole conversation) for a body
        # nobody here reads
        params = {"output_channel": "latest", "execute_side_effects": "true", "include_events": "NONE"}
        # Rasa's Sanic does not unquote path parameters: the token names the
        # conversation as the path carries it.
        segment = quote(conversation_id, safe="")
        headers = rasa_api_headers(self._jwt_secret, conversation_id=segment) if self._jwt_secret else {}
        url = f"{self._base}/conversations/{segment}/{tail}"
        try:
            response = await self._client.post(url, params=params, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"Rasa unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise ChannelError(f"Rasa answered {response.status_code} to {tail}")

    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        event = {"event": "bot", "text": text, "metadata": {"sender": "agent", "agent_name": agent_display_name}}
        await self._post(conversation_id, "tracker/events", event)

    async def notify(self, conversation_id: str, text: str) -> None:
        event = {"event": "bot", "text": text, "metadata": {"kind": "notice"}}
        await self._post(conversation_id, "tracker/events", event)

    async def request_documents(self, conversation_id: str, text: str) -> None:
        # the flag travels in the metadata, as the sender does: Rasa merges a
        # bot event's metadata into the message its output channel sends
        # (bot/channels/formatting.py passes it on to the web chat)
        event = {"event": "bot", "text": text, "metadata": {"kind": "notice", REQUEST_DOCUMENTS_KEY: True}}
        await self._post(conversation_id, "tracker/events", event)

    async def echo_customer_line(self, conversation_id: str, text: str) -> None:
        event = {"event": "bot", "text": text, "metadata": {"sender": CUSTOMER_SENDER}}
        await self._post(conversation_id, "tracker/events", event)

    async def hand_back(self, conversation_id: str, *, intent: str = HANDBACK_INTENT) -> None:
        # While paused, customer messages were logged without the bot
        # listening; ``action_listen`` puts the dialogue back where rules
        # expect a new intent.
        events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        await self._post(conversation_id, "tracker/events", events)
        await self._post(conversation_id, "trigger_intent", {"name": intent})

    async def close(self) -> None:
        await self._client.aclose()
