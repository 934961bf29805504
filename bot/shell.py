"""A terminal chat with the running Rasa server (``make shell``).

Each run is a new customer. Type in Turkish or English; Ctrl-D or /stop
ends the chat.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from bot.settings import get_settings
from support_rules.conversations import CONVERSATION_ID_HEADER, CONVERSATION_SECRET_HEADER


class _Conversation:
    """The REST channel's conversation: the first message starts it, and
    its answer carries the id and the secret the next ones must show."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conversation_id: str | None = None
        self.secret: str | None = None

    def send(self, text: str) -> list[dict]:
        body: dict[str, str] = {"message": text}
        headers = {"Content-Type": "application/json"}
        if self.conversation_id and self.secret:
            body["sender"] = self.conversation_id
            headers[CONVERSATION_SECRET_HEADER] = self.secret
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            if self.conversation_id is None:
                self.conversation_id = response.headers.get(CONVERSATION_ID_HEADER)
                self.secret = response.headers.get(CONVERSATION_SECRET_HEADER)
            return json.loads(response.read() or b"[]")


def main() -> int:
    base = get_settings().rasa_url
    conversation = _Conversation(f"{base}/webhooks/rest/webhook")
    print(f"Chatting with {base} as a new customer. Ctrl-D or /stop ends the chat.")
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if text == "/stop":
            return 0
        if not text:
            continue
        try:
            replies = conversation.send(text)
        except (urllib.error.URLError, OSError) as exc:
            print(f"(the bot is not reachable at {base}: {exc}; is `make run` running?)", file=sys.stderr)
            continue
        for reply in replies:
            if reply.get("text"):
                print(f"bot> {reply['text']}")
            for button in reply.get("buttons") or []:
                print(f"     [{button.get('title')}] -> {button.get('payload')}")


if __name__ == "__main__":
    raise SystemExit(main())
