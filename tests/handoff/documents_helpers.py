"""A handoff service with documents on, and customers to upload with."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from handoff.app import create_app
from handoff.live_bus import LiveBus
from handoff.services.channel import RecordingChannel
from support_rules.conversations import (
    CONVERSATION_ID_HEADER,
    CONVERSATION_SECRET_HEADER,
    conversation_secret,
    new_conversation_id,
)
from tests.handoff.conftest import StartApp
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, make_settings

CONVERSATION_KEY = "test-conversation-key"


@dataclass
class Customer:
    conversation_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            CONVERSATION_ID_HEADER: self.conversation_id,
            CONVERSATION_SECRET_HEADER: conversation_secret(CONVERSATION_KEY, self.conversation_id),
        }


def new_customer() -> Customer:
    return Customer(new_conversation_id())


async def start_documents_app(
    start_app: StartApp, db_url: str, document_dir: Path, *, bus: LiveBus | None = None, **overrides: object
) -> str:
    settings = make_settings(
        db_url,
        conversation_secret_key=CONVERSATION_KEY,
        document_dir=document_dir,
        **overrides,
    )
    app = create_app(settings, channel=RecordingChannel(), bus=bus, name=f"handoff_{uuid.uuid4().hex[:8]}")
    return (await start_app(app)).base_url


async def hand_off(client: httpx.AsyncClient, customer: Customer, department: str = "finance") -> str:
    body = summary(department, conversation_id=customer.conversation_id)
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(uuid.uuid4().hex))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


async def upload(
    client: httpx.AsyncClient, customer: Customer, data: bytes, name: str = "screenshot.png", mime: str = "image/png"
) -> httpx.Response:
    return await client.post("/chat/documents", files={"file": (name, data, mime)}, headers=customer.headers)


def page_labels(page: str) -> dict[str, set[str]]:
    """The label keys per language a page ends up with: its own ``i18n.js``
    (``webchat`` or ``panel``) plus the document refusals both pages share
    (``webchat/documents_i18n.js``), which it must load first and merge."""
    root = Path(__file__).resolve().parents[2] / "handoff"
    own = (root / page / "i18n.js").read_text(encoding="utf-8")
    shared = (root / "webchat" / "documents_i18n.js").read_text(encoding="utf-8")
    index = (root / page / "index.html").read_text(encoding="utf-8")
    prefix = "/chat/" if page == "webchat" else "/panel/"
    order = [index.find(f'src="{prefix}documents_i18n.js"'), index.find(f'src="{prefix}i18n.js"')]
    assert -1 < order[0] < order[1], f"{page}/index.html must load documents_i18n.js before i18n.js"
    assert "(window.DOCUMENT_I18N || {})[lang]" in own, f"{page}/i18n.js must merge the shared refusals"
    keys: dict[str, set[str]] = {}
    for text in (own, shared):
        blocks = re.split(r"\n  (tr|en): \{", text)
        assert len(blocks) == 5, "one tr block and one en block"
        for lang, block in zip(blocks[1::2], blocks[2::2], strict=True):
            keys.setdefault(lang, set()).update(re.findall(r"(\w+): \"", block.split("\n  }")[0]))
    return keys
