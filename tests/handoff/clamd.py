"""A real ClamAV daemon for the tests: Debian's clamd (clamav-daemon, installed
by ``make test-setup``) on a signature file the test writes (the EICAR test
signature only: the real signature updates cannot be fetched here), on a
free TCP port, in a temporary directory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stack.live import free_port
from tests.handoff.documents_files import EICAR

__all__ = ["CLAMD", "Clamd", "running_clamd", "ping"]

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
SIGNATURE_NAME = "Handoff.Test.EICAR"


@dataclass
class Clamd:
    address: str
    process: subprocess.Popen[bytes]
    log: Path


def ping(address: str, timeout: float = 1.0) -> bool:
    """clamd answers PING (a plain socket: callable from inside an event loop)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as conn:
            conn.sendall(b"zPING\0")
            return conn.recv(16).startswith(b"PONG")
    except OSError:
        return False


@contextmanager
def running_clamd(directory: Path, *, port: int | None = None, start_timeout: float = 60.0) -> Iterator[Clamd]:
    database = directory / "db"
    database.mkdir(parents=True)
    # an extended signature: the EICAR string anywhere in any file
    (database / "handoff-test.ndb").write_text(f"{SIGNATURE_NAME}:0:*:{EICAR.hex()}\n", encoding="ascii")
    port = port or free_port()
    log = directory / "clamd.log"
    config = directory / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"DatabaseDirectory {database}",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                "Foreground yes",
                f"LogFile {log}",
                f"PidFile {directory / 'clamd.pid'}",
                f"TemporaryDirectory {directory}",
                "StreamMaxLength 50M",
                "MaxThreads 2",
                "",
            ]
        ),
        encoding="ascii",
    )
    process = subprocess.Popen(
        [CLAMD, f"--config-file={config}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while not ping(address):
            if process.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(f"clamd did not start (exit {process.poll()}): {text[-2000:]}")
            time.sleep(0.1)
        yield Clamd(address, process, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
