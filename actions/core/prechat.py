"""What the web chat's pre-chat form answered, as slots.

The channel has kept only strings of bounded length (support_rules.prechat);
here each value is judged the way the chat itself would judge it:
- the name only greets (``customer_name``); it never stands for an identity;
- the topic is a catalogue id, or read by the triage form's own reader;
- the username is read by the triage form's own reader (the platform's
  pattern); one that does not fit is left for the form to ask;
- the e-mail address is kept for the agents (``customer_email``) when it has
  the form of one; one that does not is dropped and the visitor told.
The age check is never answered by the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from support_rules.prechat import PRECHAT_KEY, display_name, read_prechat, valid_email
from support_rules.triage import TriageRules, read_answer

__all__ = ["FormAnswers", "read_form_answers", "NAME_SLOT", "EMAIL_SLOT"]

NAME_SLOT = "customer_name"
EMAIL_SLOT = "customer_email"


@dataclass(frozen=True)
class FormAnswers:
    slots: dict[str, str] = field(default_factory=dict)
    # an e-mail address was given that does not read as one
    email_rejected: bool = False
    submitted: bool = False


def read_form_answers(metadata: Mapping[str, Any] | None, rules: TriageRules) -> FormAnswers:
    """The slots the form fills, from a message's metadata."""
    form = read_prechat((metadata or {}).get(PRECHAT_KEY))
    if form is None:
        return FormAnswers()
    slots: dict[str, str] = {}
    name = display_name(form.name)
    if name:
        slots[NAME_SLOT] = name
    if form.topic:
        entry = rules.catalogue.topic(form.topic)
        topic = entry.id if entry else read_answer("topic", form.topic, rules).value
        if topic:
            slots["topic"] = topic
    if form.username:
        username = read_answer("username", form.username, rules).value
        if username:
            slots["username"] = username
    rejected = bool(form.email) and not valid_email(form.email)
    if form.email and not rejected:
        slots[EMAIL_SLOT] = form.email
    return FormAnswers(slots, rejected, submitted=True)
