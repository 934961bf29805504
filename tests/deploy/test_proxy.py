"""deploy/nginx/triage.conf.template run by nginx (build/nginx, as the
cluster test runs it): the action servers' listener lets through only
Rasa's header (issue 16, finding 6). A stdlib HTTP server stands in for
every upstream, so only the proxy's own rule decides."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.cluster import SECRETS, ClusterStack, Process
from stack.live import free_port


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterStack]:
    tmp: Path = tmp_path_factory.mktemp("proxy")
    (tmp / "www").mkdir()
    (tmp / "www" / "healthz").write_text("ok")
    port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp / "www")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack = ClusterStack(tmp)
    for service in ("rasa", "actions", "handoff"):
        stack.processes[f"{service}-0"] = Process(service, 0, port, upstream, tmp / "upstream.log")
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if _status(f"http://127.0.0.1:{port}/healthz") == 200:
                    break
            except urllib.error.URLError:
                pass
            assert time.monotonic() < deadline, "the stand-in upstream did not start"
            time.sleep(0.1)
        asyncio.run(stack.start_proxy())
        yield stack
    finally:
        nginx = stack.processes.get("proxy-0")
        if nginx is not None:
            nginx.popen.terminate()
            nginx.popen.wait(timeout=10)
        upstream.terminate()
        upstream.wait(timeout=10)


def test_the_actions_listener_refuses_a_request_without_rasas_header(proxy: ClusterStack) -> None:
    actions = f"http://127.0.0.1:{proxy.proxy_ports['actions']}/healthz"
    assert _status(actions) == 403
    assert _status(actions, {"Authorization": "Bearer not-the-token"}) == 403
    assert _status(actions, {"Authorization": f"Bearer {SECRETS['ACTION_SERVER_TOKEN']}"}) == 200


def test_the_other_internal_listeners_are_unchanged(proxy: ClusterStack) -> None:
    assert _status(f"http://127.0.0.1:{proxy.proxy_ports['handoff']}/healthz") == 200
    assert _status(f"http://127.0.0.1:{proxy.proxy_ports['rasa']}/healthz") == 200


def _post(url: str, size: int) -> int:
    """POST ``size`` bytes over the proxy's TLS listener (its test certificate)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, data=b"\0" * size, method="POST")
    request.add_header("Content-Type", "multipart/form-data; boundary=x")
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_documents_pass_where_customers_attach_them_only(proxy: ClusterStack) -> None:
    base = f"https://127.0.0.1:{proxy.proxy_ports['https']}"
    too_large = 413
    # the stand-in upstream refuses any POST (501) without reading the body,
    # which nginx may report as 502: either means the proxy let the body through
    passed = (501, 502)
    for path in ("/chat/documents", "/panel/api/requests/T-000001/documents"):
        assert _post(base + path, 1024 * 1024) in passed, path
        assert _post(base + path, 12 * 1024 * 1024) == too_large, path
    for path in ("/panel/api/requests/T-000001/messages", "/panel/api/requests/T-000001/documents/x", "/api/v1/x"):
        assert _post(base + path, 1024 * 1024) == too_large, path
    # the request form: three documents of 10 MB and its fields, no more
    assert _post(base + "/form/api/requests", 1024 * 1024) in passed
    assert _post(base + "/form/api/requests", 30 * 1024 * 1024) in passed
    assert _post(base + "/form/api/requests", 33 * 1024 * 1024) == too_large
    assert _post(base + "/form/api/requestsx", 1024 * 1024) == too_large
