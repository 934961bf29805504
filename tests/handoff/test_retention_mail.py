"""Retention of what e-mail and the request form leave (step 8 of
handoff/services/retention.py): a draft nobody answered, an address the desk
knows, rate marks; a draft's mail goes with it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import MailDraft, MailMessage, MailSender, OutboundMail, RateMark, utcnow
from handoff.services.outbound_mail import load_mail_texts, queue_mail
from handoff.services.retention import apply_retention
from handoff.settings import REPO_ROOT


async def test_old_drafts_addresses_and_rate_marks_are_forgotten(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    texts = load_mail_texts(REPO_ROOT / "data" / "mail.yml")
    async with sessionmaker() as session, session.begin():
        drafts = []
        for age, text in ((timedelta(days=31), "Kart 4111 1111 1111 1111"), (timedelta(days=2), "still waiting")):
            draft = MailDraft(
                address="ayse@example.com",
                language="tr",
                subject="para",
                text=text,
                values={},
                missing=["birth_date"],
                status="waiting",
                created_at=now - age,
                updated_at=now - age,
            )
            session.add(draft)
            await session.flush()
            drafts.append(draft.id)
            await queue_mail(
                session=session,
                texts=texts,
                kind="ask",
                to_address="ayse@example.com",
                language="tr",
                subject="Destek talebiniz",
                values={"questions": "-", "panel_url": "http://x/panel/"},
                domain="desk.localhost",
                draft_id=draft.id,
                now=now - age,
            )
        session.add_all(
            [
                MailSender(address="old@example.com", adult_checked_at=now, updated_at=now - timedelta(days=400)),
                MailSender(address="new@example.com", adult_checked_at=now, updated_at=now),
                RateMark(key="k", at=now - timedelta(days=2)),
                RateMark(key="k", at=now),
            ]
        )
    async with sessionmaker() as session, session.begin():
        result = await apply_retention(session=session, archive_after_days=30, purge_after_days=365, now=now)
    assert result.mail_records == 3
    async with sessionmaker() as session:
        assert (await session.execute(select(MailDraft.id))).scalars().all() == [drafts[1]]
        assert (await session.execute(select(OutboundMail.draft_id))).scalars().all() == [drafts[1]]
        assert (await session.execute(select(MailMessage.draft_id))).scalars().all() == [drafts[1]]
        assert (await session.execute(select(MailSender.address))).scalars().all() == ["new@example.com"]
        assert await session.scalar(select(func.count(RateMark.id))) == 1
