"""Mixed demo-provider traffic against a running gateway, for the dashboard render (docs/img/grafana-dashboard.svg).

Usage: GATEKIT_MASTER_KEY=... python scripts/dashboard_traffic.py GATEWAY_URL DEMO_PROVIDER_URL SECONDS
Per round: economy, premium and auto chat, one streamed chat, a bad-key call (401), an unknown model (400). Every
second round the demo provider fails economy calls: alternately six 401s (an upstream refusing its key: more than the
rendered allowed_fails, so LiteLLM cools the deployment down) and one 503 (retried, served by the fallback tier).
"""

from __future__ import annotations

import os
import sys
import time
import uuid

import httpx

FAULTS_PATH = "/gatekit-demo/faults"


def main(url: str, demo: str, seconds: float) -> None:
    key = os.environ["GATEKIT_MASTER_KEY"]
    good, bad = {"Authorization": f"Bearer {key}"}, {"Authorization": "Bearer sk-not-a-key"}
    statuses: dict[int, int] = {}
    deadline, n, run = time.monotonic() + seconds, 0, uuid.uuid4().hex[:8]  # fresh prompts: no cache hits
    with httpx.Client(base_url=url, timeout=60) as c:
        while time.monotonic() < deadline:
            if n % 2 == 1:  # 503: retried and served by the fallback tier; 401: the upstream refuses, a cooldown
                status = 401 if n % 4 == 1 else 503
                times = 1 if status == 503 else 6  # more than the rendered allowed_fails (3): a cooldown
                rule = {"path": "/v1/chat/completions", "status": status, "model": "demo-economy", "times": times}
                httpx.put(demo + FAULTS_PATH, json=[rule], timeout=30).raise_for_status()
            chat = [(m, f"{run} round {n} {m}") for m in ("economy", "premium", "auto", "economy", "no-such-tier")]
            calls = [(good, {"model": m, "messages": [{"role": "user", "content": text}]}) for m, text in chat]
            calls += [
                (
                    good,
                    {
                        "model": "economy",
                        "stream": True,
                        "messages": [{"role": "user", "content": f"{run} stream {n}"}],
                    },
                )
            ]
            calls += [(bad, {"model": "economy", "messages": [{"role": "user", "content": "x"}]})]
            for headers, body in calls:
                status = c.post("/v1/chat/completions", headers=headers, json=body).status_code
                statuses[status] = statuses.get(status, 0) + 1
            n += 1
    print(f"{n} rounds; responses by status: {dict(sorted(statuses.items()))}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
