"""bot/channels/replay.py: which stored replies answer a message sent again.
The channels replaying them are tested in test_socketio_channel.py and
test_rest_channel.py."""

from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.channels.replay import message_id_of, replies_to, resent_message_id


def test_the_replies_to_a_message_are_found_by_its_id() -> None:
    events = [
        UserUttered("merhaba", metadata={"message_id": "first-1"}),
        ActionExecuted("utter_greet"),
        BotUttered("Merhaba!"),
        SlotSet("language", "tr"),
        BotUttered("Doğum tarihiniz?", data={"buttons": []}),
        UserUttered("17.08.1985", metadata={"message_id": "second-2"}),
        UserUttered("hayır", metadata={}),  # paused, or no id: no replies in between
        BotUttered("Kullanıcı adınız?"),
    ]
    assert [b.text for b in replies_to(events, "first-1") or []] == ["Merhaba!", "Doğum tarihiniz?"]
    assert replies_to(events, "second-2") == []  # held, and answered by nothing (handed off)
    assert replies_to(events, "never-sent") is None


def test_message_ids_are_checked() -> None:
    assert message_id_of({"message_id": "abc-123_X"}) == "abc-123_X"
    assert [message_id_of({"message_id": v}) for v in ("abc", "a b c d e f", 12345678, "x" * 65, None)] == [None] * 5


def test_only_a_resend_with_a_valid_id_is_looked_up() -> None:
    assert resent_message_id({"message_id": "abc-123", "resend": True}) == "abc-123"
    assert resent_message_id({"message_id": "abc-123"}) is None  # a first delivery
    assert resent_message_id({"message_id": "abc-123", "resend": "yes"}) is None
    metadata = {"message_id": "no good", "resend": True, "language": "tr"}
    assert resent_message_id(metadata) is None
    assert metadata == {"resend": True, "language": "tr"}  # an invalid id does not reach the tracker
