"""Is the bot getting better? The editors' figures, their charts, and the
same figures for Prometheus.

``GET /api/v1/editor/figures`` and ``GET /api/v1/editor/charts/<name>``:
editors and supervisors (the console's session). ``GET /metrics``: the
Prometheus text format, for ``Authorization: Bearer $HANDOFF_METRICS_TOKEN``;
closed (404) while the setting is empty. Each scrape reads the figures
afresh into a registry of its own: nothing is kept between scrapes, and
labels carry ids only (languages, FAQ, topic and department ids), never a
customer's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sanic import Blueprint, Request, json, raw
from sanic.response import HTTPResponse
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.api.bodies import ChartQuery, FiguresAnswer, FiguresQuery
from handoff.api.common import bearer_token, query, require_editor, transaction
from handoff.api.spec import operation
from handoff.editor.charts import CHART_NAMES, load_chart_texts, render_chart
from handoff.editor.figures import figures, window
from handoff.editor.review import inbox
from handoff.errors import NotFound, Unauthorized
from handoff.models import utcnow
from handoff.security import tokens_equal

__all__ = ["bp", "metric_families", "SCRAPE_WEEKS"]

bp = Blueprint("metrics")

# the weeks a scrape covers: the current ISO week, and these up to it ("window")
SCRAPE_WEEKS = 8
# the review inbox's groups the figures show
TOP_GROUPS = 10
_NO_STORE = {"Cache-Control": "no-store"}
# what may be a label value: an id of the catalogue, the domain or a language
_ID = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
_OTHER = "other"


async def _top_groups(request: Request, session: AsyncSession, weeks: int) -> list[dict[str, Any]]:
    """The review inbox's largest groups over the same weeks (handoff.editor.review)."""
    answer = await inbox(
        session=session,
        threshold=request.app.ctx.settings.review_confidence,
        since=window(weeks, utcnow())[0],
        limit_groups=TOP_GROUPS,
    )
    groups: list[dict[str, Any]] = answer["groups"]
    return groups


@bp.get("/api/v1/editor/figures")
@operation(
    "The editors' figures per ISO week and language: containment, fallback rate, FAQ deflection, handoffs",
    auth="editor",
    query=FiguresQuery,
    answers={200: FiguresAnswer},
    errors=(400,),
)
async def editor_figures(request: Request) -> HTTPResponse:
    args = query(request, FiguresQuery)
    async with transaction(request) as session:
        await require_editor(request, session)
        found = await figures(
            session=session, weeks=args.weeks, top_groups=await _top_groups(request, session, args.weeks)
        )
    return json(found, headers=_NO_STORE)


@lru_cache(maxsize=4)
def _chart_texts(path: Path) -> dict[str, Any]:
    return load_chart_texts(path)


@bp.get("/api/v1/editor/charts/<name:str>")
@operation(
    f"A chart of the editors' figures as SVG ({', '.join(CHART_NAMES)})",
    auth="editor",
    query=ChartQuery,
    content_type="image/svg+xml",
    errors=(400, 404),
)
async def editor_chart(request: Request, name: str) -> HTTPResponse:
    args = query(request, ChartQuery)
    async with transaction(request) as session:
        await require_editor(request, session)
        if name not in CHART_NAMES:
            raise NotFound(f"no such chart; there are {', '.join(CHART_NAMES)}", code="chart_not_found")
        found = await figures(session=session, weeks=args.weeks)
    texts = _chart_texts(request.app.ctx.settings.repo_root / "data" / "figures.yml")
    svg = render_chart(name, found, texts, language=args.language, ui=args.lang)
    return raw(svg.encode("utf-8"), content_type="image/svg+xml; charset=utf-8", headers=_NO_STORE)


def _label(value: Any) -> str:
    text = str(value)
    return text if _ID.fullmatch(text) else _OTHER


class _Figures(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _gauge(name: str, doc: str, labels: Sequence[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def metric_families(found: Mapping[str, Any]) -> list[Metric]:
    """The figures as gauges: the current week (``week="current"``) and the
    whole window (``week="window"``). Gauges, not counters: a window's
    totals fall when an old week leaves it."""
    per_period = {
        "conversations": _gauge("support_conversations", "conversations with a customer line", ("language", "week")),
        "contained": _gauge(
            "support_contained_conversations", "conversations that never reached a person", ("language", "week")
        ),
        "containment": _gauge(
            "support_containment_ratio", "contained conversations / conversations", ("language", "week")
        ),
        "customer_lines": _gauge("support_customer_lines", "customer lines", ("language", "week")),
        "fallback_lines": _gauge(
            "support_fallback_lines", "customer lines understood as nlu_fallback", ("language", "week")
        ),
        "fallback_rate": _gauge("support_fallback_ratio", "fallback lines / customer lines", ("language", "week")),
        "faq_answers": _gauge("support_faq_answers", "FAQ answers the bot gave", ("language", "week")),
        "faq_solved": _gauge("support_faq_solved", "FAQ answers the customer marked as solved", ("language", "week")),
        "deflection": _gauge("support_faq_deflection_ratio", "solved FAQ answers / FAQ answers", ("language", "week")),
        "handoffs": _gauge("support_handoff_tickets", "tickets the bot handed to a person", ("language", "week")),
    }
    faq_answers = _gauge("support_faq_answers_by_faq", "FAQ answers per FAQ, over the window", ("faq", "language"))
    faq_solved = _gauge("support_faq_solved_by_faq", "solved FAQ answers per FAQ, over the window", ("faq", "language"))
    handoffs = _gauge(
        "support_handoffs",
        "the bot's tickets over the window, by topic and department",
        ("topic", "department", "language"),
    )
    for block in found["languages"]:
        language = _label(block["language"])
        for week, period in (("current", block["weeks"][-1]), ("window", block["total"])):
            for key, family in per_period.items():
                if period[key] is not None:
                    family.add_metric([language, week], float(period[key]))
        for faq in block["faqs"]:
            faq_answers.add_metric([_label(faq["faq"]), language], faq["answers"])
            faq_solved.add_metric([_label(faq["faq"]), language], faq["solved"])
        for route in block["handoffs"]["by_route"]:
            handoffs.add_metric([_label(route["topic"]), _label(route["department"]), language], route["count"])
    weeks = _gauge("support_figures_window_weeks", "ISO weeks in the window, the current one included", ())
    weeks.add_metric([], len(found["weeks"]))
    return [*per_period.values(), faq_answers, faq_solved, handoffs, weeks]


@bp.get("/metrics")
@operation(
    "The editors' figures in Prometheus' text format (closed, 404, while HANDOFF_METRICS_TOKEN is empty)",
    auth="metrics",
    content_type="text/plain",
    errors=(404,),
)
async def metrics(request: Request) -> HTTPResponse:
    expected = request.app.ctx.settings.metrics_token
    if not expected:
        raise NotFound("metrics are off: set HANDOFF_METRICS_TOKEN", code="metrics_off")
    token = bearer_token(request)
    if not token or not tokens_equal(token, expected):
        raise Unauthorized("the metrics token is required", code="unauthorized")
    async with transaction(request) as session:
        found = await figures(session=session, weeks=SCRAPE_WEEKS)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(metric_families(found)))
    return raw(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4, headers=_NO_STORE)
