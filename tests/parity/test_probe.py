"""Readiness rows are probes: resent until 200 for a bounded time, as a platform's readiness probe retries before it
acts. A transient `"db": "stalled"` (LiteLLM's 30 s window after one slow database lookup) is not a verdict; a 503 that
outlasts the probe still is."""

from __future__ import annotations

import httpx
import pytest

import gatekit.parity.runner as runner
from gatekit.parity.db_matrix import build_db_matrix
from gatekit.parity.matrix import READINESS_PROBE, Row, build_matrix


def _client(statuses: list[int]) -> tuple[httpx.Client, list[int]]:
    sent: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        status = statuses[min(len(sent), len(statuses) - 1)]
        sent.append(status)
        return httpx.Response(status, json={"status": "healthy", "db": "connected" if status == 200 else "stalled"})

    return httpx.Client(transport=httpx.MockTransport(answer)), sent


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.time, "sleep", lambda _s: None)


def test_a_stall_that_clears_within_the_probe_reads_as_ready() -> None:
    client, sent = _client([503, 503, 200])
    row = Row("/health/readiness", "Health", "GET", "/health/readiness", auth="none", probe_seconds=30)
    assert runner._send(client, row, "http://gw/health/readiness", {}).status_code == 200
    assert sent == [503, 503, 200]


def test_a_503_that_outlasts_the_probe_stays_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 10_000, 5))
    monkeypatch.setattr(runner.time, "monotonic", lambda: float(next(clock)))
    client, sent = _client([503])
    row = Row("/health/readiness", "Health", "GET", "/health/readiness", auth="none", probe_seconds=30)
    assert runner._send(client, row, "http://gw/health/readiness", {}).status_code == 503
    assert 2 <= len(sent) <= 8  # resent, but only for the probe's time


def test_rows_without_a_probe_are_sent_once() -> None:
    client, sent = _client([503, 200])
    row = Row("/health", "Health", "GET", "/health")
    assert runner._send(client, row, "http://gw/health", {}).status_code == 503
    assert sent == [503]


def test_every_readiness_row_is_a_probe_and_only_those() -> None:
    rows = [*build_matrix("x"), *build_db_matrix("x", non_admin=True)]
    probed = {r.name for r in rows if r.probe_seconds}
    assert probed == {r.name for r in rows if r.path == "/health/readiness"} and probed
    assert all(r.probe_seconds == READINESS_PROBE for r in rows if r.probe_seconds)
