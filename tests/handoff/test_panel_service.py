"""The customer panel's use cases and queries on SQLite and PostgreSQL:
which tickets belong to an account, and in what order the panel lists them."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.migrate import downgrade, upgrade
from handoff.models import utcnow
from handoff.repo import accounts as accounts_repo
from handoff.schemas import SummaryValidator
from handoff.services import panel as svc
from handoff.services.handoffs import account_username, create_handoff
from handoff.services.queue_positions import QueueRules
from handoff.settings import REPO_ROOT
from support_rules.catalogue import load_catalogue
from support_rules.identity import USERNAME_TYPED, USERNAME_VERIFIED
from tests.handoff.conftest import Seed
from tests.handoff.factories import distinct_topic, summary

VALIDATOR = SummaryValidator(REPO_ROOT / "schemas" / "handoff_summary.schema.json")
CATALOGUE = load_catalogue(REPO_ROOT / "data" / "catalogue.yml")
RULES = QueueRules()


def test_only_a_verified_username_names_an_account() -> None:
    assert account_username({"username": "ayse_k", "username_source": USERNAME_VERIFIED}) == "ayse_k"
    assert account_username({"username": "ayse_k", "username_source": USERNAME_TYPED}) is None
    assert account_username({"username": "ayse_k"}) is None
    assert account_username({"username": None, "username_source": USERNAME_VERIFIED}) is None


async def _hand_off(session: AsyncSession, key: str, minutes_ago: int, **values: object) -> str:
    result = await create_handoff(
        session=session,
        summary=json.loads(json.dumps(summary("finance", **{"topic": distinct_topic("finance"), **values}))),
        idempotency_key=key,
        validator=VALIDATOR,
        rules=RULES,
        now=utcnow() - timedelta(minutes=minutes_ago),
    )
    return result.ticket.number


async def test_an_account_holds_its_verified_tickets_newest_first(
    sessionmaker: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    async with sessionmaker() as session, session.begin():
        older = await _hand_off(session, "a", 30, username="ayse_k", username_source=USERNAME_VERIFIED)
        newer = await _hand_off(session, "b", 10, username="ayse_k", username_source=USERNAME_VERIFIED)
        await _hand_off(session, "c", 5, username="ayse_k", username_source=USERNAME_TYPED)
        await _hand_off(session, "d", 5, username="mehmet_y", username_source=USERNAME_VERIFIED)
    async with sessionmaker() as session, session.begin():
        rows = await accounts_repo.account_tickets(session=session, username="ayse_k")
        assert [t.number for t, _ in rows] == [newer, older]
        assert all(last is not None for _, last in rows)  # the summary's transcript lines
        assert await accounts_repo.account_ticket(session=session, username="mehmet_y", ticket_id=rows[0][0].id) is None
        listed = await svc.list_requests(session=session, username="ayse_k", catalogue=CATALOGUE)
        assert [r["number"] for r in listed["open"]] == [newer, older]
        # a message written to the older one makes it the latest activity
        await svc.add_message(session=session, username="ayse_k", number=older, text="ek bilgi")
    async with sessionmaker() as session, session.begin():
        listed = await svc.list_requests(session=session, username="ayse_k", catalogue=CATALOGUE)
        assert [r["number"] for r in listed["open"]] == [older, newer]
        detail = await svc.read_request(
            session=session, username="ayse_k", number=older, catalogue=CATALOGUE, rules=RULES
        )
        assert detail["transcript"][-1] | {"id": 0, "created_at": ""} == {
            "id": 0,
            "sender": "customer",
            "text": "ek bilgi",
            "created_at": "",
            "agent": None,
            "channel": "panel",
        }
        assert [(s["step"], s["queue_position"]) for s in detail["timeline"]] == [("received", None), ("in_queue", 1)]


async def test_the_migration_links_the_verified_tickets_handed_off_before_it(engine: AsyncEngine) -> None:
    await downgrade(engine, "0005")
    now = utcnow()
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO departments (id, name_en, name_tr, active) VALUES ('finance', 'Finance', 'Finans', true)")
        )
        for i, source in enumerate((USERNAME_VERIFIED, USERNAME_TYPED)):
            await conn.execute(
                text(
                    "INSERT INTO tickets (id, conversation_id, idempotency_key, channel, language, username,"
                    " department_id, topic_id, priority, priority_rank, priority_reason, summary, status,"
                    " created_at, updated_at) VALUES (:id, :c, 'k', 'socketio', 'tr', 'ayse_k', 'finance',"
                    " 'deposit', 'normal', 2, 'r', :summary, 'queued', :now, :now)"
                ),
                {"id": i + 1, "c": f"conv-{i}", "summary": json.dumps({"username_source": source}), "now": now},
            )
    await upgrade(engine)
    async with engine.connect() as conn:
        linked = (await conn.execute(text("SELECT id, account_username FROM tickets ORDER BY id"))).all()
    assert [tuple(row) for row in linked] == [(1, "ayse_k"), (2, None)]
