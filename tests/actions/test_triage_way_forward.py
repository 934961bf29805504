"""The triage form never traps anyone: answers out of order, choices and a way
out after two unreadable answers, and a confirmation that needs a clear yes."""

from __future__ import annotations

from pathlib import Path

import pytest
from action_services import make_services
from trackers import handoff_tracker, make_tracker, responses_of, run, slots_of, user_event

from actions.core.replies import SKIPPED, confirmation_reply, is_clear_yes
from actions.handoff import ActionHandoff
from actions.triage_form import ActionCheckConfirmation, ActionConfirmTriage, ValidateTriageForm

# Every slot the form asks, with what is known by the time it is asked.
BEFORE = {
    "topic": {},
    "transaction_type": {"topic": "deposit"},
    "transaction_date": {"topic": "deposit", "transaction_type": "deposit"},
    "username": {"topic": "deposit", "transaction_type": "deposit", "transaction_date": "2026-11-20"},
}
UNREADABLE = {"topic": "???", "transaction_type": "???", "transaction_date": "???", "username": "???"}
FIRST_MISS = {
    "topic": "utter_topic_not_understood",
    "transaction_type": "utter_transaction_type_not_understood",
    "transaction_date": "utter_date_unreadable",
    "username": "utter_username_invalid",
}


def _form_run(services, text, requested, slots=None, intent="inform", language="tr", misses=0):
    values = {**BEFORE[requested], **(slots or {}), "requested_slot": requested}
    values.update(language=language, triage_misses=misses)
    tracker = make_tracker([user_event(text, intent)], values, active_loop="triage_form")
    return run(ValidateTriageForm(services), tracker)


# --- a value given out of order fills its own slot -------------------------


def test_a_date_while_the_type_is_asked_is_taken_without_complaint(services) -> None:
    dispatcher, events = _form_run(services, "12 Kasım", "transaction_type")
    slots = slots_of(events)
    assert slots["transaction_date"] == "2026-11-12"
    assert "transaction_type" not in slots  # still open: the form asks it again
    assert "triage_misses" not in slots  # not counted as a miss
    assert responses_of(dispatcher) == []


def test_a_username_while_the_date_is_asked_is_taken(services) -> None:
    dispatcher, events = _form_run(services, "kullanıcı adım ayse_k", "transaction_date")
    slots = slots_of(events)
    assert slots["username"] == "ayse_k"
    assert "transaction_date" not in slots
    assert responses_of(dispatcher) == []


def test_a_bare_username_at_confirmation_fills_the_username(services) -> None:
    full = {"transaction_date": "2026-11-20", "username": SKIPPED}
    tracker = make_tracker(
        [user_event("mark_77", "inform")],
        {**BEFORE["username"], **full, "requested_slot": None},
        active_loop="triage_form",
    )
    dispatcher, events = run(ValidateTriageForm(services), tracker)
    assert slots_of(events)["username"] == "mark_77"
    assert responses_of(dispatcher) == []


# --- two unreadable answers: choices and a way forward ----------------------


@pytest.mark.parametrize("language", ["tr", "en"])
@pytest.mark.parametrize("slot", list(BEFORE))
def test_every_slot_offers_a_way_forward_on_the_second_miss(services, slot, language) -> None:
    dispatcher, events = _form_run(services, UNREADABLE[slot], slot, language=language)
    assert responses_of(dispatcher) == [FIRST_MISS[slot]]  # the first miss is explained
    assert slots_of(events)["triage_misses"] == 1

    dispatcher, events = _form_run(services, UNREADABLE[slot], slot, language=language, misses=1)
    slots = slots_of(events)
    assert slots["triage_misses"] == 2 and slots[slot] is None  # asked again
    assert responses_of(dispatcher)[-1] == "utter_triage_way_forward"
    if slot in ("topic", "transaction_type"):
        choice = dispatcher.messages[0]
        assert choice["response"] == f"utter_choose_{slot}"
        entries = services.catalogue.topics if slot == "topic" else services.catalogue.transaction_types
        assert [b["title"] for b in choice["buttons"]] == [e.label(language) for e in entries]
        for button in choice["buttons"]:
            assert not button["payload"].startswith("/")
            # each payload, sent back, is read as its own choice
            _, picked = _form_run(services, button["payload"], slot, language=language, misses=2)
            assert slots_of(picked)[slot] == next(e.id for e in entries if e.label(language) == button["title"])
            assert slots_of(picked)["triage_misses"] == 0

    skip = "bilmiyorum" if language == "tr" else "I don't know"
    _, events = _form_run(services, skip, slot, language=language, misses=2)
    assert slots_of(events)[slot] == SKIPPED
    assert slots_of(events)["triage_misses"] == 0

    person = "bir temsilci" if language == "tr" else "a person"
    _, events = _form_run(services, person, slot, language=language, misses=2)
    slots = slots_of(events)
    # every value still missing is unknown, so the form ends at the confirmation
    assert {s: slots[s] for s in BEFORE if s not in BEFORE[slot]} == dict.fromkeys(
        [s for s in BEFORE if s not in BEFORE[slot]], SKIPPED
    )


@pytest.mark.parametrize("text", ["temsilci", "canlı destek", "human"])
def test_a_person_is_not_taken_for_a_username(services, text) -> None:
    _, events = _form_run(services, text, "username")
    assert slots_of(events)["username"] == SKIPPED


def test_asking_for_a_person_keeps_what_is_known(services) -> None:
    _, events = _form_run(services, "temsilciye bağlayın", "transaction_date", intent="request_human", misses=2)
    slots = slots_of(events)
    assert slots["transaction_date"] == SKIPPED and slots["username"] == SKIPPED
    assert "topic" not in slots and "transaction_type" not in slots


def test_skipped_values_are_dashes_at_confirmation(services) -> None:
    slots = {"topic": "deposit", "transaction_type": SKIPPED, "transaction_date": SKIPPED, "username": SKIPPED}
    dispatcher, _ = run(ActionConfirmTriage(services), make_tracker([user_event("x", "inform")], slots))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_confirm_triage"
    assert (message["transaction_type_label"], message["transaction_date_label"], message["username"]) == (
        "-",
        "-",
        "-",
    )


def test_skipped_values_are_null_in_the_summary(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    tracker = handoff_tracker(topic=SKIPPED, transaction_type=SKIPPED, transaction_date=SKIPPED, username=SKIPPED)
    run(ActionHandoff(services), tracker)
    summary = handoff_service.received[0]
    assert summary["username"] is None
    assert summary["transaction_type"] is None and summary["transaction_date"] is None
    assert summary["topic"]["id"] == services.catalogue.fallback_topic.id


# --- the confirmation needs a clear yes ---------------------------------------


@pytest.mark.parametrize(
    "text,intent,confidence,clear",
    [
        ("evet", "affirm", 0.97, True),
        ("yes that's correct", "affirm", 0.95, True),
        ("evet doğru", "affirm", 0.9, True),
        ("hmm", "affirm", 0.95, False),
        ("hmmm evet", "affirm", 0.95, False),
        ("emm", "affirm", 0.95, False),
        ("bilmem", "affirm", 0.95, False),
        ("sanırım evet", "affirm", 0.95, False),
        ("galiba doğru", "affirm", 0.95, False),
        ("maybe", "affirm", 0.95, False),
        ("yes I think so", "affirm", 0.95, False),
        ("yes", "affirm", 0.55, False),  # not sure enough
        ("evet", "nlu_fallback", 0.4, False),
        ("hayır", "deny", 0.99, False),
    ],
)
def test_only_a_clear_yes_confirms(text, intent, confidence, clear) -> None:
    assert is_clear_yes(text, intent, confidence) is clear


@pytest.mark.parametrize(
    "text,intent,confidence,reply",
    [
        ("hayır", "deny", 0.97, "no"),
        ("no that's wrong", "deny", 0.93, "no"),
        ("bilmem", "deny", 0.9, "vague"),
        ("emin değilim", "deny", 0.9, "vague"),
        ("hmm no", "deny", 0.9, "vague"),
        ("no", "deny", 0.5, "vague"),
        ("evet", "affirm", 0.9, "clear"),
        ("maybe", "affirm", 0.9, "vague"),
    ],
)
def test_a_no_must_be_clear_too(text, intent, confidence, reply) -> None:
    assert confirmation_reply(text, intent, confidence) == reply


@pytest.mark.parametrize(
    "text,intent,value", [("evet", "affirm", "clear"), ("sanırım", "affirm", "vague"), ("hayır", "deny", "no")]
)
def test_the_check_sets_the_confirmation_slot(services, text, intent, value) -> None:
    tracker = make_tracker([user_event(text, intent, confidence=0.96)], {"topic": "deposit"})
    dispatcher, events = run(ActionCheckConfirmation(services), tracker)
    assert slots_of(events) == {"confirmation": value}
    assert dispatcher.messages == []


def test_the_reply_words_are_the_editors_and_in_both_languages(tmp_path: Path) -> None:
    from actions.core.replies import REPLIES_PATH, load_replies

    words = load_replies(REPLIES_PATH)
    assert {"bilmiyorum", "i don't know", "temsilci", "a person", "hmm", "maybe"} <= {
        w for key in ("skip", "person", "hedges") for w in words[key]
    }
    broken = tmp_path / "replies.yml"
    broken.write_text(
        "replies:\n  skip: {tr: [bilmiyorum]}\n  person: {tr: [x], en: [y]}\n  hedges: {tr: [a], en: [b]}\n"
    )
    with pytest.raises(ValueError, match="skip"):
        load_replies(broken)
