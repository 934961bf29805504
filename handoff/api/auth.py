"""Agent log-in and log-out. The session token is set as an HttpOnly,
SameSite=Strict cookie and also returned for API clients (Bearer)."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.bodies import LoggedIn, LoggedOut, Login, Me
from handoff.api.common import SESSION_COOKIE, body, client_address, require_account, transaction
from handoff.api.spec import operation
from handoff.live_bus import SESSION_ENDED
from handoff.services import agents as svc

bp = Blueprint("auth", url_prefix="/api/v1/auth")


@bp.post("/login")
@operation(
    "Log in (throttled per username and address, and per address); sets the session cookie",
    auth=None,
    body=Login,
    answers={200: LoggedIn},
    errors=(401, 403, 429),
)
async def login(request: Request) -> HTTPResponse:
    data = body(request, Login, max_bytes=4096)
    agent, token = await svc.login(
        sessionmaker=request.app.ctx.sessionmaker,
        username=data.username,
        password=data.password,
        address=client_address(request),
        signer=request.app.ctx.signer,
        limiter=request.app.ctx.login_limiter,
        passwords=request.app.ctx.passwords,
    )
    payload = {"agent": svc.agent_json(agent), "token": token}
    response = json(payload)
    response.add_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.app.ctx.settings.cookie_secure,
        path="/",
        max_age=request.app.ctx.settings.session_max_age_seconds,
    )
    return response


@bp.post("/logout")
@operation("Log out (ends every session of the agent)", auth="agent", answers={200: LoggedOut})
async def logout(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_account(request, session)
        await svc.logout(session=session, agent=agent)
    # the agent's live-update streams end, on every replica (api/live.py)
    await request.app.ctx.bus.publish({"type": SESSION_ENDED, "agent_id": agent.id})
    response = json({"logged_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@bp.get("/me")
@operation("The logged-in agent", auth="agent", answers={200: Me})
async def me(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_account(request, session)
        return json({"agent": svc.agent_json(agent)})
