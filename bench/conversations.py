"""Realistic customer conversations to a handoff, in Turkish and English
(the paths tests/bot/test_live_conversation.py proves reach a ticket), with
the first message after the handoff, which the bot passes to the agent."""

from __future__ import annotations

TURKISH = (
    "merhaba, dün yaptığım para çekme hala hesabıma gelmedi",
    "17.08.1985",
    "hayır",
    "ayse_k",
    "evet",
    "merhaba? orada mısınız",
)
ENGLISH = (
    "hello",
    "May 4, 1990",
    "I want to talk to a human agent",
    "withdrawl",
    "last friday",
    "john_doe99",
    "yes",
    "are you still there?",
)
CONVERSATIONS = {"tr": TURKISH, "en": ENGLISH}
# how many turns of each script lead to the ticket (the rest follow the handoff)
TO_TICKET = {"tr": len(TURKISH) - 1, "en": len(ENGLISH) - 1}


def script(index: int) -> tuple[str, tuple[str, ...]]:
    """Conversation ``index`` of a run: Turkish and English alternate."""
    language = "tr" if index % 2 == 0 else "en"
    return language, CONVERSATIONS[language]
