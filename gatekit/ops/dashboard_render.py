"""Render the Grafana dashboard JSON (docs/grafana/gatekit-gateway.json) to an SVG from real /metrics scrapes.

This is gatekit's own renderer, not Grafana: it evaluates the small PromQL subset the dashboard uses over a few
scrapes taken while traffic flows (rate/increase between consecutive scrapes, sum/min/max by, a scalar factor,
histogram_quantile) and draws each panel's series. An expression outside the subset raises UnsupportedExpression
naming it; a template variable in a label matcher ($namespace) selects everything (one gateway's scrape).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]
Samples = dict[tuple[str, Labels], float]
Vector = dict[Labels, list[float]]  # one value per evaluation step (scrapes[1:]); NaN where absent


class UnsupportedExpression(ValueError):
    """A panel expression outside the PromQL subset this renderer evaluates."""


@dataclass(frozen=True)
class Scrape:
    at: float  # unix seconds
    samples: Samples


def parse_scrape(at: float, text: str) -> Scrape:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = float(s.value)
    return Scrape(at, samples)


_SCALE = re.compile(r"^([0-9.]+)\s*\*\s*(.+)$", re.S)
_AGG = re.compile(r"^(sum|min|max)\s*(?:by\s*\(([^)]*)\))?\s*\((.*)\)$", re.S)
_QUANTILE = re.compile(r"^histogram_quantile\(\s*([0-9.]+)\s*,(.*)\)$", re.S)
_RANGE = re.compile(r"^(rate|increase)\((\w+)(?:\{([^}]*)\})?\[\$__rate_interval\]\)$")
_SELECTOR = re.compile(r"^(\w+)(?:\{([^}]*)\})?$")
_MATCHER = re.compile(r'^\s*(\w+)\s*(=~|=)\s*"([^"]*)"\s*$')


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _matchers(selector: str | None, expr: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for part in filter(str.strip, (selector or "").split(",")):
        m = _MATCHER.match(part)
        if not m:
            raise UnsupportedExpression(f"label matcher {part.strip()!r} in {expr!r}")
        if "$" not in m.group(3):  # a template variable selects every series of one gateway's scrape
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def _select(scrapes: Sequence[Scrape], name: str, selector: str | None, expr: str) -> dict[Labels, list[float]]:
    """Raw values of one metric per label set at every scrape (NaN where absent)."""
    matchers = _matchers(selector, expr)
    keys = {labels for s in scrapes for (n, labels) in s.samples if n == name}
    out: dict[Labels, list[float]] = {}
    for labels in keys:
        d = dict(labels)
        if all((d.get(k, "") == v) if op == "=" else re.fullmatch(v, d.get(k, "")) for k, op, v in matchers):
            out[labels] = [s.samples.get((name, labels), math.nan) for s in scrapes]
    return out


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over (upper bound, cumulative count) pairs."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][0] != math.inf or buckets[-1][1] <= 0 or any(map(math.isnan, dict(buckets).values())):
        return math.nan
    rank, prev_bound, prev_count = q * buckets[-1][1], 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == math.inf:
                return prev_bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / max(count - prev_count, 1e-12)
        prev_bound, prev_count = bound, count
    return math.nan


def evaluate(expr: str, scrapes: Sequence[Scrape]) -> Vector:
    """Evaluate `expr` at every scrape after the first; range functions use the previous scrape as their window."""
    e = expr.strip()
    if m := _SCALE.match(e):
        return {k: [float(m.group(1)) * v for v in vs] for k, vs in evaluate(m.group(2), scrapes).items()}
    if (m := _QUANTILE.match(e)) and _balanced(m.group(2)):
        q = float(m.group(1))
        groups: dict[Labels, list[tuple[float, list[float]]]] = {}
        for labels, values in evaluate(m.group(2), scrapes).items():
            d = dict(labels)
            if "le" not in d:
                raise UnsupportedExpression(f"histogram_quantile over series without `le` in {expr!r}")
            groups.setdefault(frozenset((k, v) for k, v in labels if k != "le"), []).append((float(d["le"]), values))
        steps = len(scrapes) - 1
        return {
            g: [_quantile(q, [(le, vs[i]) for le, vs in buckets]) for i in range(steps)]
            for g, buckets in groups.items()
        }
    if (m := _AGG.match(e)) and _balanced(m.group(3)):
        op, by = m.group(1), [b.strip() for b in (m.group(2) or "").split(",") if b.strip()]
        grouped: dict[Labels, list[list[float]]] = {}
        for labels, values in evaluate(m.group(3), scrapes).items():
            grouped.setdefault(frozenset((k, v) for k, v in labels if k in by), []).append(values)
        combine = {"sum": sum, "min": min, "max": max}[op]
        return {
            g: [
                combine(p) if (p := [v for v in col if not math.isnan(v)]) else math.nan
                for col in zip(*rows, strict=True)
            ]
            for g, rows in grouped.items()
        }
    if m := _RANGE.match(e):
        out: Vector = {}
        for labels, raw in _select(scrapes, m.group(2), m.group(3), expr).items():
            values: list[float] = []
            for i in range(1, len(scrapes)):
                delta = raw[i] - raw[i - 1] if raw[i] >= raw[i - 1] else raw[i]  # a counter reset restarts at 0
                values.append(delta / (scrapes[i].at - scrapes[i - 1].at) if m.group(1) == "rate" else delta)
            out[labels] = values
        return out
    if m := _SELECTOR.match(e):
        return {k: v[1:] for k, v in _select(scrapes, m.group(1), m.group(2), expr).items()}
    raise UnsupportedExpression(f"outside gatekit's PromQL subset: {expr!r}")


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    grid: dict[str, int]
    series: dict[str, list[float]]  # legend -> values per step


def _legend(fmt: str, labels: Labels, ref: str) -> str:
    d = dict(labels)
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: d.get(m.group(1), ""), fmt) if fmt else ""
    return text or ", ".join(f"{k}={v}" for k, v in sorted(labels)) or ref


def evaluate_dashboard(dashboard: dict[str, Any], scrapes: Sequence[Scrape]) -> list[Panel]:
    if len(scrapes) < 2:
        raise ValueError("at least two scrapes are needed (rates are taken between consecutive scrapes)")
    panels: list[Panel] = []
    for p in dashboard["panels"]:
        series: dict[str, list[float]] = {}
        for t in p.get("targets", []):
            try:
                vector = evaluate(t["expr"], scrapes)
            except UnsupportedExpression as exc:
                raise UnsupportedExpression(f"panel {p['title']!r}: {exc}") from exc
            for labels, values in sorted(vector.items(), key=lambda kv: sorted(kv[0])):
                series[_legend(t.get("legendFormat", ""), labels, t.get("refId", "A"))] = values
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        panels.append(Panel(p["title"], unit, p["gridPos"], series))
    return panels


_PALETTE = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#8ab8ff", "#fade2a"]
_CELL_W, _CELL_H = 50, 34


def _fmt(value: float, unit: str) -> str:
    text = f"{value:.3g}" if value < 1000 else f"{value:,.0f}"
    return {"reqps": f"{text} req/s", "currencyUSD": f"${text}", "s": f"{text} s"}.get(unit, text)


def _panel_svg(p: Panel, times: list[float]) -> list[str]:
    x0, y0 = p.grid["x"] * _CELL_W + 6, p.grid["y"] * _CELL_H + 80
    w, h = p.grid["w"] * _CELL_W - 12, p.grid["h"] * _CELL_H - 12
    px, py, pw, ph = x0 + 70, y0 + 32, w - 86, h - 92
    out = [
        f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" rx="3" fill="#181b1f" stroke="#2c3235"/>',
        f'<text x="{x0 + 10}" y="{y0 + 20}" fill="#ccccdc" font-size="13" font-weight="600">{escape(p.title)}</text>',
    ]
    finite = [v for vs in p.series.values() for v in vs if not math.isnan(v)]
    if not finite:
        return [*out, f'<text x="{x0 + w / 2}" y="{y0 + h / 2}" fill="#8e8e8e" text-anchor="middle">No data</text>']
    top = max(max(finite), 1e-9) * 1.15
    for i in range(5):
        gy = py + ph - ph * i / 4
        out.append(f'<line x1="{px}" y1="{gy:.1f}" x2="{px + pw}" y2="{gy:.1f}" stroke="#2c3235"/>')
        label = escape(_fmt(top * i / 4, p.unit))
        out.append(
            f'<text x="{px - 6}" y="{gy + 4:.1f}" fill="#8e8e8e" font-size="10" text-anchor="end">{label}</text>'
        )
    span = max(times[-1] - times[0], 1e-9)
    for t in times:
        gx = px + pw * (t - times[0]) / span
        out.append(f'<text x="{gx:.1f}" y="{py + ph + 14}" fill="#8e8e8e" font-size="10" text-anchor="middle">')
        out.append(f"+{t - times[0]:.0f}s</text>")
    for n, (legend, values) in enumerate(p.series.items()):
        colour = _PALETTE[n % len(_PALETTE)]
        points = [
            f"{px + pw * (t - times[0]) / span:.1f},{py + ph - ph * v / top:.1f}"
            for t, v in zip(times, values, strict=True)
            if not math.isnan(v)
        ]
        out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for pt in points:
            cx, cy = pt.split(",")
            out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
        lx, ly = x0 + 12 + (n % 3) * (w // 3), py + ph + 32 + (n // 3) * 15
        out.append(f'<rect x="{lx}" y="{ly - 8}" width="12" height="3" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly - 3}" fill="#ccccdc" font-size="10">{escape(legend[:40])}</text>')
    return out


def render_svg(title: str, panels: Sequence[Panel], scrapes: Sequence[Scrape], caption: str) -> str:
    times = [s.at for s in scrapes[1:]]
    width = 24 * _CELL_W
    height = max(p.grid["y"] + p.grid["h"] for p in panels) * _CELL_H + 114
    body = [line for p in panels for line in _panel_svg(p, times)]
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
            f'<rect width="{width}" height="{height}" fill="#111217"/>',
            f'<text x="8" y="24" fill="#ccccdc" font-size="18" font-weight="600">{escape(title)}</text>',
            *(
                f'<text x="8" y="{42 + 14 * i}" fill="#8e8e8e" font-size="11">{escape(line)}</text>'
                for i, line in enumerate(caption.splitlines()[:3])
            ),
            *body,
            "</svg>",
            "",
        ]
    )


def record_scrapes(url: str, count: int, interval: float) -> list[dict[str, Any]]:
    """`count` scrapes of `url`/metrics, `interval` seconds apart: [{"at": unix seconds, "text": exposition}]."""
    import time

    import httpx

    out: list[dict[str, Any]] = []
    for i in range(count):
        if i:
            time.sleep(interval)
        response = httpx.get(url.rstrip("/") + "/metrics", timeout=60)
        response.raise_for_status()
        out.append({"at": time.time(), "text": response.text})
    return out


def trim_to_dashboard(dashboard: dict[str, Any], text: str) -> str:
    """Only the exposition lines of metric families the dashboard reads (what the recorded test fixture keeps)."""
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {re.sub(r"_(bucket|total)$", "", n) for e in exprs for n in re.findall(r"\b((?:litellm|gatekit)_\w+)", e)}
    kept: list[str] = []
    for line in text.splitlines():
        name = line.split()[2] if line.startswith("# ") and len(line.split()) > 2 else re.split(r"[{ ]", line)[0]
        if re.sub(r"_(bucket|sum|count|total)$", "", name) in used:
            kept.append(line)
    return "\n".join(kept) + "\n"


def render_recorded(
    dashboard: dict[str, Any], recorded: Sequence[dict[str, Any]], caption: str
) -> tuple[str, list[str]]:
    """The SVG and the titles of panels that got no series (a metric renamed or never emitted)."""
    scrapes = [parse_scrape(r["at"], r["text"]) for r in recorded]
    panels = evaluate_dashboard(dashboard, scrapes)
    empty = [p.title for p in panels if not p.series]
    return render_svg(dashboard["title"], panels, scrapes, caption), empty
