"""support_rules.identity: the status request's headers carry any id."""

from __future__ import annotations

import pytest

from support_rules.identity import from_header_value, header_value


@pytest.mark.parametrize("text", ["conv-1", "web chat/ü?#&=x", "Ayşe Kaya", "a\r\nInjected: yes"])
def test_any_text_travels_as_an_ascii_header_value(text: str) -> None:
    value = header_value(text)
    assert value.isascii() and "\r" not in value and "\n" not in value and " " not in value
    assert from_header_value(value) == text
