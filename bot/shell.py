"""A terminal chat with the running Rasa server (``make shell``).

Each run is a new customer. Type in Turkish or English; Ctrl-D or /stop
ends the chat.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid

from bot.settings import get_settings


def _send(url: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"[]")


def main() -> int:
    base = get_settings().rasa_url
    url = f"{base}/webhooks/rest/webhook"
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    print(f"Chatting with {base} as {sender}. Ctrl-D or /stop ends the chat.")
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
            replies = _send(url, sender, text)
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
