"""The Grafana dashboard rendered from recorded /metrics scrapes of a real gateway (tests/surface/fixtures/
dashboard-scrapes.json, taken by `gatekit ops dashboard-render --save-scrapes` under scripts/dashboard_traffic.py):
every panel gets a series, so a metric renamed on either side fails here; expressions outside the subset fail loudly."""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekit.cli.ops.commands import ops
from gatekit.ops import dashboard_render as dr
from tests.conftest import REPO

DASHBOARD = REPO / "docs" / "grafana" / "gatekit-gateway.json"
SCRAPES = Path(__file__).parent / "fixtures" / "dashboard-scrapes.json"


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _scrapes() -> list[dr.Scrape]:
    return [dr.parse_scrape(r["at"], r["text"]) for r in json.loads(SCRAPES.read_text())]


def test_every_panel_gets_a_series_with_values() -> None:
    panels = dr.evaluate_dashboard(_dashboard(), _scrapes())
    assert len(panels) == len(_dashboard()["panels"]) >= 11
    for p in panels:
        assert p.series, f"panel {p.title!r} got no series"
        finite = [v for vs in p.series.values() for v in vs if not math.isnan(v)]
        assert finite, f"panel {p.title!r} has only empty points"
    by_title = {p.title: p for p in panels}
    requests = by_title["Requests per second by model"].series
    assert {"economy", "premium"} <= set(requests) and max(requests["economy"]) > 0
    assert max(v for vs in by_title["Spend (USD per hour) by model"].series.values() for v in vs) > 0
    assert max(by_title["Deployment cooldowns"].series["economy"]) >= 1  # the injected upstream 401s
    assert (
        "400" in by_title["Failed requests per second by status"].series
    )  # the unknown model; bad keys are not counted


def test_a_renamed_metric_leaves_its_panel_empty_and_the_command_refuses(tmp_path: Path) -> None:
    dashboard = _dashboard()
    renamed = copy.deepcopy(dashboard)
    spend = next(p for p in renamed["panels"] if p["title"] == "Spend (USD per hour) by model")
    spend["targets"][0]["expr"] = spend["targets"][0]["expr"].replace(
        "litellm_spend_metric_total", "litellm_spend_total"
    )
    _, empty = dr.render_recorded(renamed, json.loads(SCRAPES.read_text()), "")
    assert empty == ["Spend (USD per hour) by model"]
    path, out = tmp_path / "renamed.json", tmp_path / "out.svg"
    path.write_text(json.dumps(renamed))
    args = ["dashboard-render", "--dashboard", str(path), "--from-scrapes", str(SCRAPES), "--out", str(out)]
    result = CliRunner().invoke(ops, args)
    assert result.exit_code != 0 and "Spend (USD per hour) by model" in result.output and not out.exists()


def test_unsupported_expression_fails_loudly_naming_the_panel(tmp_path: Path) -> None:
    dashboard = _dashboard()
    bad = "sum(rate(litellm_requests_metric_total[5m])) / sum(rate(litellm_spend_metric_total[5m]))"
    dashboard["panels"][3]["targets"][0]["expr"] = bad
    with pytest.raises(dr.UnsupportedExpression, match=re.escape(dashboard["panels"][3]["title"])):
        dr.evaluate_dashboard(dashboard, _scrapes())
    with pytest.raises(dr.UnsupportedExpression, match="label matcher"):
        dr.evaluate('sum(gatekit_in_flight_requests{namespace!="x"})', _scrapes())
    path, out = tmp_path / "bad.json", tmp_path / "out.svg"
    path.write_text(json.dumps(dashboard))
    args = ["dashboard-render", "--dashboard", str(path), "--from-scrapes", str(SCRAPES), "--out", str(out)]
    result = CliRunner().invoke(ops, args)
    assert result.exit_code != 0 and "outside gatekit's PromQL subset" in result.output and not out.exists()


def test_rate_and_histogram_quantile_match_promql_on_hand_made_scrapes() -> None:
    def scrape(at: float, count: float, buckets: dict[str, float]) -> dr.Scrape:
        samples = {("c_total", frozenset({("m", "a")})): count}
        samples |= {("h_bucket", frozenset({("le", le)})): n for le, n in buckets.items()}
        return dr.Scrape(at, samples)

    scrapes = [scrape(0, 10, {"1.0": 0, "2.0": 0, "+Inf": 0}), scrape(10, 30, {"1.0": 5, "2.0": 10, "+Inf": 10})]
    scrapes.append(scrape(20, 5, {"1.0": 5, "2.0": 10, "+Inf": 10}))  # counter reset; no new observations
    assert dr.evaluate("sum by (m) (rate(c_total[$__rate_interval]))", scrapes) == {frozenset({("m", "a")}): [2.0, 0.5]}
    assert dr.evaluate("60 * sum(increase(c_total[$__rate_interval]))", scrapes) == {frozenset(): [1200.0, 300.0]}
    p50 = dr.evaluate("histogram_quantile(0.5, sum by (le) (rate(h_bucket[$__rate_interval])))", scrapes)
    assert p50[frozenset()][0] == pytest.approx(1.0) and math.isnan(p50[frozenset()][1])
    p75 = dr.evaluate("histogram_quantile(0.75, sum by (le) (rate(h_bucket[$__rate_interval])))", scrapes)
    assert p75[frozenset()][0] == pytest.approx(1.5)
