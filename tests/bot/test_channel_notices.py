"""bot/channels/notices.py: what a channel tells a customer, worded in
data/channel_notices.yml, in the customer's language or in both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.channels.notices import load_channel_notices
from bot.settings import ROOT, Settings

NOTICES = Settings.from_env({}).channel_notices_path


def test_the_notices_file_is_the_editors_one() -> None:
    assert NOTICES == ROOT / "data" / "channel_notices.yml"
    assert Settings.from_env({"CHANNEL_NOTICES": "/elsewhere.yml"}).channel_notices_path == Path("/elsewhere.yml")


def test_a_notice_in_the_customers_language_or_in_both() -> None:
    texts = yaml.safe_load(NOTICES.read_text(encoding="utf-8"))["notices"]["not_handled"]
    notices = load_channel_notices(NOTICES)
    assert notices.message("not_handled", "tr") == {"text": texts["tr"], "metadata": {"kind": "notice"}}
    assert notices.text("not_handled", "en") == texts["en"]
    for unknown in (None, "de", ["tr"], 5):
        assert notices.text("not_handled", unknown) == f"{texts['tr']}\n{texts['en']}"
    assert "tekrar gönderin" in texts["tr"] and "send it again" in texts["en"]


def test_a_notice_missing_a_language_stops_the_channel(tmp_path: Path) -> None:
    broken = tmp_path / "channel_notices.yml"
    broken.write_text("notices:\n  not_handled: {tr: 'x'}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not_handled"):
        load_channel_notices(broken)
    broken.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="notices"):
        load_channel_notices(broken)


def test_no_customer_text_is_written_in_the_channel_code() -> None:
    texts = yaml.safe_load(NOTICES.read_text(encoding="utf-8"))["notices"]
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "channels").glob("*.py"))
    for by_language in texts.values():
        for text in by_language.values():
            assert text[:25] not in code
    assert not re.search(r"[çğışöüÇĞİŞÖÜ]", code)  # no Turkish sentence either
