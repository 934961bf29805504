"""handoff/broker/file_watch.py: inotify reports for some files of a folder."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from handoff.broker.file_watch import FileWatch


async def _opened(folder: Path, *names: str) -> FileWatch:
    watch = FileWatch.open([folder / n for n in names])
    assert watch is not None, "inotify is there on Linux"
    return watch


async def test_a_write_to_a_named_file_is_reported(tmp_path: Path) -> None:
    watch = await _opened(tmp_path, "events.db", "events.db-wal")
    try:
        assert await watch.wait(0.05) is False  # nothing yet
        await asyncio.to_thread((tmp_path / "events.db-wal").write_bytes, b"commit")
        assert await watch.wait(2) is True
        assert watch.reports >= 1
    finally:
        watch.close()


async def test_other_files_of_the_folder_are_not_reported(tmp_path: Path) -> None:
    watch = await _opened(tmp_path, "events.db")
    try:
        for i in range(5):
            await asyncio.to_thread((tmp_path / "handoff.db").write_text, str(i))
        await asyncio.to_thread((tmp_path / "events.db.bak").write_text, "x")
        assert await watch.wait(0.2) is False
        assert watch.reports == 0
    finally:
        watch.close()


async def test_a_file_replaced_by_a_rename_is_reported(tmp_path: Path) -> None:
    (tmp_path / "events.db").write_text("old")
    fresh = tmp_path / "fresh.tmp"
    fresh.write_text("new")
    watch = await _opened(tmp_path, "events.db")
    try:
        await asyncio.to_thread(os.replace, fresh, tmp_path / "events.db")
        assert await watch.wait(2) is True
    finally:
        watch.close()


async def test_a_rollback_journal_deleted_at_commit_is_reported(tmp_path: Path) -> None:
    journal = tmp_path / "events.db-journal"
    journal.write_bytes(b"journal")
    watch = await _opened(tmp_path, "events.db", "events.db-journal")
    try:
        await asyncio.to_thread(journal.unlink)
        assert await watch.wait(2) is True
    finally:
        watch.close()


async def test_cleared_then_changed_again(tmp_path: Path) -> None:
    watch = await _opened(tmp_path, "events.db")
    try:
        await asyncio.to_thread((tmp_path / "events.db").write_text, "1")
        assert await watch.wait(2)
        watch.changed.clear()
        assert await watch.wait(0.1) is False
        await asyncio.to_thread((tmp_path / "events.db").write_text, "2")
        assert await watch.wait(2)
    finally:
        watch.close()
        watch.close()  # twice is harmless


async def test_files_of_two_folders_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        FileWatch.open([tmp_path / "a" / "x", tmp_path / "b" / "y"])
    except ValueError:
        return
    raise AssertionError("two folders were accepted")


async def test_a_missing_folder_gives_no_watch(tmp_path: Path) -> None:
    assert FileWatch.open([tmp_path / "missing" / "events.db"]) is None


async def test_the_folder_removed_ends_the_watch(tmp_path: Path) -> None:
    folder = tmp_path / "rasa"
    folder.mkdir()
    watch = await _opened(folder, "events.db")
    try:
        await asyncio.to_thread(folder.rmdir)
        assert await watch.wait(2) is True
        assert watch.broken
    finally:
        watch.close()
