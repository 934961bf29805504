"""Server-rendered SVG charts of the editors' figures: no library, no CDN.

Each chart is one accessible image (``role="img"``, ``<title>`` and
``<desc>``, every value also written as text) in the console's colours,
scaled to its container (``viewBox``, ``width="100%"``) and readable on a
390 px wide phone. Labels come from customers' and editors' data, so every
text is escaped, and characters XML cannot hold are dropped. The words
(titles, legends, "no data") are the caller's: they come from
``data/figures.yml`` in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "Series",
    "Bar",
    "line_chart",
    "bar_chart",
    "xml_text",
    "percent",
    "CHART_NAMES",
    "load_chart_texts",
    "render_chart",
]

# the console's palette (handoff/console/console.css): header blue first
COLOURS = ("#23324d", "#e67e22", "#2e7d4f", "#2980b9", "#c0392b", "#95a5a6")
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_INK, _MUTED, _GRID, _BACKGROUND = "#1d2330", "#5f6675", "#e3e6ec", "#ffffff"
_FONT = "system-ui, sans-serif"
_WIDTH = 480
# percent axes end at the first of these at or above the largest value
_PERCENT_TOPS = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LABEL_CHARS = 19


@dataclass(frozen=True)
class Series:
    """One line: a label and a value (0..1, or None: no data) per week."""

    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    # the text written beside the bar; the value itself when None
    note: str | None = None


def xml_text(value: object) -> str:
    """Text safe inside an element or a double-quoted attribute."""
    text = _NOT_XML.sub("", str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _short(label: str, length: int = _LABEL_CHARS) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="chart-title chart-desc" '
            f'font-family="{_FONT}" font-size="14">',
            f'<title id="chart-title">{xml_text(title)}</title>',
            f'<desc id="chart-desc">{xml_text(desc)}</desc>',
            f'<rect width="{width}" height="{height}" fill="{_BACKGROUND}"/>',
            f'<text x="12" y="22" font-size="16" font-weight="600" fill="{_INK}">{xml_text(_short(title, 48))}</text>',
            *body,
            "</svg>",
            "",
        ]
    )


def _top(values: Sequence[float]) -> float:
    largest = max(values, default=0.0)
    return next((top for top in _PERCENT_TOPS if largest <= top), max(1.0, largest))


def line_chart(*, title: str, desc: str, weeks: Sequence[str], series: Sequence[Series], no_data: str) -> str:
    """Weekly ratios as lines on a percent axis from 0; a week without data
    is a gap. Each point carries its value as a tooltip."""
    left, right, top, bottom = 48, 28, 40 + 20 * ((len(series) + 1) // 2), 36
    height = top + 200 + bottom
    plot_w, plot_h = _WIDTH - left - right, 200
    values = [v for s in series for v in s.values if v is not None]
    ceiling = _top(values)
    body: list[str] = []
    for i, s in enumerate(series):  # the legend, two to a row
        lx, ly = 12 + (i % 2) * 230, 44 + 20 * (i // 2)
        colour, dash = COLOURS[i % len(COLOURS)], _DASHES[i % len(_DASHES)]
        body.append(
            f'<line x1="{lx}" y1="{ly - 5}" x2="{lx + 24}" y2="{ly - 5}" stroke="{colour}" stroke-width="3"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + "/>"
        )
        body.append(f'<text x="{lx + 30}" y="{ly}" fill="{_INK}">{xml_text(_short(s.label, 26))}</text>')
    for k in range(5):  # the percent axis
        y = top + plot_h - plot_h * k / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{_GRID}"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="12" fill="{_MUTED}">'
            f"{percent(ceiling * k / 4)}</text>"
        )
    step = plot_w / max(1, len(weeks) - 1)
    every = max(1, -(-len(weeks) // 8))  # at most 8 week labels

    def point(i: int, value: float) -> tuple[float, float]:
        x = left + (step * i if len(weeks) > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * min(value, ceiling) / ceiling

    for i, week in enumerate(weeks):
        if i % every == 0 or i == len(weeks) - 1:
            x, _ = point(i, 0)
            short = week.split("-")[-1]
            body.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 20}" text-anchor="middle" font-size="12" fill="{_MUTED}">'
                f"{xml_text(short)}</text>"
            )
    for n, s in enumerate(series):
        colour, dash = COLOURS[n % len(COLOURS)], _DASHES[n % len(_DASHES)]
        segment: list[str] = []
        segments = [segment]
        for i, value in enumerate(s.values[: len(weeks)]):
            if value is None:
                segment = []
                segments.append(segment)
                continue
            x, y = point(i, value)
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{xml_text(s.label)} {xml_text(weeks[i])}: {percent(value)}</title></circle>"
            )
        for points in segments:
            if len(points) > 1:
                body.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2.5"'
                    + (f' stroke-dasharray="{dash}"' if dash else "")
                    + "/>"
                )
    if not values:
        body.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="{_MUTED}">'
            f"{xml_text(no_data)}</text>"
        )
    return _svg(_WIDTH, height, title, desc, body)


def bar_chart(*, title: str, desc: str, bars: Sequence[Bar], no_data: str, as_percent: bool = False) -> str:
    """Horizontal bars, largest first as given, each with its label and its
    value written out; ``as_percent``: values are ratios on a 0..100% scale."""
    label_w, value_w, row, top = 168, 112, 28, 40
    height = top + max(1, len(bars)) * row + 12
    scale_w = _WIDTH - label_w - value_w - 12
    ceiling = _top([b.value for b in bars]) if as_percent else max((b.value for b in bars), default=0.0) or 1.0
    body: list[str] = []
    for i, b in enumerate(bars):
        y = top + i * row
        width = scale_w * max(0.0, min(b.value, ceiling)) / ceiling
        note = b.note if b.note is not None else percent(b.value) if as_percent else f"{b.value:g}"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" fill="{_INK}">'
            f"<title>{xml_text(b.label)}</title>{xml_text(_short(b.label))}</text>"
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 5}" width="{width:.1f}" height="{row - 10}" rx="3" '
            f'fill="{COLOURS[0]}"><title>{xml_text(b.label)}: {xml_text(note)}</title></rect>'
        )
        body.append(f'<text x="{label_w + width + 6:.1f}" y="{y + 18}" fill="{_INK}">{xml_text(note)}</text>')
    if not bars:
        body.append(
            f'<text x="{_WIDTH / 2:.0f}" y="{top + 18}" text-anchor="middle" fill="{_MUTED}">{xml_text(no_data)}</text>'
        )
    return _svg(_WIDTH, height, title, desc, body)


# the charts GET /api/v1/editor/charts/<name> serves
LINE_CHARTS = {"containment.svg": "containment", "fallback.svg": "fallback_rate"}
CHART_NAMES = (*LINE_CHARTS, "deflection.svg", "handoffs.svg")


def load_chart_texts(path: Path) -> dict[str, Any]:
    """``data/figures.yml``: the charts' words in Turkish and English."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(name in data.get("charts", {}) for name in CHART_NAMES):
        raise ValueError(f"{path}: every chart needs its title and desc ({', '.join(CHART_NAMES)})")
    return data


def render_chart(
    name: str, figures: Mapping[str, Any], texts: Mapping[str, Any], *, language: str | None, ui: str
) -> str:
    """Chart ``name`` of the figures (``handoff.editor.figures``), for one
    conversation language or all of them, in the page's language ``ui``."""
    names = texts["languages"]
    blocks = [b for b in figures["languages"] if language is None or b["language"] == language]
    words = texts["charts"][name]
    scope = names[language or "all"][ui]
    title = words["title"][ui]
    desc = words["desc"][ui].format(language=scope, weeks=len(figures["weeks"]))
    no_data = texts["no_data"][ui]
    if name in LINE_CHARTS:
        key = LINE_CHARTS[name]
        series = [
            Series(names.get(b["language"], {}).get(ui, b["language"]), [w[key] for w in b["weeks"]]) for b in blocks
        ]
        return line_chart(title=title, desc=desc, weeks=figures["weeks"], series=series, no_data=no_data)
    if name == "deflection.svg":
        faqs: dict[str, list[int]] = {}
        for b in blocks:
            for faq in b["faqs"]:
                counts = faqs.setdefault(faq["faq"], [0, 0])
                counts[0] += faq["answers"]
                counts[1] += faq["solved"]
        solved_of = texts["solved_of"][ui]
        bars = [
            Bar(
                faq,
                solved / answers,
                f"{percent(solved / answers)} ({solved_of.format(solved=solved, answers=answers)})",
            )
            for faq, (answers, solved) in sorted(faqs.items(), key=lambda item: (-item[1][0], item[0]))
            if answers
        ]
        return bar_chart(title=title, desc=desc, bars=bars, no_data=no_data, as_percent=True)
    if name == "handoffs.svg":
        topics: dict[str, int] = {}
        for b in blocks:
            for topic in b["handoffs"]["by_topic"]:
                topics[topic["id"]] = topics.get(topic["id"], 0) + topic["count"]
        bars = [Bar(topic, n) for topic, n in sorted(topics.items(), key=lambda item: (-item[1], item[0]))]
        return bar_chart(title=title, desc=desc, bars=bars, no_data=no_data)
    raise KeyError(name)
