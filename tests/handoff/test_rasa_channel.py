"""RasaChannel against a real Rasa server started as `make run` starts it:
JWT auth (--jwt-secret, HS256), no --auth-token, so no secret in any URL.

The server runs without a model (starting faster): a request Rasa lets
through its authentication then answers 409 ("no agent loaded"), one it
refuses answers 401 or 403, so the status tells the two apart.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from handoff.services.channel import CUSTOMER_SENDER, ChannelError
from handoff.services.rasa_channel import RasaChannel
from stack.live import BOT_BIN, ROOT, free_port, wait_until_up
from support_rules.rasa_auth import JWT_METHOD, rasa_api_headers
from support_rules.verification import REQUEST_DOCUMENTS_KEY

SECRET = "rasa-channel-test-jwt-secret-0123456789"
AUTHENTICATED_WITHOUT_MODEL = 409


@pytest.fixture(scope="module")
def rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("rasa")
    port = free_port()
    log = tmp / "rasa.log"
    args = [str(BOT_BIN / "rasa"), "run", "--enable-api", "--jwt-secret", SECRET, "--jwt-method", JWT_METHOD]
    args += ["--interface", "127.0.0.1", "--port", str(port), "--model", str(tmp / "no-model")]
    process = subprocess.Popen(
        args, cwd=tmp, env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "HOME": str(tmp)},
        stdout=log.open("a"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class Recorder:
    """Every request the channel's client really sends."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=10, event_hooks={"request": [self]})


async def test_rasa_refuses_a_request_without_the_jwt_header(rasa: str) -> None:
    event = {"event": "bot", "text": "hello"}
    async with httpx.AsyncClient(timeout=10) as client:
        bare = await client.post(f"{rasa}/conversations/conv-1/tracker/events", json=event)
        in_url = await client.post(f"{rasa}/conversations/conv-1/tracker/events", params={"token": SECRET}, json=event)
        signed = await client.post(
            f"{rasa}/conversations/conv-1/tracker/events", json=event, headers=rasa_api_headers(SECRET)
        )
    assert bare.status_code == 401
    assert in_url.status_code == 401  # the secret in the address is no credential at all
    assert signed.status_code == AUTHENTICATED_WITHOUT_MODEL


async def test_a_conversation_token_opens_only_its_own_conversation(rasa: str) -> None:
    event = {"event": "bot", "text": "hello"}
    own = rasa_api_headers(SECRET, conversation_id="conv-a")
    async with httpx.AsyncClient(timeout=10) as client:
        mine = await client.post(f"{rasa}/conversations/conv-a/tracker/events", json=event, headers=own)
        theirs = await client.post(f"{rasa}/conversations/conv-b/tracker/events", json=event, headers=own)
        model = await client.put(f"{rasa}/model", json={"model_file": "x"}, headers=own)
    assert mine.status_code == AUTHENTICATED_WITHOUT_MODEL
    assert theirs.status_code == 403 and model.status_code == 403


@pytest.mark.parametrize("conversation_id", ["conv-1", "web chat/ü?#&=x"])
async def test_the_channel_authenticates_in_a_header_and_puts_no_secret_in_any_url(
    rasa: str, conversation_id: str
) -> None:
    recorder = Recorder()
    channel = RasaChannel(rasa, SECRET, client=recorder.client())
    try:
        for call in (
            channel.send(conversation_id, "Merhaba", "Ayşe"),
            channel.notify(conversation_id, "Sıradasınız"),
            channel.hand_back(conversation_id),
        ):
            with pytest.raises(ChannelError, match=f"answered {AUTHENTICATED_WITHOUT_MODEL}"):
                await call
    finally:
        await channel.close()
    assert len(recorder.requests) == 3  # hand_back stops at the first refusal
    for sent in recorder.requests:
        url = str(sent.url)
        assert SECRET not in url and "token" not in url.lower() and "jwt" not in url.lower(), url
        assert set(sent.url.params) == {"output_channel", "execute_side_effects", "include_events"}
        assert sent.url.params["include_events"] == "NONE"  # no serialised conversation in the answer
        assert sent.headers["authorization"].startswith("Bearer ")
        assert SECRET not in sent.headers["authorization"]


async def test_a_channel_with_the_wrong_secret_is_refused(rasa: str) -> None:
    channel = RasaChannel(rasa, "not-the-secret")
    try:
        with pytest.raises(ChannelError, match="answered 401"):
            await channel.notify("conv-1", "Sıradasınız")
    finally:
        await channel.close()


def test_make_run_and_the_deployment_start_rasa_with_jwt_auth_only() -> None:
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8")
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for text in (procfile, compose):
        assert "--jwt-secret" in text and f"--jwt-method {JWT_METHOD}" in text
        assert "--auth-token" not in text and "RASA_AUTH_TOKEN" not in text


async def test_a_documents_request_is_a_notice_flagged_for_the_upload(rasa: str) -> None:
    """The flag the web chat opens the upload on travels in the bot event's
    metadata, which Rasa passes to the customer's channel with the text."""
    recorder = Recorder()
    channel = RasaChannel(rasa, SECRET, client=recorder.client())
    try:
        with pytest.raises(ChannelError, match=f"answered {AUTHENTICATED_WITHOUT_MODEL}"):
            await channel.request_documents("conv-docs", "Lütfen belgelerinizi yükleyin.")
    finally:
        await channel.close()
    [sent] = recorder.requests
    assert sent.url.path == "/conversations/conv-docs/tracker/events"
    assert json.loads(sent.content) == {
        "event": "bot",
        "text": "Lütfen belgelerinizi yükleyin.",
        "metadata": {"kind": "notice", REQUEST_DOCUMENTS_KEY: True},
    }


async def test_a_panel_line_is_a_bot_event_sent_as_the_customers(rasa: str) -> None:
    """A line the customer added in the panel reaches the chat as a bot event
    whose metadata names the customer as its sender: the web chat shows it
    on the customer's side, the event consumer keeps it out of the bot's lines."""
    recorder = Recorder()
    channel = RasaChannel(rasa, SECRET, client=recorder.client())
    try:
        with pytest.raises(ChannelError, match=f"answered {AUTHENTICATED_WITHOUT_MODEL}"):
            await channel.echo_customer_line("conv-panel", "\N{PAPERCLIP} dekont.pdf")
    finally:
        await channel.close()
    [sent] = recorder.requests
    assert sent.url.path == "/conversations/conv-panel/tracker/events"
    assert json.loads(sent.content) == {
        "event": "bot",
        "text": "\N{PAPERCLIP} dekont.pdf",
        "metadata": {"sender": CUSTOMER_SENDER},
    }
    assert sent.headers["authorization"].startswith("Bearer ")
