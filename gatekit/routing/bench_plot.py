"""A dependency-free SVG of `route bench`: performance gap recovered vs premium share, one panel per benchmark."""

from __future__ import annotations

from html import escape

import numpy as np

from gatekit.routing.bench import LABELS, Result

COLORS = {"random": "#999999", "oracle": "#000000", "length": "#e69f00", "elo": "#cc79a7", "knn": "#56b4e9",
          "svm": "#009e73", "mlp": "#0072b2", "outcome": "#d55e00"}  # fmt: skip
W, H, PAD = 300, 260, 40


def _panel(results: list[Result], x0: int, title: str) -> list[str]:
    ymax = max(1.0, max(float(np.max(r.curve.pgr)) for r in results))
    ymin = min(0.0, min(float(np.min(r.curve.pgr)) for r in results))

    def pt(share: float, pgr: float) -> str:
        x = x0 + PAD + share * (W - PAD - 10)
        y = 20 + (ymax - pgr) / (ymax - ymin) * (H - 60)
        return f"{x:.1f},{y:.1f}"

    out = [f'<text x="{x0 + W / 2}" y="14" text-anchor="middle" font-size="12">{escape(title)}</text>',
           f'<polyline fill="none" stroke="#ccc" points="{pt(0, 0)} {pt(1, 0)}"/>',
           f'<polyline fill="none" stroke="#ccc" points="{pt(0, 1)} {pt(1, 1)}"/>',
           f'<text x="{x0 + 4}" y="{pt(0, 1).split(",")[1]}" font-size="9">PGR 1</text>',
           f'<text x="{x0 + 4}" y="{pt(0, 0).split(",")[1]}" font-size="9">PGR 0</text>',
           f'<text x="{x0 + W / 2}" y="{H - 18}" text-anchor="middle" font-size="10">premium share</text>']  # fmt: skip
    for r in results:
        idx = np.unique(np.linspace(0, len(r.curve.shares) - 1, 200).astype(int))
        pts = " ".join(pt(float(r.curve.shares[i]), float(r.curve.pgr[i])) for i in idx)
        width = 2.5 if r.strategy == "outcome" else 1.2
        out.append(f'<polyline fill="none" stroke="{COLORS.get(r.strategy, "#333")}" stroke-width="{width}" '
                   f'points="{pts}"><title>{escape(r.strategy)} APGR {r.apgr:.3f}</title></polyline>')  # fmt: skip
    return out


def svg(results: list[Result]) -> str:
    names = list(dict.fromkeys(r.benchmark for r in results))
    width = W * len(names)
    body: list[str] = []
    for i, name in enumerate(names):
        body += _panel([r for r in results if r.benchmark == name], i * W, f"{LABELS[name]} (leave-one-benchmark-out)")
    legend_y = H + 4
    for j, strategy in enumerate(dict.fromkeys(r.strategy for r in results)):
        x = 10 + j * (width - 20) / max(len(COLORS), 1)
        body.append(f'<rect x="{x:.0f}" y="{legend_y}" width="12" height="4" fill="{COLORS.get(strategy, "#333")}"/>')
        body.append(f'<text x="{x + 16:.0f}" y="{legend_y + 6}" font-size="10">{escape(strategy)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H + 20}" font-family="sans-serif">'
            f'<rect width="100%" height="100%" fill="white"/>' + "".join(body) + "</svg>\n")  # fmt: skip
