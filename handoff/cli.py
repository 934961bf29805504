"""Commands: ``python -m handoff serve|follow|bootstrap|migrate|retention|create-agent``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from handoff.db import make_engine, make_sessionmaker
from handoff.migrate import is_current, upgrade
from handoff.settings import Settings, SettingsError, dev_secrets_warning, load_settings

__all__ = ["main"]


async def _schema_ready(settings: Settings) -> bool:
    engine = make_engine(settings.database_url)
    try:
        return await is_current(engine)
    finally:
        await engine.dispose()


def _serve(settings: Settings) -> int:
    from handoff.app import create_app

    if not asyncio.run(_schema_ready(settings)):
        print(
            "handoff: the database is not migrated; run `python -m handoff bootstrap` (or `migrate`) first",
            file=sys.stderr,
        )
        return 2
    app = create_app(settings, queue_notices=True, retention=True, send_mail=True)
    # one process per replica; replicas share live updates through
    # PostgreSQL (handoff/live_bus.py), so scale by running more of them
    app.run(host=settings.host, port=settings.port, single_process=True, motd=False, access_log=False)
    return 0


async def _migrate(settings: Settings, catalogue: bool = False) -> None:
    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
        if catalogue:
            from handoff.services.bootstrap import sync_departments

            async with make_sessionmaker(engine)() as session, session.begin():
                departments = await sync_departments(session=session, catalogue_path=settings.catalogue_path)
            print(f"departments: {', '.join(departments)}")
    finally:
        await engine.dispose()


async def _bootstrap(settings: Settings) -> int:
    from handoff.services.bootstrap import ensure_demo_agents, sync_departments

    if not settings.demo_agent_password:
        print("DEMO_AGENT_PASSWORD is not set (make run generates it in .env.local)", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            departments = await sync_departments(session=session, catalogue_path=settings.catalogue_path)
            agents = await ensure_demo_agents(
                session=session, departments=departments, password=settings.demo_agent_password
            )
    finally:
        await engine.dispose()
    print(f"Handoff console:  http://{settings.host}:{settings.port}/console/")
    print(f"Departments:      {', '.join(departments)}")
    print("Demo agents (password: DEMO_AGENT_PASSWORD from .env.local):")
    for a in agents:
        note = "created" if a.created else "exists"
        print(f"  {a.username:<20} {a.role:<11} {','.join(a.departments):<30} {note}")
    print(f"  password: {settings.demo_agent_password}")
    return 0


async def _retention(settings: Settings, archive_days: int, purge_days: int) -> int:
    from handoff.documents.storage import make_store
    from handoff.services.retention import apply_retention, delete_document_bytes

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            result = await apply_retention(
                session=session,
                archive_after_days=archive_days,
                purge_after_days=purge_days,
                login_window_seconds=settings.login_window_seconds,
                abandon_after_seconds=settings.abandon_after_seconds,
                rate_window_seconds=settings.form_window_seconds,
            )
        store = make_store(settings.document_store, directory=settings.document_dir, engine=engine)
        await delete_document_bytes(store, result.document_keys)
    finally:
        await engine.dispose()
    print(
        f"abandoned {result.abandoned} ticket(s) of customers gone, "
        f"archived {result.archived} ticket(s), purged {result.purged} ticket(s), "
        f"forgot {result.login_failures} failed log-in(s) older than {settings.login_window_seconds} s, "
        f"{result.transcript_lines} transcript line(s) and {result.audit_details} audit detail(s) "
        f"older than {purge_days} days, and removed {result.documents} document(s)"
    )
    return 0


async def _create_agent(settings: Settings, args: argparse.Namespace) -> int:
    from handoff.services.agents import create_agent

    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await create_agent(
                session=session,
                username=args.username,
                password=password,
                display_name=args.display_name or args.username,
                role=args.role,
                departments=args.departments.split(",") if args.departments else [],
            )
    finally:
        await engine.dispose()
    print(f"created {args.username}")
    return 0


async def _follow(settings: Settings) -> int:
    """Follow Rasa's event broker without serving HTTP (a separate worker).
    On PostgreSQL its live updates reach the consoles of every ``serve``
    replica; on SQLite (one process) they stay here, and consoles see the
    messages when they load a ticket."""
    import contextlib
    import signal

    from handoff.app import default_channel
    from handoff.broker import make_consumer
    from handoff.live_bus import make_live_bus

    if settings.events_source == "off":
        print("handoff: HANDOFF_EVENTS_SOURCE is off; nothing to follow", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        if not await is_current(engine):
            print("handoff: the database is not migrated; run `python -m handoff migrate` first", file=sys.stderr)
            return 2
        bus = make_live_bus(settings)
        await bus.start()
        try:
            channel = default_channel(settings)
            source = make_consumer(settings, sessionmaker=make_sessionmaker(engine), bus=bus, channel=channel)
            assert source is not None
            task = asyncio.create_task(source.run())
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, task.cancel)
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            await channel.close()
            await bus.close()
    finally:
        await engine.dispose()
    return 0


def _setup_logging() -> None:
    """Our own loggers only: Sanic configures its own, alembic stays quiet."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    ours = logging.getLogger("handoff")
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    ours.propagate = False
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP service and the agent console")
    mig = sub.add_parser("migrate", help="apply database migrations (one at a time, whoever starts them)")
    mig.add_argument(
        "--catalogue", action="store_true", help="also create or update the departments from the catalogue"
    )
    sub.add_parser("follow", help="follow Rasa's event broker only (transcripts, customer messages to tickets)")
    sub.add_parser("bootstrap", help="migrate, create departments and demo agents, print credentials")
    ret = sub.add_parser(
        "retention", help="abandon tickets of customers gone, archive and purge old tickets, transcripts, audit details"
    )
    ret.add_argument("--archive-after-days", type=int, default=None)
    ret.add_argument("--purge-after-days", type=int, default=None)
    ca = sub.add_parser("create-agent", help="create an agent (password read from stdin)")
    ca.add_argument("username")
    ca.add_argument("--display-name")
    ca.add_argument("--role", default="agent")
    ca.add_argument("--departments", default="")
    args = parser.parse_args(argv)
    _setup_logging()
    try:
        settings = load_settings(require_secrets=args.command == "serve")
    except SettingsError as exc:
        print(f"handoff: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        warning = dev_secrets_warning()
        if warning:
            print(warning, file=sys.stderr)
        return _serve(settings)
    if args.command == "follow":
        return asyncio.run(_follow(settings))
    if args.command == "migrate":
        asyncio.run(_migrate(settings, args.catalogue))
        return 0
    if args.command == "bootstrap":
        return asyncio.run(_bootstrap(settings))
    if args.command == "retention":
        archive = settings.archive_after_days if args.archive_after_days is None else args.archive_after_days
        purge = settings.purge_after_days if args.purge_after_days is None else args.purge_after_days
        return asyncio.run(_retention(settings, archive, purge))
    return asyncio.run(_create_agent(settings, args))
