"""support_rules.prechat: the pre-chat form's values as channels and actions read them."""

from __future__ import annotations

from typing import Any

import pytest

from support_rules.prechat import PRECHAT_LIMITS, PreChat, display_name, read_prechat, valid_email


def test_fields_are_trimmed_to_one_line_and_other_keys_ignored() -> None:
    read = read_prechat(
        {"name": "\n Ayşe \t Yılmaz\u202e ", "topic": " login ", "username": "ayse_k", "email": "a@b.co", "x": "y"}
    )
    assert read == PreChat(name="Ayşe Yılmaz", topic="login", username="ayse_k", email="a@b.co")
    assert read.as_metadata() == {"name": "Ayşe Yılmaz", "topic": "login", "username": "ayse_k", "email": "a@b.co"}


@pytest.mark.parametrize(
    "raw",
    [None, "Ayşe", ["Ayşe"], 42, {}, {"name": 1, "topic": True}, {"name": ""}, {"name": "\u200b\u200b"}],
)
def test_anything_but_an_object_of_strings_is_nothing(raw: Any) -> None:
    assert read_prechat(raw) is None


def test_a_field_over_its_limit_is_dropped_not_cut() -> None:
    for field, limit in PRECHAT_LIMITS.items():
        at_limit = read_prechat({field: "a" * limit})
        assert at_limit is not None and getattr(at_limit, field) == "a" * limit
        assert read_prechat({field: "a" * (limit + 1)}) is None


def test_unpaired_surrogates_and_control_characters_are_dropped() -> None:
    assert read_prechat({"name": "Ay\ud83dşe\x00"}) == PreChat(name="Ayşe")


def test_secrets_are_masked_on_reading() -> None:
    read = read_prechat({"name": "4111 1111 1111 1111", "username": "TR330006100519786457841326"})
    assert read is not None
    assert "4111 1111 1111 1111" not in (read.name or "")
    assert "TR330006100519786457841326" not in (read.username or "")


@pytest.mark.parametrize("name", ["Ayşe", "Ayşe Yılmaz", "Jean-Luc", "O'Neil", "Ş. Yılmaz", "İlkay", "Zoë", "Μαρία"])
def test_names_are_letters(name: str) -> None:
    assert display_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "<b>Ayşe</b>",
        "<script>alert(1)</script>",
        "**** **** **** 1111",  # a card number, as the channel masked it
        "4111111111111111",
        "ayse_k",
        "Ayşe {name}",
        "Robert'); DROP TABLE",
        "--",
        "a" * 61,
    ],
)
def test_what_is_not_a_name_is_not_used_to_greet(name: str | None) -> None:
    assert display_name(name) is None


@pytest.mark.parametrize("email", ["ayse@example.com", "mark.smith+support@mail.example.co.uk", "ş@örnek.com.tr"])
def test_email_addresses(email: str) -> None:
    assert valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        None,
        "",
        "ayse",
        "ayse@",
        "@example.com",
        "ayse@example",
        "ayse@@example.com",
        "a b@example.com",
        "<a>@example.com",
        "ayse@example.c0m",
        "a" * 250 + "@example.com",
    ],
)
def test_what_is_not_an_email_address(email: str | None) -> None:
    assert not valid_email(email)
