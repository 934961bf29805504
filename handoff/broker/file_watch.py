"""Being told that a file changed, instead of looking: Linux's inotify.

The SQL follower waits for Rasa's commits to its SQLite file. Looking at the
file every few milliseconds costs the process a wake-up each time, busy or
not; an inotify watch on the file's folder costs nothing until the kernel
reports a change to one of the named files. Only the standard library
(``ctypes`` on the C library's ``inotify_*`` calls) is used; where they are
missing (another system, a sandbox without inotify) ``FileWatch.open``
returns None and the caller falls back to looking.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import struct
from collections.abc import Iterable
from pathlib import Path

__all__ = ["FileWatch"]

log = logging.getLogger("handoff.broker.file_watch")

# <sys/inotify.h>
IN_MODIFY = 0x00000002
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# a commit writes the file or its -wal, and deletes a rollback -journal;
# replacing the file creates, moves or deletes it. Not IN_CLOSE_WRITE:
# SQLite opens the file read-write even to read it, so the follower's own
# reads would report themselves
MASK = IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    except (OSError, AttributeError):
        return None
    return libc


class FileWatch:
    """Changes to some files of one folder, as an event to wait for.

    ``changed`` is set by the loop's reader callback whenever the kernel
    reports a change to one of ``names``; the caller clears it before it
    reads the files, so a change during the read is not missed.
    """

    def __init__(self, fd: int, folder: Path, names: frozenset[str], loop: asyncio.AbstractEventLoop) -> None:
        self._fd = fd
        self.folder = folder
        self.names = names
        self._loop = loop
        self.changed = asyncio.Event()
        self.reports = 0  # changes seen to the named files (for tests and logs)
        self.broken = False  # the watch ended (folder gone, read failed): look at the files instead
        loop.add_reader(fd, self._readable)

    @classmethod
    def open(cls, files: Iterable[Path]) -> FileWatch | None:
        """A watch on the folder of ``files`` (all in one folder), or None
        when inotify is not available or the folder cannot be watched."""
        paths = [Path(f) for f in files]
        folders = {p.parent.resolve() for p in paths}
        if len(folders) != 1:
            raise ValueError("FileWatch watches files of one folder")
        folder = folders.pop()
        libc = _libc()
        if libc is None:
            return None
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            log.info("inotify not available (%s): looking at the files instead", os.strerror(ctypes.get_errno()))
            return None
        if libc.inotify_add_watch(fd, os.fsencode(folder), MASK) < 0:
            log.info("cannot watch %s (%s): looking at the files instead", folder, os.strerror(ctypes.get_errno()))
            os.close(fd)
            return None
        try:
            loop = asyncio.get_running_loop()
            return cls(fd, folder, frozenset(p.name for p in paths), loop)
        except Exception:
            os.close(fd)
            raise

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 64 * 1024)
        except BlockingIOError:
            return
        except OSError as exc:  # the watch broke: stop listening, wake the waiter, which reads anyway
            log.warning("inotify read failed (%s): looking at the files instead", exc)
            self._give_up()
            return
        if self._matches(data):
            self.reports += 1
            self.changed.set()

    def _matches(self, data: bytes) -> bool:
        found = False
        offset = 0
        while offset + _HEADER.size <= len(data):
            _, mask, _, length = _HEADER.unpack_from(data, offset)
            name = data[offset + _HEADER.size : offset + _HEADER.size + length].rstrip(b"\0")
            offset += _HEADER.size + length
            if mask & IN_IGNORED:  # the folder itself went (removed, unmounted): the watch is over
                log.warning("the watch on %s ended: looking at the files instead", self.folder)
                self._give_up()
                return True
            if mask & IN_Q_OVERFLOW or os.fsdecode(name) in self.names:
                found = True  # (an overflow lost reports: read to be sure)
        return found

    def _give_up(self) -> None:
        self.broken = True
        with contextlib.suppress(RuntimeError, ValueError):
            self._loop.remove_reader(self._fd)
        self.changed.set()

    async def wait(self, timeout: float) -> bool:
        """Until a change is reported (True) or ``timeout`` passes (False)."""
        if self.changed.is_set():
            return True
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def close(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(RuntimeError, ValueError):  # the loop is closed already
            self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
